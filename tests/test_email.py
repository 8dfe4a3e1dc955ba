"""EmailSender against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS and implicit
TLS with login, with a throw-away certificate authority (trustme)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import ExitStack
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from monitor.alerts.email import EmailSender
from monitor.alerts.render import message_id
from monitor.config import EmailChannel
from monitor.errors import ChannelError
from monitor.models import OutboxAlert
from tests.alerting import Inbox, free_port, running_smtp

KEY = "item:0123456789abcdef:kz-pk"
USER, PASSWORD = "monitor", "s3cret"
RECIPIENTS = ["analyst@example.org", "desk@example.org"]


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """Start servers with given options; returns (inbox, port). Stopped after the test."""
    with ExitStack() as running:

        def start(**options: Any) -> tuple[Inbox, int]:
            inbox = Inbox()
            port = running.enter_context(
                running_smtp(inbox, server_hostname="localhost", **options)
            )
            return inbox, port

        yield start


def channel(
    port: int, security: str, login: bool = False, password: str = PASSWORD
) -> EmailChannel:
    return EmailChannel.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "sender": "monitor@example.org",
            "recipients": RECIPIENTS,
            "username": USER if login else None,
            "password": SecretStr(password) if login else None,
            "timeout": 5,
        }
    )


def alert(title: str = "<!channel> <script>alert(1)</script> @here") -> OutboxAlert:
    return OutboxAlert(
        id=3,
        channel="mail",
        kind="item",
        key=KEY,
        payload={
            "item_id": "0123456789abcdef",
            "title": title,
            "url": "https://example.org/n/1",
            "source": "wire",
            "language": "kk",
            "watchlist": "kz-pk",
            "watchlist_title": "Қазақстан–Пәкістан",
            "published": "2024-05-01T10:30:00+05:00",
            "summary": "Markup <img src=x onerror=alert(1)> in the summary",
            "aliases": ["Қазақстан", "Пәкістан"],
            "rule": "all-of(kazakhstan, pakistan)",
        },
    )


def send(sender: EmailSender, item: OutboxAlert | None = None) -> None:
    asyncio.run(sender.send(item or alert()))


def parts(message: EmailMessage) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = part.get_content()
    return found


def test_plain_smtp_delivers_text_and_escaped_html(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    send(EmailSender("mail", channel(port, "none")))
    [got] = inbox.received
    mail = got.message
    assert got.mail_from == "monitor@example.org"
    assert got.rcpt_tos == RECIPIENTS
    assert mail.get_content_type() == "multipart/alternative"
    body = parts(mail)
    assert set(body) == {"text/plain", "text/html"}
    assert "<script>alert(1)</script>" in body["text/plain"]  # plain text: shown as it is
    html = body["text/html"]
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://example.org/n/1">' in html
    assert mail["Message-ID"] == message_id(KEY)
    assert str(mail["Subject"]).startswith("[Қазақстан–Пәкістан] <!channel>")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert not got.tls and not got.authenticated


def test_hostile_subject_does_not_inject_a_bcc(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    send(
        EmailSender("mail", channel(port, "none")),
        alert("Subject\r\nBcc: victim@example.com\r\n\r\nbody"),
    )
    [got] = inbox.received
    assert got.rcpt_tos == RECIPIENTS
    assert got.message["Bcc"] is None
    subject = str(got.message["Subject"])
    assert "\r" not in subject and "\n" not in subject
    assert subject == "[Қазақстан–Пәкістан] Subject Bcc: victim@example.com body"


def test_starttls_then_login(
    smtp_server: Any, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    inbox, port = smtp_server(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    send(EmailSender("mail", channel(port, "starttls", login=True), ssl_context=client_tls))
    [got] = inbox.received
    assert got.tls and got.authenticated
    assert got.message["Message-ID"] == message_id(KEY)


def test_implicit_tls_with_login(
    smtp_server: Any, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    # aiosmtpd only counts STARTTLS as TLS for AUTH, hence auth_require_tls=False here.
    inbox, port = smtp_server(
        ssl_context=server_tls, authenticator=authenticator, auth_require_tls=False
    )
    send(EmailSender("mail", channel(port, "tls", login=True), ssl_context=client_tls))
    [got] = inbox.received
    assert got.tls and got.authenticated
    assert set(parts(got.message)) == {"text/plain", "text/html"}


def test_wrong_password_is_permanent(
    smtp_server: Any, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    inbox, port = smtp_server(tls_context=server_tls, authenticator=authenticator)
    sender = EmailSender(
        "mail", channel(port, "starttls", login=True, password="nope"), ssl_context=client_tls
    )
    with pytest.raises(ChannelError) as caught:
        send(sender)
    assert caught.value.permanent
    assert "535" in str(caught.value) and "nope" not in str(caught.value)
    assert inbox.received == []


def test_untrusted_certificate_is_refused_and_retried(
    smtp_server: Any, server_tls: ssl.SSLContext
) -> None:
    inbox, port = smtp_server(tls_context=server_tls, require_starttls=True)
    # No ssl_context: the system trust store, which does not know the test CA.
    with pytest.raises(ChannelError) as caught:
        send(EmailSender("mail", channel(port, "starttls")))
    assert not caught.value.permanent
    assert "certificate" in str(caught.value).lower()
    assert inbox.received == []


def test_starttls_not_offered_is_permanent(smtp_server: Any, client_tls: ssl.SSLContext) -> None:
    _, port = smtp_server()
    with pytest.raises(ChannelError) as caught:
        send(EmailSender("mail", channel(port, "starttls"), ssl_context=client_tls))
    assert caught.value.permanent


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("451 4.3.0 Try again later", False), ("554 5.7.1 Message rejected", True)],
)
def test_data_replies_map_to_retryable_or_permanent(
    smtp_server: Any, reply: str, permanent: bool
) -> None:
    inbox, port = smtp_server()
    inbox.data_reply = reply
    with pytest.raises(ChannelError) as caught:
        send(EmailSender("mail", channel(port, "none")))
    assert caught.value.permanent is permanent
    assert reply.split()[0] in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("450 4.2.1 Mailbox busy", False), ("550 5.1.1 No such user", True)],
)
def test_refused_recipients(smtp_server: Any, reply: str, permanent: bool) -> None:
    inbox, port = smtp_server()
    inbox.rcpt_reply = reply
    with pytest.raises(ChannelError) as caught:
        send(EmailSender("mail", channel(port, "none")))
    assert caught.value.permanent is permanent
    assert "analyst@example.org" in str(caught.value)


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(ChannelError) as caught:
        send(EmailSender("mail", channel(free_port(), "none")))
    assert not caught.value.permanent
