from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store import open_store
from monitor.store.base import Store
from tests.alerting import Inbox, running_smtp
from tests.localserver import LocalServer, Request, Response

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SEEDS = SHARED / "seeds"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 with routes set by the test."""
    srv = LocalServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def hooks(server: LocalServer) -> list[dict[str, Any]]:
    """A Slack webhook at `/hook` on `server` that answers ok: the JSON bodies posted to it."""
    received: list[dict[str, Any]] = []

    def receive(request: Request) -> Response:
        received.append(json.loads(request.body))
        return Response(200, b"ok")

    server.route("/hook", handler=receive)
    return received


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on loopback: what it received, and its port."""
    inbox = Inbox()
    with running_smtp(inbox) as port:
        yield inbox, port


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the shared seeds are not at {SEEDS} (run beside ../shared)")
    return SEEDS


# --- backends --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this session (dropped afterwards); yields its URL."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}".strip())
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend. SQLite sits in a directory the store must create."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    database: str = request.getfixturevalue("pg_database")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database}?options=-csearch_path%3D{schema}"


def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database under `tmp_path`, in a directory the store must create. A module whose
    subject is not the backend overrides `db_url` with it, and `store` runs on SQLite alone."""
    return f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()


def another(db_url: str) -> Store:
    """A second store on the same database, as another worker process would hold."""
    opened = open_store(db_url)
    opened.migrate()
    return opened


def in_threads(target: Callable[..., object], *each: tuple[Any, ...], timeout: float = 60) -> None:
    """Call `target` once per argument tuple in `each`, every call in its own thread, all at
    once (as several workers would); returns when all have ended or `timeout` has passed."""
    threads = [threading.Thread(target=target, args=args) for args in each]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
