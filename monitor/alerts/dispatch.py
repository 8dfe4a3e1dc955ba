"""Outbox delivery: fold what waits for a digest, send due alerts, record each outcome,
schedule retries.

    folding.fold_due: each channel's due `fold` alerts --> one digest alert
    store.due_alerts --> per channel, in queue order --> Sender.send(alert, parent)
        ok                      mark_alert_sent (with the channel's receipt: a Slack ts)
        ChannelError            mark_alert_failed(next_attempt = backoff), channel paused
        RateLimited             the same, waiting at least Retry-After
        permanent / too many    mark_alert_failed(next_attempt = None): dead

Delivery is at least once, and once in all but one window: a kill after the channel accepted
an alert and before `mark_alert_sent` sends it again on the next run, with the same
idempotency key (Slack block_id, email Message-ID), so the receiver can drop the repeat.

Threads: an alert with a `thread_key` replies to the alert queued under that key on the same
channel (or to the digest that carried it). While that parent is not sent, the reply waits
(it goes out after the parent in the same round when it can); when the parent is dead or was
never queued, the reply goes out on its own.

Channels are independent: each drains its own queue concurrently with the others, so a slow or
broken channel never holds up another. Within a channel alerts go out in the order they were
queued, and a retryable failure (the service is down or rate-limiting) pauses the whole channel
until the failed alert's next attempt, so the alerts behind it neither overtake it nor hammer a
service that just said no. The pause lives in this process only (keyed by the sender object);
the outbox rows stay the truth, so a restart or another worker merely probes once more.

An alert whose channel has no sender (removed from the settings, or not selected) stays pending
and is reported as waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from weakref import WeakKeyDictionary

from loguru import logger

from monitor.alerts.folding import fold_due
from monitor.config import AlertSettings
from monitor.errors import ChannelError, RateLimited
from monitor.models import OutboxAlert
from monitor.store.base import Store

__all__ = ["DeliveryReport", "Sender", "deliver_due", "next_attempt_at"]

# How many due rows one round may read past alerts it cannot send now, to reach ones it can.
SCAN_MAX = 10_000


class Sender(Protocol):
    """One configured alert channel. `send` raises ChannelError (RateLimited on 429); any
    other exception is treated as a retryable failure. `parent` is the sent alert this one
    replies to (None: not a reply); the result is the channel's receipt for the message (a
    Slack ts), kept so that later replies can find their thread."""

    name: str

    async def send(self, alert: OutboxAlert, parent: OutboxAlert | None = None) -> str | None: ...


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0  # given up: permanent error or max_attempts
    waiting: int = 0  # due, but their channel has no sender or is paused, or their parent unsent
    folded: int = 0  # put into a digest alert this round
    errors: dict[str, list[str]] = field(default_factory=dict)  # by channel name

    def add_error(self, channel: str, message: str) -> None:
        self.errors.setdefault(channel, []).append(message)


def next_attempt_at(
    attempts: int,
    now: datetime,
    settings: AlertSettings,
    retry_after: float | None = None,
) -> datetime | None:
    """When to try again after `attempts` failed attempts (the one that just failed included):
    `retry_base` doubling per attempt, at least `retry_after`, never more than `retry_max`
    (a hostile or broken Retry-After must not park an alert for ever). None: give up."""
    if attempts >= settings.max_attempts:
        return None
    delay = settings.retry_base * 2.0 ** min(max(attempts, 1) - 1, 60)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return now + timedelta(seconds=max(0.0, min(delay, settings.retry_max)))


# Channel pauses after a retryable failure, per sender object: rebuilding the senders (a
# settings reload) starts afresh.
_paused: WeakKeyDictionary[Sender, datetime] = WeakKeyDictionary()
# Channels without a sender, already logged by this process.
_unsent_logged: set[str] = set()


async def deliver_due(
    store: Store,
    senders: Mapping[str, Sender],
    *,
    now: datetime,
    settings: AlertSettings,
    limit: int = 100,
) -> DeliveryReport:
    """Fold the alerts due for a digest, then deliver up to `limit` due alerts through their
    channels and record every outcome."""
    report = DeliveryReport()
    report.folded = fold_due(store, senders.keys(), now)

    def ready(channel: str) -> bool:
        sender = senders.get(channel)
        if sender is None:
            return False
        until = _paused.get(sender)
        return until is None or until <= now

    alerts, held = _take(store, now, limit, ready)
    for alert in held:
        report.waiting += 1
        if alert.channel not in senders and alert.channel not in _unsent_logged:
            _unsent_logged.add(alert.channel)
            logger.warning(
                "alerts for channel {!r} stay queued: no such channel is configured",
                alert.channel,
            )
    queues: dict[str, list[OutboxAlert]] = {}
    for alert in sorted(alerts, key=lambda a: a.id):
        queues.setdefault(alert.channel, []).append(alert)
    outcomes = await asyncio.gather(
        *(
            _drain(store, senders[channel], queue, now, settings, report)
            for channel, queue in queues.items()
        ),
        return_exceptions=True,
    )
    # Only the store can fail here (senders' errors are outcomes); every channel has finished
    # and recorded what it could before the first such failure is raised.
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    if report.sent or report.failed or report.dead or report.folded:
        logger.info(
            "alerts: {} sent, {} failed, {} dead, {} waiting, {} folded into digests",
            report.sent,
            report.failed,
            report.dead,
            report.waiting,
            report.folded,
        )
    return report


def _take(
    store: Store, now: datetime, limit: int, ready: Callable[[str], bool]
) -> tuple[list[OutboxAlert], list[OutboxAlert]]:
    """Up to `limit` due alerts that can be sent now, and the due ones read that cannot.

    Rows that cannot be sent now stay due, so a plain `due_alerts(now, limit)` could return
    only those, round after round, and starve every other channel: read further instead."""
    fetch = limit
    while True:
        batch = store.due_alerts(now, fetch)
        sendable = [a for a in batch if ready(a.channel)]
        held = [a for a in batch if not ready(a.channel)]
        if len(sendable) >= limit or len(batch) < fetch or fetch >= limit + SCAN_MAX:
            return sendable[:limit], held
        fetch = min(fetch + len(held), limit + SCAN_MAX)


async def _drain(
    store: Store,
    sender: Sender,
    queue: list[OutboxAlert],
    now: datetime,
    settings: AlertSettings,
    report: DeliveryReport,
) -> None:
    """Send one channel's alerts in order; stop at the first retryable failure. A reply whose
    parent is not sent yet goes to the back of the queue once (its parent, a digest folded
    this round, may be behind it), then waits for another round."""
    todo = deque(queue)
    requeued: set[int] = set()
    while todo:
        alert = todo.popleft()
        parent = _parent(store, alert)
        if parent is not None and parent.sent_at is None:
            if alert.id in requeued:
                report.waiting += 1
            else:
                requeued.add(alert.id)
                todo.append(alert)
            continue
        retry = await _attempt(store, sender, alert, parent, now, settings, report)
        if retry is not None:
            _paused[sender] = retry
            report.waiting += len(todo)
            return


def _parent(store: Store, alert: OutboxAlert) -> OutboxAlert | None:
    """The alert `alert` replies to: the one queued under its thread key on its channel, or
    the digest that carried that one. None (send it on its own) when there is none, or when
    it is dead and so will never have a thread."""
    if alert.thread_key is None:
        return None
    parent = store.find_alert(alert.channel, alert.thread_key)
    if parent is not None and parent.folded_into is not None:
        parent = store.get_alert(parent.folded_into)
    if parent is None or (parent.sent_at is None and parent.next_attempt is None):
        return None
    return parent


async def _attempt(
    store: Store,
    sender: Sender,
    alert: OutboxAlert,
    parent: OutboxAlert | None,
    now: datetime,
    settings: AlertSettings,
    report: DeliveryReport,
) -> datetime | None:
    """Send one alert and record the outcome; returns when to retry after a retryable
    failure (the channel pauses until then), else None."""
    try:
        receipt = await sender.send(alert, parent)
    except ChannelError as exc:
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        return _record_failure(
            store, alert, str(exc), exc.permanent, retry_after, now, settings, report
        )
    except Exception as exc:  # a sender bug: keep the alert, keep the other channels going
        logger.opt(exception=exc).error("alert channel {}: sender failed", alert.channel)
        message = f"channel {alert.channel!r}: {type(exc).__name__}: {exc}"
        return _record_failure(store, alert, message, False, None, now, settings, report)
    store.mark_alert_sent(alert.id, now, receipt)
    report.sent += 1
    logger.debug("alert {} sent via {}", alert.key, alert.channel)
    return None


def _record_failure(
    store: Store,
    alert: OutboxAlert,
    message: str,
    permanent: bool,
    retry_after: float | None,
    now: datetime,
    settings: AlertSettings,
    report: DeliveryReport,
) -> datetime | None:
    """Mark the attempt failed; returns when to retry, None when the alert is now dead."""
    retry = None if permanent else next_attempt_at(alert.attempts + 1, now, settings, retry_after)
    store.mark_alert_failed(alert.id, message, retry)
    report.add_error(alert.channel, message)
    if retry is None:
        report.dead += 1
        reason = "permanent error" if permanent else f"{alert.attempts + 1} attempts"
        logger.error("alert {} via {} is dead ({}): {}", alert.key, alert.channel, reason, message)
    else:
        report.failed += 1
        logger.warning(
            "alert {} via {} failed, next attempt {}: {}",
            alert.key,
            alert.channel,
            retry.isoformat(timespec="seconds"),
            message,
        )
    return retry
