"""Email alerts over SMTP (stdlib smtplib, run in a worker thread).

    security "starttls"   connect, STARTTLS, then log in (when a username is set)
    security "tls"        implicit TLS from the first byte (SMTP_SSL, usually port 465)
    security "none"       plain SMTP (a relay on localhost)

Errors are mapped here: a 5xx reply (bad login, recipient refused, message rejected) or a
server without STARTTLS/AUTH is permanent; a 4xx reply, a refused connection, a timeout or a
TLS failure is retried from the outbox. The password never appears in an error.

Each message is multipart/alternative (text, then HTML) and carries a Message-ID derived from
the alert's idempotency key, so every attempt of one alert is the same message. An alert that
replies to another (a development or breaking alert under its story's first alert) names that
alert's Message-ID (or that of the digest which carried it) in In-Reply-To and References, and
takes its subject with "Re: ", so mail clients thread them.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from loguru import logger

from monitor.alerts.render import EmailContent, PayloadError, clean_line, email_content
from monitor.config import EmailChannel
from monitor.errors import ChannelError
from monitor.models import OutboxAlert


def build_message(content: EmailContent, sender: str, recipients: list[str]) -> EmailMessage:
    """The MIME message. The default policy refuses CR/LF in any header value: a second guard
    behind render's one-line subject."""
    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = content.message_id
    if content.in_reply_to:
        message["In-Reply-To"] = content.in_reply_to
        message["References"] = content.in_reply_to
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to alerts
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


class EmailSender:
    """One configured email channel. `ssl_context` replaces the system trust store (tests use a
    throw-away CA); by default certificates and host names are verified."""

    def __init__(
        self, name: str, config: EmailChannel, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.name = name
        self._config = config
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"EmailSender({self.name!r})"

    async def send(self, alert: OutboxAlert, parent: OutboxAlert | None = None) -> None:
        """Mail `alert`, as a reply to `parent` when given. Mail servers answer no id to keep:
        the receipt is None (a reply finds its parent's Message-ID from the parent's key)."""
        config = self._config
        try:
            content = email_content(alert, parent)
            message = build_message(content, config.sender, config.recipients)
        except PayloadError as exc:
            raise ChannelError(self.name, str(exc), permanent=True) from exc
        except ValueError as exc:  # a From/To setting with a line break, refused by the policy
            raise ChannelError(
                self.name, f"cannot build the message: {exc}", permanent=True
            ) from exc
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        config = self._config
        context = self._ssl_context or ssl.create_default_context()
        try:
            client = (
                smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
                if config.security == "tls"
                else smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            )
        except (smtplib.SMTPException, OSError) as exc:
            raise _map_error(self.name, exc) from exc
        try:
            if config.security == "starttls":
                client.starttls(context=context)
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                client.login(config.username, password)
            refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise _map_error(self.name, exc) from exc
        finally:
            _quit(client)
        if refused:
            # Some recipients took it: sending again would duplicate it for them.
            logger.warning(
                "alert channel {}: some recipients refused {}: {}",
                self.name,
                message["Message-ID"],
                _refusals(refused),
            )


def _quit(client: smtplib.SMTP) -> None:
    # Once the message is accepted, a failed QUIT must not turn into a retry (a duplicate).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _text(value: bytes | str) -> str:
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return clean_line(raw, 300)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{_text(addr)}: {code} {_text(reply)}" for addr, (code, reply) in refused.items()
    )


def _map_error(channel: str, exc: smtplib.SMTPException | OSError) -> ChannelError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return ChannelError(
            channel, f"all recipients refused: {_refusals(exc.recipients)}", permanent=permanent
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        # Covers a bad login (535), a refused sender or message (5xx) and "try later" (4xx).
        code = exc.smtp_code
        return ChannelError(
            channel,
            f"SMTP {code} {_text(exc.smtp_error)} ({type(exc).__name__})",
            permanent=500 <= code < 600,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # STARTTLS or AUTH not offered: a setting to fix, not a moment to wait for.
        return ChannelError(
            channel, f"server does not support it: {_text(str(exc))}", permanent=True
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ChannelError(
            channel, f"TLS certificate not trusted: {_text(exc.verify_message or str(exc))}"
        )
    # Disconnects, refused connections, timeouts, TLS handshakes: worth another try.
    return ChannelError(channel, f"{type(exc).__name__}: {_text(str(exc)) or 'no detail'}")
