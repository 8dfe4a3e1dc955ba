"""Feeds to records: RSS 0.9x/1.0/2.0, RDF, Atom 0.3/1.0 and JSON Feed.

The only module that imports feedparser. Well-formed XML feeds (nearly all real ones) are read
directly from an lxml tree; anything lxml's strict parser refuses, or whose dialect we do not
read ourselves (CDF, RSS without a root), goes to feedparser's lenient parser, and the reason
is kept in `ParsedPage.warnings`. JSON Feed is read with `json`.

Why not feedparser alone, or fastfeedparser: measured (Nov 2026) on the 1,769 documents of
the feedparser test corpus and on 50-item feeds with full content (bench/feedgen.py, 107 kB):

* feedparser 6.0.14: 20-24 ms per 50-item feed. 200 such feeds cost 4-5 s of CPU in parsing
  alone, which is about what lemon24/reader (built on feedparser) spends in all.
* fastfeedparser 0.6.5: 0.3 ms per feed (1.8 ms with our HTML-to-text of the bodies), but
  against feedparser on the corpus: 34 documents raise (12 of them feeds feedparser reads
  entries from), 17 give fewer entries, and of 1,183 entries it drops 37 titles (Atom xhtml
  titles), 23 links, 108 bodies (xhtml and `fullitem`), 8 entry languages (xml:lang); it
  ignores xml:base. Worst for us, its dates: it converts every date to UTC, reads a zone-less
  date as UTC, and failing a date parses the guid as one ("20260321"). The first loses the
  source's offset (which decides the YYYY-MM-DD of a corpus file), the second shifts Astana
  and Karachi times by 5 hours, and no fix is possible after the fact: the raw string is gone.
  It also fetches over the network when handed a str that looks like a URL.
* this module: 2.8 ms per feed (lxml parse 0.5 ms, `html_to_text` of the 50 bodies 1.5 ms,
  needed whatever the parser), 7-8x faster than feedparser. It keeps raw dates and parses
  them itself (monitor.sources.dates), honours xml:base and xml:lang, and reads every Atom
  text construct type. On the corpus, of the 546 entries with content that both read, it
  lacks 6 links (relative Atom ids, which are not links), 2 bodies (a non-standard RSS
  <summary>), 1 language and 1 date (odd element placements). Where it yields fewer entries,
  they are entries with nothing left once injected markup is dropped (391 in sanitize/, 10
  SVG/MathML-only) or binary/out-of-line Atom content. 27 documents (1.5 %) go to the
  feedparser fallback; 8 are refused (an empty document, 7 item-less CDF channels).

Field rules: title, summary and content are plain text (HTML converted by `html_to_text`;
Atom type="text" kept as written); `content` is None when the feed carried no body; links are
made absolute (xml:base, then the feed URL) and only http(s) links are kept; an item with no
link but a URL guid uses the guid; `published` is aware when the feed gave a zone, naive when
not, None when there is no date.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import json
import re
from collections.abc import Iterable
from typing import Any

import feedparser
from lxml import etree
from lxml.etree import _Element

from monitor.errors import ParseError
from monitor.models import Entry, ParsedPage
from monitor.sources.dates import parse_date
from monitor.sources.decode import decode
from monitor.sources.extract import FORBIDDEN, element_text, html_to_text, one_line, plain_text
from monitor.sources.safexml import safe_parser
from monitor.urls import absolute_url

_ATOM10 = "http://www.w3.org/2005/Atom"
_ATOM03 = "http://purl.org/atom/ns#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RSS10 = "http://purl.org/rss/1.0/"
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"
_XHTML = "http://www.w3.org/1999/xhtml"
_FEEDBURNER = "http://rssnamespace.org/feedburner/ext/1.0"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_RDF_ABOUT = f"{{{_RDF}}}about"
# RSS 2.0 is namespace-less, but some feeds put it in one of these.
_RSS_NAMESPACES = ("", "http://backend.userland.com/rss2", "http://blogs.law.harvard.edu/tech/rss")

# Which child element of an RSS/RDF item feeds which field; the first occurrence wins.
_RSS_FIELDS: dict[str, str] = {
    f"{{{_CONTENT}}}encoded": "content",
    f"{{{_XHTML}}}body": "xhtml",
    f"{{{_XHTML}}}div": "xhtml",
    f"{{{_DC}}}date": "date2",
    f"{{{_DCTERMS}}}issued": "date3",
    f"{{{_DCTERMS}}}created": "date3",
    f"{{{_DCTERMS}}}modified": "date4",
    f"{{{_DC}}}language": "language",
    f"{{{_DC}}}title": "title2",
    f"{{{_DC}}}description": "summary2",
    f"{{{_ATOM10}}}link": "atomlink",
    f"{{{_ATOM10}}}updated": "date4",
    f"{{{_ATOM10}}}published": "date3",
    f"{{{_FEEDBURNER}}}origLink": "origlink",
}
for _ns in (*_RSS_NAMESPACES, _RSS10, _RSS090):
    _prefix = f"{{{_ns}}}" if _ns else ""
    _RSS_FIELDS.update(
        {
            f"{_prefix}title": "title",
            f"{_prefix}link": "link",
            f"{_prefix}guid": "guid",
            f"{_prefix}description": "summary",
            f"{_prefix}pubDate": "date",
            f"{_prefix}language": "language",
        }
    )
# Pre-standard bodies feedparser also reads: inline markup, and escaped HTML.
_RSS_FIELDS.update({"body": "xhtml", "fullitem": "content"})
_DATE_KEYS = ("date", "date2", "date3", "date4")
_NEXT_RELS = ("next", "prev-archive")
_HTML_ROOTS = frozenset({"html", "head", "body"})

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# HTML named entities (not the five XML defines) in otherwise good feeds: turned into
# character references so that lxml can read the feed instead of feedparser.
_HTML_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{1,31});")
_LOOKS_HTML = re.compile(r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)


def parse_feed(content: bytes, *, url: str, source: str, encoding: str | None = None) -> ParsedPage:
    """Entries of an RSS, RDF, Atom or JSON feed. Raises ParseError for anything else."""
    text = decode(content, encoding, html=False)
    start = text.lstrip()[:1]
    if not start:
        raise ParseError(source, "empty document: no feed")
    if start in "{[":
        return _json_feed(text, url, source)
    if _LOOKS_HTML.match(text):
        raise ParseError(source, "not a feed: the server sent an HTML page")
    repairs: list[str] = []
    if "<!DOCTYPE" in text[:2048]:
        # Named entities may come from a DTD we do not load: read them as HTML ones.
        text = _repair_entities(text, repairs)
    try:
        root = _parse_xml(text, url)
    except etree.XMLSyntaxError:
        # Two faults common in otherwise good feeds are fixed, at a cost paid only here.
        repaired = _repair_controls(_repair_entities(text, repairs), repairs)
        try:
            root = _parse_xml(repaired, url)
        except etree.XMLSyntaxError as again:
            notes = [*repairs, f"not well-formed: {again}"]
            return _with_feedparser(repaired, url, source, notes)
        text = repaired
    page = _XmlFeed(root, url, source, repairs, bases="xml:base" in text).read()
    if page is not None:
        return page
    name = _local(root.tag)
    if name.lower() not in ("channel", "feed"):
        # Feedparser reads RSS without its <rss>, CDF, and Atom in a wrong namespace.
        raise ParseError(source, f"not a feed: root element <{name}> is not RSS, RDF or Atom")
    return _with_feedparser(text, url, source, repairs, root_name=name)


def _parse_xml(text: str, url: str) -> _Element:
    return etree.fromstring(text.encode("utf-8"), safe_parser(), base_url=url)


def _repair_entities(text: str, notes: list[str]) -> str:
    """HTML named entities (not the five XML defines) as character references."""
    if "&" not in text:
        return text
    repaired, count = _HTML_ENTITY.subn(_entity, text)
    if count:
        notes.append(f"read {count} HTML entities that XML does not define")
    return repaired


def _repair_controls(text: str, notes: list[str]) -> str:
    repaired, count = FORBIDDEN.subn("", text)
    if count:
        notes.append(f"removed {count} control characters that XML forbids")
    return repaired


def _entity(match: re.Match[str]) -> str:
    char = html.unescape(match.group(0))
    return f"&#{ord(char)};" if len(char) == 1 else match.group(0)


class _XmlFeed:
    """Reads an lxml tree of RSS 0.9x/1.0/2.0, RDF or Atom 0.3/1.0."""

    def __init__(
        self, root: _Element, url: str, source: str, warnings: list[str], *, bases: bool
    ) -> None:
        self.root = root
        self.url = url
        self.source = source
        self.warnings = warnings
        # xml:base is rare; only resolve it (per element, slower) when the document uses it.
        self.bases = bases

    def read(self) -> ParsedPage | None:
        """The page, or None when the root is not a dialect read here."""
        tag = self.root.tag if isinstance(self.root.tag, str) else ""
        name = _local(tag)
        if name in _HTML_ROOTS:
            raise ParseError(self.source, "not a feed: the server sent an HTML page")
        if tag in (f"{{{_ATOM10}}}feed", f"{{{_ATOM03}}}feed"):
            return self._atom(tag[1:].partition("}")[0])
        if name == "rss" or tag == f"{{{_RDF}}}RDF":
            return self._rss()
        return None

    # --- RSS and RDF ---

    def _rss(self) -> ParsedPage:
        channel = next((c for c in self.root if _local(c.tag) == "channel"), None)
        items = [c for c in self.root if _local(c.tag) == "item"]  # RSS 1.0 / 0.90
        if channel is None:
            if not items:
                self.warnings.append("an RSS document without a channel or items")
            channel = self.root  # items straight under <rss>, as some old feeds have them
        else:
            items = [c for c in channel if _local(c.tag) == "item"] + items
        language = _language_tag(
            _child_text(channel, "language", _DC)
            or channel.get(_XML_LANG)
            or self.root.get(_XML_LANG)
        )
        entries = tuple(e for e in (self._rss_item(i, language) for i in items) if e)
        return ParsedPage(
            entries=entries,
            next_pages=self._next_pages(channel),
            title=one_line(html_to_text(_child_text(channel, "title") or "")),
            language=language,
            warnings=tuple(self.warnings),
        )

    def _rss_item(self, item: _Element, feed_language: str | None) -> Entry | None:
        found: dict[str, _Element] = {}
        atom_links: list[_Element] = []
        for child in item:
            key = _RSS_FIELDS.get(child.tag) if isinstance(child.tag, str) else None
            if key == "atomlink":
                atom_links.append(child)
            elif key and key not in found:
                found[key] = child
        base = self._base(item)
        guid = _stripped(found.get("guid"))
        if guid is None and item.get(_RDF_ABOUT):
            guid = item.get(_RDF_ABOUT, "").strip() or None
        link = _stripped(found.get("origlink")) or _stripped(found.get("link"))
        if not link:
            link = _atom_link(atom_links)
        url = _http_url(base, link) or _guid_url(guid)
        language = (
            _language_tag(item.get(_XML_LANG) or _stripped(found.get("language"))) or feed_language
        )
        title_el = _first(found, "title", "title2")
        summary_el = _first(found, "summary", "summary2")
        content: str | None = None
        if "content" in found:
            content = _markup_text(found["content"])
        elif "xhtml" in found:
            content = element_text(found["xhtml"])
        raw_date = next((t for k in _DATE_KEYS if (t := _stripped(found.get(k)))), None)
        entry = Entry(
            url=url,
            title=one_line(_markup_text(title_el)) if title_el is not None else "",
            guid=guid,
            summary=_markup_text(summary_el) if summary_el is not None else "",
            content=content or None,
            published=parse_date(raw_date, language) if raw_date else None,
            language=language,
        )
        return entry if _has_substance(entry) else None

    # --- Atom ---

    def _atom(self, ns: str) -> ParsedPage:
        root = self.root
        language = _language_tag(root.get(_XML_LANG))
        title = root.find(f"{{{ns}}}title")
        entries = tuple(
            e
            for e in (self._atom_entry(el, ns, language) for el in root.iterfind(f"{{{ns}}}entry"))
            if e
        )
        return ParsedPage(
            entries=entries,
            next_pages=self._next_pages(root),
            title=one_line(_text_construct(title)) if title is not None else "",
            language=language,
            warnings=tuple(self.warnings),
        )

    def _atom_entry(self, entry: _Element, ns: str, feed_language: str | None) -> Entry | None:
        found: dict[str, _Element] = {}
        links: list[_Element] = []
        prefix = f"{{{ns}}}"
        for child in entry:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag == prefix + "link":
                links.append(child)
            elif tag.startswith(prefix):
                found.setdefault(tag[len(prefix) :], child)
            elif tag in _RSS_FIELDS:  # dc:date, dc:language, ...
                found.setdefault(_RSS_FIELDS[tag], child)
        base = self._base(entry)
        guid = _stripped(found.get("id"))
        link = _atom_link(links, base)
        url = _http_url(base, link) or _guid_url(guid)
        language = (
            _language_tag(entry.get(_XML_LANG) or _stripped(found.get("language"))) or feed_language
        )
        content_el = found.get("content")
        content = None
        if content_el is not None and not content_el.get("src"):
            content = _text_construct(content_el) or None
        raw_date = next(
            (
                t
                for k in ("published", "issued", "date2", "date3", "updated", "modified")
                if (t := _stripped(found.get(k)))
            ),
            None,
        )
        result = Entry(
            url=url,
            title=one_line(_text_construct(found["title"])) if "title" in found else "",
            guid=guid,
            summary=_text_construct(found["summary"]) if "summary" in found else "",
            content=content,
            published=parse_date(raw_date, language) if raw_date else None,
            language=language,
        )
        return result if _has_substance(result) else None

    # --- shared ---

    def _base(self, element: _Element) -> str:
        if self.bases:
            return element.base or self.url
        return self.url

    def _next_pages(self, parent: _Element) -> tuple[str, ...]:
        found: dict[str, int] = {}
        for link in parent:
            if _local(link.tag) != "link" or not isinstance(link.tag, str):
                continue
            if not link.tag.startswith(("{" + _ATOM10, "{" + _ATOM03)):
                continue
            rel = (link.get("rel") or "").strip().lower()
            if rel in _NEXT_RELS:
                href = _http_url(self._base(link), (link.get("href") or "").strip())
                if href:
                    found.setdefault(href, _NEXT_RELS.index(rel))
        return tuple(sorted(found, key=found.__getitem__))


def _markup_text(element: _Element) -> str:
    """Plain text of an RSS field: escaped HTML as a rule, unescaped markup sometimes."""
    if len(element):
        return element_text(element)
    return html_to_text(element.text or "")


def _text_construct(element: _Element) -> str:
    """Plain text of an Atom text construct (1.0 `type`, 0.3 `type` + `mode`)."""
    kind = (element.get("type") or "text").strip().lower()
    mode = (element.get("mode") or "").strip().lower()
    value = element.text or ""
    if mode == "base64":
        try:
            value = base64.b64decode(value).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return ""
    elif kind in ("xhtml", "application/xhtml+xml") or len(element):
        return element_text(element)
    if kind in ("html", "text/html") or mode == "escaped":
        return html_to_text(value)
    if kind in ("text", "text/plain") or kind.startswith("text/"):
        return plain_text(value)
    return ""  # a binary or unknown media type is not text


def _atom_link(links: Iterable[_Element], base: str | None = None) -> str:
    """The href of the alternate link (rel missing or "alternate"), HTML preferred."""
    best = ""
    for link in links:
        rel = (link.get("rel") or "alternate").strip().lower()
        href = (link.get("href") or "").strip()
        if rel != "alternate" or not href:
            continue
        kind = (link.get("type") or "").lower()
        if not kind or "html" in kind:
            return href
        best = best or href
    return best


def _http_url(base: str, link: str | None) -> str:
    return absolute_url(link, base) or ""


def _guid_url(guid: str | None) -> str:
    """The guid when it is an absolute http(s) URL (a relative guid is an id, not a link)."""
    if guid and guid[:8].lower().startswith(("https://", "http://")):
        return _http_url("", guid)
    return ""


def _has_substance(entry: Entry) -> bool:
    return bool(entry.url or entry.guid or entry.title or entry.summary or entry.content)


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag.startswith("{") else tag


def _child_text(parent: _Element, name: str, *namespaces: str) -> str | None:
    for child in parent:
        tag = child.tag
        if not isinstance(tag, str) or _local(tag) != name:
            continue
        ns = tag[1:].partition("}")[0] if tag.startswith("{") else ""
        if ns in (*_RSS_NAMESPACES, _RSS10, _RSS090, *namespaces):
            return child.text
    return None


def _first(found: dict[str, _Element], *keys: str) -> _Element | None:
    # Not `a or b`: an lxml element without children is falsy.
    return next((found[key] for key in keys if key in found), None)


def _stripped(element: _Element | None) -> str | None:
    if element is None or not element.text:
        return None
    return element.text.strip() or None


def _language_tag(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    return tag if re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*", tag) else None


# --- JSON Feed -----------------------------------------------------------------------------


def _json_feed(text: str, url: str, source: str) -> ParsedPage:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(source, f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ParseError(source, "not a feed: JSON without an 'items' list (not a JSON Feed)")
    version = str(data.get("version") or "")
    warnings = (
        ()
        if version.startswith("https://jsonfeed.org/version/")
        else (f"JSON Feed without a known version ({version!r})",)
    )
    base = _json_str(data.get("feed_url")) or url
    language = _language_tag(_json_str(data.get("language")))
    entries: list[Entry] = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        entry = _json_item(item, base, language)
        if _has_substance(entry):
            entries.append(entry)
    next_url = _http_url(url, _json_str(data.get("next_url")))
    return ParsedPage(
        entries=tuple(entries),
        next_pages=(next_url,) if next_url else (),
        title=one_line(_json_str(data.get("title"))),
        language=language,
        warnings=warnings,
    )


def _json_item(item: dict[str, Any], base: str, feed_language: str | None) -> Entry:
    guid = _json_str(item.get("id")) or None
    link = _json_str(item.get("url")) or _json_str(item.get("external_url"))
    url = _http_url(base, link) or _guid_url(guid)
    language = _language_tag(_json_str(item.get("language"))) or feed_language
    content: str | None = None
    if _json_str(item.get("content_html")):
        content = html_to_text(_json_str(item.get("content_html")))
    elif _json_str(item.get("content_text")):
        content = plain_text(_json_str(item.get("content_text")))
    raw_date = _json_str(item.get("date_published")) or _json_str(item.get("date_modified"))
    return Entry(
        url=url,
        title=one_line(html_to_text(_json_str(item.get("title")))),
        guid=guid,
        summary=plain_text(_json_str(item.get("summary"))),
        content=content or None,
        published=parse_date(raw_date, language) if raw_date else None,
        language=language,
    )


def _json_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


# --- feedparser, for what lxml refuses -----------------------------------------------------


def _with_feedparser(
    text: str, url: str, source: str, warnings: list[str], root_name: str | None = None
) -> ParsedPage:
    # The declaration goes: the text is UTF-8 now whatever the document said it was.
    declaration = _XML_DECLARATION.match(text)
    if declaration:
        text = text[declaration.end() :]
    # A stream, never bytes or str: feedparser opens a str that looks like a URL or a file
    # name, which a hostile body could exploit.
    result = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        response_headers={
            "content-location": url,
            "content-type": "application/xml; charset=utf-8",
        },
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    notes = list(warnings)
    if result.get("bozo") and result.get("bozo_exception") is not None:
        notes.append(f"feedparser: {result['bozo_exception']}")
    if not result.get("version") and not result.entries:
        where = f" (root element <{root_name}>)" if root_name else ""
        raise ParseError(source, f"not a feed{where}: no RSS, RDF or Atom found")
    feed = result.get("feed", {})
    language = _language_tag(feed.get("language"))
    entries = []
    for item in result.entries:
        entry = _feedparser_entry(item, url, language)
        if _has_substance(entry):
            entries.append(entry)
    next_pages = []
    for link in feed.get("links", []):
        if (link.get("rel") or "").lower() in _NEXT_RELS:
            href = _http_url(url, link.get("href"))
            if href and href not in next_pages:
                next_pages.append(href)
    title_detail = feed.get("title_detail") or {}
    return ParsedPage(
        entries=tuple(entries),
        next_pages=tuple(next_pages),
        title=one_line(_detail_text(title_detail)) if title_detail else "",
        language=language,
        warnings=tuple(notes),
    )


def _feedparser_entry(item: Any, url: str, feed_language: str | None) -> Entry:
    guid = (item.get("id") or "").strip() or None
    link = (item.get("link") or "").strip()
    target = _http_url(url, link) or _guid_url(guid)
    title_detail = item.get("title_detail") or {}
    language = _language_tag(title_detail.get("language")) or feed_language
    contents = item.get("content") or []
    content = _detail_text(contents[0]) if contents else ""
    summary_detail = item.get("summary_detail") or {}
    # feedparser copies the body into `summary` when there is none; that is not a summary.
    summary = ""
    if summary_detail and not (
        contents and summary_detail.get("value") == contents[0].get("value")
    ):
        summary = _detail_text(summary_detail)
    raw_date = item.get("published") or item.get("updated") or item.get("created")
    return Entry(
        url=target,
        title=one_line(_detail_text(title_detail)) if title_detail else "",
        guid=guid,
        summary=summary,
        content=content or None,
        published=parse_date(raw_date, language) if isinstance(raw_date, str) else None,
        language=language,
    )


def _detail_text(detail: Any) -> str:
    kind = (detail.get("type") or "text/html").lower()
    value = detail.get("value") or ""
    if kind == "text/plain":
        return plain_text(value)
    return html_to_text(value)
