"""Sitemaps to records: `urlset` (with Google News tags) and sitemap indexes, gzip or not.

A `urlset` gives one Entry per `<url>`: the news title, publication date and language when the
Google News extension is there, else the `<lastmod>` as the date. A `sitemapindex` gives no
entries; its child sitemaps are `next_pages`, newest `<lastmod>` first (children without one
last, in document order), so a poll that reads the first few reads the freshest (Tengrinews'
`*sitemap-news*` children).

The XML parser loads no DTD, expands no entity and touches no network; a gzip body is
decompressed up to the sitemap protocol's own limit of 50 MB.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from lxml import etree
from lxml.etree import _Element

from monitor.errors import ParseError
from monitor.models import Entry, ParsedPage
from monitor.sources.dates import parse_date
from monitor.sources.decode import decode
from monitor.sources.extract import one_line
from monitor.sources.safexml import safe_parser
from monitor.urls import absolute_url

MAX_UNCOMPRESSED = 50 * 1024 * 1024  # sitemaps.org: "no larger than 50MB (52,428,800 bytes)"
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def parse_sitemap(content: bytes, *, url: str, source: str) -> ParsedPage:
    """Entries of a urlset, or the child sitemaps of an index (in `next_pages`)."""
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, source)
    text = decode(content, None, html=False)
    if not text.strip():
        raise ParseError(source, "empty sitemap")
    data = text.encode("utf-8")
    warnings: list[str] = []
    try:
        root = etree.fromstring(data, safe_parser(recover=False))
    except etree.XMLSyntaxError as exc:
        # Sitemaps with a stray "&" are common; read what can be read and say so.
        try:
            root = etree.fromstring(data, safe_parser(recover=True))
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise ParseError(source, f"sitemap is not XML: {exc}") from exc
        warnings.append(f"not well-formed, read leniently: {exc}")
    name = _local(root.tag)
    if name == "urlset":
        return ParsedPage(entries=_urls(root, url), warnings=tuple(warnings))
    if name == "sitemapindex":
        return ParsedPage(entries=(), next_pages=_children(root, url), warnings=tuple(warnings))
    raise ParseError(source, f"not a sitemap: root element <{name}> (expected urlset or index)")


def _gunzip(content: bytes, source: str) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, MAX_UNCOMPRESSED)
    except zlib.error as exc:
        raise ParseError(source, f"corrupt gzip sitemap: {exc}") from exc
    if inflater.unconsumed_tail:
        raise ParseError(source, f"gzip sitemap larger than {MAX_UNCOMPRESSED} bytes unpacked")
    if not inflater.eof:
        raise ParseError(source, "truncated gzip sitemap")
    return data


def _urls(root: _Element, base: str) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    seen: set[str] = set()
    for node in root:
        if _local(node.tag) != "url":
            continue
        fields = _fields(node)
        loc = _absolute(base, fields.get("loc"))
        if loc is None or loc in seen:
            continue
        seen.add(loc)
        news = _news(node)
        language = _language(news.get("language"))
        raw_date = news.get("publication_date") or fields.get("lastmod")
        entries.append(
            Entry(
                url=loc,
                title=one_line(news.get("title", "")),
                published=parse_date(raw_date, language) if raw_date else None,
                language=language,
            )
        )
    return tuple(entries)


def _children(root: _Element, base: str) -> tuple[str, ...]:
    found: dict[str, datetime | None] = {}
    for node in root:
        if _local(node.tag) != "sitemap":
            continue
        fields = _fields(node)
        loc = _absolute(base, fields.get("loc"))
        if loc is not None and loc not in found:
            raw = fields.get("lastmod")
            found[loc] = parse_date(raw, None) if raw else None

    def newest_first(loc: str) -> tuple[int, float]:
        stamp = found[loc]
        if stamp is None:
            return (1, 0.0)
        # Naive dates are taken as UTC: hours do not matter for ordering daily children.
        aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        return (0, -aware.timestamp())

    return tuple(sorted(found, key=newest_first))


def _fields(node: _Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in node:
        name = _local(child.tag)
        if name and child.text and name not in fields:
            fields[name] = child.text.strip()
    return fields


def _news(node: _Element) -> dict[str, str]:
    news = node.find(f"{{{_NEWS}}}news")
    if news is None:
        return {}
    fields = _fields(news)
    publication = news.find(f"{{{_NEWS}}}publication")
    if publication is not None:
        fields.update({k: v for k, v in _fields(publication).items() if k == "language"})
    return fields


def _absolute(base: str, loc: str | None) -> str | None:
    return absolute_url(loc, base)


def _language(value: str | None) -> str | None:
    return value.strip().lower().replace("_", "-") if value and value.strip() else None


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
