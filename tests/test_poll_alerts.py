"""Alerts from a poll, caught by a real webhook receiver and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from tests.alerting import Inbox, webhook_and_mail
from tests.cli import monitor, store_for
from tests.localserver import LocalServer
from tests.texts import KZ_PK, long_html
from tests.workspace import rss, source_toml, workspace

RSS = "application/rss+xml; charset=utf-8"
HOSTILE = "<!channel> @here <script>alert(1)</script> Kazakhstan\r\nBcc: victim@example.com"


def test_new_matches_alert_on_slack_and_email_with_hostile_text_escaped(
    server: LocalServer, tmp_path: Path, smtp: tuple[Inbox, int], hooks: list[dict[str, Any]]
) -> None:
    inbox, port = smtp
    _, body = KZ_PK["en"]
    now = datetime.now(UTC)
    feed = rss(
        [
            {
                "title": HOSTILE,
                "link": server.url("/n/1"),
                "content": long_html(body),
                "published": now,
            },
            # Old news: stored and matched, but never alerts (max_age 48 h by default).
            {
                "title": "Kazakhstan and Pakistan in 2019",
                "link": server.url("/n/old"),
                "content": long_html(body),
                "published": now - timedelta(days=30),
            },
        ]
    )
    server.route("/feed.xml", feed, content_type=RSS)
    config = workspace(
        tmp_path,
        [source_toml("wire", server.url("/feed.xml"))],
        settings=webhook_and_mail(server, port),
    )
    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output

    assert len(hooks) == 1
    slack = json.dumps(hooks[0], ensure_ascii=False)
    assert "<!channel>" not in slack and "<script>" not in slack
    assert "@here" not in slack  # neutralised, cannot ping
    assert server.url("/n/1") in slack
    assert "kz-pk" in slack

    assert len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0].as_bytes(), policy=policy.default)
    assert mail["Bcc"] is None
    assert "\n" not in mail["Subject"] and "\r" not in mail["Subject"]
    assert mail["Message-ID"]
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    html_text = html.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "<script" not in html_text and "<!channel>" not in html_text
    assert "Kazakhstan" in mail["Subject"]

    alerts = store_for(config).list_alerts()
    assert {a.channel for a in alerts} == {"team", "mail"}
    assert all(a.sent_at is not None for a in alerts)

    # A second poll finds nothing new and sends nothing more.
    assert monitor(config, "poll").exit_code == 0
    assert len(hooks) == 1 and len(inbox.messages) == 1


def test_a_failing_channel_is_retried_later_and_never_blocks_polling(
    server: LocalServer, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    server.route("/hook", "no", status=500)
    title, body = KZ_PK["ru"]
    server.route(
        "/feed.xml",
        rss(
            [
                {
                    "title": title,
                    "link": server.url("/r/1"),
                    "content": long_html(body),
                    "published": datetime.now(UTC),
                }
            ]
        ),
        content_type=RSS,
    )
    config = workspace(
        tmp_path,
        [source_toml("wire", server.url("/feed.xml"))],
        settings=webhook_and_mail(server, port),
    )
    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output
    assert store_for(config).count_items() == 1
    assert len(inbox.messages) == 1  # email went out although Slack failed
    alerts = {a.channel: a for a in store_for(config).list_alerts()}
    assert alerts["team"].sent_at is None and alerts["team"].attempts == 1
    assert alerts["team"].next_attempt is not None
    assert "500" in (alerts["team"].last_error or "")
