from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.config import ListingSelectors
from monitor.errors import ParseError
from monitor.sources.dates import parse_date
from monitor.sources.listing import current_page, parse_listing

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
AKORDA = ListingSelectors(
    item="div.card",
    link="h3 a",
    date="h5",
    page_url="https://www.residence.example/ru/events?page={page}",
)
KAZINFORM = ListingSelectors(
    item="div.newsList__item",
    link="a.newsList__link",
    title=".newsList__title",
    date=".newsList__date",
    next_page="a.pagination__next",
)


def test_akorda_like_listing() -> None:
    page = parse_listing(
        (FIXTURES / "akorda_listing.html").read_bytes(),
        url="https://www.residence.example/ru/events?page=2",
        source="akorda-ru",
        selectors=AKORDA,
        language="ru",
    )
    urls = [e.url for e in page.entries]
    # Relative links made absolute; the card without a link skipped; the repeat (same page
    # with a tracking parameter) kept once, first occurrence.
    assert urls == [
        "https://www.residence.example/ru/vstrecha-s-premer-ministrom-pakistana-2895622",
        "https://www.residence.example/ru/zasedanie-pravitelstva-2895610?utm_source=tg",
        "https://www.residence.example/ru/telefonnyi-razgovor-2895590",
    ]
    first, second, third = page.entries
    assert first.title == "Глава государства провёл встречу с Премьер-министром Пакистана"
    assert first.published == datetime(2026, 3, 21)  # "21 марта 2026 года", naive
    assert second.title == "Состоялось расширенное заседание Правительства"
    assert second.published == datetime(2026, 3, 20)
    assert third.published is None  # "сегодня" is not guessed
    assert {e.language for e in page.entries} == {"ru"}
    assert page.next_pages == ("https://www.residence.example/ru/events?page=3",)
    assert page.warnings == ("1 cards without a link were skipped",)


def test_akorda_kazakh_dates_and_first_page() -> None:
    page = parse_listing(
        (FIXTURES / "akorda_listing_kk.html").read_bytes(),
        url="https://www.residence.example/kz/events",
        source="akorda-kk",
        selectors=AKORDA.model_copy(
            update={"page_url": "https://www.residence.example/kz/events?page={page}"}
        ),
        language="kk",
    )
    (entry,) = page.entries
    assert entry.title == "Мемлекет басшысы Пәкістан Премьер-министрімен кездесті"
    assert entry.published == datetime(2020, 3, 20)  # "20 наурыз 2020"
    assert page.next_pages == ("https://www.residence.example/kz/events?page=2",)


def test_kazinform_like_listing_with_base_href_and_next_link() -> None:
    page = parse_listing(
        (FIXTURES / "kazinform_listing.html").read_bytes(),
        url="https://www.wire-kz.example/ru/lenta/?page=2",
        source="kazinform-ru",
        selectors=KAZINFORM,
        language="ru",
    )
    assert [(e.url, e.title, e.published) for e in page.entries] == [
        (
            "https://www.wire-kz.example/ru/tokaev-i-sharif-obsudili-tranzit-a1b2c3",
            "Токаев и Шариф обсудили транзит через Афганистан",
            datetime(2026, 8, 18, 21, 38),
        ),
        (
            "https://www.wire-kz.example/ru/gvadar-port-d4e5f6",
            "Порт Гвадар примет казахстанские грузы",
            datetime(2026, 8, 18, 9, 5),
        ),
        (
            "https://www.wire-kz.example/ru/bez-daty-777777",
            "Новость с неразборчивой датой",
            None,
        ),
    ]
    assert page.next_pages == ("https://www.wire-kz.example/ru/lenta/?page=3",)


def _cards(cards: str) -> bytes:
    return f"<html><body><ul>{cards}</ul></body></html>".encode()


def test_chinese_dates_and_link_text_as_title() -> None:
    html = _cards(
        '<li class="n"><a href="/news/hasakesitan-a1b2c3/">哈萨克斯坦总统会见巴基斯坦总理</a>'
        '<span class="t">08:32, 18 8月 2026</span></li>'
    )
    page = parse_listing(
        html,
        url="https://cn.wire-kz.example/lenta",
        source="kazinform-cn",
        selectors=ListingSelectors(item="li.n", date="span.t"),
        language="zh",
    )
    (entry,) = page.entries
    assert entry.title == "哈萨克斯坦总统会见巴基斯坦总理"
    assert entry.url == "https://cn.wire-kz.example/news/hasakesitan-a1b2c3/"
    assert entry.published == datetime(2026, 8, 18, 8, 32)


def test_epoch_milliseconds_in_an_attribute() -> None:
    # CGTN listings carry data-time in epoch milliseconds.
    html = _cards(
        '<li class="news" data-time="1771234567890"><a href="https://www.cgtn.example/news/1">'
        "China and Pakistan review Gwadar projects</a></li>"
    )
    page = parse_listing(
        html,
        url="https://www.cgtn.example/world",
        source="cgtn",
        selectors=ListingSelectors(item="li.news", date_attr="data-time"),
        language="en",
    )
    assert page.entries[0].published == datetime(2026, 2, 16, 9, 36, 7, 890000, tzinfo=UTC)


def test_date_attribute_on_a_date_element_and_turkish_dates() -> None:
    html = _cards(
        '<li class="c"><a href="/tr/dunya/3301">Kazakistan ile Pakistan</a>'
        '<time datetime="2026-02-04T18:27:00+03:00">4 Şubat</time></li>'
        '<li class="c"><a href="/tr/dunya/3302">İkinci haber</a><time>04.02.2026 18:27</time></li>'
    )
    page = parse_listing(
        html,
        url="https://www.aa.example/tr/dunya",
        source="aa-tr",
        selectors=ListingSelectors(item="li.c", date="time", date_attr="datetime"),
        language="tr",
    )
    assert page.entries[0].published == datetime(
        2026, 2, 4, 18, 27, tzinfo=timezone(timedelta(hours=3))
    )
    assert page.entries[1].published is None  # date_attr set: the text is not read
    text_dates = parse_listing(
        html,
        url="https://www.aa.example/tr/dunya",
        source="aa-tr",
        selectors=ListingSelectors(item="li.c", date="time"),
        language="tr",
    )
    assert text_dates.entries[1].published == datetime(2026, 2, 4, 18, 27)


def test_no_matching_cards_is_an_error_not_an_empty_page() -> None:
    challenge = b"<html><body><h1>Checking your browser...</h1></body></html>"
    with pytest.raises(ParseError, match="no element matches"):
        parse_listing(
            challenge, url="https://x.example/", source="x", selectors=AKORDA, language="ru"
        )
    no_links = _cards('<div class="card"><h3>Без ссылки</h3></div>')
    with pytest.raises(ParseError, match="none has a link"):
        parse_listing(
            no_links, url="https://x.example/", source="x", selectors=AKORDA, language="ru"
        )


def test_invalid_selector_is_reported_as_a_parse_error() -> None:
    with pytest.raises(ParseError, match="invalid CSS selector"):
        parse_listing(
            _cards("<li>x</li>"),
            url="https://x.example/",
            source="x",
            selectors=ListingSelectors(item="li[["),
            language=None,
        )


def test_windows_1251_listing_without_a_label() -> None:
    html = (
        '<html><body><div class="card"><h3><a href="/ru/1">Встреча в Астане</a></h3>'
        "<h5>21 марта 2026 года</h5></div></body></html>"
    ).encode("cp1251")
    page = parse_listing(
        html, url="https://x.example/ru/events", source="x", selectors=AKORDA, language="ru"
    )
    assert page.entries[0].title == "Встреча в Астане"
    assert page.entries[0].published == datetime(2026, 3, 21)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://site.example/news?page=4", 4),
        ("https://www.site.example/news?lang=ru&page=7", 7),
        ("https://site.example/news", 1),
    ],
)
def test_current_page(url: str, expected: int) -> None:
    assert current_page(url, "https://site.example/news?page={page}", 1) == expected


def test_current_page_in_the_path() -> None:
    assert (
        current_page(
            "https://t.example/politics/page/3/", "https://t.example/politics/page/{page}/", 1
        )
        == 3
    )
    assert (
        current_page("https://t.example/politics/", "https://t.example/politics/page/{page}/", 1)
        == 1
    )


# --- dates ---------------------------------------------------------------------------------

PLUS5 = timezone(timedelta(hours=5))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("21 марта 2026 года", "ru", datetime(2026, 3, 21)),
        ("20 наурыз 2020", "kk", datetime(2020, 3, 20)),
        ("21:38, 18 Августа 2026", "ru", datetime(2026, 8, 18, 21, 38)),
        ("08:32, 18 8月 2026", "zh", datetime(2026, 8, 18, 8, 32)),
        ("2026年3月21日", None, datetime(2026, 3, 21)),
        ("04.02.2026 18:27", "tr", datetime(2026, 2, 4, 18, 27)),
        ("4 Şubat 2026 18:27", "tr", datetime(2026, 2, 4, 18, 27)),
        ("21 mart 2026", "uz", datetime(2026, 3, 21)),
        ("21 март 2026", "uz-Cyrl", datetime(2026, 3, 21)),
        ("21 مارچ 2026", "ur", datetime(2026, 3, 21)),
        ("21 марта 2026 года", None, datetime(2026, 3, 21)),  # the fallback languages
        ("21 марта 2026 года", "xx", datetime(2026, 3, 21)),  # unknown to dateparser
        ("2026-02-04T18:27:00+05:00", None, datetime(2026, 2, 4, 18, 27, tzinfo=PLUS5)),
        ("2026-02-04T13:27:00Z", None, datetime(2026, 2, 4, 13, 27, tzinfo=UTC)),
        ("2026-02-04", None, datetime(2026, 2, 4)),
        ("Sat, 21 Mar 2026 01:30:00 +0500", None, datetime(2026, 3, 21, 1, 30, tzinfo=PLUS5)),
        ("Sat, 21 Mar 2026 01:30:00 PKT", "en", datetime(2026, 3, 21, 1, 30, tzinfo=PLUS5)),
        # "CST": China Standard Time in a Chinese feed, US Central elsewhere (RFC 822).
        ("Wed, 04 Feb 2026 18:27:00 CST", "zh", datetime(2026, 2, 4, 10, 27, tzinfo=UTC)),
        ("Wed, 04 Feb 2026 18:27:00 CST", "zh-CN", datetime(2026, 2, 4, 10, 27, tzinfo=UTC)),
        ("Wed, 04 Feb 2026 18:27:00 CST", "en", datetime(2026, 2, 5, 0, 27, tzinfo=UTC)),
        ("Sat, 21 Mar 2026 01:30:00", None, datetime(2026, 3, 21, 1, 30)),
        ("Sat, 21 Mar 2026 01:30:00 -0000", None, datetime(2026, 3, 21, 1, 30, tzinfo=UTC)),
        ("1771234567", None, datetime(2026, 2, 16, 9, 36, 7, tzinfo=UTC)),
    ],
)
def test_parse_date(text: str, language: str | None, expected: datetime) -> None:
    found = parse_date(text, language)
    assert found is not None
    assert found == expected
    assert (found.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "garbage", "сегодня", "Вчера, 12:30", "2 hours ago", "18 Августа", "12", "—",
     "Sat, 31 Feb 2026 10:00:00 GMT", "0000000000", "x" * 500],
)  # fmt: skip
def test_parse_date_never_guesses(text: str) -> None:
    assert parse_date(text, "ru") is None


def test_dateparser_reads_a_new_language_without_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("dateparser tried to open a connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # Azerbaijani (Trend.az) is used by no other test, so its data loads here, offline.
    assert parse_date("5 iyul 2025", "az") == datetime(2025, 7, 5)
