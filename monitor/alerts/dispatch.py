"""Outbox delivery: fold what waits for a digest, send due alerts, record each outcome,
schedule retries.

    folding.fold_due: each channel's due `fold` alerts --> one digest alert
    store.due_alerts (claimed) --> per channel, in queue order --> Sender.send(alert, parent)
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

Several workers: a round claims the rows it takes (`due_alerts`, `due_folds`) for its worker
until `now + alerts.claim`, so two workers, even on two hosts, never take the same row; what the
round cannot send now (no sender, a paused channel) is released as soon as it has been read,
and whatever it took and did not finish (a pause, a reply whose parent is unsent, an error) at
its end. A round starts no send after half its claim has passed: a send begun in time ends
before the claim does, so no other worker can take an alert while it is being sent. A claim
of a killed process of this host is taken over at once; one of another host waits for its
expiry.
"""

from __future__ import annotations

import asyncio
import time
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
from monitor.leases import local_worker
from monitor.models import OutboxAlert, Priority
from monitor.store.base import Store

__all__ = ["DeliveryReport", "Sender", "deliver_due", "next_attempt_at"]

# How many due rows one round may read past alerts it cannot send now, to reach ones it can.
SCAN_MAX = 10_000

# Share of the claim after which a round starts no more sends (see the module docstring).
SEND_WINDOW = 0.5


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
    worker: str | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Fold the alerts due for a digest, then deliver up to `limit` due alerts through their
    channels and record every outcome. The rows are claimed for `worker` (default: this
    process, `host:pid`) while the round works on them; `monotonic` times the round."""
    report = DeliveryReport()
    owner = worker or local_worker()
    until = now + timedelta(seconds=settings.claim)
    started = monotonic()

    def in_time() -> bool:
        return monotonic() - started < settings.claim * SEND_WINDOW

    report.folded = fold_due(store, senders.keys(), now, owner=owner, until=until)

    def ready(channel: str) -> bool:
        sender = senders.get(channel)
        if sender is None:
            return False
        paused = _paused.get(sender)
        return paused is None or paused <= now

    alerts, held = _take(store, now, limit, ready, owner, until)
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
    try:
        outcomes = await asyncio.gather(
            *(
                _drain(store, senders[channel], queue, now, settings, report, in_time)
                for channel, queue in queues.items()
            ),
            return_exceptions=True,
        )
    finally:
        # Rows sent, failed or dead were unclaimed as they were marked; this frees the rest.
        store.release_alerts([a.id for a in alerts], owner)
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
    store: Store,
    now: datetime,
    limit: int,
    ready: Callable[[str], bool],
    owner: str,
    until: datetime,
) -> tuple[list[OutboxAlert], list[OutboxAlert]]:
    """Claim up to `limit` due alerts that can be sent now; also returns the due ones claimed
    on the way that cannot, which, like any claimed beyond `limit`, are released before this
    returns (another worker may have their channel).

    Rows that cannot be sent now stay due, so claiming just `limit` rows could get only those,
    round after round, and starve every other channel: claim further instead, a batch as
    large as all that was read so far each time."""
    sendable: list[OutboxAlert] = []
    held: list[OutboxAlert] = []
    while len(sendable) < limit and len(sendable) + len(held) < limit + SCAN_MAX:
        read = len(sendable) + len(held)
        want = min(limit - len(sendable) + len(held), limit + SCAN_MAX - read)
        batch = store.due_alerts(now, want, owner=owner, until=until)
        for alert in batch:
            (sendable if ready(alert.channel) else held).append(alert)
        if len(batch) < want:
            break
    store.release_alerts([a.id for a in held + sendable[limit:]], owner)
    return sendable[:limit], held


async def _drain(
    store: Store,
    sender: Sender,
    queue: list[OutboxAlert],
    now: datetime,
    settings: AlertSettings,
    report: DeliveryReport,
    in_time: Callable[[], bool],
) -> None:
    """Send one channel's alerts in order; stop at the first retryable failure, or when the
    round's time to start sends (`in_time`) is over. A reply whose parent is not sent yet goes
    to the back of the queue once (its parent, a digest folded this round, may be behind it),
    then waits for another round."""
    todo = deque(queue)
    requeued: set[int] = set()
    while todo:
        if not in_time():
            logger.info(
                "alerts via {}: {} left for the next round (this round's claim runs out)",
                sender.name,
                len(todo),
            )
            report.waiting += len(todo)
            return
        alert = todo.popleft()
        parent = _parent(store, alert, now)
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


def _parent(store: Store, alert: OutboxAlert, now: datetime) -> OutboxAlert | None:
    """The alert `alert` replies to: the one queued under its thread key on its channel, or
    the digest that carried that one. None (send it on its own) when there is none, when it
    is dead and so will never have a thread, or when it waits for a later digest or the end
    of quiet hours while this reply is breaking news or a development (high or urgent: it
    does not wait for a thread). A further report (low) waits for its parent."""
    if alert.thread_key is None:
        return None
    parent = store.find_alert(alert.channel, alert.thread_key)
    if parent is not None and parent.folded_into is not None:
        parent = store.get_alert(parent.folded_into)
    if parent is None:
        return None
    if parent.sent_at is None and parent.next_attempt is None:
        return None
    waits = parent.sent_at is None and parent.next_attempt is not None and parent.next_attempt > now
    if waits and alert.priority >= Priority.HIGH:
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
