"""The outbox survives SIGKILL at every point of delivery. Real processes (`monitor poll`, the
CLI's delivery entry point) are killed for real:

(a) after the alerts were recorded and before any send: the next run sends each once;
(b) after the channel accepted an alert and before it was marked sent: the receiver itself
    kills the sender before answering; the next run sends that alert again, under the same
    idempotency key (Slack block_id, email Message-ID), so counted by key every alert arrives
    exactly once;
(c) inside the transaction that folds alerts into a digest, then after the digest was
    accepted: nothing is lost and no alert is ever in two digests.

Alerts are queued straight through the store (as the alert policy queues them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from monitor.alerts.render import message_id
from monitor.store.base import AlertIntent, Store
from tests.alerting import Inbox, body, key_of, running_smtp, story, update
from tests.cli import REPO, monitor_process, store_for
from tests.localserver import LocalServer, Request, Response
from tests.workspace import workspace

# `monitor poll` with every network send rigged to SIGKILL the process first (after it has
# recorded the alerts given as JSON, then folded what is due).
DIE_BEFORE_SEND = """
import json, os, signal, smtplib, sys
import httpx
from monitor.config import load_settings
from monitor.models import Priority
from monitor.store import open_store
from monitor.store.base import AlertIntent

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

settings = load_settings(sys.argv[1])
store = open_store(settings.db_url)
store.migrate()
store.enqueue_alerts(
    [AlertIntent(**{**i, "priority": Priority(i["priority"])}) for i in json.loads(sys.argv[2])]
)
store.close()
httpx.AsyncClient.send = die
smtplib.SMTP.__init__ = die
from monitor.cli import app
app(["--config", sys.argv[1], "poll"], prog_name="monitor")
"""

# `monitor poll` killed inside the folding transaction, after the digest row is written and
# before its members are marked.
DIE_WHILE_FOLDING = """
import os, signal, sys
from monitor.store import outbox
real = outbox.OutboxMixin._enqueue
def dying(self, conn, alerts):
    ids = real(self, conn, alerts)
    if any(a.kind == "digest" for a in alerts):
        os.kill(os.getpid(), signal.SIGKILL)
    return ids
outbox.OutboxMixin._enqueue = dying
from monitor.cli import app
app(["--config", sys.argv[1], "poll"], prog_name="monitor")
"""


def as_json(intents: list[AlertIntent]) -> str:
    return json.dumps(
        [
            {
                "channel": i.channel,
                "kind": i.kind,
                "key": i.key,
                "payload": i.payload,
                "priority": int(i.priority),
                "thread_key": i.thread_key,
                "fold": i.fold,
            }
            for i in intents
        ]
    )


def channels_toml(server: LocalServer | None = None, smtp_port: int | None = None) -> str:
    text = ""
    if server is not None:
        text += (
            '[alerts.channels.team]\ntype = "slack"\nbot_token = "xoxb-1"\nchannel = "C0123"\n'
            f'api_url = "{server.url("/api")}"\n'
            f'[alerts.channels.hook]\ntype = "slack"\nwebhook_url = "{server.url("/hook")}"\n'
        )
    if smtp_port is not None:
        text += (
            '[alerts.channels.mail]\ntype = "email"\nhost = "127.0.0.1"\n'
            f'port = {smtp_port}\nsecurity = "none"\nsender = "monitor@example.org"\n'
            'recipients = ["desk@example.org"]\ntimeout = 10\n'
        )
    return text


class Victim:
    """The process a receiver kills: set once it is started."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._started = threading.Event()

    def start(self, process: subprocess.Popen[str]) -> subprocess.Popen[str]:
        self._process = process
        self._started.set()
        return process

    def kill(self) -> None:
        """SIGKILL it and wait until it is gone, so it can never read the answer."""
        assert self._started.wait(30)
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait(30)


class Receiver:
    """The fake Slack Web API and a Slack webhook on `server`: every request is recorded;
    `kill_when(request)` makes the receiver kill the victim after recording it, before
    answering (the window between "the channel accepted" and "marked sent")."""

    def __init__(self, server: LocalServer, victim: Victim) -> None:
        self.requests: list[Request] = []
        self.kill_when: Callable[[Request], bool] = lambda request: False
        self._victim = victim
        self._lock = threading.Lock()
        server.route("/api/chat.postMessage", handler=self._api)
        server.route("/hook", handler=self._hook)

    def _record(self, request: Request) -> int:
        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
        if self.kill_when(request):
            self.kill_when = lambda request: False
            self._victim.kill()
        return number

    def _api(self, request: Request) -> Response:
        number = self._record(request)
        answer = {"ok": True, "channel": "C0123", "ts": f"1700000000.{number:06d}"}
        return Response(200, json.dumps(answer).encode())

    def _hook(self, request: Request) -> Response:
        self._record(request)
        return Response(200, b"ok")

    def keys(self, path: str) -> list[str]:
        return [key_of(r) for r in self.requests if r.path.startswith(path)]


class KillingInbox(Inbox):
    """An SMTP server that, when `kill_when(message-id)` holds, kills the victim after it has
    taken the message and before it answers 250."""

    def __init__(self, victim: Victim) -> None:
        super().__init__()
        self.kill_when: Callable[[str], bool] = lambda message_id: False
        self._victim = victim

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        received = self.received[-1].message["Message-ID"]
        if self.kill_when(received):
            self.kill_when = lambda message_id: False
            self._victim.kill()
        return reply

    def ids(self) -> list[str]:
        return [str(r.message["Message-ID"]) for r in self.received]


@pytest.fixture
def victim() -> Victim:
    return Victim()


@pytest.fixture
def inbox(victim: Victim) -> Iterator[tuple[KillingInbox, int]]:
    handler = KillingInbox(victim)
    with running_smtp(handler) as port:
        yield handler, port


def run(config: Path, victim: Victim | None = None) -> subprocess.Popen[str]:
    """`monitor poll` in its own process, to the end (or to its death)."""
    process = monitor_process(config, "poll")
    if victim is not None:
        victim.start(process)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (0, -signal.SIGKILL), stderr[-2000:]
    return process


def run_script(script: str, config: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", script, str(config), *args],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )


def unsent(store: Store) -> list[str]:
    return [a.key for a in store.list_alerts() if a.sent_at is None]


# --- (a) killed after recording, before any send --------------------------------------------


def test_killed_before_sending_the_next_run_delivers_each_alert_once(
    tmp_path: Path, server: LocalServer, victim: Victim, inbox: tuple[KillingInbox, int]
) -> None:
    mail, port = inbox
    receiver = Receiver(server, victim)
    config = workspace(tmp_path, [], settings=channels_toml(server, port))
    past = datetime.now(UTC) - timedelta(minutes=1)
    intents = [
        story("s1", channel="team"),
        update("r1", "s1", channel="team"),
        story("s2", channel="hook"),
        story("s3", channel="hook", fold=True, not_before=past),
        story("s4", channel="mail"),
        update("r4", "s4", channel="mail"),
    ]

    killed = run_script(DIE_BEFORE_SEND, config, as_json(intents))
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert receiver.requests == [] and mail.received == []
    store = store_for(config)
    # Recorded, and the due fold became a digest before the kill: all waiting, none lost.
    assert sorted(unsent(store)) == sorted(
        [i.key for i in intents if not i.fold]
        + [a.key for a in store.list_alerts() if a.kind == "digest"]
    )
    [digest] = [a for a in store.list_alerts() if a.kind == "digest"]

    assert run(config).returncode == 0
    assert receiver.keys("/api") == ["story:s1:kz-pk", "update:r1:kz-pk"]
    assert receiver.keys("/hook") == ["story:s2:kz-pk", digest.key]
    assert mail.ids() == [message_id("story:s4:kz-pk"), message_id("update:r4:kz-pk")]
    api = [body(r) for r in receiver.requests if r.path.startswith("/api")]
    # The fake API numbers its answers across both paths, and channels drain concurrently:
    # the parent's ts is its position among all requests.
    parent = next(n for n, r in enumerate(receiver.requests, 1) if r.path.startswith("/api"))
    assert api[1]["thread_ts"] == f"1700000000.{parent:06d}"
    assert mail.received[1].message["In-Reply-To"] == message_id("story:s4:kz-pk")
    assert unsent(store_for(config)) == []

    assert run(config).returncode == 0  # nothing left: nothing sent again
    assert len(receiver.requests) == 4 and len(mail.received) == 2


# --- (b) killed after the channel accepted, before the mark -----------------------------------


@pytest.mark.parametrize("killed_at", ["story:s1:kz-pk", "update:r1:kz-pk"])
def test_killed_after_slack_accepted_the_repeat_carries_the_same_key(
    tmp_path: Path, server: LocalServer, victim: Victim, killed_at: str
) -> None:
    receiver = Receiver(server, victim)
    config = workspace(tmp_path, [], settings=channels_toml(server))
    intents = [
        story("s1", channel="team"),
        update("r1", "s1", channel="team"),
        story("s2", channel="team"),
    ]
    store_for(config).enqueue_alerts(intents)
    receiver.kill_when = lambda request: key_of(request) == killed_at

    assert run(config, victim).returncode == -signal.SIGKILL
    assert receiver.keys("/api")[-1] == killed_at
    assert killed_at in unsent(store_for(config))  # accepted, but never marked

    assert run(config).returncode == 0
    keys = receiver.keys("/api")
    counts = Counter(keys)
    # Counted by key, every alert arrived exactly once; the one repeat is the killed alert,
    # the very same message.
    assert set(counts) == {i.key for i in intents}
    assert [k for k, n in counts.items() if n > 1] == [killed_at] and counts[killed_at] == 2
    repeats = [r for r in receiver.requests if key_of(r) == killed_at]
    assert json.loads(repeats[0].body) == json.loads(repeats[1].body)
    # The reply threads under the story's message as last recorded.
    story_ts = by_key_receipt(store_for(config), "story:s1:kz-pk")
    reply = [body(r) for r in receiver.requests if key_of(r) == "update:r1:kz-pk"][-1]
    assert reply["thread_ts"] == story_ts
    assert unsent(store_for(config)) == []


def by_key_receipt(store: Store, key: str) -> str | None:
    found = store.find_alert("team", key)
    assert found is not None
    return found.receipt


def test_killed_after_the_mail_server_accepted_the_repeat_has_the_same_message_id(
    tmp_path: Path, victim: Victim, inbox: tuple[KillingInbox, int]
) -> None:
    mail, port = inbox
    config = workspace(tmp_path, [], settings=channels_toml(smtp_port=port))
    intents = [
        story("s1", channel="mail"),
        update("r1", "s1", channel="mail"),
        story("s2", channel="mail"),
    ]
    store_for(config).enqueue_alerts(intents)
    mail.kill_when = lambda received: received == message_id("update:r1:kz-pk")

    assert run(config, victim).returncode == -signal.SIGKILL
    assert mail.ids() == [message_id("story:s1:kz-pk"), message_id("update:r1:kz-pk")]

    assert run(config).returncode == 0
    counts = Counter(mail.ids())
    assert set(counts) == {message_id(i.key) for i in intents}
    assert counts[message_id("update:r1:kz-pk")] == 2
    assert sum(counts.values()) == 4
    replies = [
        r.message for r in mail.received if r.message["Message-ID"] == message_id("update:r1:kz-pk")
    ]
    assert all(m["In-Reply-To"] == message_id("story:s1:kz-pk") for m in replies)
    assert unsent(store_for(config)) == []


# --- (c) folding: killed inside the transaction, then after the digest was accepted -------------


def test_a_kill_while_folding_or_after_the_digest_was_accepted_makes_one_digest(
    tmp_path: Path, server: LocalServer, victim: Victim
) -> None:
    receiver = Receiver(server, victim)
    config = workspace(tmp_path, [], settings=channels_toml(server))
    past = datetime.now(UTC) - timedelta(minutes=1)
    members = [
        story("s1", channel="hook", fold=True, not_before=past),
        update("r1", "s1", channel="hook", fold=True, not_before=past),
        story("s2", channel="hook", fold=True, not_before=past),
    ]
    store_for(config).enqueue_alerts(members)

    killed = run_script(DIE_WHILE_FOLDING, config)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    after = store_for(config).list_alerts()
    # The digest row was written in the killed transaction: gone, and the members untouched.
    assert [a.kind for a in after] == ["story", "update", "story"]
    assert all(a.sent_at is None and a.folded_into is None for a in after)
    assert receiver.requests == []

    receiver.kill_when = lambda request: key_of(request).startswith("digest:")
    assert run(config, victim).returncode == -signal.SIGKILL
    [digest] = [a for a in store_for(config).list_alerts() if a.kind == "digest"]
    assert receiver.keys("/hook") == [digest.key]

    assert run(config).returncode == 0
    assert run(config).returncode == 0
    alerts = store_for(config).list_alerts()
    assert [a.key for a in alerts if a.kind == "digest"] == [digest.key]  # one digest, ever
    assert receiver.keys("/hook") == [digest.key, digest.key]  # sent again under its key
    assert {a.folded_into for a in alerts if a.kind != "digest"} == {digest.id}
    assert unsent(store_for(config)) == []
    text = json.dumps(body(receiver.requests[-1]), ensure_ascii=False)
    assert "Report s1" in text and "Report s2" in text and "Kazinform (kk)" in text
