"""Pure poll-schedule decisions: when a source is next due, and whether an item may alert.

No I/O and no clock: callers pass `now`. Hints from the server (Retry-After, Cache-Control
max-age) may only lengthen an interval, never shorten it, and every interval is clamped to the
configured bounds (miniflux's rule: a feed cannot make us poll it faster than we chose).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from monitor.config import ScheduleSettings

_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)


def cache_max_age(cache_control: str | None) -> float | None:
    """Seconds from a Cache-Control header's max-age, if any."""
    if not cache_control:
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


def next_success(
    now: datetime,
    interval: float,
    settings: ScheduleSettings,
    hint: float | None = None,
) -> datetime:
    """Next poll after a success (200, 304 or unchanged body)."""
    seconds = max(interval, hint or 0.0)
    seconds = min(max(seconds, settings.min_interval), settings.max_interval)
    return now + timedelta(seconds=seconds)


def next_failure(
    now: datetime,
    interval: float,
    failures: int,
    settings: ScheduleSettings,
    retry_after: float | None = None,
) -> datetime:
    """Next poll after the `failures`-th failure in a row: the interval doubles per failure
    (from the first), capped at failure_backoff_max; a longer Retry-After wins."""
    base = min(max(interval, settings.min_interval), settings.max_interval)
    backoff = min(base * (2 ** max(failures - 1, 0)), settings.failure_backoff_max)
    seconds = max(backoff, retry_after or 0.0, settings.min_interval)
    return now + timedelta(seconds=seconds)


def may_alert(
    published: datetime | None,
    now: datetime,
    max_age: float,
    first_poll: bool,
) -> bool:
    """An item alerts only when it is recent. An undated item alerts unless it came from a
    source's first poll (where it is most likely archive, not news)."""
    if published is None:
        return not first_poll
    return now - published <= timedelta(seconds=max_age)
