"""When an alert goes out on a channel: pure decisions over the channel's settings and a clock.

    priority < min_priority                 None: nothing is queued for this channel
    priority >= immediate_priority          at once, on its own
    kind "update" on a channel that threads,
        in instant mode                     at once: a reply in the first alert's thread
    kind "update" otherwise                 folded into the next digest boundary
    mode "digest"                           folded into the next digest boundary
    instant                                 at once
    ... and a time that falls in quiet hours moves to their end, folded.

Digest boundaries are local wall-clock times in the channel's zone: `digest_at`, then every
`digest_every` (which divides a day, so every day has the same boundaries). On a DST change a
boundary the clock skips (spring forward) comes just after the gap (02:30 becomes 03:30), and
one it shows twice (fall back) is a boundary both times. Quiet hours are local too and may cross
midnight ("22:00-07:00").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from monitor.config import ChannelBase
from monitor.models import Priority

__all__ = ["Plan", "channel_zone", "in_quiet_hours", "next_boundary", "plan", "quiet_end"]

_DAY = timedelta(days=1)
# Wider than any DST shift (2 h at most), so the wall-clock search below never misses the
# boundary that follows `now`.
_SLACK = timedelta(hours=3)
_EPOCH = datetime(2000, 1, 1)  # naive: wall-clock grid origin (a midnight)


@dataclass(frozen=True)
class Plan:
    """When to make the first attempt (None: now), and whether to wait for a digest."""

    not_before: datetime | None
    fold: bool


def plan(
    channel: ChannelBase, kind: str, priority: Priority, now: datetime, zone: tzinfo
) -> Plan | None:
    """How `channel` should carry an alert of `kind` and `priority` queued at `now`.

    `zone` is the global `timezone` setting, used when the channel names none."""
    if priority < channel.min_priority:
        return None
    if priority >= channel.immediate_priority:
        return Plan(None, fold=False)
    local = channel_zone(channel, zone)
    reply = kind == "update" and channel.threads and channel.mode == "instant"
    if (kind == "update" and not reply) or channel.mode == "digest":
        return Plan(_after_quiet(channel, next_boundary(channel, now, local), local), fold=True)
    if in_quiet_hours(channel, now, local):
        return Plan(quiet_end(channel, now, local), fold=True)
    return Plan(None, fold=False)


def channel_zone(channel: ChannelBase, default: tzinfo) -> tzinfo:
    return ZoneInfo(channel.timezone) if channel.timezone else default


def next_boundary(channel: ChannelBase, now: datetime, zone: tzinfo) -> datetime:
    """The first digest boundary strictly after `now` (aware, in UTC)."""
    every = timedelta(seconds=channel.digest_every)
    anchor = datetime.combine(_EPOCH.date(), channel.digest_anchor)
    wall = now.astimezone(zone).replace(tzinfo=None, fold=0)
    # The grid point at or before wall - slack, then forward through wall-clock grid points.
    start = wall - _SLACK
    point = anchor + ((start - anchor) // every) * every
    best: datetime | None = None
    while point <= wall + every + _SLACK:
        for instant in _instants(point, zone):
            if instant > now and (best is None or instant < best):
                best = instant
        point += every
    if best is None:  # unreachable: a grid point within one period after wall exists
        raise AssertionError(f"no digest boundary after {now.isoformat()}")
    return best


def in_quiet_hours(channel: ChannelBase, now: datetime, zone: tzinfo) -> bool:
    quiet = channel.quiet
    if quiet is None:
        return False
    start, end = quiet
    clock = now.astimezone(zone).time()
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # across midnight


def quiet_end(channel: ChannelBase, now: datetime, zone: tzinfo) -> datetime:
    """The end of the quiet hours that `now` falls in (aware, UTC). `now` must be quiet."""
    quiet = channel.quiet
    if quiet is None:
        raise ValueError("the channel has no quiet hours")
    _, end = quiet
    local = now.astimezone(zone)
    day = local.date() if local.time() < end else local.date() + _DAY
    return _instants(datetime.combine(day, end), zone)[0]


def _after_quiet(channel: ChannelBase, moment: datetime, zone: tzinfo) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    return quiet_end(channel, moment, zone) if in_quiet_hours(channel, moment, zone) else moment


def _instants(wall: datetime, zone: tzinfo) -> list[datetime]:
    """The moments (UTC) at which the local clock in `zone` shows `wall` (naive): one, or two
    when the clock falls back over it. A time the clock skips (spring forward) is read with the
    offset before the gap (PEP 495, fold=0), which lands just after the gap."""
    found: list[datetime] = []
    for fold in (0, 1):
        moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if moment.astimezone(zone).replace(tzinfo=None) == wall and moment not in found:
            found.append(moment)
    if not found:  # skipped by a spring-forward gap
        found.append(wall.replace(tzinfo=zone, fold=0).astimezone(UTC))
    return sorted(found)
