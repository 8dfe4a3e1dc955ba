"""render.py: hostile feed text made inert in Slack mrkdwn, email headers and HTML. Pure."""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest

from monitor.alerts.email import build_message
from monitor.alerts.render import (
    DIGEST_ITEMS_SHOWN,
    ItemPayload,
    PayloadError,
    email_content,
    message_id,
    plain_message,
    safe_url,
    slack_message,
    slack_text,
)
from monitor.models import OutboxAlert, Priority

HOSTILE = "<!channel> <script>alert(1)</script> @here"
URL = "https://example.org/news/1?a=1&b=2"


def item(**changes: Any) -> ItemPayload:
    payload = ItemPayload(
        item_id="0123456789abcdef",
        title="Kazakhstan and Pakistan sign a transit deal",
        url=URL,
        source="wire-en",
        language="en",
        watchlist="kz-pk",
        watchlist_title="Kazakhstan–Pakistan",
        published="2024-05-01T10:30:00+05:00",
        summary="Astana and Islamabad agreed on rail transit.",
        aliases=["Kazakhstan", "Pakistan"],
        rule="all-of(kazakhstan, pakistan)",
    )
    payload.update(changes)  # type: ignore[typeddict-item]
    return payload


def alert(
    payload: Any, kind: str = "item", key: str = "item:0123456789abcdef:kz-pk"
) -> OutboxAlert:
    return OutboxAlert(id=1, channel="team", kind=kind, key=key, payload=dict(payload))


def texts(message: dict[str, Any]) -> list[str]:
    """Every text string Slack will show or parse, wherever it sits in the blocks."""
    found: list[str] = [message["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message["blocks"])
    return found


def links(text: str) -> list[str]:
    """The `<...>` constructs Slack would parse in mrkdwn."""
    return re.findall(r"<([^<>]*)>", text)


# --- Slack ------------------------------------------------------------------------------------


def test_slack_item_has_title_link_fields_and_key() -> None:
    message = slack_message(alert(item()))
    blocks = message["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Kazakhstan–Pakistan"
    section = blocks[1]["text"]["text"]
    assert section.startswith(
        "<https://example.org/news/1?a=1&amp;b=2|Kazakhstan and Pakistan sign a transit deal>"
    )
    fields = "\n".join(f["text"] for f in blocks[2]["fields"])
    for expected in (
        "wire-en",
        "en",
        "kz-pk",
        "2024-05-01 10:30 UTC+05:00",
        "Kazakhstan, Pakistan",
    ):
        assert expected in fields
    context = blocks[-1]
    assert context["block_id"] == "monitor-key:item:0123456789abcdef:kz-pk"
    assert "item:0123456789abcdef:kz-pk" in context["elements"][0]["text"]
    assert "Kazakhstan and Pakistan sign a transit deal" in message["text"]


def test_hostile_title_cannot_mention_link_or_inject_markup() -> None:
    payload = item(
        title=HOSTILE + " <http://evil.example|click> <@U123> @Everyone",
        summary="<b>bold</b> <!here> <#C123> & more @channel",
        aliases=["<@U999>", "Pakistan"],
    )
    message = slack_message(alert(payload))
    dumped = json.dumps(message, ensure_ascii=False)
    for raw in ("<!channel>", "<!here>", "<script>", "<@U123>", "<@U999>", "<#C123>", "<b>"):
        assert raw not in dumped
    for ping in ("@here", "@channel", "@Everyone"):
        assert ping not in dumped
    assert "&lt;!channel&gt;" in dumped and "&lt;script&gt;" in dumped
    # The only link anywhere is the item's own URL.
    parsed = [link for text in texts(message) for link in links(text)]
    assert parsed == ["https://example.org/news/1?a=1&amp;b=2|" + parsed[0].split("|", 1)[1]]
    assert "evil.example" not in parsed[0].split("|", 1)[0]


def test_title_cannot_break_out_of_the_link() -> None:
    payload = item(title="a|b> <https://evil.example|x> c")
    section = slack_message(alert(payload))["blocks"][1]["text"]["text"]
    first_line = section.split("\n")[0]
    assert first_line.startswith("<https://example.org/news/1?a=1&amp;b=2|")
    assert first_line.endswith(">")
    inner = first_line[1:-1]
    assert "<" not in inner and ">" not in inner
    assert inner.count("|") == 1


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "https:///no-host",
        "vbscript:msgbox",
    ],
)
def test_only_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None
    payload = item(url=url)
    message = slack_message(alert(payload))
    assert all(not links(text) for text in texts(message))
    content = email_content(alert(payload))
    assert "href" not in content.html
    assert "script:" not in content.html.lower() and "data:" not in content.html
    assert "script:" not in content.text.lower()


def test_urls_are_encoded_so_they_cannot_end_a_link_or_attribute() -> None:
    nasty = 'https://example.org/a b"c<d>e|f?q=1&r="x"'
    safe = safe_url(nasty)
    assert safe == "https://example.org/a%20b%22c%3Cd%3Ee%7Cf?q=1&r=%22x%22"
    html = email_content(alert(item(url=nasty))).html
    assert f'href="{safe.replace("&", "&amp;")}"' in html
    # Non-ASCII paths and hosts (Kazakh, Chinese sites) are encoded, not dropped.
    assert safe_url("https://kazinform.kz/ru/новости") == (
        "https://kazinform.kz/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8"
    )
    assert safe_url("http://пример.рф/x") == "http://xn--e1afmkfd.xn--p1ai/x"


def test_slack_text_neutralises_broadcasts_in_any_case() -> None:
    text = slack_text("@here @HERE @channel @everyone @heretic a@here.example")
    assert not re.search(r"@(here|channel|everyone)\b", text, re.IGNORECASE)
    assert "@heretic" in text  # only the broadcast words are touched


def test_slack_limits_hold_for_long_hostile_text() -> None:
    payload = item(
        title="&" * 2000,
        url="https://example.org/" + "x" * 1400,
        summary="<>" * 400 + "\n" + "&" * 500,
        aliases=["<" * 80] * 40,
        watchlist_title="&" * 400,
    )
    message = slack_message(alert(payload))
    blocks = message["blocks"]
    assert len(blocks[0]["text"]["text"]) <= 150
    assert len(blocks[1]["text"]["text"]) <= 3000
    assert all(len(f["text"]) <= 2000 for f in blocks[2]["fields"])
    assert not re.search(r"&[a-z]*$", blocks[0]["text"]["text"])  # no entity cut in half


def test_slack_digest_lists_items_within_block_limits() -> None:
    items = [item(item_id=f"{n:016x}", title=f"story {n}", url=f"{URL}&n={n}") for n in range(60)]
    message = slack_message(alert({"title": "Backfill: kz-pk", "items": items}, kind="digest"))
    blocks = message["blocks"]
    assert len(blocks) <= 50
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == DIGEST_ITEMS_SHOWN
    assert (
        "story 0" in sections[0]["text"]["text"]
        and f"n={DIGEST_ITEMS_SHOWN - 1}" in (sections[-1]["text"]["text"])
    )
    assert "60 items" in message["text"]
    assert "20 not shown" in blocks[-1]["elements"][0]["text"]


def test_test_alert_renders_everywhere() -> None:
    test = alert({"title": "monitor test alert", "text": "Sent <now>"}, kind="test", key="test:x")
    assert "Sent &lt;now&gt;" in json.dumps(slack_message(test))
    assert plain_message(test).title == "monitor test alert"
    assert "Sent &lt;now&gt;" in email_content(test).html


def test_unknown_kind_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        slack_message(alert({}, kind="weird"))


def test_missing_payload_fields_still_render() -> None:
    message = slack_message(alert({"title": "only a title"}))
    assert "only a title" in message["text"]
    assert email_content(alert({"url": URL})).subject == "(untitled)"


# --- email ------------------------------------------------------------------------------------


def test_subject_cannot_inject_headers() -> None:
    payload = item(title="Subject\r\nBcc: victim@example.com\u2028X-Evil: 1\x85Y: 2\x00")
    content = email_content(alert(payload))
    assert not re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", content.subject)
    raw = build_message(content, "monitor@example.org", ["analyst@example.org"]).as_bytes()
    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert "Bcc: victim@example.com" in str(parsed["Subject"])  # shown, as harmless text


def test_subject_is_length_limited_and_single_line() -> None:
    content = email_content(alert(item(title="Қазақстан " * 100)))
    assert len(content.subject) <= 200
    assert content.subject.startswith("[Kazakhstan–Pakistan] Қазақстан")
    assert content.subject.endswith("…")


def test_bidi_overrides_are_dropped() -> None:
    content = email_content(alert(item(title="invoice\u202egpj.exe")))
    assert "\u202e" not in content.subject and "\u202e" not in content.html
    assert "\u202e" not in json.dumps(slack_message(alert(item(title="a\u202eb"))))


def test_html_part_escapes_markup_from_feeds() -> None:
    payload = item(
        title=HOSTILE,
        summary='<img src=x onerror="alert(1)"> <a href="javascript:x">x</a>\n\nsecond',
        aliases=["<b>Pakistan</b>"],
        source="<i>wire</i>",
    )
    content = email_content(alert(payload))
    html = content.html
    for raw in ("<script>", "<img", "<b>", "<i>", 'href="javascript'):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert f'<a href="{URL.replace("&", "&amp;")}">' in html
    assert "<p>second</p>" in html
    # The text part shows the same text unescaped; it is plain text.
    assert HOSTILE in content.text and URL in content.text


def test_message_id_is_stable_valid_and_unique_per_key() -> None:
    key = "item:0123456789abcdef:kz-pk"
    first = email_content(alert(item(), key=key)).message_id
    again = email_content(alert(item(title="changed"), key=key)).message_id
    assert first == again == message_id(key)
    assert re.fullmatch(r"<[A-Za-z0-9_.-]+@monitor\.invalid>", first)
    # Keys that clean to the same text still get different ids.
    assert message_id("a:b") != message_id("a b") != message_id("a/b")
    hostile = message_id("x>\r\nBcc: v@example.com <y")
    assert re.fullmatch(r"<[A-Za-z0-9_.-]+@monitor\.invalid>", hostile)
    raw = build_message(
        email_content(alert(item(), key=key)), "m@example.org", ["a@example.org"]
    ).as_bytes()
    assert message_from_bytes(raw, policy=default_policy)["Message-ID"] == first


def test_email_digest_lists_every_item() -> None:
    items = [item(title=f"story {n}") for n in range(60)]
    content = email_content(alert({"title": "Backfill", "items": items}, kind="digest"))
    assert content.subject == "Backfill"
    assert content.html.count("<li>") == 60
    assert "60. story 59" in content.text


# --- stories: story, update, breaking, development; digests with further reports ---------------


def story_alert(
    kind: str, priority: Priority, key: str = "story:s1:kz-pk", **changes: Any
) -> OutboxAlert:
    story = {
        "story_id": "s1",
        "priority": priority.label,
        "reported_by": ["Kazinform (kk)", "Xinhua (zh)"],
        "languages": ["en", "kk", "zh"],
    }
    payload = item(**{**story, **changes})
    return OutboxAlert(
        id=2, channel="team", kind=kind, key=key, payload=dict(payload), priority=priority
    )


def test_a_story_reads_also_reported_by_with_its_languages() -> None:
    message = slack_message(story_alert("story", Priority.NORMAL))
    shown = "\n".join(texts(message))
    assert "Also reported by Kazinform (kk), Xinhua (zh) · in en, kk, zh" in shown
    assert message["blocks"][0]["text"]["text"] == "Kazakhstan–Pakistan"  # no mark: normal
    plain = plain_message(story_alert("story", Priority.NORMAL))
    assert plain.title == "[Kazakhstan–Pakistan] Kazakhstan and Pakistan sign a transit deal"
    assert "Also reported by Kazinform (kk), Xinhua (zh) · in en, kk, zh" in plain.body
    assert "Priority: normal" in plain.body
    assert (
        "Also reported by Kazinform (kk), Xinhua (zh)"
        in email_content(story_alert("story", Priority.NORMAL)).html
    )


@pytest.mark.parametrize(
    ("kind", "priority", "headline", "mark"),
    [
        ("development", Priority.URGENT, "Awaited development: rail deal signed", "URGENT"),
        ("breaking", Priority.HIGH, "Spreading: 4 outlets in 3 languages", "HIGH"),
    ],
)
def test_breaking_and_development_show_priority_and_headline_first(
    kind: str, priority: Priority, headline: str, mark: str
) -> None:
    alert_ = story_alert(kind, priority, headline=headline)
    message = slack_message(alert_)
    blocks = message["blocks"]
    assert blocks[0]["text"]["text"] == f"{mark} · Kazakhstan–Pakistan"
    assert blocks[1]["text"]["text"].startswith(f"*{headline}*\n<https://example.org/")
    assert f"*Priority*\n{priority.label}" in [f["text"] for f in blocks[2]["fields"]]
    assert message["text"].startswith(f"[{mark}] [Kazakhstan–Pakistan] {headline}: ")
    content = email_content(alert_)
    assert content.subject.startswith(f"[{mark}] [Kazakhstan–Pakistan] {headline}: Kazakhstan")
    assert content.text.startswith(f"{mark}: {headline}\n")
    assert f"<p><strong>{mark}: {headline}</strong></p>" in content.html


def test_an_update_reads_also_reported_by_outlet_and_language() -> None:
    update = story_alert(
        "update",
        Priority.LOW,
        key="update:i2:kz-pk",
        source="kazinform-kk",
        language="kk",
        title="Қазақстан мен Пәкістан",
        url="https://kazinform.kz/kk/1",
        outlet="Kazinform",
    )
    message = slack_message(update)
    assert message["blocks"][0]["text"]["text"] == (
        "*Also reported by Kazinform (kk):* <https://kazinform.kz/kk/1|Қазақстан мен Пәкістан>"
    )
    assert message["text"] == "Also reported by Kazinform (kk): Қазақстан мен Пәкістан"
    assert message["blocks"][-1]["block_id"] == "monitor-key:update:i2:kz-pk"
    plain = plain_message(update)
    assert plain.title == (
        "[Kazakhstan–Pakistan] Also reported by Kazinform (kk): Қазақстан мен Пәкістан"
    )
    assert plain.body.startswith("Also reported by Kazinform (kk):\nҚазақстан мен Пәкістан\n")
    # The policy's headline wins over the payload's outlet; without either, the source shows.
    headlined = story_alert("update", Priority.LOW, headline="Also reported by Xinhua (zh)")
    assert slack_message(headlined)["text"].startswith("Also reported by Xinhua (zh): ")
    bare = story_alert("update", Priority.LOW)
    assert slack_message(bare)["text"].startswith("Also reported by wire-en (en): ")


def test_hostile_text_in_every_new_kind_stays_inert() -> None:
    hostile = {
        "title": HOSTILE + " <http://evil.example|x>",
        "headline": "Awaited <!here> @channel <@U1>",
        "outlet": "<!everyone> Evil",
        "reported_by": ["<!channel> (kk)", "@here (zh)"],
        "languages": ["<@U2>"],
        "source": "<script>src</script>",
    }
    update = OutboxAlert(
        id=3,
        channel="team",
        kind="update",
        key="update:x",
        payload=dict(item(**hostile)),
        priority=Priority.LOW,
    )
    folded = alert(
        {
            "title": "digest",
            "items": [item(story_id="s1", **hostile)],
            "updates": [
                {"story_id": "s1", "title": HOSTILE, "url": URL, "reports": [item(**hostile)]},
                {
                    "story_id": "s9",
                    "title": HOSTILE,
                    "url": "javascript:x",
                    "reports": [item(**hostile)],
                },
            ],
        },
        kind="digest",
    )
    for kind in ("story", "breaking", "development"):
        case = story_alert(kind, Priority.URGENT, **hostile)
        _assert_inert(slack_message(case), email_content(case).html)
    _assert_inert(slack_message(update), email_content(update).html)
    _assert_inert(slack_message(folded), email_content(folded).html)
    subject = email_content(story_alert("development", Priority.URGENT, headline="a\r\nBcc: x"))
    assert "\n" not in subject.subject and "\r" not in subject.subject


def _assert_inert(message: dict[str, Any], html: str) -> None:
    dumped = json.dumps(message, ensure_ascii=False)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U1>", "<@U2>", "<script>"):
        assert raw not in dumped and raw not in html
    for ping in ("@here", "@channel", "@everyone"):
        assert ping not in dumped
    for text in texts(message):
        for link in links(text):
            target = link.split("|", 1)[0]
            assert target.startswith(("https://example.org/", "https://kazinform.kz/"))
            assert "evil.example" not in target


def test_folded_digest_groups_further_reports_under_their_story() -> None:
    reports = [
        item(
            item_id="r1",
            source="kazinform-kk",
            language="kk",
            url="https://kazinform.kz/1",
            outlet="Kazinform",
            story_id="s1",
        ),
        item(
            item_id="r2",
            source="xinhua-zh",
            language="zh",
            url="https://xinhua.example/2",
            outlet="Xinhua",
            story_id="s1",
        ),
    ]
    earlier = [item(item_id="r3", source="aa-tr", language="tr", outlet="Anadolu", story_id="s0")]
    payload = {
        "title": "monitor digest: 2 new stories, 3 further reports",
        "items": [
            item(story_id="s1"),
            item(story_id="s2", title="Gwadar port", priority="urgent", headline="Awaited: X"),
        ],
        "updates": [
            {"story_id": "s1", "title": "t", "url": URL, "watchlist_title": "", "reports": reports},
            {
                "story_id": "s0",
                "title": "An earlier story",
                "url": "https://example.org/old",
                "watchlist_title": "Kazakhstan–Pakistan",
                "reports": earlier,
            },
        ],
    }
    digest = alert(payload, kind="digest", key="digest:1-5:abc")
    message = slack_message(digest)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "Also reported by <https://kazinform.kz/1|Kazinform (kk)>, " in sections[0]
    assert "<https://xinhua.example/2|Xinhua (zh)>" in sections[0]
    assert sections[1].startswith("*URGENT* *Awaited: X* <https://example.org/")
    assert sections[2] == "*Further reports of earlier stories*"
    assert sections[3].startswith("<https://example.org/old|An earlier story>\n")
    assert sections[3].endswith(
        "\nAlso reported by <https://example.org/news/1?a=1&amp;b=2|Anadolu (tr)>"
    )
    assert message["text"].endswith(": 2 items, 3 further reports")

    plain = plain_message(digest)
    assert plain.body.startswith("2 items, 3 further reports\n\n1. Kazakhstan and Pakistan")
    assert "   Also reported by Kazinform (kk), Xinhua (zh)" in plain.body
    assert "     - Xinhua (zh): Kazakhstan and Pakistan sign a transit deal " in plain.body
    assert "2. [URGENT] Awaited: X: Gwadar port" in plain.body
    assert "- An earlier story https://example.org/old\n   Also reported by Anadolu (tr)" in (
        plain.body
    )
    html = email_content(digest).html
    assert '<a href="https://kazinform.kz/1">Kazinform (kk)</a>' in html
    assert "<h3>Further reports of earlier stories</h3>" in html


def test_an_email_reply_threads_under_its_parent() -> None:
    parent = story_alert("story", Priority.NORMAL)
    reply = story_alert("update", Priority.LOW, key="update:i2:kz-pk", outlet="Kazinform")
    content = email_content(reply, parent)
    assert content.in_reply_to == message_id("story:s1:kz-pk")
    assert content.message_id == message_id("update:i2:kz-pk")
    assert content.subject == "Re: " + email_content(parent).subject
    assert "Also reported by Kazinform (en)" in content.text
    message = build_message(content, "m@example.org", ["a@example.org"])
    assert message["In-Reply-To"] == message["References"] == message_id("story:s1:kz-pk")
    assert email_content(reply).in_reply_to is None
    assert build_message(email_content(reply), "m@example.org", ["a@b.org"])["In-Reply-To"] is None


def test_a_digest_with_many_further_reports_stays_within_slack_limits() -> None:
    groups = [
        {"story_id": f"old{n}", "title": f"earlier {n}", "url": URL, "reports": [item()] * 30}
        for n in range(60)
    ]
    payload = {"title": "digest", "items": [item(story_id=f"s{n}") for n in range(10)]}
    message = slack_message(alert({**payload, "updates": groups}, kind="digest"))
    blocks = message["blocks"]
    assert len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == DIGEST_ITEMS_SHOWN
    assert all(len(text) <= 3000 for text in sections)
    # 10 stories and 29 earlier ones shown (one section is the heading): 31 not shown.
    assert message["text"].endswith(": 10 items, 1800 further reports, 31 not shown")
    assert sections[-1].count("Also reported by") == 1 and "+18 more" in sections[-1]
