"""The alert policy, pure: which alerts one saved item raises given its story's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.config import Settings
from monitor.models import Item, Match, Priority
from monitor.store.base import ItemWrite
from monitor.stories.cluster import Report, StoryFacts
from monitor.stories.policy import AlertPolicy
from monitor.watch.watchlists import load_watchlists
from tests.workspace import WATCHLISTS

NOW = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)
DEV = "sharif-visit-kazakhstan"


def policy(**channels: dict[str, Any]) -> AlertPolicy:
    settings = Settings(
        alerts={
            "channels": channels
            or {"team": {"type": "slack", "webhook_url": "https://hooks.example/x"}}
        }
    )
    return AlertPolicy(settings, load_watchlists(WATCHLISTS), lambda: NOW)


def write(n: int, *, developments: tuple[str, ...] = (), alert: bool = True) -> ItemWrite:
    item = Item(
        id=f"{n:016x}",
        url=f"https://outlet{n}.example/news/{n}",
        source=f"outlet{n}",
        title=f"Report {n}",
        language=("en", "ru", "kk", "zh")[n % 4],
        published=NOW - timedelta(minutes=10),
    )
    match = Match("kz-pk", (), "all-of(...)", 4.0, developments)
    return ItemWrite(item, (match,), alert=alert)


def report(k: int) -> Report:
    """Outlet k reported in language k mod 4, 5 minutes after outlet k - 1."""
    return Report(
        f"{k:016x}",
        f"outlet{k}",
        f"outlet{k}.example",
        ("en", "ru", "kk", "zh")[k % 4],
        NOW - timedelta(minutes=40 - 5 * k),
        f"Report {k}",
    )


def facts(
    n: int,
    *,
    alerted: bool = False,
    reports: int = 1,
    met: frozenset[tuple[str, str]] = frozenset(),
    republished: bool = False,
) -> StoryFacts:
    return StoryFacts(
        story_id="s1",
        started=not alerted and reports == 1,
        republished=republished,
        first_at=NOW - timedelta(minutes=40),
        title="Report 0",
        alerted=frozenset({"kz-pk"}) if alerted else frozenset(),
        met=met,
        reports=(*(report(k) for k in range(reports - 1)), report(n)),
    )


def kinds(decision: Any) -> list[tuple[str, str, str]]:
    return [(a.kind, a.key, a.channel) for a in decision.alerts]


def test_the_first_report_is_a_story_the_second_an_update_threaded_under_it() -> None:
    first = policy().decide(write(0), facts(0))
    assert kinds(first) == [("story", "story:s1:kz-pk", "team")]
    assert first.alerted == ("kz-pk",)
    assert first.alerts[0].priority == Priority.NORMAL

    second = policy().decide(write(1), facts(1, alerted=True, reports=2))
    assert kinds(second) == [("update", f"update:{1:016x}:kz-pk", "team")]
    update = second.alerts[0]
    assert update.thread_key == "story:s1:kz-pk" and update.priority == Priority.LOW
    assert update.fold  # a webhook cannot thread: a line in the next digest
    assert update.payload["reported_by"] == ["outlet0.example (en)"]
    assert update.payload["headline"] == "Also reported by outlet1.example (ru)"


def test_nothing_for_an_item_that_may_not_alert_or_republishes_a_text() -> None:
    assert policy().decide(write(0, alert=False), facts(0)).alerts == ()
    assert policy().decide(write(1), facts(1, republished=True)).alerts == ()


def test_a_development_is_raised_once_per_story_whichever_report_meets_it_first() -> None:
    # The story starts with the development: the urgent alert stands in for the story alert.
    opening = policy().decide(write(0, developments=(DEV,)), facts(0))
    assert [(a.kind, a.key, a.priority) for a in opening.alerts] == [
        ("development", "story:s1:kz-pk", Priority.URGENT)
    ]
    assert "Awaited development" in opening.alerts[0].payload["headline"]
    # A later report meeting it again is only a further report.
    again = policy().decide(
        write(1, developments=(DEV,)),
        facts(1, alerted=True, reports=2, met=frozenset({("kz-pk", DEV)})),
    )
    assert [a.kind for a in again.alerts] == ["update"]
    # A story alerted without it, then a report that meets it: the development, threaded.
    late = policy().decide(write(2, developments=(DEV,)), facts(2, alerted=True, reports=2))
    (alert,) = late.alerts
    assert (alert.kind, alert.key) == ("development", f"development:s1:kz-pk:{DEV}")
    assert alert.thread_key == "story:s1:kz-pk" and not alert.fold


def test_breaking_when_the_third_outlet_reports_within_the_hour() -> None:
    two = policy().decide(write(1), facts(1, alerted=True, reports=2))
    assert "breaking" not in [a.kind for a in two.alerts]
    three = policy().decide(write(2), facts(2, alerted=True, reports=3))
    breaking = [a for a in three.alerts if a.kind == "breaking"]
    assert [(a.key, a.priority) for a in breaking] == [("breaking:s1", Priority.HIGH)]
    assert "3 outlets in 3 languages" in breaking[0].payload["headline"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"min_priority": "high"}, []),  # a new story is below it: nothing queued there
        ({"watchlists": ["gwadar"]}, []),  # not routed there
        ({"mode": "digest", "digest_every": "1d", "digest_at": "08:00"}, ["fold"]),
        ({"quiet_hours": "09:00-11:00"}, ["fold"]),  # 10:00 is quiet: held to 11:00
        ({}, ["now"]),
    ],
)
def test_each_channel_gets_the_story_alert_as_its_settings_say(
    options: dict[str, Any], expected: list[str]
) -> None:
    chosen = policy(desk={"type": "slack", "webhook_url": "https://hooks.example/x", **options})
    decision = chosen.decide(write(0), facts(0))
    assert ["fold" if a.fold else "now" for a in decision.alerts] == expected
    for alert in decision.alerts:
        assert (alert.not_before is None) == (not alert.fold)
        if alert.not_before is not None:
            assert alert.not_before > NOW
