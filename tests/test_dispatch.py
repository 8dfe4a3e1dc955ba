"""Outbox delivery: backoff (pure), then the real store (SQLite) and real receivers on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from pydantic import SecretStr

from monitor.alerts.channels import build_channels
from monitor.alerts.dispatch import DeliveryReport, deliver_due, next_attempt_at
from monitor.config import AlertSettings, AppriseChannel
from monitor.models import OutboxAlert
from monitor.store.base import Store
from tests.alerting import (
    SETTINGS,
    by_key,
    deliver,
    intent,
    key_of,
    report_of,
    start,
    webhook,
    webhook_sender,
)
from tests.conftest import sqlite_url
from tests.localserver import LocalServer, Request, Response

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# --- next_attempt_at: pure --------------------------------------------------------------------


def test_backoff_doubles_from_retry_base() -> None:
    waits = [next_attempt_at(n, T0, SETTINGS) for n in range(1, 5)]
    assert waits == [T0 + timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_backoff_is_capped_at_retry_max() -> None:
    settings = AlertSettings(retry_base=30, retry_max=600, max_attempts=100)
    assert next_attempt_at(6, T0, settings) == T0 + timedelta(seconds=600)
    assert next_attempt_at(99, T0, settings) == T0 + timedelta(seconds=600)


def test_retry_after_lengthens_but_never_shortens_or_passes_the_cap() -> None:
    assert next_attempt_at(1, T0, SETTINGS, retry_after=100) == T0 + timedelta(seconds=100)
    assert next_attempt_at(3, T0, SETTINGS, retry_after=5) == T0 + timedelta(seconds=120)
    assert next_attempt_at(1, T0, SETTINGS, retry_after=1e12) == T0 + timedelta(seconds=600)


def test_gives_up_after_max_attempts() -> None:
    assert next_attempt_at(4, T0, SETTINGS) is not None
    assert next_attempt_at(5, T0, SETTINGS) is None
    assert next_attempt_at(5, T0, SETTINGS, retry_after=1) is None


# --- delivery through the store ---------------------------------------------------------------


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite alone: these tests are about delivery; the outbox contract runs on both backends."""
    return sqlite_url(tmp_path)


def queue(store: Store, channel: str, *numbers: int) -> list[str]:
    """Queue an item alert per number on `channel`; returns their keys."""
    keys = [f"item:{n:016x}:kz-pk" for n in numbers]
    intents = [
        intent(key, channel=channel, kind="item", payload=item(n))
        for key, n in zip(keys, numbers, strict=True)
    ]
    assert len(store.enqueue_alerts(intents)) == len(numbers)
    return keys


def item(n: int) -> dict[str, Any]:
    title = f"Kazakhstan and Pakistan, story {n}"
    return report_of(f"{n:016x}", title=title, url=f"https://example.org/n/{n}")


def keys_of(requests: list[Request]) -> list[str]:
    return [key_of(r) for r in requests]


def test_fail_then_rate_limited_then_recovered_delivers_each_alert_once_in_order(
    store: Store, server: LocalServer
) -> None:
    sender, seen = webhook(
        server,
        Response(500, b"internal_error"),
        Response(429, b"rate_limited", {"Retry-After": "120"}),
    )
    keys = queue(store, "team", 1, 2, 3)
    senders = {"team": sender}
    t0 = start()

    report = deliver(store, senders, t0)
    assert (report.sent, report.failed, report.dead, report.waiting) == (0, 1, 0, 2)
    assert "HTTP 500" in report.errors["team"][0]
    first = by_key(store)[keys[0]]
    assert first.attempts == 1 and first.sent_at is None
    assert first.next_attempt == t0 + timedelta(seconds=30)
    assert "500" in (first.last_error or "")

    # The channel is paused until the failed alert is due: nothing overtakes it.
    report = deliver(store, senders, t0 + timedelta(seconds=10))
    assert report.sent == 0 and report.waiting == 2
    assert len(seen) == 1

    report = deliver(store, senders, t0 + timedelta(seconds=30))
    assert (report.sent, report.failed) == (0, 1)
    first = by_key(store)[keys[0]]
    assert first.attempts == 2
    # Retry-After (120 s) is longer than the backoff (60 s), so it wins.
    assert first.next_attempt == t0 + timedelta(seconds=150)

    report = deliver(store, senders, t0 + timedelta(seconds=100))
    assert report.sent == 0 and len(seen) == 2

    report = deliver(store, senders, t0 + timedelta(seconds=150))
    assert (report.sent, report.failed, report.dead) == (3, 0, 0)
    assert keys_of(seen) == [keys[0], keys[0], *keys]
    assert all(a.sent_at is not None for a in store.list_alerts())

    report = deliver(store, senders, t0 + timedelta(days=1))
    assert report.sent == 0 and len(seen) == 5


def test_permanent_failure_marks_dead_and_the_next_alert_still_goes(
    store: Store, server: LocalServer
) -> None:
    sender, seen = webhook(server, Response(400, b"invalid_payload"))
    keys = queue(store, "team", 1, 2)
    senders = {"team": sender}
    t0 = start()

    report = deliver(store, senders, t0)
    assert (report.sent, report.failed, report.dead) == (1, 0, 1)
    dead, sent = by_key(store)[keys[0]], by_key(store)[keys[1]]
    assert dead.sent_at is None and dead.next_attempt is None
    assert "invalid_payload" in (dead.last_error or "")
    assert sent.sent_at is not None

    report = deliver(store, senders, t0 + timedelta(days=30))
    assert report.sent == report.failed == report.dead == 0
    assert len(seen) == 2


def test_max_attempts_marks_dead(store: Store, server: LocalServer) -> None:
    url = server.route("/hook", "unavailable", status=503)
    [key] = queue(store, "team", 1)
    senders = {"team": webhook_sender(url)}
    moment = start()
    for _ in range(SETTINGS.max_attempts - 1):
        report = deliver(store, senders, moment)
        assert report.failed == 1
        retry = by_key(store)[key].next_attempt
        assert retry is not None
        moment = retry
    report = deliver(store, senders, moment)
    assert report.dead == 1
    alert = by_key(store)[key]
    assert alert.attempts == SETTINGS.max_attempts and alert.next_attempt is None
    assert len(server.requests_to("/hook")) == SETTINGS.max_attempts


def test_a_broken_channel_does_not_block_another(store: Store, server: LocalServer) -> None:
    good_done = threading.Event()
    good: list[Request] = []

    def receive(request: Request) -> Response:
        good.append(request)
        if len(good) == 3:
            good_done.set()
        return Response(200, b"ok")

    waited: list[bool] = []

    def broken(request: Request) -> Response:
        # Answer only once the other channel has delivered everything: if channels were
        # drained one after another, this would time out and the test would fail.
        waited.append(good_done.wait(5))
        return Response(500, b"down")

    server.route("/good", handler=receive)
    server.route("/broken", handler=broken)
    queue(store, "broken", 1, 2)  # queued first: lower ids
    good_keys = queue(store, "good", 3, 4, 5)
    senders = {
        "broken": webhook_sender(server.url("/broken"), "broken"),
        "good": webhook_sender(server.url("/good"), "good"),
    }

    report = deliver(store, senders, start())
    assert waited == [True]
    assert keys_of(good) == good_keys
    assert (report.sent, report.failed, report.waiting) == (3, 1, 1)
    assert list(report.errors) == ["broken"]


class Exploding:
    """A sender with a bug: raises something that is not a ChannelError."""

    name = "buggy"

    async def send(self, alert: OutboxAlert, parent: OutboxAlert | None = None) -> None:
        raise KeyError("oops")


def test_a_sender_bug_is_a_retryable_failure(store: Store, server: LocalServer) -> None:
    url = server.route("/hook", "ok")
    [buggy_key] = queue(store, "buggy", 1)
    queue(store, "team", 2)
    report = deliver(store, {"buggy": Exploding(), "team": webhook_sender(url)}, start())
    assert (report.sent, report.failed, report.dead) == (1, 1, 0)
    alert = by_key(store)[buggy_key]
    assert alert.next_attempt is not None and "KeyError" in (alert.last_error or "")


def test_unconfigured_channel_stays_pending_logged_once_and_starves_nothing(
    store: Store, server: LocalServer, tmp_path: Path
) -> None:
    gone = f"gone-{tmp_path.name}"  # the "logged once" memory is per process
    url = server.route("/hook", "ok")
    stuck = queue(store, gone, 1, 2, 3, 4, 5)
    queue(store, "team", 6, 7)
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING")
    try:
        senders = {"team": webhook_sender(url)}
        report = deliver(store, senders, start(), limit=3)
        again = deliver(store, senders, start(), limit=3)
    finally:
        logger.remove(sink)
    assert report.sent == 2 and report.waiting == 5
    assert again.sent == 0 and again.waiting == 5
    assert len([w for w in warnings if gone in w]) == 1
    alerts = by_key(store)
    assert all(alerts[k].attempts == 0 and alerts[k].sent_at is None for k in stuck)


def test_apprise_channel_posts_title_and_plain_body(store: Store, server: LocalServer) -> None:
    server.route("/apprise", "{}", content_type="application/json")
    port = server.base.rsplit(":", 1)[1]
    settings = AlertSettings.model_validate(
        {
            "channels": {
                "hook": AppriseChannel(url=SecretStr(f"json://127.0.0.1:{port}/apprise")),
                "nonsense": AppriseChannel(url=SecretStr("notaservice://x")),
            }
        }
    )
    senders = build_channels(settings)
    queue(store, "hook", 1)
    queue(store, "nonsense", 2)
    report = deliver(store, senders, start())
    assert (report.sent, report.dead) == (1, 1)
    [request] = server.requests_to("/apprise")
    body = json.loads(request.body)
    assert body["title"] == "[Kazakhstan–Pakistan] Kazakhstan and Pakistan, story 1"
    assert "https://example.org/n/1" in body["message"]
    assert "Matched: Kazakhstan, Pakistan" in body["message"]


# --- several workers: claims ------------------------------------------------------------------

WAIT = 10.0  # a guard against a hang, never a pause: every wait ends on an event


def test_an_alert_another_worker_holds_waits_for_its_claim_to_expire(
    store: Store, server: LocalServer
) -> None:
    url = server.route("/hook", "ok")
    keys = queue(store, "team", 1, 2)
    t0 = start()
    expiry = t0 + timedelta(seconds=SETTINGS.claim)
    [held] = store.due_alerts(t0, 1, owner="elsewhere:1", until=expiry)
    senders = {"team": webhook_sender(url)}

    report = deliver(store, senders, t0)
    assert (report.sent, report.waiting) == (1, 0)
    assert keys_of(server.requests_to("/hook")) == [keys[1]]
    assert deliver(store, senders, expiry - timedelta(seconds=1)).sent == 0
    assert deliver(store, senders, expiry).sent == 1  # the other worker never came back
    assert keys_of(server.requests_to("/hook")) == [keys[1], held.key]


class Timed:
    """A sender whose every send takes `seconds` on the round's (fake) monotonic clock."""

    def __init__(self, name: str, clock: list[float], seconds: float) -> None:
        self.name = name
        self.keys: list[str] = []
        self._clock = clock
        self._seconds = seconds

    async def send(self, alert: OutboxAlert, parent: OutboxAlert | None = None) -> None:
        self.keys.append(alert.key)
        self._clock[0] += self._seconds


def test_a_round_starts_no_send_once_half_its_claim_has_passed(store: Store) -> None:
    keys = queue(store, "team", 1, 2, 3, 4, 5)
    clock = [1000.0]
    sender = Timed("team", clock, seconds=100)
    settings = SETTINGS.model_copy(update={"claim": 300.0})
    t0 = start()

    def round_() -> DeliveryReport:
        run = deliver_due(
            store, {"team": sender}, now=t0, settings=settings, monotonic=lambda: clock[0]
        )
        return asyncio.run(run)

    # Sends start at 0 s and 100 s into the round; at 200 s a third could outlast the claim.
    report = round_()
    assert (report.sent, report.waiting) == (2, 3)
    assert sender.keys == keys[:2]
    # What it did not send was released: the next round (same moment, same worker) has it.
    report = round_()
    assert (report.sent, report.waiting) == (2, 1)
    assert sender.keys == keys[:4]


def test_rows_a_round_cannot_send_are_free_for_others_while_it_sends(
    store: Store, server: LocalServer
) -> None:
    entered = threading.Event()
    go = threading.Event()

    def hold(request: Request) -> Response:
        entered.set()
        go.wait(WAIT)
        return Response(200, b"ok")

    url = server.route("/hook", handler=hold)
    team = queue(store, "team", 1, 2)
    mail = queue(store, "mail", 3, 4)  # no sender in this worker
    t0 = start()
    reports: list[DeliveryReport] = []
    worker = threading.Thread(
        target=lambda: reports.append(deliver(store, {"team": webhook_sender(url)}, t0))
    )
    worker.start()
    try:
        assert entered.wait(WAIT)  # the round is sending its first alert right now
        others = store.due_alerts(t0, owner="elsewhere:1")
    finally:
        go.set()
        worker.join(WAIT * 2)
    assert [a.key for a in others] == mail  # the team rows are the round's own
    [report] = reports
    assert (report.sent, report.waiting) == (2, 2)
    assert keys_of(server.requests_to("/hook")) == team
