"""Slack: an incoming webhook, or the Web API's chat.postMessage (bot token), which threads.

Both POST the Block Kit message from `render.slack_message`; its last block carries the alert's
idempotency key as `block_id` ("monitor-key:<key>"), the same on every attempt. The Web API
also gets `channel` and, for a reply, `thread_ts` (the parent alert's stored receipt), and
answers the new message's `ts`, which becomes this alert's receipt.

    2xx (webhook); 2xx + {"ok": true} (Web API)      delivered
    429, {"ok": false, "error": "ratelimited"}       RateLimited (Retry-After, seconds or date)
    408, 5xx, network, timeout, internal_error,
        fatal_error, service_unavailable, ...        ChannelError, retried from the outbox
    other 3xx/4xx; invalid_auth, channel_not_found,
        not_in_channel, ... (any other Web API error) ChannelError(permanent=True): retrying
                                                     will not make them better

httpx exceptions are mapped here. The webhook URL and the token are secrets and never appear
in an error.
"""

from __future__ import annotations

from typing import Any

import httpx

from monitor.alerts.render import PayloadError, clean_line, slack_message
from monitor.config import SlackChannel
from monitor.errors import ChannelError, RateLimited
from monitor.models import OutboxAlert, Priority, utcnow
from monitor.sources.fetch import parse_retry_after

USER_AGENT = "monitor/0.1 (alerts)"

# Web API error codes that say "later", not "never".
_RATE_LIMITED = frozenset({"ratelimited", "rate_limited", "message_limit_exceeded"})
_TRANSIENT = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "org_login_required",
    }
)


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
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._token: str | None = None
        self._channel = config.channel
        if config.bot_token is not None:
            self._token = config.bot_token.get_secret_value()
            self._url = f"{config.api_url}/chat.postMessage"
        elif config.webhook_url is not None:
            self._url = config.webhook_url.get_secret_value()
        else:  # the settings refuse this; a hand-made config must not post anywhere
            raise ValueError(f"slack channel {name!r} has neither webhook_url nor bot_token")

    def __repr__(self) -> str:
        return f"SlackSender({self.name!r})"

    async def send(self, alert: OutboxAlert, parent: OutboxAlert | None = None) -> str | None:
        """Post `alert` (in the thread of `parent` when it has a receipt and this channel uses
        the Web API); returns the message's ts from the Web API, None from a webhook."""
        try:
            body = slack_message(alert)
        except PayloadError as exc:
            raise ChannelError(self.name, str(exc), permanent=True) from exc
        headers = {"User-Agent": USER_AGENT}
        if self._token is not None:
            body["channel"] = self._channel
            if parent is not None and parent.receipt:
                body["thread_ts"] = parent.receipt
                # Breaking news and developments in a thread are shown in the channel too.
                body["reply_broadcast"] = alert.priority >= Priority.HIGH
            headers["Authorization"] = f"Bearer {self._token}"
        response = await self._post(body, headers)
        status = response.status_code
        if status == 429:
            raise RateLimited(self.name, _retry_after(response))
        if not 200 <= status < 300:
            detail = clean_line(response.text, 200)
            message = f"HTTP {status}" + (f": {detail}" if detail else "")
            raise ChannelError(self.name, message, permanent=not (status == 408 or status >= 500))
        return self._answer(response) if self._token is not None else None

    async def _post(self, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, headers=headers
            ) as client:
                return await client.post(self._url, json=body)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ChannelError(self.name, "the Slack URL is not usable", permanent=True) from exc
        except httpx.HTTPError as exc:
            detail = clean_line(str(exc), 300) or "no detail"
            raise ChannelError(self.name, f"{type(exc).__name__}: {detail}") from exc

    def _answer(self, response: httpx.Response) -> str | None:
        """The Web API's verdict, which comes with HTTP 200 either way."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # Slack took the request but its answer is garbled: the message may be posted, so
            # a retry may repeat it (with the same key), which beats losing it.
            raise ChannelError(self.name, "Slack answered something that is not a JSON object")
        if answer.get("ok") is True:
            ts = answer.get("ts")
            return str(ts) if ts else None
        error = clean_line(answer.get("error") or "unknown_error", 100)
        if error in _RATE_LIMITED:
            raise RateLimited(self.name, _retry_after(response))
        raise ChannelError(
            self.name, f"Slack API error: {error}", permanent=error not in _TRANSIENT
        )


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"), utcnow())
