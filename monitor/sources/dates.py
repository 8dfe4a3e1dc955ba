"""Dates as sources write them, to datetimes: aware when the text names a zone, naive when not.

A utility module: no business logic. The only module that imports dateparser.

A naive result is deliberate: "21:38, 18 Августа 2026" is Astana time, and only the source's
configuration knows that, so the pipeline localizes naive dates in the source's zone. Nothing
here assumes UTC for a zone-less date, and nothing depends on the current time: relative
dates ("вчера", "2 hours ago") and dates without a year give None rather than a guess.

Fast paths first (feeds and sitemaps are almost always ISO 8601 or RFC 822, and the benchmark
parses tens of thousands of them); dateparser, which knows month names in every language we
watch (ru genitive "марта", kk "наурыз", tr "Şubat", zh "8月"), only for the rest.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

import dateparser

_ISO = re.compile(r"^\d{4}-?\d{2}-?\d{2}(?:$|[T ]\d)")
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{2,9}\.?,?\s*)?\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{2,4}\s+\d{1,2}:\d{2}"
)
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
# The form nearly every RSS date takes, read without email.utils (a quarter of the time).
_RFC822_COMMON = re.compile(
    r"^(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) "
    r"(?:([+-])(\d{2})(\d{2})|GMT|UTC|UT|Z)$"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ZONE_NAME = re.compile(r"\s([A-Z]{2,5})$")
# Zone abbreviations of the region that email.utils does not know (it knows the US ones, UT,
# GMT and Z). "CST" is email.utils's US Central, except in Chinese (below).
_ZONES = {
    "MSK": "+0300",
    "TRT": "+0300",
    "AFT": "+0430",
    "PKT": "+0500",
    "UZT": "+0500",
    "IST": "+0530",
    "HKT": "+0800",
    "SGT": "+0800",
    "JST": "+0900",
    "KST": "+0900",
    "CET": "+0100",
    "CEST": "+0200",
    "EET": "+0200",
    "EEST": "+0300",
    "BST": "+0100",
    "WIB": "+0700",
}
# In a date of a Chinese feed or page (by its language) "CST" is China Standard Time.
_CHINESE_ZONES = {**_ZONES, "CST": "+0800"}
# Longer text is not a date; dateparser's cost grows with length.
_MAX_CHARS = 120
_EPOCH_RANGE = (datetime(1995, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))

# Tried after the source's language when a date does not parse in it.
FALLBACK_LANGUAGES = ("en", "ru", "kk", "uz-Cyrl", "uz-Latn", "tr", "zh", "ur")
_SCRIPTS = {"uz": ("uz-Cyrl", "uz-Latn"), "zh": ("zh",), "sr": ("sr-Cyrl", "sr-Latn")}

_SETTINGS = {
    # Absolute dates only: a relative one ("сегодня") would depend on when we parse.
    "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    # A date without a year ("18 Августа") or without a day is not guessed.
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DATES_FROM": "past",
    "PREFER_DAY_OF_MONTH": "first",
    # Day first: Kazakh, Russian, Turkish, Uzbek and Pakistani sites all write 04.02.2026
    # for 4 February. Year-first ISO dates are unaffected.
    "DATE_ORDER": "DMY",
}


def parse_date(text: str, language: str | None) -> datetime | None:
    """The moment `text` names, or None. `language` is an ISO 639-1 hint ("ru", "uz-cyrl")."""
    text = " ".join(text.split())
    if not text or len(text) > _MAX_CHARS:
        return None
    if _EPOCH.match(text):
        return _from_epoch(text)
    if _ISO.match(text):
        found = _iso(text)
        if found is not None:
            return found
    if _RFC822.match(text):
        found = _rfc822(text, _CHINESE_ZONES if (language or "").startswith("zh") else _ZONES)
        if found is not None:
            return found
    return _dateparser(text, _languages(language))


def _from_epoch(text: str) -> datetime | None:
    seconds = int(text) / (1000 if len(text) == 13 else 1)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment if _EPOCH_RANGE[0] <= moment < _EPOCH_RANGE[1] else None


def _iso(text: str) -> datetime | None:
    candidate = text.replace(" ", "T", 1) if " " in text else text
    if candidate.endswith(("z", "Z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        return _plain_zone(datetime.fromisoformat(candidate))
    except ValueError:
        return None


def _rfc822(text: str, zones: dict[str, str]) -> datetime | None:
    common = _RFC822_COMMON.match(text)
    if common:
        day, month, year, hour, minute, second, sign, zone_h, zone_m = common.groups()
        number = _MONTHS.get(month.lower())
        if number is not None and not (sign == "-" and zone_h == zone_m == "00"):
            try:
                return datetime(
                    int(year), number, int(day), int(hour), int(minute), int(second),
                    tzinfo=_offset(sign, zone_h, zone_m),
                )  # fmt: skip
            except ValueError:
                return None
    zone = _ZONE_NAME.search(text)
    if zone and zone.group(1) in zones:
        text = text[: zone.start(1)] + zones[zone.group(1)]
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None and text.endswith("-0000"):
        # RFC 2822 reads "-0000" as "zone unknown"; feeds that write it mean UTC, and
        # feedparser (the reference readers use) agrees.
        return moment.replace(tzinfo=UTC)
    return _plain_zone(moment)


@lru_cache(maxsize=256)
def _offset(sign: str | None, hours: str | None, minutes: str | None) -> timezone:
    if not sign or not hours or not minutes:
        return UTC
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if not delta:
        return UTC
    return timezone(-delta if sign == "-" else delta)


@lru_cache(maxsize=64)
def _languages(language: str | None) -> tuple[str, ...]:
    if not language:
        return FALLBACK_LANGUAGES
    tag = language.replace("_", "-").lower()
    primary, _, script = tag.partition("-")
    if primary == "uz" and script.startswith("cyr"):
        chosen: tuple[str, ...] = ("uz-Cyrl",)
    elif primary == "uz" and script.startswith("lat"):
        chosen = ("uz-Latn",)
    else:
        chosen = _SCRIPTS.get(primary, (primary,))
    return (*chosen, *(name for name in ("en", "ru") if name not in chosen))


def _dateparser(text: str, languages: tuple[str, ...]) -> datetime | None:
    try:
        moment = dateparser.parse(text, languages=list(languages), settings=_SETTINGS)
    except ValueError:
        if languages == FALLBACK_LANGUAGES:
            return None
        # Raised for a language dateparser does not know ("xx") as well as for bad input.
        return _dateparser(text, FALLBACK_LANGUAGES)
    except (TypeError, OverflowError, AttributeError, KeyError, IndexError):
        return None
    return _plain_zone(moment) if moment is not None else None


def _plain_zone(moment: datetime) -> datetime:
    """Replace library zone objects (pytz, dateutil) by a fixed `timezone` of the same offset."""
    offset = moment.utcoffset()
    if offset is None:
        return moment
    if offset == timedelta(0):
        return moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=timezone(offset))
