"""Two workers deliver from one outbox at the same time (two stores on one database, as two
processes hold them; PostgreSQL, and SQLite as well) through a real webhook on loopback that
keeps each one's first message in flight until the other's arrives: counted by idempotency
key, every alert, and the digest folded on the way, arrives exactly once."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from monitor.alerts.dispatch import DeliveryReport, deliver_due
from monitor.alerts.slack import SlackSender
from monitor.config import AlertSettings, SlackChannel
from monitor.store.base import AlertIntent, Store
from tests.conftest import another
from tests.localserver import LocalServer, Request, Response

SETTINGS = AlertSettings(retry_base=30, retry_max=600, max_attempts=5)
ALERTS = 40
FOLDED = 6
LIMIT = 25  # per worker and round: neither can take everything, together they can
WAIT = 10.0  # a guard against a hang, never a pause: every wait ends on an event


def intent(n: int, *, fold: bool = False, not_before: datetime | None = None) -> AlertIntent:
    key = f"story:s{n}:kz-pk"
    payload = {
        "item_id": f"i{n}",
        "title": f"Report {n}",
        "url": f"https://example.org/{n}",
        "source": "wire-en",
        "language": "en",
        "watchlist": "kz-pk",
        "watchlist_title": "Kazakhstan–Pakistan",
        "published": "2026-03-02T10:30:00+05:00",
        "summary": "Transit deal.",
        "aliases": ["Kazakhstan", "Pakistan"],
        "rule": "all-of(kazakhstan, pakistan)",
        "story_id": f"s{n}",
    }
    return AlertIntent("team", "story", key, payload, fold=fold, not_before=not_before)


def key_of(request: Request) -> str:
    block_id: str = json.loads(request.body)["blocks"][-1]["block_id"]
    return block_id.removeprefix("monitor-key:")


class SlowWebhook:
    """A Slack webhook that holds the first message until a second one is in flight. One
    worker sends a channel's alerts one after another, so two messages in flight at once on
    one channel come from two workers: the rounds overlap for certain."""

    def __init__(self, server: LocalServer) -> None:
        self.keys: list[str] = []
        self.overlapped = threading.Event()
        self._in_flight = 0
        self._lock = threading.Lock()
        self.url = server.route("/hook", handler=self._receive)

    def _receive(self, request: Request) -> Response:
        with self._lock:
            self.keys.append(key_of(request))
            self._in_flight += 1
            first = len(self.keys) == 1
            if self._in_flight >= 2:
                self.overlapped.set()
        if first:
            self.overlapped.wait(WAIT)
        with self._lock:
            self._in_flight -= 1
        return Response(200, b"ok")


def deliver(store: Store, url: str, now: datetime, worker: str) -> DeliveryReport:
    sender = SlackSender("team", SlackChannel(webhook_url=SecretStr(url)))
    round_ = deliver_due(
        store, {"team": sender}, now=now, settings=SETTINGS, limit=LIMIT, worker=worker
    )
    return asyncio.run(round_)


def test_two_workers_on_one_outbox_send_every_alert_once(
    store: Store, db_url: str, server: LocalServer
) -> None:
    webhook = SlowWebhook(server)
    past = datetime.now(UTC) - timedelta(minutes=1)
    store.enqueue_alerts([intent(n) for n in range(ALERTS)])
    store.enqueue_alerts(
        [intent(n, fold=True, not_before=past) for n in range(ALERTS, ALERTS + FOLDED)]
    )
    moment = datetime.now(UTC) + timedelta(seconds=1)
    second = another(db_url)
    start = threading.Barrier(2)
    reports: dict[str, DeliveryReport] = {}
    failures: list[BaseException] = []

    def work(worker: Store, name: str) -> None:
        try:
            start.wait(WAIT)
            reports[name] = deliver(worker, webhook.url, moment, name)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(store, "worker-a")),
        threading.Thread(target=work, args=(second, "worker-b")),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        second.close()
    assert failures == []
    assert webhook.overlapped.is_set()  # both rounds were sending at the same time
    assert all(report.sent > 0 for report in reports.values()) and len(reports) == 2
    assert sum(report.folded for report in reports.values()) == FOLDED

    # Whatever neither round reached (the digest, if it was folded after both had claimed)
    # goes in the next one; after that there is nothing left to send.
    deliver(store, webhook.url, moment, "worker-a")
    assert deliver(store, webhook.url, moment + timedelta(days=1), "worker-b").sent == 0

    alerts = store.list_alerts()
    [digest] = [a for a in alerts if a.kind == "digest"]
    expected = {a.key for a in alerts if not a.fold}
    assert digest.key in expected and len(expected) == ALERTS + 1
    counts = Counter(webhook.keys)
    assert set(counts) == expected
    assert [key for key, n in counts.items() if n != 1] == []  # each arrived exactly once
    assert all(a.sent_at is not None for a in alerts)
    assert {a.folded_into for a in alerts if a.fold} == {digest.id}
