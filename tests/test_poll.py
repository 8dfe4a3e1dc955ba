"""`monitor poll` end to end: a real loopback server, the real SQLite store, the real watchlists."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.models import hex16
from monitor.pipeline import Counts
from tests.cli import corpus_dir, monitor, store_for
from tests.localserver import LocalServer
from tests.texts import KZ_PK, OTHER, long_html
from tests.workspace import rss, source_toml, workspace

RSS = "application/rss+xml; charset=utf-8"


def _multilingual_feed(server: LocalServer, now: datetime) -> str:
    items = []
    for n, (lang, (title, body)) in enumerate(KZ_PK.items()):
        items.append(
            {
                "title": title,
                "link": server.url(f"/news/{lang}?utm_source=rss&utm_medium=feed#top"),
                "content": long_html(body),
                "published": now - timedelta(minutes=10 * n),
            }
        )
    title, body = OTHER["en"]
    items.append(
        {
            "title": title,
            "link": server.url("/news/bikes"),
            "content": long_html(body),
            "published": now,
        }
    )
    return rss(items)


def test_poll_stores_identifies_matches_and_writes_corpus(
    server: LocalServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    server.route("/feed.xml", _multilingual_feed(server, now), content_type=RSS, etag='"v1"')
    config = workspace(tmp_path, [source_toml("wire", server.url("/feed.xml"))])

    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output

    store = store_for(config)
    stored = {s.item.url: s for s in store.iter_items()}
    assert len(stored) == len(KZ_PK) + 1
    for lang in KZ_PK:
        url = server.url(f"/news/{lang}")  # tracking parameters and fragment are gone
        assert url in stored, sorted(stored)
        record = stored[url]
        assert record.item.language == lang.split("-")[0]
        assert "kz-pk" in [m.watchlist for m in record.matches]
    bikes = stored[server.url("/news/bikes")]
    assert bikes.matches == ()

    files = sorted((corpus_dir(config) / "kz-pk").iterdir())
    assert [f.name[:3] for f in files] == [f"{n:03d}" for n in range(len(KZ_PK))]
    by_hex = {f.name[4:20]: f for f in files}
    en_url = server.url("/news/en")
    text = by_hex[hex16(en_url)].read_text(encoding="utf-8")
    en_item = stored[en_url].item
    assert en_item.published is not None
    assert text == f" date {en_item.published.date().isoformat()} {KZ_PK['en'][0]}\n{en_item.text}"
    assert "Pakistani delegation" in en_item.text


def test_second_poll_of_unchanged_feed_is_a_304_and_stores_nothing(
    server: LocalServer, tmp_path: Path
) -> None:
    server.route(
        "/feed.xml", _multilingual_feed(server, datetime.now(UTC)), content_type=RSS, etag='"v1"'
    )
    config = workspace(tmp_path, [source_toml("wire", server.url("/feed.xml"))])
    assert monitor(config, "poll").exit_code == 0
    count = store_for(config).count_items()

    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output
    last = server.requests_to("/feed.xml")[-1]
    assert last.headers.get("if-none-match") == '"v1"'
    assert store_for(config).count_items() == count
    state = store_for(config).get_source("wire")
    assert state is not None and state.last_status == "not_modified"


def test_a_broken_source_never_stops_the_healthy_ones(server: LocalServer, tmp_path: Path) -> None:
    title, body = KZ_PK["ru"]
    good = rss(
        [
            {
                "title": title,
                "link": server.url("/a"),
                "content": long_html(body),
                "published": datetime.now(UTC),
            }
        ]
    )
    server.route("/good.xml", good, content_type=RSS)
    server.route("/down.xml", "boom", status=500)
    server.route("/html.xml", "<html><body><p>Not a feed at all</p></body></html>")
    server.route("/bad.xml", "<rss><channel><item><title>x</titl", content_type=RSS)
    config = workspace(
        tmp_path,
        [
            source_toml("down", server.url("/down.xml")),
            source_toml("refused", "http://127.0.0.1:9/feed.xml"),
            source_toml("html", server.url("/html.xml")),
            source_toml("bad", server.url("/bad.xml")),
            source_toml("good", server.url("/good.xml")),
        ],
    )
    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output
    store = store_for(config)
    assert [s.item.url for s in store.iter_items()] == [server.url("/a")]
    states = {s.name: s for s in store.list_sources()}
    assert states["good"].last_status == "ok"
    for name in ("down", "refused", "html"):
        assert states[name].last_status == "error", name
        assert states[name].failures == 1
        assert states[name].last_error and name != ""
        assert states[name].next_due > datetime.now(UTC)
    assert "500" in (states["down"].last_error or "")

    health = monitor(config, "sources")
    assert health.exit_code == 0
    assert "refused" in health.output and "error" in health.output


@pytest.mark.parametrize("cpu_workers", ["0", "1"])
def test_summary_only_feed_fetches_pages_in_legacy_encodings(
    server: LocalServer, tmp_path: Path, cpu_workers: str
) -> None:
    """Also with extraction, language and matching in a worker process (cpu_workers=1)."""
    ru_title, ru_body = KZ_PK["ru"]
    zh_title, zh_body = KZ_PK["zh"]
    server.route(
        "/ru/1",
        f"<html><head><title>{ru_title}</title></head><body><nav>Меню</nav><article>"
        f"<h1>{ru_title}</h1>{long_html(ru_body, 3)}</article></body></html>".encode("cp1251"),
        content_type="text/html; charset=windows-1251",
    )
    server.route(
        "/zh/1",
        f'<html><head><meta charset="gb18030"><title>{zh_title}</title></head><body><article>'
        f"<h1>{zh_title}</h1>{long_html(zh_body, 3)}</article></body></html>".encode("gb18030"),
        content_type="text/html",
    )
    now = datetime.now(UTC)
    feed = rss(
        [
            {
                "title": ru_title,
                "link": server.url("/ru/1"),
                "description": "Кратко.",
                "published": now,
            },
            {
                "title": zh_title,
                "link": server.url("/zh/1"),
                "description": "简讯。",
                "published": now,
            },
        ]
    )
    server.route("/feed.xml", feed, content_type=RSS)
    config = workspace(tmp_path, [source_toml("summaries", server.url("/feed.xml"))])
    assert monitor(config, "poll", env={"MONITOR_CPU_WORKERS": cpu_workers}).exit_code == 0

    stored = {s.item.url: s.item for s in store_for(config).iter_items()}
    ru = stored[server.url("/ru/1")]
    zh = stored[server.url("/zh/1")]
    assert "Делегация Пакистана" in ru.text and ru.language == "ru"
    assert "巴基斯坦代表团" in zh.text and zh.language == "zh"


def test_feed_without_dates_is_stored_undated(server: LocalServer, tmp_path: Path) -> None:
    title, body = KZ_PK["kk"]
    feed = rss([{"title": title, "link": server.url("/kk/1"), "content": long_html(body)}])
    server.route("/feed.xml", feed, content_type=RSS)
    config = workspace(tmp_path, [source_toml("undated", server.url("/feed.xml"))])
    assert monitor(config, "poll").exit_code == 0
    [stored] = list(store_for(config).iter_items())
    assert stored.item.published is None
    [path] = (corpus_dir(config) / "kz-pk").iterdir()
    today = stored.item.fetched_at.date().isoformat()
    assert path.read_text(encoding="utf-8").startswith(f" date {today} {title}\n")


def test_naive_feed_dates_are_read_in_the_source_zone(server: LocalServer, tmp_path: Path) -> None:
    title, body = KZ_PK["en"]
    feed = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON wire",
            "items": [
                {
                    "id": "x1",
                    "url": server.url("/j/1"),
                    "title": title,
                    "content_html": long_html(body),
                    "date_published": "2026-02-04T23:30:00",
                },
            ],
        }
    )
    server.route("/feed.json", feed, content_type="application/feed+json")
    config = workspace(
        tmp_path,
        [source_toml("json", server.url("/feed.json"), kind="jsonfeed", timezone="Asia/Karachi")],
    )
    assert monitor(config, "poll").exit_code == 0
    [stored] = list(store_for(config).iter_items())
    assert stored.item.published is not None
    assert stored.item.published.utcoffset() == timedelta(hours=5)
    assert stored.item.published.date().isoformat() == "2026-02-04"


def test_an_updated_item_updates_its_record_and_a_repeat_is_not_stored_twice(
    server: LocalServer, tmp_path: Path
) -> None:
    title, body = KZ_PK["tr"]
    now = datetime.now(UTC)
    first = rss(
        [
            {
                "title": title,
                "link": server.url("/tr/1"),
                "guid": "tr-1",
                "content": long_html(body),
                "published": now,
            }
        ]
    )
    server.route("/feed.xml", first, content_type=RSS)
    # The same article, reached through a tracking link, in a second feed.
    again = rss(
        [
            {
                "title": title,
                "link": server.url("/tr/1?utm_campaign=x"),
                "guid": "tr-1",
                "content": long_html(body),
                "published": now,
            }
        ]
    )
    server.route("/other.xml", again, content_type=RSS)
    config = workspace(
        tmp_path,
        [source_toml("one", server.url("/feed.xml")), source_toml("two", server.url("/other.xml"))],
    )
    assert monitor(config, "poll").exit_code == 0
    assert store_for(config).count_items() == 1

    updated = rss(
        [
            {
                "title": title + " (güncellendi)",
                "link": server.url("/tr/1"),
                "guid": "tr-1",
                "content": long_html(body + " Ek bilgi."),
                "published": now,
            }
        ]
    )
    server.route("/feed.xml", updated, content_type=RSS)
    assert monitor(config, "poll", "--source", "one").exit_code == 0
    [stored] = list(store_for(config).iter_items())
    assert stored.item.title.endswith("(güncellendi)")
    assert "Ek bilgi." in stored.item.text
    assert len(list((corpus_dir(config) / "kz-pk").iterdir())) == 1


def test_adding_counts_adds_every_field() -> None:
    names = [f.name for f in dataclasses.fields(Counts)]
    total = Counts(**{name: 1 for name in names})
    total.add(Counts(**{name: n for n, name in enumerate(names, 2)}))
    assert dataclasses.astuple(total) == tuple(range(3, 3 + len(names)))
