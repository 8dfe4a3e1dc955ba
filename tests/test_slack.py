"""SlackSender against a real webhook receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import replace

import pytest

from monitor.alerts.slack import SlackSender
from monitor.errors import ChannelError, RateLimited
from monitor.models import OutboxAlert, Priority
from tests.alerting import free_port, slack_api, webhook_sender
from tests.localserver import LocalServer, Request, Response

HOSTILE = "<!channel> <script>alert(1)</script> @here"
KEY = "item:0123456789abcdef:kz-pk"


def alert(title: str = HOSTILE) -> OutboxAlert:
    return OutboxAlert(
        id=7,
        channel="team",
        kind="item",
        key=KEY,
        payload={
            "item_id": "0123456789abcdef",
            "title": title,
            "url": "https://example.org/n/1",
            "source": "wire",
            "language": "en",
            "watchlist": "kz-pk",
            "watchlist_title": "Kazakhstan–Pakistan",
            "published": "2024-05-01T10:30:00+05:00",
            "summary": "Transit <b>deal</b> @channel",
            "aliases": ["Kazakhstan", "Pakistan"],
            "rule": "all-of(kazakhstan, pakistan)",
        },
    )


def send(target: SlackSender, item: OutboxAlert | None = None) -> None:
    asyncio.run(target.send(item or alert()))


def test_posts_block_kit_json_with_escaping_and_key(server: LocalServer) -> None:
    url = server.route("/hook", "ok", content_type="text/plain")
    send(webhook_sender(url))
    [request] = server.requests_to("/hook")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Kazakhstan–Pakistan", "emoji": False},
    }
    section = body["blocks"][1]["text"]["text"]
    assert section.startswith(
        "<https://example.org/n/1|"
        "&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt; @\u2060here>"
    )
    assert "Transit &lt;b&gt;deal&lt;/b&gt; @\u2060channel" in section
    assert body["blocks"][-1]["block_id"] == f"monitor-key:{KEY}"
    raw = request.body.decode("utf-8")
    assert "<!channel>" not in raw and "<script>" not in raw
    assert "@here" not in json.dumps(body, ensure_ascii=False)


def test_429_raises_rate_limited_with_retry_after(server: LocalServer) -> None:
    url = server.route(
        "/hook",
        "rate_limited",
        status=429,
        headers={"Retry-After": "42"},
        content_type="text/plain",
    )
    with pytest.raises(RateLimited) as caught:
        send(webhook_sender(url))
    assert caught.value.retry_after == 42.0
    assert not caught.value.permanent


def test_429_without_retry_after(server: LocalServer) -> None:
    url = server.route("/hook", "slow down", status=429)
    with pytest.raises(RateLimited) as caught:
        send(webhook_sender(url))
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_retryable(server: LocalServer, status: int) -> None:
    url = server.route("/hook", "internal_error", status=status, content_type="text/plain")
    with pytest.raises(ChannelError) as caught:
        send(webhook_sender(url))
    assert not caught.value.permanent
    assert not isinstance(caught.value, RateLimited)
    assert f"HTTP {status}: internal_error" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, "invalid_payload"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
    ],
)
def test_client_errors_are_permanent(server: LocalServer, status: int, body: str) -> None:
    url = server.route("/hook", body, status=status, content_type="text/plain")
    with pytest.raises(ChannelError) as caught:
        send(webhook_sender(url))
    assert caught.value.permanent
    assert body in str(caught.value)


def test_redirect_is_not_followed_and_is_permanent(server: LocalServer) -> None:
    server.route("/elsewhere", "ok")
    url = server.route("/hook", status=302, headers={"Location": server.url("/elsewhere")})
    with pytest.raises(ChannelError) as caught:
        send(webhook_sender(url))
    assert caught.value.permanent
    assert server.requests_to("/elsewhere") == []


def test_connection_refused_is_retryable_and_hides_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T000/B000/secret-token"
    with pytest.raises(ChannelError) as caught:
        send(webhook_sender(url))
    assert not caught.value.permanent
    assert "secret-token" not in str(caught.value)


def test_timeout_is_retryable(server: LocalServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(200, b"ok")

    url = server.route("/hook", handler=slow)
    try:
        with pytest.raises(ChannelError) as caught:
            send(webhook_sender(url, timeout=0.2, connect_timeout=0.2))
    finally:
        release.set()
    assert not caught.value.permanent
    assert "Timeout" in str(caught.value)


def test_unusable_webhook_url_is_permanent() -> None:
    with pytest.raises(ChannelError) as caught:
        send(webhook_sender("ftp://example.invalid/hook"))
    assert caught.value.permanent


def test_unknown_kind_is_permanent(server: LocalServer) -> None:
    url = server.route("/hook", "ok")
    weird = OutboxAlert(id=1, channel="team", kind="weird", key="k", payload={})
    with pytest.raises(ChannelError) as caught:
        send(webhook_sender(url), weird)
    assert caught.value.permanent
    assert server.requests_to("/hook") == []


# --- Web API (bot token): chat.postMessage, which threads ------------------------------------

TOKEN = "xoxb-secret-token"


def slack_error(error: str, status: int = 200, **headers: str) -> Response:
    return Response(status, json.dumps({"ok": False, "error": error}).encode(), headers)


def test_bot_posts_to_its_channel_with_the_token_and_returns_the_ts(server: LocalServer) -> None:
    bot, log = slack_api(server, token=TOKEN)
    receipt = asyncio.run(bot.send(alert()))
    assert receipt == "1700000000.000001"
    [request] = log
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    body = json.loads(request.body)
    assert body["channel"] == "C0123" and "thread_ts" not in body
    assert body["blocks"][-1]["block_id"] == f"monitor-key:{KEY}"
    assert "&lt;!channel&gt;" in body["blocks"][1]["text"]["text"]


def test_bot_replies_in_the_thread_of_the_parents_receipt(server: LocalServer) -> None:
    bot, log = slack_api(server, token=TOKEN)
    parent = OutboxAlert(id=1, channel="team", kind="story", key="story:1", payload={})
    threaded = replace(parent, receipt="1699999999.000042")
    asyncio.run(bot.send(alert(), parent))  # a parent without receipt: no thread
    asyncio.run(bot.send(alert(), threaded))
    urgent = replace(alert(), priority=Priority.URGENT)
    asyncio.run(bot.send(urgent, threaded))
    bodies = [json.loads(r.body) for r in log]
    assert "thread_ts" not in bodies[0]
    assert bodies[1]["thread_ts"] == "1699999999.000042"
    assert bodies[1]["reply_broadcast"] is False
    assert bodies[2]["reply_broadcast"] is True  # urgent news shows in the channel too


def test_webhook_cannot_thread(server: LocalServer) -> None:
    url = server.route("/hook", "ok", content_type="text/plain")
    parent = OutboxAlert(id=1, channel="team", kind="story", key="s", payload={}, receipt="1.2")
    assert asyncio.run(webhook_sender(url).send(alert(), parent)) is None
    body = json.loads(server.requests_to("/hook")[0].body)
    assert "thread_ts" not in body and "channel" not in body


@pytest.mark.parametrize(
    "answer",
    [
        slack_error("ratelimited", 429, **{"Retry-After": "30"}),
        slack_error("ratelimited", 200, **{"Retry-After": "30"}),
        slack_error("rate_limited", 200, **{"Retry-After": "30"}),
    ],
)
def test_bot_rate_limits_honour_retry_after(server: LocalServer, answer: Response) -> None:
    bot, _ = slack_api(server, answer, token=TOKEN)
    with pytest.raises(RateLimited) as caught:
        asyncio.run(bot.send(alert()))
    assert caught.value.retry_after == 30.0 and not caught.value.permanent


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        (slack_error("invalid_auth"), True),
        (slack_error("channel_not_found"), True),
        (slack_error("not_in_channel"), True),
        (slack_error("missing_scope"), True),
        (slack_error("internal_error"), False),
        (slack_error("fatal_error"), False),
        (slack_error("service_unavailable", 503), False),
        (Response(200, b"<html>proxy error</html>"), False),
        (Response(200, b"[1, 2]"), False),
    ],
)
def test_bot_api_errors(server: LocalServer, answer: Response, permanent: bool) -> None:
    bot, _ = slack_api(server, answer, token=TOKEN)
    with pytest.raises(ChannelError) as caught:
        asyncio.run(bot.send(alert()))
    assert caught.value.permanent is permanent
    assert not isinstance(caught.value, RateLimited)
    assert TOKEN not in str(caught.value)
