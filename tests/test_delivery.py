"""Delivery of stories through the outbox, end to end on a real store (SQLite) and real
receivers on loopback: digests folded exactly once, thread replies on a fake Slack Web API and
on a real SMTP server (aiosmtpd), Web API rate limits honoured by an injected clock. Rows are
queued straight through the store, as the alert policy queues them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.email import EmailSender
from monitor.alerts.render import message_id
from monitor.config import EmailChannel
from monitor.models import OutboxAlert, Priority
from monitor.store.base import AlertIntent, Store
from tests.alerting import (
    Inbox,
    body,
    by_key,
    deliver,
    key_of,
    slack_api,
    start,
    story,
    update,
    webhook,
)
from tests.conftest import sqlite_url
from tests.localserver import LocalServer, Response


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite alone: these tests are about delivery; the outbox contract runs on both backends."""
    return sqlite_url(tmp_path)


# --- digests: folded once, delivered like any other alert ---------------------------------------


def test_folded_alerts_go_out_as_one_digest_at_the_boundary(
    store: Store, server: LocalServer
) -> None:
    sender, log = webhook(server)
    t0 = start()
    boundary = t0 + timedelta(hours=1)
    fold: dict[str, Any] = {"fold": True, "not_before": boundary}
    store.enqueue_alerts([story("s0")])  # alerted earlier, on its own
    store.enqueue_alerts(
        [
            story("s1", **fold),
            update("r1", "s1", "Kazinform", "kk", **fold),
            update("r2", "s0", "Xinhua", "zh", **fold),
            story("s2", **fold),
            update("r3", "s0", "Anadolu", "tr", **fold),
        ]
    )

    report = deliver(store, {"team": sender}, t0)
    assert (report.sent, report.folded) == (1, 0)
    assert [key_of(r) for r in log] == ["story:s0:kz-pk"]
    assert deliver(store, {"team": sender}, boundary - timedelta(seconds=1)).sent == 0
    assert len(log) == 1

    report = deliver(store, {"team": sender}, boundary)
    assert (report.sent, report.folded, report.failed) == (1, 5, 0)
    [digest] = [a for a in store.list_alerts() if a.kind == "digest"]
    assert [key_of(r) for r in log] == ["story:s0:kz-pk", digest.key]
    message = body(log[-1])
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "Report s1" in sections[0]
    assert "Also reported by <https://example.org/r1|Kazinform (kk)>" in sections[0]
    assert "Report s2" in sections[1] and "Also reported by" not in sections[1]
    assert sections[2] == "*Further reports of earlier stories*"
    # The earlier story is named from its own first alert, its reports grouped on one line.
    assert sections[3].startswith("<https://example.org/s0|Report s0>\nAlso reported by ")
    assert "Xinhua (zh)" in sections[3] and "Anadolu (tr)" in sections[3]
    assert message["blocks"][0]["text"]["text"] == (
        "monitor digest: 2 new stories, 3 further reports"
    )

    members = [a for a in store.list_alerts() if a.fold]
    assert len(members) == 5
    assert all(a.folded_into == digest.id and a.sent_at == boundary for a in members)
    assert digest.sent_at == boundary and digest.folded_into is None
    assert deliver(store, {"team": sender}, boundary + timedelta(days=1)).sent == 0
    assert len(log) == 2


def test_a_digest_that_fails_is_retried_and_never_folded_twice(
    store: Store, server: LocalServer
) -> None:
    sender, log = webhook(server, Response(500, b"internal_error"))
    t0 = start()
    store.enqueue_alerts([story(f"s{n}", fold=True, not_before=t0) for n in range(3)])

    report = deliver(store, {"team": sender}, t0)
    assert (report.folded, report.sent, report.failed) == (3, 0, 1)
    # More folded alerts come due meanwhile: they make a second digest, the first keeps its own.
    store.enqueue_alerts([story("s9", fold=True, not_before=t0 + timedelta(seconds=10))])
    report = deliver(store, {"team": sender}, t0 + timedelta(seconds=30))
    assert (report.folded, report.sent, report.failed) == (1, 2, 0)

    digests = [a for a in store.list_alerts() if a.kind == "digest"]
    assert len(digests) == 2
    assert [key_of(r) for r in log] == [digests[0].key, digests[0].key, digests[1].key]
    assert "Report s0" in json.dumps(body(log[1])) and "Report s9" not in json.dumps(body(log[1]))
    folded = {a.key: a.folded_into for a in store.list_alerts() if a.fold}
    assert folded == {
        "story:s0:kz-pk": digests[0].id,
        "story:s1:kz-pk": digests[0].id,
        "story:s2:kz-pk": digests[0].id,
        "story:s9:kz-pk": digests[1].id,
    }


def test_the_digest_goes_out_in_the_round_that_folds_it(store: Store, server: LocalServer) -> None:
    # `monitor poll` delivers once, with the clock read before folding: the digest must be due
    # at that moment, not at the store's clock a little later.
    sender, log = webhook(server)
    past = datetime.now(UTC) - timedelta(minutes=5)
    store.enqueue_alerts([story("s1", fold=True, not_before=past)])
    report = deliver(store, {"team": sender}, past + timedelta(minutes=1))
    assert (report.folded, report.sent) == (1, 1)
    assert len(log) == 1 and key_of(log[0]).startswith("digest:")


def test_folded_alerts_of_a_channel_without_sender_stay_queued(
    store: Store, server: LocalServer
) -> None:
    sender, log = webhook(server)
    t0 = start()
    store.enqueue_alerts([story("s1", channel="gone", fold=True, not_before=t0)])
    report = deliver(store, {"team": sender}, t0)
    assert report.folded == 0 and log == []
    assert [a.kind for a in store.list_alerts()] == ["story"]
    assert store.due_folds(t0)[0].key == "story:s1:kz-pk"


# --- threads on the Slack Web API -----------------------------------------------------------


def test_replies_thread_under_the_first_alert_and_stray_ones_go_alone(
    store: Store, server: LocalServer
) -> None:
    sender, log = slack_api(server)
    store.enqueue_alerts([story("s1"), story("dead")])
    dead = by_key(store)["story:dead:kz-pk"]
    store.mark_alert_failed(dead.id, "channel_not_found", None)
    store.enqueue_alerts(
        [
            update("r1", "s1", "Kazinform", "kk"),
            update("r2", "dead", "Xinhua", "zh"),
            update("r3", "never-queued", "Dawn", "en"),
            update("r4", "s1", "Anadolu", "tr", kind="breaking", priority=Priority.HIGH),
        ]
    )
    report = deliver(store, {"team": sender}, start())
    assert report.sent == 5
    sent = [body(r) for r in log]
    assert [key_of(r) for r in log] == [
        "story:s1:kz-pk",
        "update:r1:kz-pk",
        "update:r2:kz-pk",
        "update:r3:kz-pk",
        "update:r4:kz-pk",
    ]
    first_ts = "1700000000.000001"
    assert by_key(store)["story:s1:kz-pk"].receipt == first_ts
    assert "thread_ts" not in sent[0]
    assert sent[1]["thread_ts"] == first_ts and sent[1]["reply_broadcast"] is False
    assert "Also reported by Kazinform (kk)" in sent[1]["text"]
    assert "thread_ts" not in sent[2] and "thread_ts" not in sent[3]  # dead / absent parent
    assert sent[4]["thread_ts"] == first_ts and sent[4]["reply_broadcast"] is True
    assert all(r.headers["authorization"] == "Bearer xoxb-1" for r in log)


def test_a_reply_waits_while_its_parent_is_not_sent(store: Store, server: LocalServer) -> None:
    sender, log = slack_api(server)
    t0 = start()
    later = t0 + timedelta(minutes=10)
    store.enqueue_alerts([story("s1", not_before=later), update("r1", "s1", "Kazinform", "kk")])

    report = deliver(store, {"team": sender}, t0)
    assert (report.sent, report.waiting) == (0, 1) and log == []
    report = deliver(store, {"team": sender}, later)
    assert report.sent == 2
    assert [key_of(r) for r in log] == ["story:s1:kz-pk", "update:r1:kz-pk"]
    assert body(log[1])["thread_ts"] == body_ts(0)


def body_ts(index: int) -> str:
    return f"1700000000.{index + 1:06d}"


def test_a_reply_to_a_folded_story_threads_under_its_digest(
    store: Store, server: LocalServer
) -> None:
    sender, log = slack_api(server)
    t0 = start()
    store.enqueue_alerts(
        [story("s1", fold=True, not_before=t0), update("r1", "s1", "Kazinform", "kk")]
    )
    report = deliver(store, {"team": sender}, t0)
    assert (report.folded, report.sent, report.waiting) == (1, 2, 0)
    [digest] = [a for a in store.list_alerts() if a.kind == "digest"]
    assert [key_of(r) for r in log] == [digest.key, "update:r1:kz-pk"]
    assert body(log[1])["thread_ts"] == body_ts(0)


def test_web_api_failure_then_rate_limit_then_recovery_delivers_each_once_in_order(
    store: Store, server: LocalServer
) -> None:
    limited = json.dumps({"ok": False, "error": "ratelimited"}).encode()
    sender, log = slack_api(
        server,
        Response(500, b"upstream broke"),
        Response(200, limited, {"Retry-After": "120"}),
    )
    store.enqueue_alerts([story("s1"), update("r1", "s1", "Kazinform", "kk"), story("s2")])
    t0 = start()
    report = deliver(store, {"team": sender}, t0)
    assert (report.sent, report.failed, report.waiting) == (0, 1, 2)
    first = by_key(store)["story:s1:kz-pk"]
    assert first.next_attempt == t0 + timedelta(seconds=30)

    assert deliver(store, {"team": sender}, t0 + timedelta(seconds=29)).sent == 0
    report = deliver(store, {"team": sender}, t0 + timedelta(seconds=30))
    assert (report.sent, report.failed) == (0, 1)
    # Retry-After (120 s) beats the backoff (60 s): nothing goes out before it has passed.
    first = by_key(store)["story:s1:kz-pk"]
    assert first.next_attempt == t0 + timedelta(seconds=150)
    assert deliver(store, {"team": sender}, t0 + timedelta(seconds=149)).sent == 0
    assert len(log) == 2

    report = deliver(store, {"team": sender}, t0 + timedelta(seconds=150))
    assert (report.sent, report.failed, report.dead) == (3, 0, 0)
    keys = [key_of(r) for r in log]
    assert keys == ["story:s1:kz-pk"] * 3 + ["update:r1:kz-pk", "story:s2:kz-pk"]
    assert body(log[3])["thread_ts"] == body_ts(2)  # the ts of the attempt that succeeded
    assert deliver(store, {"team": sender}, t0 + timedelta(days=1)).sent == 0
    assert len(log) == 5


def test_invalid_auth_is_permanent(store: Store, server: LocalServer) -> None:
    refused = json.dumps({"ok": False, "error": "invalid_auth"}).encode()
    sender, log = slack_api(server, Response(200, refused))
    store.enqueue_alerts([story("s1"), update("r1", "s1", "Kazinform", "kk")])
    report = deliver(store, {"team": sender}, start())
    assert (report.dead, report.sent) == (1, 1)
    assert "invalid_auth" in (by_key(store)["story:s1:kz-pk"].last_error or "")
    assert "thread_ts" not in body(log[1])  # its parent is dead: the reply goes alone


# --- threads by email -------------------------------------------------------------------------


def test_email_replies_carry_in_reply_to_the_alert_they_answer(
    store: Store, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    config = EmailChannel(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="monitor@example.org",
        recipients=["desk@example.org"],
        timeout=5,
    )
    sender = EmailSender("mail", config)
    store.enqueue_alerts(
        [
            story("s1", channel="mail"),
            update(
                "r1",
                "s1",
                "Kazinform",
                "kk",
                channel="mail",
                kind="development",
                priority=Priority.URGENT,
            ),
            update("r2", "elsewhere", "Xinhua", "zh", channel="mail"),
        ]
    )
    report = deliver(store, {"mail": sender}, start())
    assert report.sent == 3
    first, reply, alone = (r.message for r in inbox.received)
    assert first["Message-ID"] == message_id("story:s1:kz-pk")
    assert first["In-Reply-To"] is None
    assert reply["Message-ID"] == message_id("update:r1:kz-pk")
    assert reply["In-Reply-To"] == reply["References"] == first["Message-ID"]
    assert reply["Subject"] == "Re: " + first["Subject"]
    text = reply.get_body(("plain",))
    assert text is not None
    assert text.get_content().startswith("URGENT: Development\r\nReport r1\r\n")
    assert alone["In-Reply-To"] is None
    assert by_key(store)["story:s1:kz-pk"].receipt is None  # mail servers answer no id


# --- the digest payload: pure ------------------------------------------------------------------


def alert_row(id_: int, intent: AlertIntent) -> OutboxAlert:
    return OutboxAlert(
        id=id_,
        channel=intent.channel,
        kind=intent.kind,
        key=intent.key,
        payload=intent.payload,
        priority=intent.priority,
        thread_key=intent.thread_key,
        fold=True,
    )


def test_folded_digest_payload_groups_reports_and_keeps_row_priorities() -> None:
    from monitor.alerts.payloads import folded_digest

    old = alert_row(1, story("s0"))
    members = [
        alert_row(2, update("r1", "s0", "Kazinform", "kk")),
        alert_row(3, story("s1", priority=Priority.HIGH)),
        alert_row(4, update("r2", "s1", "Xinhua", "zh")),
        alert_row(5, update("r3", "s0", "Anadolu", "tr")),
    ]
    digest = folded_digest(members, {old.key: old})
    assert digest["title"] == "monitor digest: 1 new story, 3 further reports"
    assert [(i["item_id"], i.get("priority")) for i in digest["items"]] == [("s1", "high")]
    groups = {g["story_id"]: g for g in digest.get("updates", [])}
    assert groups["s0"]["title"] == "Report s0"  # from the story's first alert
    assert [r["item_id"] for r in groups["s0"]["reports"]] == ["r1", "r3"]
    assert [r["item_id"] for r in groups["s1"]["reports"]] == ["r2"]
    assert groups["s1"]["title"] == "Report r2"  # its story is in this digest: not needed
    # A digest folded into another keeps its lines and merges its groups.
    nested = OutboxAlert(
        id=6, channel="team", kind="digest", key="digest:x", payload=dict(digest), fold=True
    )
    again = folded_digest([nested, alert_row(7, update("r4", "s0", "Dawn", "en"))])
    merged = {g["story_id"]: g for g in again.get("updates", [])}
    assert [r["item_id"] for r in merged["s0"]["reports"]] == ["r1", "r3", "r4"]
    assert [i["item_id"] for i in again["items"]] == ["s1"]
