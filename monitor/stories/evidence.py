"""Language-independent evidence of what an item reports: the entities the watchlist
dictionaries resolve (the same ids whatever the language or script), where they stand, and
the figures and dates it gives. Two reports of one event in Kazakh and Chinese share
`tokayev`, `islamabad` and `2026-02-04`, not words.
"""

from __future__ import annotations

import re

from monitor.models import Evidence, Item
from monitor.watch.matcher import Matcher, Mentioned, fields

# A figure: digits with group separators or a decimal part (1,000  1 000  2.5  2,5).
_FIGURE = re.compile(
    r"(?<![\d.,])\d{1,3}(?:(?:[ \u00a0\u202f]|,|\.)\d{3})+(?![\d])|\d+(?:[.,]\d+)?"
)
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./]((?:19|20)\d\d)\b")
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_SEPARATORS = re.compile(r"[ \u00a0\u202f,.]")
_DIGIT = re.compile(r"\d")

# Small whole numbers (days, counts) and years are in every report of anything.
MIN_FIGURE = 100
YEARS = range(1900, 2101)
MAX_FIGURES = 20
MAX_ENTITIES = 40


def figures(text: str) -> set[str]:
    """Figures that can tell one event from another: dates written in digits (as ISO), and
    numbers of at least three digits or with a decimal part, years left out."""
    found: set[str] = set()
    if _DIGIT.search(text) is None:  # one pass, where a text with digits takes five
        return found
    dates = _DAY_MONTH_YEAR.findall(text)
    for day, month, year in dates:
        if 1 <= int(day) <= 31 and 1 <= int(month) <= 12:
            found.add(f"{year}-{int(month):02d}-{int(day):02d}")
    iso = _ISO_DATE.findall(text)
    for year, month, day in iso:
        found.add(f"{year}-{month}-{day}")
    stripped = _DAY_MONTH_YEAR.sub(" ", text) if dates else text
    stripped = _ISO_DATE.sub(" ", stripped) if iso else stripped
    for raw in _FIGURE.findall(stripped):
        value = _figure_value(raw)
        if value is not None:
            found.add(value)
        if len(found) >= MAX_FIGURES:
            break
    return found


def _figure_value(raw: str) -> str | None:
    grouped = re.fullmatch(r"\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+", raw)
    if grouped:
        number = int(_SEPARATORS.sub("", raw))
        return str(number) if number >= MIN_FIGURE else None
    if "." in raw or "," in raw:
        whole, _, fraction = raw.replace(",", ".").partition(".")
        fraction = fraction.rstrip("0")
        return f"{int(whole)}.{fraction}" if fraction else _whole(int(whole))
    return _whole(int(raw))


def _whole(number: int) -> str | None:
    if number < MIN_FIGURE or number in YEARS:
        return None
    return str(number)


def evidence_of(item: Item, matcher: Matcher) -> Evidence:
    """The item's evidence, from every entity the compiled watchlists know."""
    return evidence_from(item, matcher.mentioned(item))


def evidence_from(item: Item, mentioned: Mentioned) -> Evidence:
    """The item's evidence, from what the matcher found it mentions (`Matcher.mentioned`, or
    `Matcher.match_mentioned` along with its matches)."""
    kept = mentioned.entities[:MAX_ENTITIES]
    texts = fields(item)
    return Evidence(
        entities=frozenset(kept),
        lead_entities=mentioned.lead.intersection(kept),
        numbers=frozenset(figures(f"{texts['title']}\n{texts['body']}")),
    )
