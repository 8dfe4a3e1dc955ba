from __future__ import annotations

import pytest

from monitor.urls import canonical_url, url_host


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # mofa.gov.pk publishes the same release once per mission (SOURCES.md).
        (
            "https://www.mofa.gov.pk/press-releases/x?mission=dubai",
            "https://mofa.gov.pk/press-releases/x",
        ),
        (
            "HTTPS://WWW.Gazeta.UZ:443/oz/2026/03/21/Yolak/?utm_source=tg&utm_medium=x#comments",
            "https://gazeta.uz/oz/2026/03/21/Yolak/",
        ),
        ("http://kun.uz:80/news/rss?lang=ru", "http://kun.uz/news/rss?lang=ru"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?b=2&a=1&fbclid=X&gclid=Y&ref=tw", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?tag=b&tag=a&x=1", "https://example.com/a?tag=b&tag=a&x=1"),
        (
            "https://example.com/a?MC_CID=1&_ga=2&yclid=3&mc_eid=4&UTM_Campaign=5",
            "https://example.com/a",
        ),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/%7euser/%2f", "https://example.com/~user/%2F"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        (
            "https://пример.рф/новости",
            "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
        ),
        ("https://example.com/a?flag", "https://example.com/a?flag"),
        ("mailto:desk@example.com", "mailto:desk@example.com"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_relative_url_is_resolved_against_base() -> None:
    base = "https://www.akorda.kz/ru/events?page=2"
    assert canonical_url("/ru/vstrecha-2895622?utm_source=tg", base) == (
        "https://akorda.kz/ru/vstrecha-2895622"
    )
    assert canonical_url("../../kz/x", "https://akorda.kz/ru/events/") == "https://akorda.kz/kz/x"


def test_path_case_is_kept_and_non_ascii_path_is_one_spelling() -> None:
    assert canonical_url("https://x.kz/News/A") != canonical_url("https://x.kz/news/a")
    assert canonical_url("https://x.kz/новости") == canonical_url(
        "https://x.kz/%d0%bd%d0%be%d0%b2%d0%be%d1%81%d1%82%d0%b8"
    )


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("https://WWW.Example.com/a/../b?z=1&utm_x=2&a=%7e#f")
    assert canonical_url(once) == once


def test_url_host_folds_www_and_case() -> None:
    assert url_host("https://WWW.Akorda.KZ/ru/events") == "akorda.kz"
    assert url_host("https://mirror.akorda.kz/") == "mirror.akorda.kz"
    assert url_host("https://пример.рф/") == "xn--e1afmkfd.xn--p1ai"
    assert url_host("not a url") == ""
