"""Canonical URLs: one spelling per article, so the same story is stored once.

A utility module: no business logic. The same release reaches us as
`https://www.mofa.gov.pk/x?mission=dubai&utm_source=fb#top` and `https://mofa.gov.pk/x`;
both become `https://mofa.gov.pk/x`. What is removed is only what never changes the page:
tracking parameters, the fragment, a default port, the `www.` prefix and percent-escape
spelling. Path case is kept (servers differ on it).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import idna

# Query keys that only say who sent the reader; `mission` is mofa.gov.pk's per-embassy copy
# of the same release (SOURCES.md).
TRACKING_KEYS = frozenset(
    {"fbclid", "gclid", "yclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "ref", "mission"}
)
TRACKING_PREFIXES = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left as they are in a path or query; everything else is percent-encoded.
_PATH_SAFE = frozenset("/:@!$&'()*+,;=") | _UNRESERVED
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
# Is every character of a text in the set: one regex match, not a loop over the characters.
_ALL_SAFE = {
    safe: re.compile(f"[{re.escape(''.join(sorted(safe)))}]*").fullmatch
    for safe in (_PATH_SAFE, _QUERY_SAFE)
}


def canonical_url(url: str, base: str | None = None) -> str:
    """`url` resolved against `base`, with tracking and spelling differences removed.

    Scheme and host lower-cased, `www.` dropped, host in IDNA (punycode) form, default port,
    fragment and tracking parameters (utm_*, fbclid, gclid, mission, ...) removed, remaining
    query parameters sorted by name (stable for repeated names), dot segments resolved and
    percent-escapes normalised. Non-http(s) URLs come back resolved but otherwise as given.
    """
    url = url.strip()
    if base:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return url
    netloc = _netloc(parts.netloc, scheme)
    path = _normalise_escapes(_remove_dot_segments(parts.path or "/"), _PATH_SAFE)
    query = _query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def absolute_url(link: str | None, base: str = "") -> str | None:
    """`link` resolved against `base` when it is an http(s) URL (scheme lower-cased), else None.

    For links read from documents: `javascript:`, `mailto:`, `data:` and unparsable links
    give None. Unlike `canonical_url`, nothing else is changed.
    """
    if not link:
        return None
    link = link.strip()
    if link.startswith(("https://", "http://")) and " " not in link:
        return link
    try:
        absolute = urljoin(base, link) if base else link
        scheme = urlsplit(absolute).scheme
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if scheme.lower() not in _DEFAULT_PORTS:
        return None
    return scheme.lower() + absolute[len(scheme) :]


def url_host(url: str) -> str:
    """The host of `url` as `canonical_url` spells it (lower case, no `www.`, IDNA)."""
    parts = urlsplit(url.strip())
    try:
        host = parts.hostname or ""
    except ValueError:
        return ""
    return _host(host)


@lru_cache(maxsize=4096)  # a feed's links share a few hosts
def _netloc(netloc: str, scheme: str) -> str:
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        host, rest = hostport[: end + 1].lower(), hostport[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
        host = _host(host)
    if port.isdigit() and int(port) == _DEFAULT_PORTS[scheme]:
        port = ""
    netloc = host + (f":{port}" if port else "")
    return f"{userinfo}@{netloc}" if userinfo else netloc


def _host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError is one
        # Python's IDNA 2003 codec accepts some names IDNA 2008 rejects (e.g. symbols).
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


def _query(query: str) -> str:
    if not query:
        return ""
    kept: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        key = unquote_plus(piece.partition("=")[0]).strip().lower()
        if key in TRACKING_KEYS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append((key, _normalise_escapes(piece, _QUERY_SAFE)))
    kept.sort(key=lambda pair: pair[0])  # stable: repeated keys keep their order
    return "&".join(piece for _, piece in kept)


def _normalise_escapes(text: str, safe: frozenset[str]) -> str:
    """Upper-case escapes, decode escaped unreserved characters, encode what needs it."""

    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    if "%" in text:
        text = _ESCAPE.sub(unescape, text)
    if _ALL_SAFE[safe](text):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "%":
            out.append("%" if _ESCAPE.match(text, index) else "%25")
        elif char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986, section 5.2.4."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    result = "/".join(output)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result
