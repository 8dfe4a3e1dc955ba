"""Commands not covered elsewhere: sitemap and malformed sources through `poll`, `backfill
--alert` (one digest), `alert-test`, JSON logs, and `--help` on every command."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli import monitor, store_for
from tests.localserver import LocalServer, Request, Response
from tests.texts import KZ_PK, long_html
from tests.workspace import rss, source_toml, workspace

COMMANDS = ["run", "poll", "backfill", "import", "export", "check", "sources", "alert-test"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, tmp_path: Path) -> None:
    result = monitor(workspace(tmp_path, []), command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def _article(title: str, body: str) -> str:
    return f"<html><body><article><h1>{title}</h1>{long_html(body, 3)}</article></body></html>"


def test_a_news_sitemap_source_is_polled_and_its_pages_fetched(
    server: LocalServer, tmp_path: Path
) -> None:
    title, body = KZ_PK["zh"]
    day = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    server.route(
        "/sitemap.xml",
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{server.url('/news/zh-1')}</loc><news:news><news:publication>"
        "<news:name>Test</news:name><news:language>zh</news:language></news:publication>"
        f"<news:publication_date>{day}</news:publication_date><news:title>{title}</news:title>"
        "</news:news></url></urlset>",
        content_type="application/xml",
    )
    server.route("/news/zh-1", _article(title, body))
    config = workspace(tmp_path, [source_toml("cn", server.url("/sitemap.xml"), kind="sitemap")])
    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output
    [stored] = list(store_for(config).iter_items())
    assert stored.item.language == "zh" and "巴基斯坦代表团" in stored.item.text
    assert [m.watchlist for m in stored.matches] == ["kz-pk"]


def test_a_malformed_feed_yields_what_it_can(server: LocalServer, tmp_path: Path) -> None:
    title, body = KZ_PK["en"]
    good = rss(
        [
            {
                "title": title,
                "link": server.url("/m/1"),
                "content": long_html(body),
                "published": datetime.now(UTC),
            }
        ]
    )
    broken = good.replace("</channel></rss>", "<item><title>Broken &nbsp; <b>entity</title>")
    server.route("/feed.xml", broken, content_type="application/rss+xml")
    config = workspace(tmp_path, [source_toml("broken", server.url("/feed.xml"))])
    assert monitor(config, "poll").exit_code == 0
    urls = [s.item.url for s in store_for(config).iter_items()]
    assert server.url("/m/1") in urls


def test_backfill_with_alert_sends_one_digest(
    server: LocalServer, tmp_path: Path, hooks: list[dict[str, Any]]
) -> None:
    now = datetime.now(UTC)
    items = [
        {
            "title": title,
            "link": server.url(f"/b/{lang}"),
            "content": long_html(body),
            "published": now - timedelta(days=3),
        }
        for lang, (title, body) in list(KZ_PK.items())[:3]
    ]
    server.route("/feed.xml", rss(items), content_type="application/rss+xml")
    config = workspace(
        tmp_path,
        [source_toml("wire", server.url("/feed.xml"))],
        settings=f'[alerts.channels.team]\ntype = "slack"\nwebhook_url = "{server.url("/hook")}"\n',
    )
    since = (now - timedelta(days=10)).date().isoformat()
    result = monitor(config, "backfill", "--since", since, "--alert")
    assert result.exit_code == 0, result.output
    assert store_for(config).count_items() == 3
    assert len(hooks) == 1  # one digest, not one message per item
    # The three are one event in three languages: one story, its other reports named.
    (story,) = store_for(config).iter_stories()
    assert story.size == 3 and story.alerted == ("kz-pk",)
    text = json.dumps(hooks[0], ensure_ascii=False)
    assert KZ_PK["en"][0] in text
    assert "(ru)" in text and "(kk)" in text


def test_alert_test_reaches_the_channel(server: LocalServer, tmp_path: Path) -> None:
    hooks: list[bytes] = []

    def receive(request: Request) -> Response:
        hooks.append(request.body)
        return Response(200, b"ok")

    server.route("/hook", handler=receive)
    config = workspace(
        tmp_path,
        [],
        settings=f'[alerts.channels.team]\ntype = "slack"\nwebhook_url = "{server.url("/hook")}"\n',
    )
    result = monitor(config, "alert-test")
    assert result.exit_code == 0, result.output
    assert len(hooks) == 1 and b"monitor test alert" in hooks[0]
    unknown = monitor(config, "alert-test", "--channel", "nope")
    assert unknown.exit_code == 2 and "nope" in unknown.output


def test_alerts_are_claimed_under_the_configured_worker_id(
    server: LocalServer, tmp_path: Path
) -> None:
    """With `worker_id` set (workers sharing one database), outbox rows are claimed under
    that name, as source leases are, not under host:pid."""
    owners: list[str | None] = []
    database = tmp_path / "data" / "monitor.db"

    def receive(request: Request) -> Response:
        with sqlite3.connect(database) as conn:  # the claim, while the alert is in flight
            owners.extend(row[0] for row in conn.execute("SELECT claim_owner FROM outbox"))
        return Response(200, b"ok")

    server.route("/hook", handler=receive)
    hook = server.url("/hook")
    channel = f'[alerts.channels.team]\ntype = "slack"\nwebhook_url = "{hook}"\n'
    config = workspace(tmp_path, [], settings=channel)
    result = monitor(config, "alert-test", env={"MONITOR_WORKER_ID": "edge-7"})
    assert result.exit_code == 0, result.output
    assert owners == ["edge-7"]


def test_json_logs_by_a_setting(server: LocalServer, tmp_path: Path) -> None:
    server.route("/down.xml", "x", status=500)
    config = workspace(tmp_path, [source_toml("down", server.url("/down.xml"))])
    result = monitor(config, "poll", env={"MONITOR_LOG_JSON": "true"})
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failures = [r for r in records if "source down failed" in r["record"]["message"]]
    assert failures and failures[0]["record"]["level"]["name"] == "WARNING"
