"""The alert policy end to end: `monitor poll` over feeds served locally, alerts caught by a real
webhook receiver and a real SMTP server. One event told by five outlets in five languages gives
one story alert per channel, one breaking alert when it spreads, and no further messages; an
item updated in place and a text republished under a new URL alert nothing; another event
between the same countries is a new story."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from monitor.alerts.channels import build_channels
from monitor.alerts.dispatch import deliver_due
from monitor.config import load_settings
from monitor.models import Priority, hex16
from tests.alerting import Inbox, webhook_and_mail
from tests.cli import monitor, store_for
from tests.localserver import LocalServer
from tests.story_texts import EVENT_A, EVENT_B
from tests.texts import long_html
from tests.visit_texts import ANNOUNCED, ARRIVAL, INVITATION
from tests.workspace import rss, source_toml, workspace

RSS = "application/rss+xml; charset=utf-8"


def _entry(event: dict[str, tuple[str, str, str]], lang: str, at: datetime, **extra: str) -> dict:
    host, title, body = event[lang]
    entry = {
        "title": title,
        "link": f"https://{host}/news/{lang}/1",
        "content": long_html(body),
        "published": at,
    }
    return entry | extra


class Feeds:
    """One feed per outlet, whose entries the test changes between polls."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.entries: dict[str, list[dict]] = {}

    def set(self, name: str, *entries: dict) -> None:
        self.entries[name] = list(entries)
        self.server.route(f"/{name}.xml", rss(self.entries[name]), content_type=RSS)

    def sources(self) -> list[str]:
        return [source_toml(n, self.server.url(f"/{n}.xml")) for n in self.entries]


def test_one_event_in_five_languages_alerts_once_then_breaks_once(
    server: LocalServer,
    tmp_path: Path,
    smtp: tuple[Inbox, int],
    hooks: list[dict[str, Any]],
) -> None:
    inbox, port = smtp
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(minutes=50)
    feeds = Feeds(server)
    names = {"en": "kazinform", "ru": "tass", "kk": "qazinform", "zh": "xinhua", "tr": "aa"}
    for name in names.values():
        feeds.set(name)
    feeds.set("dawn")
    config = workspace(tmp_path, feeds.sources(), settings=webhook_and_mail(server, port))

    # Poll 1: the first outlet. One story alert per channel.
    feeds.set("kazinform", _entry(EVENT_A, "en", first))
    assert monitor(config, "poll").exit_code == 0
    assert len(hooks) == 1 and len(inbox.messages) == 1
    assert "Kazakhstan and Pakistan sign agreements" in json.dumps(hooks[0], ensure_ascii=False)

    # Poll 2: four more outlets within the hour (polled concurrently, so saved in any order):
    # further reports, and the third outlet makes it breaking, once.
    for n, lang in enumerate(("ru", "kk", "zh", "tr"), start=1):
        feeds.set(names[lang], _entry(EVENT_A, lang, first + timedelta(minutes=5 * n)))
    assert monitor(config, "poll").exit_code == 0
    assert len(hooks) == 2 and len(inbox.messages) == 2
    breaking = json.dumps(hooks[1], ensure_ascii=False)
    assert "Spreading" in breaking

    # Poll 3: the English report updated in place; the Russian text republished elsewhere.
    feeds.set(
        "kazinform",
        _entry(EVENT_A, "en", first, content=long_html(EVENT_A["en"][2] + " Updated.")),
    )
    feeds.set(
        "tass",
        _entry(EVENT_A, "ru", first + timedelta(minutes=5)),
        _entry(EVENT_A, "ru", first + timedelta(minutes=5), link="https://mirror.example/ru/1"),
    )
    # ... and another event between the same two countries: a new story.
    feeds.set("dawn", _entry(EVENT_B, "en", now - timedelta(minutes=10)))
    assert monitor(config, "poll").exit_code == 0
    assert len(hooks) == 3 and len(inbox.messages) == 3
    assert "Karachi" in json.dumps(hooks[2], ensure_ascii=False)

    store = store_for(config)
    stories = list(store.iter_stories())
    assert [s.size for s in stories] == [6, 1]  # 5 outlets + the republished copy; the forum
    assert set(stories[0].languages) == set(EVENT_A)
    by_kind: dict[str, int] = {}
    for alert in store.list_alerts():
        by_kind[alert.kind] = by_kind.get(alert.kind, 0) + 1
    # Per channel: 2 story alerts (A, B), 1 breaking, 4 updates (ru, kk, zh, tr) waiting for
    # the digest (neither a webhook nor an email threads); nothing for the update in place or
    # the republished copy.
    assert by_kind == {"story": 4, "breaking": 2, "update": 8}
    updates = [a for a in store.list_alerts() if a.kind == "update"]
    assert all(a.fold and a.sent_at is None for a in updates)
    assert all(a.priority == Priority.LOW for a in updates)
    assert {a.thread_key for a in updates} == {f"story:{stories[0].id}:kz-pk"}
    reported = {line for a in updates for line in a.payload["reported_by"]}
    assert "kazinform.example (en)" in reported

    # At the channels' next digest time the four further reports go out as ONE digest per
    # channel, grouped under their story: "also reported by ...".
    settings = load_settings(config)
    logger.remove()  # the CLI runs logged to a stream the runner has closed since
    at = max(a.next_attempt for a in updates if a.next_attempt is not None)
    report = asyncio.run(
        deliver_due(store, build_channels(settings.alerts), now=at, settings=settings.alerts)
    )
    assert report.sent == 2 and len(hooks) == 4 and len(inbox.messages) == 4
    digest = json.dumps(hooks[3], ensure_ascii=False)
    for lang in ("ru", "kk", "zh", "tr"):
        assert f"({lang})" in digest
    assert all(a.sent_at is not None for a in store.list_alerts())


def test_an_awaited_development_goes_out_at_once_and_once_per_story(
    server: LocalServer,
    tmp_path: Path,
    smtp: tuple[Inbox, int],
    hooks: list[dict[str, Any]],
) -> None:
    """The invitation is a story like any; the announced visit is an urgent development that
    even a channel in daily-digest mode gets at once; the arrival report of the same days
    joins that story and raises it no second time."""
    inbox, port = smtp
    now = datetime.now(UTC).replace(microsecond=0)
    feeds = Feeds(server)
    feeds.set("akorda")
    feeds.set("app")
    channels = webhook_and_mail(
        server, port, "desk", mode="digest", digest_every="1d", digest_at="08:00"
    )
    config = workspace(tmp_path, feeds.sources(), settings=channels)

    def entry(texts: dict, lang: str, host: str, at: datetime) -> dict:
        title, body = texts[lang]
        return {
            "title": title,
            "link": f"https://{host}/{lang}/{hex16(title)[:8]}",
            "content": long_html(body),
            "published": at,
        }

    # The invitation: a new story on kz-pk; the digest channel keeps it for 08:00.
    feeds.set("akorda", entry(INVITATION, "en", "akorda.example", now - timedelta(days=5)))
    assert monitor(config, "poll").exit_code == 0
    # Too old to alert (5 days > alerts.max_age): nothing anywhere.
    assert hooks == [] and inbox.messages == []

    feeds.set("akorda", entry(INVITATION, "ru", "akorda.example", now - timedelta(hours=3)))
    assert monitor(config, "poll").exit_code == 0
    assert len(hooks) == 1 and inbox.messages == []  # the digest channel waits
    assert "Awaited" not in json.dumps(hooks[0], ensure_ascii=False)

    # The visit announced, then reported from Astana: one urgent alert per channel, at once.
    feeds.set("app", entry(ANNOUNCED, "en", "app.example", now - timedelta(minutes=30)))
    assert monitor(config, "poll").exit_code == 0
    assert len(hooks) == 2 and len(inbox.messages) == 1
    urgent = json.dumps(hooks[1], ensure_ascii=False)
    assert "Awaited development: Shehbaz Sharif's return state visit to Kazakhstan" in urgent
    assert "URGENT" in str(inbox.messages[0]["Subject"]).upper()

    feeds.set(
        "app",
        entry(ANNOUNCED, "en", "app.example", now - timedelta(minutes=30)),
        entry(ARRIVAL, "ru", "tass.example", now - timedelta(minutes=10)),
    )
    assert monitor(config, "poll").exit_code == 0
    store = store_for(config)
    developments = [a for a in store.list_alerts() if a.kind == "development"]
    assert len(developments) == 2  # one per channel, not one per report
    assert len(hooks) == 2 and len(inbox.messages) == 1
    story_of = {
        s.item.url: s.story_id
        for s in store.iter_items()
        if s.item.url and "akorda" not in s.item.url
    }
    assert len(set(story_of.values())) == 1  # announcement and arrival: one story
