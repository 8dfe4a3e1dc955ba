"""Slack incoming webhooks: POST the Block Kit message from `render.slack_message`.

    2xx                       delivered
    429                       RateLimited (Retry-After, seconds or HTTP-date)
    408, 5xx, network, timeout ChannelError, retried from the outbox
    other 3xx/4xx             ChannelError(permanent=True): invalid_payload, no_service,
                              channel_not_found, ... will not get better by retrying

httpx exceptions are mapped here. The webhook URL is a secret and never appears in an error.
"""

from __future__ import annotations

import httpx

from monitor.alerts.render import PayloadError, clean_line, slack_message
from monitor.config import SlackChannel
from monitor.errors import ChannelError, RateLimited
from monitor.models import OutboxAlert, utcnow
from monitor.sources.fetch import parse_retry_after

USER_AGENT = "monitor/0.1 (alerts)"


class SlackSender:
    """One configured Slack channel. A client per send: alerts are few, and nothing is left to
    close when the daemon stops."""

    def __init__(
        self,
        name: str,
        config: SlackChannel,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self._url = config.webhook_url.get_secret_value()
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)

    def __repr__(self) -> str:
        return f"SlackSender({self.name!r})"

    async def send(self, alert: OutboxAlert) -> None:
        try:
            body = slack_message(alert)
        except PayloadError as exc:
            raise ChannelError(self.name, str(exc), permanent=True) from exc
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            ) as client:
                response = await client.post(self._url, json=body)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ChannelError(self.name, "the webhook URL is not usable", permanent=True) from exc
        except httpx.HTTPError as exc:
            detail = clean_line(str(exc), 300) or "no detail"
            raise ChannelError(self.name, f"{type(exc).__name__}: {detail}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            raise RateLimited(
                self.name, parse_retry_after(response.headers.get("retry-after"), utcnow())
            )
        detail = clean_line(response.text, 200)
        message = f"HTTP {status}" + (f": {detail}" if detail else "")
        raise ChannelError(self.name, message, permanent=not (status == 408 or status >= 500))
