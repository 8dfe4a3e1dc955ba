"""Plain text from HTML: fragments (feed bodies, listing cards) and whole article pages.

The only module that imports trafilatura. `html_to_text` is the one HTML-to-text conversion
used by the feed, listing and article readers, so every text the monitor stores went through
the same rules: scripts, styles, embedded objects and form controls are dropped with their
content; attributes (event handlers, `javascript:` links) never reach the text; entities are
decoded; block elements become line breaks and paragraphs are separated by a blank line.

An article's text comes, in order of preference, from

1. the source's own CSS selector (`content_selector`, e.g. `div.article__content` for
   Kazinform), when it matches;
2. the publisher's JSON-LD `NewsArticle.articleBody` (Tengrinews carries the full body there)
   when it is long enough not to be a teaser;
3. trafilatura's main-text extraction (precision favoured, comments excluded);
4. a short JSON-LD body, rather than nothing.

Title, date and language come from JSON-LD, then `<meta>` tags, then trafilatura's metadata.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import trafilatura
from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError
from lxml.etree import _Element

from monitor.errors import ParseError
from monitor.models import Article
from monitor.sources.dates import parse_date
from monitor.sources.decode import decode

# --- HTML to text --------------------------------------------------------------------------


def _names(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


_SKIP = _names(
    "script style noscript template iframe frame frameset noframes object embed applet svg",
    "math canvas audio video head title meta link button select textarea input base",
)
_PARAGRAPH = _names(
    "p h1 h2 h3 h4 h5 h6 blockquote ul ol dl table figure section article header footer",
    "aside address hr details main nav fieldset center",
)  # and "pre", which also keeps its line breaks
_LINE = _names("div li tr dt dd figcaption caption summary legend tbody thead tfoot body html form")
# Breaks between runs of text, strongest last: the end of a line-level block, a <br> (two in
# a row make a paragraph break), a paragraph.
_LINE_END, _BR, _PARA = 1, 2, 3
# Other kinds of element; one dictionary lookup per element keeps the walk fast.
_INLINE, _SKIPPED, _CELL, _PRE = 0, -1, -2, -3
_KINDS: dict[object, int] = {
    **dict.fromkeys(_SKIP, _SKIPPED),
    **dict.fromkeys(_PARAGRAPH, _PARA),
    **dict.fromkeys(_LINE, _LINE_END),
    "br": _BR,
    "td": _CELL,
    "th": _CELL,
    "pre": _PRE,
}
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
# Characters XML 1.0 forbids; libxml2 refuses a document that contains them.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The controls among them are single bytes in UTF-8: one `bytes.translate` removes them,
# at a third of the cost of the regex.
_FORBIDDEN_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# lxml parsers must not be shared between threads; each thread gets its own.
_per_thread = threading.local()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment or document."""
    if "<" not in fragment:
        return one_line(html.unescape(fragment) if "&" in fragment else fragment)
    root = parse_html(fragment)
    return element_text(root) if root is not None else ""


def plain_text(text: str) -> str:
    """Text that is text already (Atom type="text", JSON content_text): spaces tidied."""
    lines = (" ".join(line.split()) for line in text.replace("\r", "\n").split("\n"))
    return _inert(_BLANK_LINES.sub("\n\n", "\n".join(lines).strip()))


def _inert(text: str) -> str:
    """No "<" that opens a tag: text from `&lt;script&gt;`, or a plain-text title that says
    "<script>", must not become markup in whatever renders it later. U+2039 looks the same."""
    return _TAG_OPEN.sub("\u2039", text) if "<" in text else text


def parse_html(document: str) -> _Element | None:
    """An lxml tree of `document` (forgiving, no network); None when it holds nothing."""
    for wide in "\ufffe\uffff":
        if wide in document:
            document = document.replace(wide, "")
    data = document.encode("utf-8", errors="replace").translate(None, _FORBIDDEN_BYTES)
    parser = getattr(_per_thread, "parser", None)
    if parser is None:
        parser = _per_thread.parser = etree.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True
        )
    try:
        return etree.fromstring(data, parser)
    except etree.ParserError:  # "Document is empty"
        return None


def select(element: _Element, selector: str, where: str) -> list[_Element]:
    """Elements under `element` matching the CSS `selector`; a bad selector is a ParseError
    naming `where` (the source)."""
    return list(element.xpath(_xpath(selector, where)))


@lru_cache(maxsize=512)
def _xpath(selector: str, where: str) -> str:
    # The translation is the slow part and is pure; the XPath is compiled where it is used,
    # because compiled XPath objects must not be shared between threads.
    try:
        return str(CSSSelector(selector, translator="html").path)
    except SelectorError as exc:
        raise ParseError(where, f"invalid CSS selector {selector!r}: {exc}") from exc


def element_text(element: _Element) -> str:
    """Plain text of an element of an HTML or XHTML tree, its tail excluded."""
    parts: list[str | int] = []
    preformatted = 0
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = node.tag
        kind = _KINDS.get(tag)
        if kind is None:
            if not isinstance(tag, str):
                continue
            kind = _kind(tag)
        if event == "start":
            if kind == _SKIPPED and node is not element:
                walker.skip_subtree()
                continue
            if kind >= _LINE_END:
                parts.append(kind)
            elif kind == _PRE:
                parts.append(_PARA)
                preformatted += 1
            text = node.text  # (lxml makes a new str at each read)
            if text:
                if preformatted:
                    _add_lines(parts, text)
                else:
                    parts.append(text)
            continue
        if kind in (_PARA, _LINE_END):
            parts.append(kind)
        elif kind == _CELL:
            parts.append(" ")
        elif kind == _PRE:
            parts.append(_PARA)
            preformatted -= 1
        tail = node.tail
        if tail and node is not element:
            if preformatted:
                _add_lines(parts, tail)
            else:
                parts.append(tail)
    return _assemble(parts)


def _kind(tag: str) -> int:
    """The kind of a tag not seen before (XHTML's `{ns}p`, a prefixed or upper-case name)."""
    name = tag.rpartition("}")[2].rpartition(":")[2].lower()
    kind = _KINDS.get(name, _INLINE)
    if len(_KINDS) < 4096:
        _KINDS[tag] = kind
    return kind


def _add_lines(parts: list[str | int], text: str) -> None:
    """Preformatted text: each line break kept."""
    lines = text.replace("\r\n", "\n").split("\n")
    for line in lines[:-1]:
        parts.extend((line, _LINE_END))
    parts.append(lines[-1])


def _assemble(parts: list[str | int]) -> str:
    """Join text runs: spaces collapsed inside a run, runs separated by their strongest break."""
    out: list[str] = []
    run: list[str] = []
    gap = brs = 0
    parts.append(_LINE_END)
    for part in parts:
        if isinstance(part, str):
            run.append(part)
            continue
        if run:
            text = squeezed(run[0] if len(run) == 1 else "".join(run))
            run.clear()
            if text:
                if out:
                    out.append("\n\n" if gap == _PARA or brs > 1 else "\n")
                out.append(text)
                gap = brs = 0
        if part == _BR:
            brs += 1
        if part > gap:
            gap = part
    return _inert("".join(out))


def squeezed(text: str) -> str:
    """`text` with runs of whitespace made one space and none at the ends; `text` itself
    when there are none. Most texts have none to squeeze: every whitespace character but
    the space is unprintable, so `isprintable` (a third of the cost of splitting) says so."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def one_line(text: str) -> str:
    """`text` with every run of whitespace, line breaks included, made one space."""
    return _inert(squeezed(text))


# --- article pages -------------------------------------------------------------------------

# Below this many characters a JSON-LD body is taken for a teaser and the page is read.
MIN_BODY_CHARS = 200
_ARTICLE_TYPES = _names(
    "newsarticle article reportagenewsarticle analysisnewsarticle opinionnewsarticle",
    "backgroundnewsarticle blogposting liveblogposting report",
)
_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "date",
    "dc.date",
    "dc.date.issued",
    "sailthru.date",
)
_TITLE_META = ("og:title", "twitter:title")


def extract_article(
    content: bytes, *, url: str, encoding: str | None = None, selector: str | None = None
) -> Article:
    """The main text of an article page, with its title, date and language when known."""
    document = decode(content, encoding, html=True)
    root = parse_html(document)
    if root is None:
        raise ParseError(url, "empty page")
    ld = _json_ld_article(root)
    meta = _meta(root)
    language = _language(root, ld)
    text = ""
    if selector:
        text = _selected_text(root, selector, url)
    ld_body = _ld_text(ld.get("articleBody"))
    if not text and len(ld_body) >= MIN_BODY_CHARS:
        text = ld_body
    extracted: _Extracted | None = None
    if not text:
        extracted = _trafilatura(document, url)
        text = extracted.text if extracted is not None else ""
    if not text:
        text = ld_body
    if not text:
        raise ParseError(url, "no article text found on the page")
    title = one_line(_ld_text(ld.get("headline")) or _first(meta, _TITLE_META))
    if not title and extracted is not None:
        title = one_line(extracted.title)
    if not title:
        title = one_line(_text_of(root.find(".//title")))
    published = _date(ld.get("datePublished"), language) or _date(
        _first(meta, _DATE_META), language
    )
    if published is None and extracted is not None and extracted.date:
        published = parse_date(extracted.date, None)
    return Article(text=text, title=title, published=published, language=language)


def _selected_text(root: _Element, selector: str, url: str) -> str:
    for found in select(root, selector, url):
        text = element_text(found)
        if text:
            return text
    return ""


class _Extracted(NamedTuple):
    text: str
    title: str
    date: str


def _trafilatura(document: str, url: str) -> _Extracted | None:
    for precise in (True, False):
        try:
            found = trafilatura.bare_extraction(
                document,
                url=url,
                favor_precision=precise,
                include_comments=False,
                include_tables=True,
                with_metadata=True,
                deduplicate=False,
                # Dates from markup only: a date guessed from the text or the copyright line
                # is worse than none (Akorda's pages carry no date at all).
                date_extraction_params={"extensive_search": False, "original_date": True},
            )
        except (ValueError, TypeError, etree.LxmlError):
            found = None
        if found is None or isinstance(found, dict):
            continue
        # One line per paragraph from trafilatura; blank lines between, as html_to_text does.
        text = "\n\n".join(line for line in (found.text or "").splitlines() if line.strip())
        if text:
            return _Extracted(_inert(text), found.title or "", found.date or "")
    return None


def _json_ld_article(root: _Element) -> dict[str, Any]:
    """The JSON-LD article object of the page (the first with a body), or {}."""
    headed: dict[str, Any] = {}
    for script in root.iterfind(".//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text, strict=False)
        except (ValueError, RecursionError):
            continue
        for node in _ld_nodes(data):
            kinds = node.get("@type")
            names = kinds if isinstance(kinds, list) else [kinds]
            if not any(isinstance(n, str) and n.lower() in _ARTICLE_TYPES for n in names):
                continue
            if node.get("articleBody"):
                return node
            if not headed and node.get("headline"):
                headed = node
    return headed


def _ld_nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity"):  # WebPage.mainEntity holds the article on some
            if data.get(key) is not None:
                yield from _ld_nodes(data[key])


def _ld_text(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str):
        return ""
    # Publishers put HTML (or HTML-escaped text) into articleBody as often as plain text.
    if "<" in value or "&" in value:
        return html_to_text(value)
    return plain_text(value)


def _meta(root: _Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in root.iterfind(".//meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower()
        value = tag.get("content")
        if key and value and key not in found:
            found[key] = value.strip()
    for tag in root.iterfind(".//time[@itemprop]"):
        if tag.get("itemprop", "").lower() == "datepublished" and tag.get("datetime"):
            found.setdefault("datepublished", tag.get("datetime", "").strip())
    return found


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((meta[key] for key in keys if meta.get(key)), "")


def _language(root: _Element, ld: dict[str, Any]) -> str | None:
    value = ld.get("inLanguage")
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name")
    if not isinstance(value, str) or not value.strip():
        value = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    return value.strip().lower().replace("_", "-") if value and value.strip() else None


def _date(value: Any, language: str | None) -> datetime | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return parse_date(value, language) if isinstance(value, str) else None


def _text_of(element: _Element | None) -> str:
    return element.text or "" if element is not None else ""
