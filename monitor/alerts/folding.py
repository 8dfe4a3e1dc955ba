"""Folding: the alerts a channel holds for its digest (digest mode, quiet hours, further reports
on a channel that cannot thread) become ONE digest alert when their time comes.

    store.due_folds (claimed) --> per channel: payloads.folded_digest --> store.fold_alerts

`fold_alerts` writes the digest and marks its members in one transaction, and the digest's key
is derived from its members' ids, so a kill at any point, or two workers at once, never make
two digests of one alert. With several workers, each folds only the alerts it claimed (another
worker's claimed alerts are neither read nor folded here); the digest is queued unclaimed and
then delivered like any other alert, by whichever worker claims it first.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from loguru import logger

from monitor.alerts.payloads import folded_digest
from monitor.models import OutboxAlert, hex16
from monitor.store.base import AlertIntent, Store

__all__ = ["digest_intent", "fold_due"]

# Fold alerts read per round; what is left is folded in the next round, into its own digest.
FOLD_SCAN = 5000


def fold_due(
    store: Store, channels: Collection[str], now: datetime, *, owner: str, until: datetime
) -> int:
    """Fold the due alerts of each of `channels` into one digest per channel; returns how many
    alerts were folded. The alerts are claimed for `owner` until `until` while this runs; a
    channel not named (no sender) keeps its alerts for later, and what is not folded is
    released before this returns, for any worker to take."""
    claimed = store.due_folds(now, FOLD_SCAN, owner=owner, until=until)
    left = {alert.id for alert in claimed}
    try:
        by_channel: dict[str, list[OutboxAlert]] = {}
        for alert in claimed:
            if alert.channel in channels:
                by_channel.setdefault(alert.channel, []).append(alert)
        folded = 0
        for channel, members in by_channel.items():
            digest = digest_intent(channel, members, _parents(store, channel, members), now)
            digest_id = store.fold_alerts([m.id for m in members], digest, now, owner=owner)
            if digest_id is None:  # another worker folded some of them first: next round
                logger.debug("alerts of {} were folded elsewhere; trying again later", channel)
                continue
            left -= {m.id for m in members}
            folded += len(members)
            logger.info("{} alerts for {} folded into digest {}", len(members), channel, digest.key)
        return folded
    finally:
        if left:
            store.release_alerts(sorted(left), owner)


def digest_intent(
    channel: str,
    members: Sequence[OutboxAlert],
    parents: dict[str, OutboxAlert],
    now: datetime,
) -> AlertIntent:
    """The digest row for `members` (one channel's, in queue order). Its key names the members,
    so it is the same however often it is built; it is due at `now` (this very round, not at
    the store's clock a moment later) with the highest priority among them."""
    ids = [m.id for m in members]
    key = f"digest:{ids[0]}-{ids[-1]}:{hex16(','.join(map(str, ids)))}"
    return AlertIntent(
        channel=channel,
        kind="digest",
        key=key,
        payload=dict(folded_digest(members, parents)),
        priority=max(m.priority for m in members),
        not_before=now,
    )


def _parents(store: Store, channel: str, members: Sequence[OutboxAlert]) -> dict[str, OutboxAlert]:
    """The first alert of each story whose further reports are folded here without it (a
    digest line needs the story's title)."""
    keys = {m.key for m in members}
    wanted = {m.thread_key for m in members if m.kind == "update" and m.thread_key} - keys
    found = {key: store.find_alert(channel, key) for key in sorted(wanted)}
    return {key: alert for key, alert in found.items() if alert is not None}
