"""alerts.timing: when each alert goes out on a channel. Pure, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.timing import Plan, in_quiet_hours, next_boundary, plan
from monitor.config import ChannelBase, EmailChannel, SlackChannel
from monitor.models import Priority

UTCZ = ZoneInfo("UTC")
KARACHI = ZoneInfo("Asia/Karachi")  # UTC+5, no DST
BERLIN = ZoneInfo("Europe/Berlin")  # DST: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00


def webhook(**settings: Any) -> SlackChannel:
    return SlackChannel(webhook_url="https://hooks.example/x", **settings)


def bot(**settings: Any) -> SlackChannel:
    return SlackChannel(bot_token="xoxb-1", channel="C1", **settings)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# --- which channels get what ------------------------------------------------------------------


def test_below_min_priority_queues_nothing() -> None:
    channel = webhook(min_priority="normal")
    now = utc(2026, 3, 2, 10, 17)
    assert plan(channel, "update", Priority.LOW, now, UTCZ) is None
    assert plan(channel, "story", Priority.NORMAL, now, UTCZ) == Plan(None, fold=False)
    assert plan(webhook(min_priority="urgent"), "breaking", Priority.HIGH, now, UTCZ) is None


def test_instant_channel_sends_a_story_at_once() -> None:
    now = utc(2026, 3, 2, 10, 17)
    assert plan(webhook(), "story", Priority.NORMAL, now, UTCZ) == Plan(None, fold=False)
    assert plan(webhook(), "breaking", Priority.HIGH, now, UTCZ) == Plan(None, fold=False)


def test_an_update_is_a_thread_reply_where_the_channel_threads() -> None:
    now = utc(2026, 3, 2, 10, 17)
    assert plan(bot(), "update", Priority.LOW, now, UTCZ) == Plan(None, fold=False)
    # Email replies would each be a message of their own: further reports wait for a digest.
    email = EmailChannel(host="smtp.example", sender="m@example.org", recipients=["a@b.org"])
    assert plan(email, "update", Priority.LOW, now, UTCZ) == Plan(utc(2026, 3, 2, 11, 0), fold=True)
    assert plan(email, "breaking", Priority.HIGH, now, UTCZ) == Plan(None, fold=False)


def test_an_update_on_a_channel_that_cannot_thread_waits_for_the_next_digest_boundary() -> None:
    now = utc(2026, 3, 2, 10, 17)
    assert plan(webhook(), "update", Priority.LOW, now, UTCZ) == Plan(
        utc(2026, 3, 2, 11, 0), fold=True
    )
    daily = webhook(digest_every="1d", digest_at="08:30")
    assert plan(daily, "update", Priority.LOW, now, UTCZ) == Plan(utc(2026, 3, 3, 8, 30), fold=True)


def test_digest_mode_folds_everything_below_immediate_priority() -> None:
    channel = bot(mode="digest", digest_every="6h", digest_at="02:00")
    now = utc(2026, 3, 2, 3, 0)
    expected = Plan(utc(2026, 3, 2, 8, 0), fold=True)
    for kind, priority in [
        ("story", Priority.NORMAL),
        ("update", Priority.LOW),
        ("breaking", Priority.HIGH),
    ]:
        assert plan(channel, kind, priority, now, UTCZ) == expected
    assert plan(channel, "development", Priority.URGENT, now, UTCZ) == Plan(None, fold=False)


def test_immediate_priority_beats_digest_mode_and_quiet_hours() -> None:
    channel = webhook(mode="digest", quiet_hours="00:00-23:59", immediate_priority="high")
    now = utc(2026, 3, 2, 10, 17)
    assert plan(channel, "breaking", Priority.HIGH, now, UTCZ) == Plan(None, fold=False)
    story = plan(channel, "story", Priority.NORMAL, now, UTCZ)
    assert story is not None and story.fold


# --- digest boundaries --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "at", "now", "expected"),
    [
        ("1h", "00:00", utc(2026, 3, 2, 10, 17), utc(2026, 3, 2, 11, 0)),
        ("1h", "00:00", utc(2026, 3, 2, 11, 0), utc(2026, 3, 2, 12, 0)),  # strictly after
        ("1h", "00:30", utc(2026, 3, 2, 10, 17), utc(2026, 3, 2, 10, 30)),
        ("15m", "00:05", utc(2026, 3, 2, 10, 17), utc(2026, 3, 2, 10, 20)),
        ("6h", "02:00", utc(2026, 3, 2, 23, 0), utc(2026, 3, 3, 2, 0)),
        ("1d", "00:00", utc(2026, 12, 31, 23, 59), utc(2027, 1, 1, 0, 0)),
        ("1d", "08:30", utc(2026, 3, 2, 8, 29), utc(2026, 3, 2, 8, 30)),
    ],
)
def test_boundaries_in_utc(every: str, at: str, now: datetime, expected: datetime) -> None:
    assert next_boundary(webhook(digest_every=every, digest_at=at), now, UTCZ) == expected


def test_daily_boundary_is_local_time_in_the_channel_zone() -> None:
    channel = webhook(digest_every="1d", digest_at="08:30", timezone="Asia/Karachi")
    # 09:00 in Karachi: today's 08:30 has passed; tomorrow's is 03:30 UTC.
    now = utc(2026, 3, 2, 4, 0)
    assert next_boundary(channel, now, KARACHI) == utc(2026, 3, 3, 3, 30)
    # The channel's own zone wins over the global one passed in.
    assert plan(channel, "update", Priority.LOW, now, UTCZ) == Plan(
        utc(2026, 3, 3, 3, 30), fold=True
    )
    # Without a zone of its own, the channel uses the global one.
    plain = webhook(digest_every="1d", digest_at="08:30")
    assert plan(plain, "update", Priority.LOW, now, KARACHI) == Plan(
        utc(2026, 3, 3, 3, 30), fold=True
    )


def test_daily_boundary_keeps_its_local_hour_across_dst() -> None:
    channel = webhook(digest_every="1d", digest_at="08:00")
    assert next_boundary(channel, utc(2026, 3, 28, 12, 0), BERLIN) == local(
        BERLIN, 2026, 3, 29, 8, 0
    )
    assert local(BERLIN, 2026, 3, 29, 8, 0) == utc(2026, 3, 29, 6, 0)  # CEST now
    assert next_boundary(channel, utc(2026, 3, 27, 12, 0), BERLIN) == utc(2026, 3, 28, 7, 0)


def test_a_boundary_the_clock_skips_comes_just_after_the_gap() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: the boundary is 03:30 CEST.
    channel = webhook(digest_every="1d", digest_at="02:30")
    assert next_boundary(channel, utc(2026, 3, 28, 23, 0), BERLIN) == utc(2026, 3, 29, 1, 30)
    hourly = webhook(digest_every="1h")
    # 01:30 CET -> 02:00 does not exist -> 03:00 CEST (01:00 UTC).
    assert next_boundary(hourly, utc(2026, 3, 29, 0, 30), BERLIN) == utc(2026, 3, 29, 1, 0)
    assert next_boundary(hourly, utc(2026, 3, 29, 1, 0), BERLIN) == utc(2026, 3, 29, 2, 0)


def test_an_hour_the_clock_shows_twice_has_a_boundary_both_times() -> None:
    hourly = webhook(digest_every="1h")
    # 2026-10-25: 02:00 CEST is 00:00 UTC; the clock falls back at 01:00 UTC to 02:00 CET.
    assert next_boundary(hourly, utc(2026, 10, 25, 0, 30), BERLIN) == utc(2026, 10, 25, 1, 0)
    assert next_boundary(hourly, utc(2026, 10, 25, 1, 0), BERLIN) == utc(2026, 10, 25, 2, 0)


@pytest.mark.parametrize("every", ["15m", "1h", "6h", "1d"])
def test_boundaries_over_a_dst_year_are_on_the_local_grid_and_never_late(every: str) -> None:
    channel = webhook(digest_every=every, digest_at="00:30")
    period = timedelta(seconds=channel.digest_every)
    for start in (utc(2026, 3, 28, 18, 0), utc(2026, 10, 24, 18, 0), utc(2026, 7, 1, 0, 0)):
        now = start
        while now < start + timedelta(days=2):
            boundary = next_boundary(channel, now, BERLIN)
            assert now < boundary <= now + period + timedelta(hours=1)
            wall = boundary.astimezone(BERLIN)
            minutes = wall.hour * 60 + wall.minute - 30
            on_grid = minutes % (period.total_seconds() // 60) == 0
            # Off the grid only when the grid time was skipped (spring forward: one hour late).
            skipped = (wall - timedelta(hours=1)).replace(tzinfo=None)
            assert on_grid or (wall.month, wall.day, skipped.hour) == (3, 29, 2)
            now += timedelta(minutes=7)


# --- quiet hours ---------------------------------------------------------------------------------


def test_quiet_hours_across_midnight() -> None:
    channel = webhook(quiet_hours="22:00-07:00", timezone="Asia/Karachi")
    # 23:00 in Karachi: until 07:00 tomorrow (02:00 UTC).
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 18, 0), UTCZ) == Plan(
        utc(2026, 3, 3, 2, 0), fold=True
    )
    # 03:00 in Karachi: until 07:00 today.
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 22, 0), UTCZ) == Plan(
        utc(2026, 3, 3, 2, 0), fold=True
    )
    # 12:00: not quiet.
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 7, 0), UTCZ) == Plan(
        None, fold=False
    )
    # The start is quiet, the end is not.
    assert in_quiet_hours(channel, local(KARACHI, 2026, 3, 2, 22, 0), KARACHI)
    assert not in_quiet_hours(channel, local(KARACHI, 2026, 3, 2, 7, 0), KARACHI)
    assert not in_quiet_hours(channel, local(KARACHI, 2026, 3, 2, 21, 59), KARACHI)


def test_quiet_hours_within_one_day() -> None:
    channel = webhook(quiet_hours="12:00-13:30")
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 12, 45), UTCZ) == Plan(
        utc(2026, 3, 2, 13, 30), fold=True
    )
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 13, 30), UTCZ) == Plan(
        None, fold=False
    )
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 11, 59), UTCZ) == Plan(
        None, fold=False
    )


def test_a_thread_reply_in_quiet_hours_waits_for_their_end() -> None:
    channel = bot(quiet_hours="22:00-07:00")
    assert plan(channel, "update", Priority.LOW, utc(2026, 3, 2, 23, 0), UTCZ) == Plan(
        utc(2026, 3, 3, 7, 0), fold=True
    )


def test_a_digest_boundary_in_quiet_hours_moves_to_their_end() -> None:
    channel = webhook(mode="digest", quiet_hours="22:00-07:00")
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 21, 30), UTCZ) == Plan(
        utc(2026, 3, 3, 7, 0), fold=True
    )
    # 20:10: the 21:00 boundary is before the quiet hours.
    assert plan(channel, "story", Priority.NORMAL, utc(2026, 3, 2, 20, 10), UTCZ) == Plan(
        utc(2026, 3, 2, 21, 0), fold=True
    )


def test_quiet_hours_in_the_global_zone_when_the_channel_has_none() -> None:
    channel = webhook(quiet_hours="22:00-07:00")
    # 18:00 UTC is 23:00 in Karachi: quiet there, not in UTC.
    now = utc(2026, 3, 2, 18, 0)
    assert plan(channel, "story", Priority.NORMAL, now, UTCZ) == Plan(None, fold=False)
    assert plan(channel, "story", Priority.NORMAL, now, KARACHI) == Plan(
        utc(2026, 3, 3, 2, 0), fold=True
    )


def test_channel_defaults() -> None:
    channel: ChannelBase = webhook()
    assert channel.min_priority == Priority.LOW
    assert channel.immediate_priority == Priority.URGENT
    assert (channel.mode, channel.digest_every, channel.digest_at) == ("instant", 3600.0, "00:00")
    assert channel.quiet is None and channel.timezone == ""
    assert not channel.threads and bot().threads
