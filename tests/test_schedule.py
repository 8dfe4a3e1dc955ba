"""Pure schedule decisions, tested on data alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor import schedule
from monitor.config import ScheduleSettings

NOW = datetime(2026, 2, 4, 12, 0, tzinfo=UTC)
S = ScheduleSettings(min_interval=60, max_interval=3600, failure_backoff_max=1800)


def test_hints_only_lengthen_and_every_interval_is_clamped() -> None:
    assert schedule.next_success(NOW, 300, S) == NOW + timedelta(seconds=300)
    assert schedule.next_success(NOW, 300, S, hint=10) == NOW + timedelta(seconds=300)
    assert schedule.next_success(NOW, 300, S, hint=900) == NOW + timedelta(seconds=900)
    assert schedule.next_success(NOW, 300, S, hint=99999) == NOW + timedelta(seconds=3600)
    assert schedule.next_success(NOW, 5, S) == NOW + timedelta(seconds=60)


def test_failures_double_the_wait_up_to_the_cap_and_retry_after_wins() -> None:
    waits = [(schedule.next_failure(NOW, 300, n, S) - NOW).total_seconds() for n in range(1, 6)]
    assert waits == [300, 600, 1200, 1800, 1800]
    assert schedule.next_failure(NOW, 300, 1, S, retry_after=5000) == NOW + timedelta(seconds=5000)


def test_cache_max_age() -> None:
    assert schedule.cache_max_age("public, max-age=600") == 600
    assert schedule.cache_max_age("no-cache") is None
    assert schedule.cache_max_age(None) is None


def test_only_recent_items_alert() -> None:
    day = 86400.0
    assert schedule.may_alert(NOW - timedelta(hours=1), NOW, 2 * day, first_poll=True)
    assert not schedule.may_alert(NOW - timedelta(days=3), NOW, 2 * day, first_poll=False)
    assert schedule.may_alert(None, NOW, 2 * day, first_poll=False)
    assert not schedule.may_alert(None, NOW, 2 * day, first_poll=True)
