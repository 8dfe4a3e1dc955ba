"""Any other service (Telegram, Teams, Matrix, ntfy, a JSON webhook, ...) through Apprise, by
URL. Apprise gets a title and a plain-text body from `render.plain_message`; it reports only
success or failure, so a failure is retried from the outbox. A URL Apprise does not understand
is a permanent failure (logged once when the channel is built)."""

from __future__ import annotations

import warnings

import apprise
from loguru import logger

from monitor.alerts.render import PayloadError, clean_line, plain_message
from monitor.config import AppriseChannel
from monitor.errors import ChannelError
from monitor.models import OutboxAlert


class AppriseSender:
    def __init__(self, name: str, config: AppriseChannel) -> None:
        self.name = name
        self._apprise = apprise.Apprise()
        with warnings.catch_warnings():
            # The first URL makes Apprise load its plugin catalogue, and one plugin imports
            # the stdlib `imghdr` (deprecated in 3.11): Apprise's concern, not a reader's.
            warnings.simplefilter("ignore", DeprecationWarning)
            self._usable = bool(self._apprise.add(config.url.get_secret_value()))
        if not self._usable:
            # The URL is a secret (it carries tokens): name the channel, not the URL.
            logger.error("alert channel {}: Apprise does not understand its URL", name)

    def __repr__(self) -> str:
        return f"AppriseSender({self.name!r})"

    async def send(self, alert: OutboxAlert, parent: OutboxAlert | None = None) -> None:
        """Notify; Apprise services cannot thread, so `parent` is not used."""
        if not self._usable:
            raise ChannelError(self.name, "Apprise does not understand the URL", permanent=True)
        try:
            message = plain_message(alert)
        except PayloadError as exc:
            raise ChannelError(self.name, str(exc), permanent=True) from exc
        try:
            result = await self._apprise.async_notify(
                body=message.body,
                title=message.title,
                body_format=apprise.NotifyFormat.TEXT,
            )
        except Exception as exc:  # a plugin bug must not escape as anything but a channel error
            detail = clean_line(str(exc), 200)
            raise ChannelError(
                self.name, f"Apprise failed: {type(exc).__name__}: {detail}"
            ) from exc
        if not result:
            status = getattr(result, "status", None)
            detail = f" ({status.name.lower()})" if status is not None else ""
            raise ChannelError(self.name, f"Apprise could not deliver{detail}; see its log")
