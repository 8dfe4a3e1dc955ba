from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.models import Entry, ParsedPage
from monitor.sources.feeds import parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
PLUS5 = timezone(timedelta(hours=5))


def parse(name: str, url: str = "https://www.karachi-ledger.example/feeds/latest") -> ParsedPage:
    return parse_feed((FIXTURES / name).read_bytes(), url=url, source="test")


def by_guid(page: ParsedPage) -> dict[str | None, Entry]:
    return {entry.guid: entry for entry in page.entries}


def test_rss2_with_content_encoded() -> None:
    page = parse("rss2_content.xml")
    assert page.title == "Karachi Ledger – Latest"
    assert page.language == "en-pk"
    assert page.warnings == ()  # read by the fast path, not feedparser
    assert page.next_pages == (
        "https://www.karachi-ledger.example/feeds/latest?page=2",
        "https://www.karachi-ledger.example/feeds/archive/2026-03",
    )
    first, urdu, third = page.entries
    assert first.url == (
        "https://www.karachi-ledger.example/news/1201/gwadar-transit?utm_source=rss&utm_medium=feed"
    )
    assert first.guid == "ledger-1201"
    assert first.title == "Gwadar port to handle Central Asian transit cargo"
    assert first.summary == (
        "The port authority said the first transit cargo would arrive next month."
    )
    assert first.content == (
        "The port authority said on Friday that the first transit cargo from Central Asia "
        "would arrive next month.\n\n"
        "Officials expect traffic to grow once the rail link opens.\n\n"
        "Cargo: cotton\nRoute: Termez – Peshawar\n\n"
        "Read more"
    )
    assert first.published == datetime(2026, 3, 21, 1, 30, tzinfo=PLUS5)
    # The offset is the source's own, not converted: it decides the item's calendar date.
    assert first.published.utcoffset() == timedelta(hours=5)
    assert first.language == "en-pk"

    assert urdu.url == "https://www.karachi-ledger.example/ur/news/1202"
    assert urdu.title == "پاکستان اور قازقستان کے درمیان تجارتی معاہدہ"
    assert urdu.language == "ur"
    assert urdu.content is None
    # No zone in the feed: naive, for the pipeline to read in the source's zone.
    assert urdu.published == datetime(2026, 3, 20, 18, 5)
    assert urdu.published.tzinfo is None

    assert third.url == "https://www.karachi-ledger.example/news/1203"  # the guid, a URL
    assert third.published == datetime(2026, 3, 20, 9, 15, tzinfo=UTC)


def test_scripts_and_handlers_never_reach_text() -> None:
    for entry in parse("rss2_content.xml").entries:
        for text in (entry.title, entry.summary, entry.content or ""):
            assert "alert" not in text
            assert "steal" not in text
            assert "javascript" not in text


def test_atom_with_xml_base_lang_and_text_constructs() -> None:
    page = parse("atom.xml", url="https://kaz.steppe-wire.example/kz/feed.atom")
    assert page.title == "Дала тілшісі — жаңалықтар"
    assert page.language == "kk"
    assert page.next_pages == ("https://kaz.steppe-wire.example/kz/feed.atom?page=2",)
    kk, ru, plain = page.entries
    assert kk.url == "https://kaz.steppe-wire.example/kz/news/temirzhol-2026-a1b2c3"
    assert kk.title == "Қазақстан мен Пәкістан теміржол жобасын талқылады"
    assert kk.summary == "Тараптар жаңа бағыт туралы келісті."
    assert kk.content == (
        "Астанада өткен кездесуде тараптар жаңа теміржол бағытын талқылады.\n\n"
        "Келесі кездесу сәуірде өтеді."
    )
    assert kk.published == datetime(2026, 3, 21, 9, 40, tzinfo=PLUS5)  # published, not updated
    assert kk.language == "kk"

    assert ru.url == "https://kaz.steppe-wire.example/ru/news/tranzit-2026-d4e5f6"
    assert ru.title == "Казахстан и Пакистан обсудили транзит"  # type="xhtml"
    assert (
        ru.content
        == "Стороны договорились о новом маршруте.\n\nСледующая встреча пройдёт в апреле."
    )
    assert ru.language == "ru"
    assert ru.published == datetime(2026, 3, 20, 17, 20)
    assert ru.published.tzinfo is None

    # type="text" is literal text: the brackets stay, and cannot turn into a tag.
    assert plain.title == "Why \u2039blink> tags vanished"
    assert plain.content == "Line one.\nLine two."
    assert plain.published == datetime(2026, 3, 19, 8, 0, tzinfo=UTC)


def test_rdf_rss10() -> None:
    page = parse("rdf.xml", url="https://haber.anadolu-test.example/rss")
    assert page.title == "Anadolu Test Ajansı"
    assert page.language == "tr"
    first, second = page.entries
    assert first.url == "https://haber.anadolu-test.example/dunya/kazakistan-pakistan/3301"
    assert first.guid == first.url  # rdf:about
    assert first.title == "Kazakistan ile Pakistan ulaştırma işbirliğini görüştü"
    assert first.content == (
        "Astana'da yapılan görüşmede taraflar yeni demir yolu hattını ele aldı.\n\n"
        "Bakanlık açıklama yaptı."
    )
    assert first.published == datetime(2026, 2, 4, 18, 27, tzinfo=timezone(timedelta(hours=3)))
    assert second.published == datetime(2026, 2, 4)  # a date without time or zone
    assert second.content is None


def test_json_feed() -> None:
    page = parse("feed.json", url="https://silkroad-news.example/feed.json")
    assert page.title == "丝路快讯"
    assert page.language == "zh-hans"
    assert page.next_pages == ("https://silkroad-news.example/feed.json?page=2",)
    zh, uz, bare = page.entries
    assert zh.url == "https://silkroad-news.example/news/9001.html"
    assert zh.guid == "sr-9001"
    assert zh.content == "双方在阿斯塔纳举行会谈。\n\n瓜德尔港将成为重要出海口。"
    assert zh.summary == "双方举行会谈。"
    assert zh.published == datetime(2026, 3, 21, 8, 32, tzinfo=timezone(timedelta(hours=8)))
    assert uz.url == "https://silkroad-news.example/uz/news/9002"
    assert uz.language == "uz-latn"
    assert uz.content == (
        "Tomonlar yangi yo‘nalish bo‘yicha kelishdi.\n\nKeyingi uchrashuv aprelda bo‘ladi."
    )
    assert uz.published == datetime(2026, 3, 20, 14, 0)
    assert bare.url == "https://silkroad-news.example/news/9003.html"
    assert bare.published is None


def test_feed_without_dates_gets_none_not_a_guess() -> None:
    page = parse("nodates.xml", url="https://toshkent-xabar.example/uz/rss")
    assert page.language == "uz-cyrl"
    assert [e.title for e in page.entries] == [
        "Қозоғистон ва Покистон янги йўлак бўйича келишди",
        "Термиз орқали юк ташиш ошди",
    ]
    # Numeric guids look like dates (20260321) and epochs (1710000000); neither is one.
    assert [e.published for e in page.entries] == [None, None]
    assert [e.guid for e in page.entries] == ["20260321", "1710000000"]


def test_malformed_feed_yields_what_it_can() -> None:
    page = parse("malformed.xml", url="https://broken-news.example/rss")
    titles = [e.title for e in page.entries]
    assert titles[:2] == ["Қазақстан & Пәкістан сауда келісіміне қол қойды", "Second item survives"]
    assert page.entries[0].summary == "Келісім жасалды."
    assert page.entries[0].published == datetime(2026, 3, 21, 10, 0, tzinfo=PLUS5)
    assert page.entries[1].summary == "unclosed bold"
    assert any("not well-formed" in w for w in page.warnings)
    assert page.title == "Broken & Co News"


def test_html_entities_from_a_dtd_are_read_without_the_fallback() -> None:
    feed = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Caf&eacute;</title>'
        b"<item><title>Ankara&nbsp;&mdash; Astana</title><link>https://x.example/1</link></item>"
        b"</channel></rss>"
    )
    page = parse_feed(feed, url="https://x.example/rss", source="test")
    assert page.title == "Café"
    assert page.entries[0].title == "Ankara — Astana"
    assert not any("feedparser" in w for w in page.warnings)


def test_control_characters_are_removed_not_fatal() -> None:
    feed = b"<rss><channel><item><title>Bad\x0b title\x01</title><link>https://x.example/1</link></item></channel></rss>"
    page = parse_feed(feed, url="https://x.example/rss", source="test")
    assert page.entries[0].title == "Bad title"
    assert any("control characters" in w for w in page.warnings)


@pytest.mark.parametrize("declared", [None, "iso-8859-1", "utf-8"])
def test_windows_1251_feed_whatever_the_http_label(declared: str | None) -> None:
    feed = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel>'
        "<title>Новости</title><item><title>Казахстан и Пакистан договорились о транзите</title>"
        "<link>https://x.example/1</link></item></channel></rss>"
    ).encode("cp1251")
    page = parse_feed(feed, url="https://x.example/rss", source="test", encoding=declared)
    assert page.entries[0].title == "Казахстан и Пакистан договорились о транзите"


def test_html_page_served_as_a_feed_is_an_error() -> None:
    # kun.uz/ru/news/rss answered 200 with its HTML front page (SOURCES.md).
    page = b"<!DOCTYPE html>\n<html lang='ru'><head><title>Kun.uz</title></head><body></html>"
    with pytest.raises(ParseError, match="HTML page"):
        parse_feed(page, url="https://kun.uz/ru/news/rss", source="kun-ru")
    xhtml = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    with pytest.raises(ParseError, match="HTML page") as raised:
        parse_feed(xhtml, url="https://kun.uz/ru/news/rss", source="kun-ru")
    assert raised.value.source == "kun-ru"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'<?xml version="1.0"?><config><item>1</item></config>', "not a feed"),
        (b'{"status": "ok"}', "JSON Feed"),
        (b"{not json", "invalid JSON"),
        (b"/etc/passwd", "not a feed"),  # never opened as a file name
    ],
)
def test_documents_that_are_not_feeds(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_feed(body, url="https://x.example/rss", source="test")


def test_item_without_usable_link_keeps_an_empty_url() -> None:
    feed = (
        b"<rss><channel><item><title>No link</title><guid>abc-1</guid></item>"
        b"<item><title>Script link</title><link>javascript:alert(1)</link></item>"
        b"</channel></rss>"
    )
    entries = parse_feed(feed, url="https://x.example/rss", source="test").entries
    assert [(e.title, e.url) for e in entries] == [("No link", ""), ("Script link", "")]


def test_parsing_from_several_threads_gives_the_same_pages() -> None:
    names = ["rss2_content.xml", "atom.xml", "rdf.xml", "feed.json", "malformed.xml"]
    expected = [parse(name) for name in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(parse, names * 20))
    assert results == expected * 20
