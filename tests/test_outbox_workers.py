"""Two workers deliver from one outbox at the same time (two stores on one database, as two
processes hold them; PostgreSQL, and SQLite as well) through a real webhook on loopback that
keeps each one's first message in flight until the other's arrives: counted by idempotency
key, every alert, and the digest folded on the way, arrives exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from monitor.alerts.dispatch import DeliveryReport
from monitor.store.base import Store
from tests import alerting
from tests.alerting import key_of, story, webhook_sender
from tests.conftest import another, in_threads
from tests.localserver import LocalServer, Request, Response

ALERTS = 40
FOLDED = 6
LIMIT = 25  # per worker and round: neither can take everything, together they can
WAIT = 10.0  # a guard against a hang, never a pause: every wait ends on an event


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
    """One worker's delivery round, of LIMIT alerts at most."""
    senders = {"team": webhook_sender(url)}
    return alerting.deliver(store, senders, now, limit=LIMIT, worker=worker)


def test_two_workers_on_one_outbox_send_every_alert_once(
    store: Store, db_url: str, server: LocalServer
) -> None:
    webhook = SlowWebhook(server)
    past = datetime.now(UTC) - timedelta(minutes=1)
    store.enqueue_alerts([story(f"s{n}") for n in range(ALERTS)])
    store.enqueue_alerts(
        [story(f"s{n}", fold=True, not_before=past) for n in range(ALERTS, ALERTS + FOLDED)]
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

    try:
        in_threads(work, (store, "worker-a"), (second, "worker-b"))
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
