"""`monitor backfill` over a paginated listing: idempotent, resumable, quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.backfill import finds_key
from tests.cli import REPO, monitor, store_for
from tests.localserver import LocalServer
from tests.texts import KZ_PK, OTHER, long_html
from tests.workspace import source_toml, workspace

MONTHS = ["января", "февраля", "марта"]


def _listing(server: LocalServer, page: int) -> str:
    """Akorda-like cards: `div.card > h3 a`, the date in `h5` with a genitive month."""
    cards = []
    for n in range(3):
        day = 28 - (page - 1) * 9 - n * 3  # newest first, older on later pages
        month = MONTHS[2 - (page - 1)] if page <= 3 else "января"
        cards.append(
            f'<div class="card"><h3><a href="/ru/event-{page}-{n}">Событие {page}.{n}</a></h3>'
            f"<h5>{day} {month} 2026 года</h5></div>"
        )
    nav = f'<a class="next" href="/ru/events?page={page + 1}">Далее</a>' if page < 3 else ""
    return f"<html><body>{''.join(cards)}{nav}</body></html>"


def _site(server: LocalServer, matching_pages: set[int] = frozenset({1, 2, 3})) -> None:
    """Three listing pages of three reports; those on `matching_pages` match kz-pk."""
    for page in (1, 2, 3):
        server.route(f"/ru/events?page={page}", _listing(server, page))
        title, body = KZ_PK["ru"] if page in matching_pages else OTHER["ru"]
        for n in range(3):
            server.route(
                f"/ru/event-{page}-{n}",
                f"<html><body><article><h1>{title}</h1>{long_html(body, 3)}</article>"
                "</body></html>",
            )
    server.route("/ru/events", _listing(server, 1))


def _config(server: LocalServer, tmp_path: Path, settings: str = "") -> Path:
    return workspace(
        tmp_path,
        [
            source_toml(
                "akorda",
                server.url("/ru/events"),
                kind="listing",
                language="ru",
                timezone="Asia/Almaty",
                listing={"item": "div.card", "link": "h3 a", "date": "h5", "next_page": "a.next"},
            )
        ],
        settings=settings,
    )


def test_backfill_walks_pages_down_to_since_and_is_idempotent(
    server: LocalServer, tmp_path: Path
) -> None:
    _site(server)
    config = _config(server, tmp_path)
    result = monitor(config, "backfill", "--since", "2026-02-01")
    assert result.exit_code == 0, result.output
    store = store_for(config)
    dates = sorted(
        s.item.published.date().isoformat() for s in store.iter_items() if s.item.published
    )
    # Pages 1 and 2 are February-March; page 3 is January, so only its in-window cards count.
    assert dates and all(d >= "2026-02-01" for d in dates)
    count = store.count_items()
    assert count == 6
    assert store.list_alerts() == []

    again = monitor(config, "backfill", "--since", "2026-02-01")
    assert again.exit_code == 0, again.output
    assert store_for(config).count_items() == count


# Runs `monitor backfill` (argv[2:] added) and SIGKILLs it once the first page's checkpoint
# is written.
KILL_AFTER_FIRST_PAGE = """
import os, signal, sys
from monitor.store import sql
real = sql.SqlStore.set_cursor
def dying(self, key, value):
    real(self, key, value)
    if value is not None and key.startswith("backfill:"):
        os.kill(os.getpid(), signal.SIGKILL)
sql.SqlStore.set_cursor = dying
from monitor.cli import app
app(["--config", sys.argv[1], "backfill", "--since", "2026-01-01", *sys.argv[2:]],
    prog_name="monitor")
"""


def test_a_killed_backfill_resumes_where_it_stopped(server: LocalServer, tmp_path: Path) -> None:
    _site(server)
    config = _config(server, tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_PAGE, str(config)],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert store_for(config).count_items() == 3
    assert _first_page_hits(server) == 1

    result = monitor(config, "backfill", "--since", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert _first_page_hits(server) == 1  # page 1 was not walked again
    assert store_for(config).count_items() == 9


def test_a_resumed_backfill_alert_digest_names_what_the_killed_run_found(
    server: LocalServer, hooks: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Only the first page's reports match; the run that found them is killed after that
    page. The resumed `backfill --alert` finds nothing new, yet its digest names them."""
    _site(server, matching_pages={1})
    hook = server.url("/hook")
    config = _config(
        server,
        tmp_path,
        settings=f'[alerts.channels.team]\ntype = "slack"\nwebhook_url = "{hook}"\n',
    )
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_PAGE, str(config), "--alert"],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert hooks == []

    result = monitor(config, "backfill", "--since", "2026-01-01", "--alert")
    assert result.exit_code == 0, result.output
    assert _first_page_hits(server) == 1  # page 1 was not walked again
    assert len(hooks) == 1  # one digest
    digest = json.dumps(hooks[0], ensure_ascii=False)
    assert "Событие 1." in digest and "Событие 2." not in digest  # the listing's titles
    store = store_for(config)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert store.get_cursor(finds_key(since, None)) is None  # done with


def _first_page_hits(server: LocalServer) -> int:
    return sum(1 for r in server.requests if r.path == "/ru/events")
