from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.sources import sitemaps
from monitor.sources.sitemaps import parse_sitemap

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
PLUS5 = timezone(timedelta(hours=5))


def test_google_news_sitemap() -> None:
    page = parse_sitemap(
        (FIXTURES / "news_sitemap.xml").read_bytes(),
        url="https://cn.wire-kz.example/sitemaps/google-news_cn.xml",
        source="kazinform-cn",
    )
    assert page.next_pages == ()
    zh, kk, plain = page.entries  # the <url> with a blank <loc> is skipped
    assert zh.url == "https://cn.wire-kz.example/news/hasakesitan-bajisitan-a1b2c3/"
    assert zh.title == "哈萨克斯坦与巴基斯坦讨论跨阿富汗铁路 & 瓜德尔港"
    assert zh.language == "zh"
    # news:publication_date wins over lastmod, offset kept.
    assert zh.published == datetime(2026, 8, 18, 8, 32, tzinfo=PLUS5)
    assert kk.title == "Қазақстан мен Пәкістан теміржол салады"
    assert kk.language == "kk"
    assert kk.published == datetime(2026, 8, 17)
    assert plain.url == "https://cn.wire-kz.example/about/"
    assert plain.title == ""
    assert plain.published == datetime(2026, 1, 1)  # lastmod when there is nothing better


def test_sitemap_index_children_newest_first() -> None:
    page = parse_sitemap(
        (FIXTURES / "sitemap_index.xml").read_bytes(),
        url="https://tengri-test.example/sitemap-index.xml",
        source="tengri",
    )
    assert page.entries == ()
    assert page.next_pages == (
        "https://tengri-test.example/sitemap-news-2026-08-18.xml",
        "https://tengri-test.example/sitemap-news-2026-08-17.xml.gz",  # relative loc resolved
        "https://tengri-test.example/sitemap-news-2026-08-16.xml",
        "https://tengri-test.example/sitemap-static.xml",  # no lastmod: last
    )


def test_gzip_sitemap_reads_the_same() -> None:
    raw = (FIXTURES / "news_sitemap.xml").read_bytes()
    url = "https://cn.wire-kz.example/sitemaps/google-news_cn.xml.gz"
    assert parse_sitemap(gzip.compress(raw), url=url, source="s") == parse_sitemap(
        raw, url=url, source="s"
    )


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sitemaps, "MAX_UNCOMPRESSED", 10_000)
    body = b"<urlset>" + b" " * 50_000 + b"</urlset>"
    with pytest.raises(ParseError, match="larger than"):
        parse_sitemap(gzip.compress(body), url="https://x.example/s.xml.gz", source="s")


def test_corrupt_gzip_is_a_parse_error() -> None:
    packed = gzip.compress(b"<urlset></urlset>")
    with pytest.raises(ParseError, match="truncated gzip"):
        parse_sitemap(packed[:15], url="https://x.example/s.xml.gz", source="s")
    with pytest.raises(ParseError, match="corrupt gzip"):
        parse_sitemap(packed[:10] + b"\xff" * 20, url="https://x.example/s.xml.gz", source="s")


def test_entities_are_not_expanded() -> None:
    # A billion-laughs style document: entities must stay unexpanded, and no file is read.
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY f SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.example/&b;</loc></url><url><loc>https://x.example/&f;</loc></url>"
        b"</urlset>"
    )
    page = parse_sitemap(body, url="https://x.example/s.xml", source="s")
    for entry in page.entries:
        assert "aaaaaaaaaa" not in entry.url
        assert "root:" not in entry.url


def test_stray_ampersand_is_read_leniently_with_a_warning() -> None:
    body = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.example/a?b=1&c=2</loc></url>"
        b"<url><loc>https://x.example/ok</loc></url></urlset>"
    )
    page = parse_sitemap(body, url="https://x.example/s.xml", source="s")
    assert "https://x.example/ok" in [e.url for e in page.entries]
    assert page.warnings and "not well-formed" in page.warnings[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"<html><body>Not found</body></html>", "not a sitemap"),
        (b'<rss version="2.0"><channel/></rss>', "not a sitemap"),
        (b"\x00\x01 binary junk <<<", "not XML"),
    ],
)
def test_not_a_sitemap(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_sitemap(body, url="https://x.example/s.xml", source="s")
