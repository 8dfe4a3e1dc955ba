"""`monitor run`: polls on schedule, stops cleanly on SIGTERM; refuses to start on bad config."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.cli import monitor, monitor_process, store_for
from tests.localserver import LocalServer
from tests.texts import KZ_PK, long_html
from tests.workspace import rss, source_toml, workspace


def _wait(condition: object, timeout: float = 60.0) -> bool:
    """Poll a condition (not a fixed sleep): returns as soon as it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_daemon_polls_then_stops_cleanly_on_sigterm(server: LocalServer, tmp_path: Path) -> None:
    title, body = KZ_PK["en"]
    server.route(
        "/feed.xml",
        rss(
            [
                {
                    "title": title,
                    "link": server.url("/d/1"),
                    "content": long_html(body),
                    "published": datetime.now(UTC),
                }
            ]
        ),
        content_type="application/rss+xml",
        etag='"d1"',
    )
    config = workspace(
        tmp_path,
        [source_toml("wire", server.url("/feed.xml"), interval=1)],
        settings="tick = 0.2\n",
    )
    # settings= lands inside [schedule]: tick 0.2 s, min_interval 1 s
    process = monitor_process(config, "run")
    try:
        assert _wait(lambda: len(server.requests_to("/feed.xml")) >= 2), "daemon did not poll twice"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-3000:]
    assert "monitor stopped" in stderr
    assert store_for(config).count_items() == 1
    # The second poll was conditional and answered 304.
    assert server.requests_to("/feed.xml")[1].headers.get("if-none-match") == '"d1"'


def test_run_and_check_refuse_bad_configuration_naming_file_and_key(tmp_path: Path) -> None:
    config = workspace(
        tmp_path,
        [
            source_toml("ok", "https://example.invalid/feed.xml"),
            source_toml("broken", "ftp://example.invalid/x", kind="rss"),
            source_toml("nosel", "https://example.invalid/list", kind="listing"),
            source_toml("Bad Name", "https://example.invalid/y"),
        ],
    )
    sources_file = tmp_path / "sources.toml"
    checked = monitor(config, "check")
    assert checked.exit_code == 1
    assert f"{sources_file}: broken.url" in checked.output
    assert f"{sources_file}: nosel" in checked.output
    assert "Bad Name.name" in checked.output
    refused = monitor(config, "run")
    assert refused.exit_code == 2
    assert "broken.url" in refused.output


def test_check_accepts_the_shipped_configuration() -> None:
    repo = Path(__file__).resolve().parent.parent
    result = monitor(repo / "config" / "monitor.example.toml", "check")
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.output
