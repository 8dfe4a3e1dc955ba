"""HTML listing pages to records, by CSS selectors from the source's configuration.

No code per site: `[source.listing]` names the card (`item`), and inside it the link, title
and date; older pages come from a "next" link or a page-number URL template. Dates are read
in the source's language (monitor.sources.dates) and stay naive unless the text names a zone.

A page on which the card selector matches nothing raises ParseError: that is a redesigned
site, a challenge page or an error page served with 200, and it must show up in the source's
health, not as a quiet run of zero items.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml.etree import _Element

from monitor.config import ListingSelectors
from monitor.errors import ParseError
from monitor.models import Entry, ParsedPage
from monitor.sources.dates import parse_date
from monitor.sources.decode import decode
from monitor.sources.extract import one_line, parse_html, select
from monitor.urls import absolute_url, canonical_url


def parse_listing(
    content: bytes,
    *,
    url: str,
    source: str,
    selectors: ListingSelectors,
    language: str | None,
    encoding: str | None = None,
) -> ParsedPage:
    """The article cards of a listing page, and the next (older) page to read."""
    root = parse_html(decode(content, encoding, html=True))
    if root is None:
        raise ParseError(source, "empty listing page")
    base = _base_url(root, url)
    cards = _select(source, selectors.item, root)
    if not cards:
        raise ParseError(
            source,
            f"no element matches the item selector {selectors.item!r}: the layout may have "
            "changed, or an error or challenge page was served",
        )
    entries: list[Entry] = []
    seen: set[str] = set()
    skipped = 0
    for card in cards:
        entry = _card(source, card, base, selectors, language)
        if entry is None:
            skipped += 1
            continue
        key = canonical_url(entry.url)
        if key not in seen:
            seen.add(key)
            entries.append(entry)
    if not entries:
        raise ParseError(
            source,
            f"{len(cards)} elements match {selectors.item!r} but none has a link "
            f"matching {selectors.link!r}",
        )
    warnings = (f"{skipped} cards without a link were skipped",) if skipped else ()
    return ParsedPage(
        entries=tuple(entries),
        next_pages=_next_pages(source, root, base, url, selectors),
        title=one_line(_text(root.find(".//title"))),
        language=language,
        warnings=warnings,
    )


def _card(
    source: str,
    card: _Element,
    base: str,
    selectors: ListingSelectors,
    language: str | None,
) -> Entry | None:
    link = _first(source, selectors.link, card)
    if link is None and card.tag == "a":
        link = card
    href = _href(link, base) if link is not None else None
    if href is None or link is None:
        return None
    title = ""
    if selectors.title:
        title_el = _first(source, selectors.title, card)
        title = one_line(_text(title_el)) if title_el is not None else ""
    if not title:
        title = one_line(_text(link)) or one_line(link.get("title") or "")
    return Entry(
        url=href,
        title=title,
        published=_date(source, card, selectors, language),
        language=language,
    )


def _date(
    source: str, card: _Element, selectors: ListingSelectors, language: str | None
) -> datetime | None:
    """The card's date: text of `date`, or attribute `date_attr` (of `date`, else of the card
    or its first descendant carrying it, as CGTN's `data-time` in epoch milliseconds)."""
    if not selectors.date and not selectors.date_attr:
        return None
    holder: _Element | None = card
    if selectors.date:
        holder = _first(source, selectors.date, card)
    if holder is None:
        return None
    if not selectors.date_attr:
        raw: str | None = _text(holder)
    else:
        attr = selectors.date_attr
        raw = holder.get(attr)
        if raw is None and not selectors.date:
            carrier = next((el for el in holder.iter() if el.get(attr) is not None), None)
            raw = carrier.get(attr) if carrier is not None else None
    return parse_date(raw, language) if raw else None


def _href(element: _Element, base: str) -> str | None:
    href = (element.get("href") or "").strip()
    if not href or href.startswith("#"):
        return None
    return absolute_url(href, base)


def _next_pages(
    source: str, root: _Element, base: str, url: str, selectors: ListingSelectors
) -> tuple[str, ...]:
    if selectors.next_page:
        found = _first(source, selectors.next_page, root)
        if found is not None:
            anchor = found if found.get("href") else found.find(".//a[@href]")
            href = _href(anchor, base) if anchor is not None else None
            if href and canonical_url(href) != canonical_url(url):
                return (href,)
        return ()
    if selectors.page_url and "{page}" in selectors.page_url:
        current = current_page(url, selectors.page_url, selectors.first_page)
        return (selectors.page_url.replace("{page}", str(current + 1)),)
    return ()


def current_page(url: str, template: str, first_page: int) -> int:
    """The page number of `url` under `template` ("https://site/news?page={page}")."""
    pattern = re.escape(template).replace(re.escape("{page}"), r"(\d+)")
    match = re.fullmatch(pattern, url.strip())
    if match:
        return int(match.group(1))
    # The same parameter in another spelling of the URL (order, www, extra parameters).
    query = urlsplit(template).query
    key = next((k for k, v in parse_qsl(query, keep_blank_values=True) if v == "{page}"), None)
    if key:
        for name, value in parse_qsl(urlsplit(url).query):
            if name == key and value.isdigit():
                return int(value)
    return first_page


def _base_url(root: _Element, url: str) -> str:
    base = root.find(".//base[@href]")
    if base is not None:
        return urljoin(url, (base.get("href") or "").strip())
    return url


def _select(source: str, selector: str, element: _Element) -> list[_Element]:
    return select(element, selector, source)


def _first(source: str, selector: str, element: _Element) -> _Element | None:
    found = select(element, selector, source)
    return found[0] if found else None


def _text(element: _Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext())
