"""Alerts as the tests build and catch them: payloads and outbox intents, the Slack receivers (a
webhook and a fake Web API) on the local HTTP server, an SMTP inbox (aiosmtpd) on loopback, and
one delivery round. Test helpers only; no business logic.

    store.enqueue_alerts([story("s1"), update("r1", "s1", "Xinhua", "zh", channel="mail")])
    sender, log = webhook(server, Response(500, b"down"))  # then 200 "ok"
    report = deliver(store, {"team": sender}, start())
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr

from monitor.alerts.dispatch import DeliveryReport, Sender, deliver_due
from monitor.alerts.slack import SlackSender
from monitor.config import AlertSettings, SlackChannel
from monitor.models import OutboxAlert, Priority
from monitor.store.base import AlertIntent, Store
from tests.localserver import LocalServer, Request, Response

SETTINGS = AlertSettings(retry_base=30, retry_max=600, max_attempts=5)  # of `deliver`

# --- what is queued, and one delivery round ----------------------------------------------------


def report_of(item_id: str, story_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """The payload of an alert on one report of the kz-pk watchlist; `extra` adds or replaces
    fields (outlet, language, title, ...)."""
    payload: dict[str, Any] = {
        "item_id": item_id,
        "title": f"Report {item_id}",
        "url": f"https://example.org/{item_id}",
        "source": "wire-en",
        "language": "en",
        "watchlist": "kz-pk",
        "watchlist_title": "Kazakhstan–Pakistan",
        "published": "2026-03-02T10:30:00+05:00",
        "summary": "Transit deal.",
        "aliases": ["Kazakhstan", "Pakistan"],
        "rule": "all-of(kazakhstan, pakistan)",
    }
    if story_id is not None:
        payload["story_id"] = story_id
    return payload | extra  # replaced fields keep their place


def intent(
    key: str,
    *,
    channel: str = "team",
    kind: str = "story",
    payload: dict[str, Any] | None = None,
    **options: Any,
) -> AlertIntent:
    """An alert under any `key`; `options` are AlertIntent's (priority, thread_key, not_before,
    fold). The payload is a report of its own story unless given."""
    return AlertIntent(
        channel, kind, key, report_of(key, key) if payload is None else payload, **options
    )


def story(story_id: str, channel: str = "team", **options: Any) -> AlertIntent:
    """The first alert of a story, keyed as the alert policy keys it."""
    return intent(
        f"story:{story_id}:kz-pk", channel=channel, payload=report_of(story_id, story_id), **options
    )


def update(
    item_id: str,
    story_id: str,
    outlet: str = "Kazinform",
    language: str = "kk",
    *,
    channel: str = "team",
    kind: str = "update",
    priority: Priority = Priority.LOW,
    **options: Any,
) -> AlertIntent:
    """A further report of a story, to go in its thread (or `kind` breaking, development...)."""
    return intent(
        f"update:{item_id}:kz-pk",
        channel=channel,
        kind=kind,
        payload=report_of(item_id, story_id, outlet=outlet, language=language),
        priority=priority,
        thread_key=f"story:{story_id}:kz-pk",
        **options,
    )


def start() -> datetime:
    """A moment after the alerts were queued (the store stamps them with the real clock)."""
    return datetime.now(UTC) + timedelta(seconds=1)


def deliver(
    store: Store, senders: Mapping[str, Sender], now: datetime, **options: Any
) -> DeliveryReport:
    """One delivery round at `now`; `options` are deliver_due's (limit, worker, ...)."""
    return asyncio.run(deliver_due(store, senders, now=now, settings=SETTINGS, **options))


def by_key(store: Store) -> dict[str, OutboxAlert]:
    return {a.key: a for a in store.list_alerts()}


# --- channels in the settings file -------------------------------------------------------------


def webhook_and_mail(
    server: LocalServer, port: int, mail: str = "mail", **mail_settings: str
) -> str:
    """Settings for two channels: `team`, a Slack webhook at `/hook` on `server`, and `mail`
    (or as named), the SMTP server on `port`, with `mail_settings` (mode, digest_at, ...)."""
    extra = "".join(f'{name} = "{value}"\n' for name, value in mail_settings.items())
    return (
        "[alerts.channels.team]\n"
        f'type = "slack"\nwebhook_url = "{server.url("/hook")}"\n'
        f"[alerts.channels.{mail}]\n"
        f'type = "email"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'sender = "monitor@example.org"\nrecipients = ["analyst@example.org"]\n' + extra
    )


# --- Slack: senders, and receivers on the local server -----------------------------------------


def webhook_sender(url: str, name: str = "team", **options: Any) -> SlackSender:
    """A channel posting to a Slack incoming webhook; `options` are SlackSender's (timeouts)."""
    return SlackSender(name, SlackChannel(webhook_url=SecretStr(url)), **options)


def answering(
    answers: tuple[Response, ...], otherwise: Callable[[int], Response]
) -> tuple[Callable[[Request], Response], list[Request]]:
    """A route handler that records each request and gives `answers` in turn, then
    `otherwise(number of requests so far)`; with its log."""
    log: list[Request] = []
    queue = list(answers)
    lock = threading.Lock()  # the server answers on several threads

    def handle(request: Request) -> Response:
        with lock:
            log.append(request)
            return queue.pop(0) if queue else otherwise(len(log))

    return handle, log


def webhook(server: LocalServer, *answers: Response) -> tuple[SlackSender, list[Request]]:
    """A Slack webhook at `/hook`: `answers` in turn, then 200 "ok"; a sender to it and its log."""
    handle, log = answering(answers, lambda count: Response(200, b"ok"))
    url = server.route("/hook", handler=handle)
    return webhook_sender(url), log


def slack_api(
    server: LocalServer, *answers: Response, token: str = "xoxb-1"
) -> tuple[SlackSender, list[Request]]:
    """A fake Slack Web API at `/api`: `answers` in turn, then ok with a new ts per message
    (`1700000000.00000N` for the N-th request); a bot posting to channel C0123 and its log."""

    def posted(count: int) -> Response:
        answer = {"ok": True, "channel": "C0123", "ts": f"1700000000.{count:06d}"}
        return Response(200, json.dumps(answer).encode())

    handle, log = answering(answers, posted)
    server.route("/api/chat.postMessage", handler=handle)
    config = SlackChannel(bot_token=SecretStr(token), channel="C0123", api_url=server.url("/api"))
    return SlackSender("team", config), log


def body(request: Request) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(request.body)
    return parsed


def key_of(request: Request) -> str:
    """The outbox key a Slack message carries (its last block's id)."""
    block_id: str = body(request)["blocks"][-1]["block_id"]
    return block_id.removeprefix("monitor-key:")


# --- email: an SMTP server on loopback ---------------------------------------------------------


@dataclass
class Received:
    mail_from: str | None
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


class Inbox:
    """aiosmtpd handler that keeps what it receives; `data_reply`/`rcpt_reply` make it refuse."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.data_reply = "250 OK"
        self.rcpt_reply: str | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages alone, in the order they arrived."""
        return [r.message for r in self.received]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not self.data_reply.startswith("250"):
            return self.data_reply
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        transport = server.transport
        tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                parsed,
                tls,
                bool(session.authenticated),
            )
        )
        return self.data_reply


def free_port() -> int:
    """A loopback port nothing listens on (aiosmtpd's controller needs one named up front)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_smtp(handler: Inbox, **options: Any) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 handing mail to `handler`; yields its port.
    `options` are the Controller's (TLS, authentication)."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
