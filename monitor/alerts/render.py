"""Alert payloads and how each channel shows them. Pure: no I/O, no clock.

The payload shapes (TypedDicts below) are what the pipeline stores in the outbox; this module
turns one `OutboxAlert` into a Slack Block Kit message, an email (subject, text, HTML,
Message-ID) or a plain title + body (Apprise).

Everything in a payload came from a feed and is hostile. Each format has its own escaping:

- Slack mrkdwn: `&`, `<`, `>` become entities, so `<!channel>`, `<@U123>` and `<http://x|y>`
  stay text; `@channel`, `@here` and `@everyone` get a word joiner after the `@` so they cannot
  ping; a title inside `<url|title>` cannot close or split the link.
- Email: the subject is one line without control characters (no header injection); the HTML
  part escapes everything, and only http(s) URLs become links.
- Everywhere: control characters and bidirectional overrides are dropped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast
from urllib.parse import quote, urlsplit, urlunsplit

from monitor.models import OutboxAlert, hex16

__all__ = [
    "MESSAGE_ID_DOMAIN",
    "DigestPayload",
    "EmailContent",
    "ItemPayload",
    "PayloadError",
    "PlainMessage",
    "SelfTestPayload",
    "clean_block",
    "clean_line",
    "email_content",
    "message_id",
    "plain_message",
    "safe_url",
    "slack_message",
    "slack_text",
]


# --- payload shapes (what the outbox stores) ------------------------------------------------


class ItemPayload(TypedDict):
    """One item matched one watchlist: kinds "story" (a new story; "item" in outboxes written
    before stories existed), "update" (another report of a story already alerted: a thread
    reply or a digest line), "breaking" (the story is spreading fast) and "development" (it
    meets an awaited development). The story fields are absent from rows of older versions."""

    item_id: str
    title: str
    url: str | None
    source: str
    language: str
    watchlist: str
    watchlist_title: str
    published: str | None  # ISO 8601 with offset
    summary: str  # at most 500 characters
    aliases: list[str]  # matched surface forms
    rule: str
    story_id: NotRequired[str]
    priority: NotRequired[str]  # low | normal | high | urgent
    headline: NotRequired[str]  # why this alert: "Awaited: <development>", "Spreading: ..."
    reported_by: NotRequired[list[str]]  # other reports of the story: "Kazinform (kk)", ...
    languages: NotRequired[list[str]]  # the story's languages so far


class DigestPayload(TypedDict):
    """kind "digest": one message listing many items (import, backfill --alert, rematch)."""

    title: str
    items: list[ItemPayload]


class SelfTestPayload(TypedDict):
    """kind "test": `monitor alert-test`. (Not "TestPayload": pytest would try to collect it.)"""

    title: str
    text: str


class PayloadError(ValueError):
    """The stored payload cannot be rendered (unknown kind, not an object). Never retried."""


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    message_id: str


@dataclass(frozen=True)
class PlainMessage:
    title: str
    body: str


# --- limits ---------------------------------------------------------------------------------

SUBJECT_CHARS = 200
TITLE_CHARS = 300
SUMMARY_CHARS = 1000  # payloads hold 500; a longer stored one is cut, not trusted
ALIASES_SHOWN = 20
DIGEST_ITEMS_SHOWN = 40  # Slack allows 50 blocks per message
SLACK_HEADER_CHARS = 150  # Slack's limit for a header block
SLACK_BLOCK_ID_CHARS = 255  # Slack's limit for block_id
MESSAGE_ID_DOMAIN = "monitor.invalid"


# --- cleaning (all formats) -----------------------------------------------------------------

# Bidirectional embeddings, overrides and isolates can make a title display as something else
# (e.g. reverse "gpj.exe"). Joiners (U+200C/U+200D) stay: Urdu and Persian need them.
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_SPACES = re.compile(r"\s+")


def clean_line(value: object, limit: int = TITLE_CHARS) -> str:
    """One line of text: controls and line breaks become spaces, runs of space collapse."""
    text = str(value or "").translate(_BIDI)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) != "Cs"
    )
    return _shorten(_SPACES.sub(" ", text).strip(), limit)


def clean_block(value: object, limit: int = SUMMARY_CHARS) -> str:
    """Several lines (a summary): keeps line breaks, at most one blank line in a row."""
    text = str(value or "").translate(_BIDI).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    lines = [clean_line(line, limit) for line in text.split("\n")]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _shorten(joined, limit)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def safe_url(value: object) -> str | None:
    """The URL if it is http(s) with a host, made safe to embed (no spaces, quotes, `<>|`,
    non-ASCII path); None for anything else (`javascript:`, `data:`, relative, garbage)."""
    text = str(value or "").strip()
    if not text or any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.replace(host, host.encode("idna").decode("ascii"))
        except UnicodeError:
            return None
    if not re.fullmatch(r"[A-Za-z0-9.\-_~:@!$&'()*+,;=%\[\]]+", netloc):
        return None
    # Keep what is already valid in a URL (and existing %XX); encode the rest. `|` and quotes
    # are encoded too: they would end a Slack link or an HTML attribute.
    keep = "/:@!$&()*+,;=-._~%"
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=keep),
            quote(parts.query, safe=keep + "?"),
            quote(parts.fragment, safe=keep + "?#"),
        )
    )


def _when(value: object) -> str:
    """Publication time as the source gave it (its own offset), readable."""
    if not value:
        return "unknown"
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return clean_line(value, 40)
    if stamp.tzinfo is None:
        return stamp.strftime("%Y-%m-%d %H:%M")
    offset = stamp.strftime("%z")
    zone = "UTC" if offset in ("+0000", "-0000") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{stamp:%Y-%m-%d %H:%M} {zone}"


# --- reading stored payloads ----------------------------------------------------------------


def _item(raw: Any) -> ItemPayload:
    """An item payload read defensively: a stored row may be older or hand-made."""
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    aliases = data.get("aliases")
    alias_list = [str(a) for a in aliases] if isinstance(aliases, list | tuple) else []
    return ItemPayload(
        item_id=str(data.get("item_id") or ""),
        title=str(data.get("title") or ""),
        url=str(data["url"]) if data.get("url") else None,
        source=str(data.get("source") or ""),
        language=str(data.get("language") or "und"),
        watchlist=str(data.get("watchlist") or ""),
        watchlist_title=str(data.get("watchlist_title") or data.get("watchlist") or ""),
        published=str(data["published"]) if data.get("published") else None,
        summary=str(data.get("summary") or ""),
        aliases=alias_list,
        rule=str(data.get("rule") or ""),
    )


def _digest(payload: Mapping[str, Any]) -> DigestPayload:
    items = payload.get("items")
    return DigestPayload(
        title=str(payload.get("title") or "monitor digest"),
        items=[_item(i) for i in items] if isinstance(items, list) else [],
    )


def _self_test(payload: Mapping[str, Any]) -> SelfTestPayload:
    return SelfTestPayload(
        title=str(payload.get("title") or "monitor test alert"),
        text=str(payload.get("text") or ""),
    )


def _payload(alert: OutboxAlert) -> Mapping[str, Any]:
    if not isinstance(alert.payload, Mapping):
        raise PayloadError(f"alert {alert.id}: payload is not an object")
    if alert.kind not in ("item", "digest", "test"):
        raise PayloadError(f"alert {alert.id}: unknown kind {alert.kind!r}")
    return cast(Mapping[str, Any], alert.payload)


def _titled(item: ItemPayload) -> str:
    return clean_line(item["title"]) or clean_line(item["summary"], 120) or "(untitled)"


# --- Slack ----------------------------------------------------------------------------------

# `@here` etc. ping only with link_names or parse=full, but a word joiner costs nothing and also
# keeps them inert if someone pastes the text elsewhere.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone|group)\b)", re.IGNORECASE)
_WORD_JOINER = "\u2060"
SLACK_TEXT_CHARS = 3000  # Slack's limit for a section's text
SLACK_FIELD_CHARS = 2000  # Slack's limit for one section field
SLACK_URL_CHARS = 1500  # a longer link is left out rather than have Slack refuse the message


def _slack_escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + _WORD_JOINER, text)


def _fit(text: str, limit: int) -> str:
    """Escape `text` and shorten it (before escaping, so no entity is cut) until the escaped
    form fits Slack's `limit`, which counts the characters sent."""
    escaped = _slack_escape(text)
    while len(escaped) > limit:
        text = _shorten(text, len(text) - (len(escaped) - limit))
        escaped = _slack_escape(text)
    return escaped


def slack_text(value: object, limit: int = TITLE_CHARS) -> str:
    """One line of hostile text made inert for Slack mrkdwn (and plain_text), at most `limit`
    characters as sent."""
    return _fit(clean_line(value, limit), limit)


def _slack_link(url: str | None, title: str) -> str:
    """`<url|title>`, or the title alone when the URL is not http(s)."""
    # Inside a link the text cannot contain `>` (escaped), and a `|` would be read by some
    # clients as a second separator, so it becomes a look-alike.
    text = _fit(title, TITLE_CHARS).replace("|", "\u2223")
    target = safe_url(url)
    if target is None or len(target) > SLACK_URL_CHARS:
        return text
    # No broadcast escaping here: a word joiner would corrupt a URL, and a URL is not read
    # for mentions. safe_url has already encoded `<`, `>` and `|`.
    return f"<{target.replace('&', '&amp;')}|{text}>"


def _quote(text: str, limit: int) -> str:
    """A block quote of several lines within `limit` characters as sent."""
    lines = text.split("\n") if text else []
    quoted = "\n".join("> " + _slack_escape(line) for line in lines)
    while len(quoted) > limit and lines:
        excess = len(quoted) - limit
        last = lines[-1]
        lines[-1:] = [_shorten(last, len(last) - excess)] if len(last) > excess + 1 else []
        quoted = "\n".join("> " + _slack_escape(line) for line in lines)
    return quoted


def _plain(text: str, limit: int) -> dict[str, Any]:
    # plain_text is not parsed for mentions, but Slack still decodes the three entities in
    # it, so the same escaping applies.
    return {"type": "plain_text", "text": _fit(text, limit), "emoji": False}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _key_block(alert: OutboxAlert, extra: str = "") -> dict[str, Any]:
    """The idempotency key, visible and as block_id, so a receiver or a reader can spot a
    repeat (a send that succeeded but was not recorded is sent again)."""
    key = clean_line(alert.key, SLACK_BLOCK_ID_CHARS)
    text = (extra + " · " if extra else "") + f"key {slack_text(key, SLACK_BLOCK_ID_CHARS)}"
    return {
        "type": "context",
        "block_id": _shorten("monitor-key:" + key, SLACK_BLOCK_ID_CHARS),
        "elements": [_mrkdwn(text)],
    }


def _aliases(aliases: Sequence[str]) -> str:
    shown = [a for a in (clean_line(a, 80) for a in aliases[:ALIASES_SHOWN]) if a]
    if len(aliases) > ALIASES_SHOWN:
        shown.append(f"+{len(aliases) - ALIASES_SHOWN} more")
    return ", ".join(shown)


def slack_message(alert: OutboxAlert) -> dict[str, Any]:
    """The webhook body: Block Kit blocks plus a `text` fallback for notifications."""
    payload = _payload(alert)
    if alert.kind == "item":
        blocks, fallback = _slack_item(alert, _item(payload))
    elif alert.kind == "digest":
        blocks, fallback = _slack_digest(alert, _digest(payload))
    else:
        blocks, fallback = _slack_self_test(alert, _self_test(payload))
    return {
        "text": fallback,
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _heading(item: ItemPayload) -> str:
    return clean_line(item["watchlist_title"] or item["watchlist"]) or "monitor"


def _slack_item(alert: OutboxAlert, item: ItemPayload) -> tuple[list[dict[str, Any]], str]:
    title = _titled(item)
    link = _slack_link(item["url"], title)
    summary = _quote(clean_block(item["summary"]), SLACK_TEXT_CHARS - len(link) - 1)
    fields = [
        f"*Source*\n{slack_text(item['source'], 200)}",
        f"*Language*\n{slack_text(item['language'], 20)}",
        f"*Watchlist*\n{slack_text(item['watchlist'], 200)}",
        f"*Published*\n{slack_text(_when(item['published']), 60)}",
        f"*Matched*\n{slack_text(_aliases(item['aliases']) or '-', SLACK_FIELD_CHARS - 20)}",
    ]
    rule = f"rule {slack_text(item['rule'], 1000)}" if item["rule"] else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(_heading(item), SLACK_HEADER_CHARS)},
        {"type": "section", "text": _mrkdwn(link + ("\n" + summary if summary else ""))},
        {"type": "section", "fields": [_mrkdwn(f) for f in fields]},
        _key_block(alert, rule),
    ]
    fallback = f"{slack_text(_heading(item), 200)}: {slack_text(title)}"
    return blocks, fallback


def _slack_digest(alert: OutboxAlert, digest: DigestPayload) -> tuple[list[dict[str, Any]], str]:
    heading = clean_line(digest["title"]) or "monitor digest"
    items = digest["items"]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(heading, SLACK_HEADER_CHARS)}]
    for item in items[:DIGEST_ITEMS_SHOWN]:
        facts = (item["watchlist_title"], item["source"], item["language"])
        line = (
            _slack_link(item["url"], _titled(item))
            + "\n"
            + " · ".join(
                [slack_text(v, 100) for v in facts if v]
                + [slack_text(_when(item["published"]), 60)]
            )
        )
        aliases = _aliases(item["aliases"])
        if aliases:
            line += "\nMatched: " + slack_text(aliases, 500)
        blocks.append({"type": "section", "text": _mrkdwn(line)})
    hidden = len(items) - DIGEST_ITEMS_SHOWN
    count = f"{len(items)} items" + (f", {hidden} not shown" if hidden > 0 else "")
    blocks.append(_key_block(alert, count))
    return blocks, f"{slack_text(heading, 200)}: {len(items)} items"


def _slack_self_test(alert: OutboxAlert, test: SelfTestPayload) -> tuple[list[dict[str, Any]], str]:
    heading = clean_line(test["title"]) or "monitor test alert"
    text = _fit(clean_block(test["text"]), SLACK_TEXT_CHARS) or "-"
    blocks = [
        {"type": "header", "text": _plain(heading, SLACK_HEADER_CHARS)},
        {"type": "section", "text": _mrkdwn(text)},
        _key_block(alert),
    ]
    return blocks, slack_text(heading, 200)


# --- plain text (email text part, Apprise) --------------------------------------------------


def plain_message(alert: OutboxAlert) -> PlainMessage:
    """A title and a plain-text body; URLs appear only when they are http(s)."""
    payload = _payload(alert)
    if alert.kind == "item":
        item = _item(payload)
        heading = clean_line(item["watchlist_title"] or item["watchlist"])
        title = f"[{heading}] {_titled(item)}" if heading else _titled(item)
        return PlainMessage(_shorten(title, SUBJECT_CHARS), _plain_item(item))
    if alert.kind == "digest":
        digest = _digest(payload)
        lines = [f"{len(digest['items'])} items", ""]
        for number, item in enumerate(digest["items"], 1):
            lines.append(f"{number}. {_titled(item)}")
            lines.extend(
                "   " + line for line in _plain_facts(item, with_summary=False).split("\n")
            )
            lines.append("")
        title = clean_line(digest["title"], SUBJECT_CHARS) or "monitor digest"
        return PlainMessage(title, "\n".join(lines).rstrip() + "\n")
    test = _self_test(payload)
    return PlainMessage(
        clean_line(test["title"], SUBJECT_CHARS) or "monitor test alert",
        clean_block(test["text"]) + "\n",
    )


def _plain_item(item: ItemPayload) -> str:
    return f"{_titled(item)}\n{_plain_facts(item, with_summary=True)}\n"


def _plain_facts(item: ItemPayload, *, with_summary: bool) -> str:
    lines = []
    url = safe_url(item["url"])
    if url:
        lines.append(url)
    lines += [
        f"Source: {clean_line(item['source'])}",
        f"Language: {clean_line(item['language'], 20)}",
        f"Watchlist: {clean_line(item['watchlist_title'])} ({clean_line(item['watchlist'])})",
        f"Published: {_when(item['published'])}",
        f"Matched: {_aliases(item['aliases']) or '-'}",
    ]
    if item["rule"]:
        lines.append(f"Rule: {clean_line(item['rule'])}")
    summary = clean_block(item["summary"])
    if with_summary and summary:
        lines += ["", summary]
    return "\n".join(lines)


# --- email ----------------------------------------------------------------------------------


def message_id(key: str) -> str:
    """A stable Message-ID from the idempotency key: every attempt of one alert carries the
    same id, so a mail system can drop a repeat. The readable part is cut down to dot-atom
    characters; the hash keeps keys that clean to the same text apart."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")[:64].strip("-")
    local = f"{readable}.{hex16(key)}" if readable else hex16(key)
    return f"<{local}@{MESSAGE_ID_DOMAIN}>"


def email_content(alert: OutboxAlert) -> EmailContent:
    """Subject (one clean line), text and HTML parts, Message-ID."""
    plain = plain_message(alert)
    subject = clean_line(plain.title, SUBJECT_CHARS) or "monitor alert"
    footer = f"\n-- \nmonitor alert {clean_line(alert.key)}\n"
    return EmailContent(
        subject=subject,
        text=plain.body + footer,
        html=_html(alert),
        message_id=message_id(alert.key),
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_link(url: str | None, text: str) -> str:
    target = safe_url(url)
    if target is None:
        return _esc(text)
    return f'<a href="{_esc(target)}">{_esc(text)}</a>'


def _html_facts(item: ItemPayload) -> str:
    rows = [
        ("Source", clean_line(item["source"])),
        ("Language", clean_line(item["language"], 20)),
        ("Watchlist", f"{clean_line(item['watchlist_title'])} ({clean_line(item['watchlist'])})"),
        ("Published", _when(item["published"])),
        ("Matched", _aliases(item["aliases"]) or "-"),
    ]
    if item["rule"]:
        rows.append(("Rule", clean_line(item["rule"])))
    cells = "".join(f'<tr><th align="left">{_esc(k)}</th><td>{_esc(v)}</td></tr>' for k, v in rows)
    return f"<table>{cells}</table>"


def _html_paragraphs(text: str) -> str:
    return "".join(f"<p>{_esc(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p)


def _html(alert: OutboxAlert) -> str:
    payload = _payload(alert)
    if alert.kind == "item":
        item = _item(payload)
        heading = clean_line(item["watchlist_title"] or item["watchlist"]) or "monitor"
        body = (
            f"<h2>{_esc(heading)}</h2>"
            f"<h3>{_html_link(item['url'], _titled(item))}</h3>"
            f"{_html_facts(item)}"
            f"{_html_paragraphs(clean_block(item['summary']))}"
        )
        title = heading
    elif alert.kind == "digest":
        digest = _digest(payload)
        title = clean_line(digest["title"]) or "monitor digest"
        entries = "".join(
            f"<li><strong>{_html_link(i['url'], _titled(i))}</strong>{_html_facts(i)}</li>"
            for i in digest["items"]
        )
        body = f"<h2>{_esc(title)}</h2><ol>{entries}</ol>"
    else:
        test = _self_test(payload)
        title = clean_line(test["title"]) or "monitor test alert"
        body = f"<h2>{_esc(title)}</h2>{_html_paragraphs(clean_block(test['text']))}"
    footer = f"<p><small>monitor alert {_esc(clean_line(alert.key))}</small></p>"
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title></head><body>{body}{footer}</body></html>\n"
    )
