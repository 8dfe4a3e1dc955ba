"""Alert payloads and how each channel shows them. Pure: no I/O, no clock.

The payload shapes (TypedDicts below) are what the pipeline stores in the outbox; this module
turns one `OutboxAlert` into a Slack Block Kit message, an email (subject, text, HTML,
Message-ID, In-Reply-To) or a plain title + body (Apprise).

Kinds of alert and how they read:

    story (item)    a new story: watchlist, linked title, summary, facts, "also reported by"
    breaking        the story is spreading: priority and headline first, then as a story
    development     an awaited development: the same, priority URGENT
    update          another report of a story already alerted, as a thread reply:
                    "Also reported by <outlet> (<lang>): <title>"
    digest          many alerts at once; further reports grouped under their story
    test            `monitor alert-test`

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

from monitor.models import OutboxAlert, Priority, hex16

__all__ = [
    "KINDS",
    "MESSAGE_ID_DOMAIN",
    "DigestPayload",
    "EmailContent",
    "ItemPayload",
    "PayloadError",
    "PlainMessage",
    "SelfTestPayload",
    "StoryReports",
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
    outlet: NotRequired[str]  # who published this report ("Kazinform"); else `source` is shown


class StoryReports(TypedDict):
    """In a folded digest: the further reports of one story (its "update" alerts)."""

    story_id: str
    title: str  # the story's, from its first alert on the channel (else the first report's)
    url: str | None
    watchlist_title: str
    reports: list[ItemPayload]


class DigestPayload(TypedDict):
    """kind "digest": one message listing many items (import, backfill --alert, rematch, and
    the alerts folded for a channel in digest mode or quiet hours)."""

    title: str
    items: list[ItemPayload]
    updates: NotRequired[list[StoryReports]]  # further reports, grouped by story


class SelfTestPayload(TypedDict):
    """kind "test": `monitor alert-test`. (Not "TestPayload": pytest would try to collect it.)"""

    title: str
    text: str


# Every kind an outbox row may have; "item" is a story queued before stories existed.
STORY_KINDS = frozenset({"item", "story", "breaking", "development"})
KINDS = STORY_KINDS | {"update", "digest", "test"}


class PayloadError(ValueError):
    """The stored payload cannot be rendered (unknown kind, not an object). Never retried."""


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    message_id: str
    in_reply_to: str | None = None  # the Message-ID of the alert this one replies to


@dataclass(frozen=True)
class PlainMessage:
    title: str
    body: str


# --- limits ---------------------------------------------------------------------------------

SUBJECT_CHARS = 200
TITLE_CHARS = 300
SUMMARY_CHARS = 1000  # payloads hold 500; a longer stored one is cut, not trusted
ALIASES_SHOWN = 20
REPORTS_SHOWN = 12  # outlets named in one "also reported by" line
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


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def _item(raw: Any) -> ItemPayload:
    """An item payload read defensively: a stored row may be older or hand-made."""
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    item = ItemPayload(
        item_id=str(data.get("item_id") or ""),
        title=str(data.get("title") or ""),
        url=str(data["url"]) if data.get("url") else None,
        source=str(data.get("source") or ""),
        language=str(data.get("language") or "und"),
        watchlist=str(data.get("watchlist") or ""),
        watchlist_title=str(data.get("watchlist_title") or data.get("watchlist") or ""),
        published=str(data["published"]) if data.get("published") else None,
        summary=str(data.get("summary") or ""),
        aliases=_strings(data.get("aliases")),
        rule=str(data.get("rule") or ""),
    )
    # The story fields, only when present (rows queued before stories have none).
    if data.get("story_id"):
        item["story_id"] = str(data["story_id"])
    if data.get("priority"):
        item["priority"] = str(data["priority"])
    if data.get("headline"):
        item["headline"] = str(data["headline"])
    if data.get("outlet"):
        item["outlet"] = str(data["outlet"])
    if data.get("reported_by"):
        item["reported_by"] = _strings(data["reported_by"])
    if data.get("languages"):
        item["languages"] = _strings(data["languages"])
    return item


def _reports(raw: Any) -> StoryReports:
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    reports = data.get("reports")
    return StoryReports(
        story_id=str(data.get("story_id") or ""),
        title=str(data.get("title") or ""),
        url=str(data["url"]) if data.get("url") else None,
        watchlist_title=str(data.get("watchlist_title") or ""),
        reports=[_item(r) for r in reports] if isinstance(reports, list) else [],
    )


def _digest(payload: Mapping[str, Any]) -> DigestPayload:
    items = payload.get("items")
    digest = DigestPayload(
        title=str(payload.get("title") or "monitor digest"),
        items=[_item(i) for i in items] if isinstance(items, list) else [],
    )
    updates = payload.get("updates")
    if isinstance(updates, list) and updates:
        digest["updates"] = [_reports(u) for u in updates]
    return digest


def _self_test(payload: Mapping[str, Any]) -> SelfTestPayload:
    return SelfTestPayload(
        title=str(payload.get("title") or "monitor test alert"),
        text=str(payload.get("text") or ""),
    )


def _payload(alert: OutboxAlert) -> Mapping[str, Any]:
    if not isinstance(alert.payload, Mapping):
        raise PayloadError(f"alert {alert.id}: payload is not an object")
    if alert.kind not in KINDS:
        raise PayloadError(f"alert {alert.id}: unknown kind {alert.kind!r}")
    return cast(Mapping[str, Any], alert.payload)


@dataclass(frozen=True)
class _Entry:
    """A digest line: a story (or item) and the further reports of it in the same digest."""

    item: ItemPayload
    reports: list[ItemPayload]


def _entries(digest: DigestPayload) -> tuple[list[_Entry], list[StoryReports]]:
    """The digest's items, each with its further reports when they came in the same digest,
    and the reports of stories alerted earlier (listed after them)."""
    groups = {g["story_id"]: g for g in digest.get("updates", []) if g["reports"]}
    entries = []
    for item in digest["items"]:
        group = groups.pop(item.get("story_id", ""), None)
        entries.append(_Entry(item, group["reports"] if group else []))
    return entries, list(groups.values())


def _report_count(digest: DigestPayload) -> int:
    return sum(len(g["reports"]) for g in digest.get("updates", []))


def _digest_count(digest: DigestPayload, shown: int) -> str:
    """The count line, "3 items, 5 further reports", and how many entries were not
    among the `shown`."""
    entries, earlier = _entries(digest)
    total = len(entries) + len(earlier)
    reports = _report_count(digest)
    count = f"{len(digest['items'])} items"
    if reports:
        count += f", {reports} further reports"
    hidden = total - shown
    return count + (f", {hidden} not shown" if hidden > 0 else "")


# --- facts shared by every format (clean text, not yet escaped for any format) --------------


def _titled(item: ItemPayload | StoryReports) -> str:
    summary = item.get("summary", "")
    return clean_line(item["title"]) or clean_line(summary, 120) or "(untitled)"


def _heading(item: ItemPayload) -> str:
    return clean_line(item["watchlist_title"] or item["watchlist"])


def _priority(item: ItemPayload, default: Priority = Priority.NORMAL) -> Priority:
    try:
        return Priority.parse(item.get("priority", default))
    except ValueError:
        return default


def _mark(priority: Priority) -> str:
    """What flags an alert above the usual: "HIGH", "URGENT"; nothing for low and normal."""
    return priority.label.upper() if priority >= Priority.HIGH else ""


def _headline(kind: str, item: ItemPayload) -> str:
    """What the alert is about, shown before the title: the payload's headline ("Awaited
    development: ...", "Spreading: ..."), else the kind for breaking and development alerts;
    empty for a plain story."""
    default = {"breaking": "Breaking", "development": "Development"}.get(kind, "")
    return clean_line(item.get("headline", ""), 200) or default


def _outlet(item: ItemPayload) -> str:
    """Who published a report, in which language: "Kazinform (kk)"."""
    name = clean_line(item.get("outlet") or item["source"], 100) or "unknown"
    return f"{name} ({clean_line(item['language'], 20)})"


def _reported(item: ItemPayload) -> str:
    """The first words of an update: its headline ("Also reported by Kazinform (kk)", as the
    policy wrote it), else the same built from the payload."""
    return clean_line(item.get("headline", ""), 200) or f"Also reported by {_outlet(item)}"


def _named(names: Sequence[str]) -> str:
    shown = [n for n in (clean_line(n, 100) for n in names[:REPORTS_SHOWN]) if n]
    if len(names) > REPORTS_SHOWN:
        shown.append(f"+{len(names) - REPORTS_SHOWN} more")
    return ", ".join(shown)


def _also(item: ItemPayload) -> str:
    """A story payload's other reports: "Also reported by Kazinform (kk), Xinhua (zh) · in
    en, kk, zh"; empty when it has none."""
    named = _named(item.get("reported_by", []))
    if not named:
        return ""
    languages = _named(item.get("languages", []))
    return f"Also reported by {named}" + (f" · in {languages}" if languages else "")


def _aliases(aliases: Sequence[str]) -> str:
    shown = [a for a in (clean_line(a, 80) for a in aliases[:ALIASES_SHOWN]) if a]
    if len(aliases) > ALIASES_SHOWN:
        shown.append(f"+{len(aliases) - ALIASES_SHOWN} more")
    return ", ".join(shown)


def _subject(kind: str, item: ItemPayload, priority: Priority) -> str:
    """One line naming the alert: "[URGENT] [Kazakhstan–Pakistan] Awaited: ...: <title>"."""
    parts = [f"[{_mark(priority)}]"] if _mark(priority) else []
    heading = _heading(item)
    if heading:
        parts.append(f"[{heading}]")
    if kind == "update":
        parts.append(f"{_reported(item)}:")
    elif _headline(kind, item):
        parts.append(f"{_headline(kind, item)}:")
    parts.append(_titled(item))
    return _shorten(" ".join(parts), SUBJECT_CHARS)


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


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}


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


def slack_message(alert: OutboxAlert) -> dict[str, Any]:
    """The message body: Block Kit blocks plus a `text` fallback for notifications. (The Web
    API sender adds `channel` and `thread_ts`.)"""
    payload = _payload(alert)
    if alert.kind in STORY_KINDS:
        blocks, fallback = _slack_item(alert, _item(payload))
    elif alert.kind == "update":
        blocks, fallback = _slack_update(alert, _item(payload))
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


def _slack_reports(reports: Sequence[ItemPayload]) -> str:
    """The reports as one line, each outlet a link to its report: "Also reported by
    <url|Kazinform (kk)>, ..."."""
    links = [_slack_link(r["url"], _outlet(r)) for r in reports[:REPORTS_SHOWN]]
    if len(reports) > REPORTS_SHOWN:
        links.append(f"+{len(reports) - REPORTS_SHOWN} more")
    return "Also reported by " + ", ".join(links)


def _slack_item(alert: OutboxAlert, item: ItemPayload) -> tuple[list[dict[str, Any]], str]:
    title = _titled(item)
    heading = _heading(item) or "monitor"
    mark = _mark(alert.priority)
    headline = _headline(alert.kind, item)
    lead = f"*{slack_text(headline, 200)}*\n" if headline else ""
    link = lead + _slack_link(item["url"], title)
    summary = _quote(clean_block(item["summary"]), SLACK_TEXT_CHARS - len(link) - 1)
    fields = [
        f"*Source*\n{slack_text(item['source'], 200)}",
        f"*Language*\n{slack_text(item['language'], 20)}",
        f"*Watchlist*\n{slack_text(item['watchlist'], 200)}",
        f"*Published*\n{slack_text(_when(item['published']), 60)}",
        f"*Matched*\n{slack_text(_aliases(item['aliases']) or '-', SLACK_FIELD_CHARS - 20)}",
        f"*Priority*\n{alert.priority.label}",
    ]
    rule = f"rule {slack_text(item['rule'], 1000)}" if item["rule"] else ""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": _plain(f"{mark} · {heading}" if mark else heading, SLACK_HEADER_CHARS),
        },
        {"type": "section", "text": _mrkdwn(link + ("\n" + summary if summary else ""))},
        {"type": "section", "fields": [_mrkdwn(f) for f in fields]},
    ]
    also = _also(item)
    if also:
        blocks.append(_context(_fit(also, SLACK_TEXT_CHARS)))
    blocks.append(_key_block(alert, rule))
    fallback = slack_text(_subject(alert.kind, item, alert.priority), SUBJECT_CHARS)
    return blocks, fallback


def _slack_update(alert: OutboxAlert, item: ItemPayload) -> tuple[list[dict[str, Any]], str]:
    """A further report, short: it usually sits in the thread of the story's first alert."""
    line = f"*{slack_text(_reported(item), 200)}:* " + _slack_link(item["url"], _titled(item))
    facts = [item["watchlist_title"] or item["watchlist"], _when(item["published"])]
    aliases = _aliases(item["aliases"])
    if aliases:
        facts.append("matched " + aliases)
    blocks = [
        {"type": "section", "text": _mrkdwn(line)},
        _key_block(alert, " · ".join(slack_text(f, 500) for f in facts if f)),
    ]
    return blocks, slack_text(f"{_reported(item)}: {_titled(item)}", SUBJECT_CHARS)


def _slack_digest(alert: OutboxAlert, digest: DigestPayload) -> tuple[list[dict[str, Any]], str]:
    heading = clean_line(digest["title"]) or "monitor digest"
    entries, earlier = _entries(digest)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(heading, SLACK_HEADER_CHARS)}]
    budget = DIGEST_ITEMS_SHOWN  # sections, so that the message stays within 50 blocks
    for entry in entries[:budget]:
        blocks.append({"type": "section", "text": _mrkdwn(_slack_entry(entry))})
    shown = min(len(entries), budget)
    budget -= shown
    if earlier and budget > 1:
        blocks.append({"type": "section", "text": _mrkdwn("*Further reports of earlier stories*")})
        for group in earlier[: budget - 1]:
            line = (
                _slack_link(group["url"], _titled(group)) + "\n" + _slack_reports(group["reports"])
            )
            blocks.append({"type": "section", "text": _mrkdwn(_fit_mrkdwn(line))})
            shown += 1
    count = _digest_count(digest, shown)
    blocks.append(_key_block(alert, count))
    return blocks, f"{slack_text(heading, 200)}: {count}"


def _slack_entry(entry: _Entry) -> str:
    item = entry.item
    mark = _mark(_priority(item))
    headline = clean_line(item.get("headline", ""), 200)
    lines = [
        (f"*{mark}* " if mark else "")
        + (f"*{slack_text(headline, 200)}* " if headline else "")
        + _slack_link(item["url"], _titled(item)),
        " · ".join(
            [slack_text(v, 100) for v in (item["watchlist_title"], item["source"]) if v]
            + [slack_text(item["language"], 20), slack_text(_when(item["published"]), 60)]
        ),
    ]
    aliases = _aliases(item["aliases"])
    if aliases:
        lines.append("Matched: " + slack_text(aliases, 500))
    if entry.reports:
        lines.append(_slack_reports(entry.reports))
    elif _also(item):
        lines.append(_fit(_also(item), 1000))
    return _fit_mrkdwn("\n".join(lines))


def _fit_mrkdwn(text: str) -> str:
    """Built mrkdwn cut to Slack's section limit at a line break (never inside a link)."""
    while len(text) > SLACK_TEXT_CHARS and "\n" in text:
        text = text.rsplit("\n", 1)[0]
    return text if len(text) <= SLACK_TEXT_CHARS else text[: SLACK_TEXT_CHARS - 1] + "…"


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
    if alert.kind in STORY_KINDS or alert.kind == "update":
        item = _item(payload)
        title = _subject(alert.kind, item, alert.priority)
        return PlainMessage(title, _plain_item(alert, item))
    if alert.kind == "digest":
        digest = _digest(payload)
        title = clean_line(digest["title"], SUBJECT_CHARS) or "monitor digest"
        return PlainMessage(title, _plain_digest(digest))
    test = _self_test(payload)
    return PlainMessage(
        clean_line(test["title"], SUBJECT_CHARS) or "monitor test alert",
        clean_block(test["text"]) + "\n",
    )


def _plain_item(alert: OutboxAlert, item: ItemPayload) -> str:
    lines = []
    if alert.kind == "update":
        lines.append(f"{_reported(item)}:")
    elif _headline(alert.kind, item):
        lines.append(
            f"{_mark(alert.priority) or alert.priority.label.upper()}: "
            f"{_headline(alert.kind, item)}"
        )
    lines += [_titled(item), _plain_facts(item, alert.priority, with_summary=True)]
    return "\n".join(lines) + "\n"


def _plain_facts(item: ItemPayload, priority: Priority, *, with_summary: bool) -> str:
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
        f"Priority: {priority.label}",
    ]
    if item["rule"]:
        lines.append(f"Rule: {clean_line(item['rule'])}")
    if _also(item):
        lines.append(_also(item))
    summary = clean_block(item["summary"])
    if with_summary and summary:
        lines += ["", summary]
    return "\n".join(lines)


def _plain_reports(reports: Sequence[ItemPayload]) -> list[str]:
    """The reports as a line, "Also reported by A (kk), B (zh)", then each report's title
    and URL on a line of its own."""
    lines = ["Also reported by " + _named([_outlet(r) for r in reports])]
    for report in reports:
        url = safe_url(report["url"])
        lines.append(f"  - {_outlet(report)}: {_titled(report)}" + (f" {url}" if url else ""))
    return lines


def _plain_digest(digest: DigestPayload) -> str:
    entries, earlier = _entries(digest)
    lines = [_digest_count(digest, len(entries) + len(earlier)), ""]
    for number, entry in enumerate(entries, 1):
        item = entry.item
        mark = _mark(_priority(item))
        headline = clean_line(item.get("headline", ""), 200)
        prefix = (f"[{mark}] " if mark else "") + (f"{headline}: " if headline else "")
        lines.append(f"{number}. {prefix}{_titled(item)}")
        facts = _plain_facts(item, _priority(item), with_summary=False).split("\n")
        if entry.reports:
            facts += _plain_reports(entry.reports)
        lines.extend("   " + line for line in facts)
        lines.append("")
    if earlier:
        lines += ["Further reports of earlier stories", ""]
        for group in earlier:
            url = safe_url(group["url"])
            lines.append(f"- {_titled(group)}" + (f" {url}" if url else ""))
            lines.extend("   " + line for line in _plain_reports(group["reports"]))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- email ----------------------------------------------------------------------------------


def message_id(key: str) -> str:
    """A stable Message-ID from the idempotency key: every attempt of one alert carries the
    same id, so a mail system can drop a repeat. The readable part is cut down to dot-atom
    characters; the hash keeps keys that clean to the same text apart."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")[:64].strip("-")
    local = f"{readable}.{hex16(key)}" if readable else hex16(key)
    return f"<{local}@{MESSAGE_ID_DOMAIN}>"


def email_content(alert: OutboxAlert, parent: OutboxAlert | None = None) -> EmailContent:
    """Subject (one clean line), text and HTML parts, Message-ID. A reply to `parent` (the
    alert whose thread it joins) takes its subject, "Re: ...", and its Message-ID as
    In-Reply-To, so mail clients thread it."""
    plain = plain_message(alert)
    subject = clean_line(plain.title, SUBJECT_CHARS) or "monitor alert"
    in_reply_to = None
    if parent is not None:
        first = clean_line(plain_message(parent).title, SUBJECT_CHARS - 4) or "monitor alert"
        subject = first if first.startswith("Re: ") else f"Re: {first}"
        in_reply_to = message_id(parent.key)
    footer = f"\n-- \nmonitor alert {clean_line(alert.key)}\n"
    return EmailContent(
        subject=subject,
        text=plain.body + footer,
        html=_html(alert),
        message_id=message_id(alert.key),
        in_reply_to=in_reply_to,
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_link(url: str | None, text: str) -> str:
    target = safe_url(url)
    if target is None:
        return _esc(text)
    return f'<a href="{_esc(target)}">{_esc(text)}</a>'


def _html_reports(reports: Sequence[ItemPayload]) -> str:
    links = [_html_link(r["url"], _outlet(r)) for r in reports[:REPORTS_SHOWN]]
    if len(reports) > REPORTS_SHOWN:
        links.append(_esc(f"+{len(reports) - REPORTS_SHOWN} more"))
    return f"<p>Also reported by {', '.join(links)}</p>"


def _html_facts(item: ItemPayload, priority: Priority) -> str:
    rows = [
        ("Source", clean_line(item["source"])),
        ("Language", clean_line(item["language"], 20)),
        ("Watchlist", f"{clean_line(item['watchlist_title'])} ({clean_line(item['watchlist'])})"),
        ("Published", _when(item["published"])),
        ("Matched", _aliases(item["aliases"]) or "-"),
        ("Priority", priority.label),
    ]
    if item["rule"]:
        rows.append(("Rule", clean_line(item["rule"])))
    cells = "".join(f'<tr><th align="left">{_esc(k)}</th><td>{_esc(v)}</td></tr>' for k, v in rows)
    also = f"<p>{_esc(_also(item))}</p>" if _also(item) else ""
    return f"<table>{cells}</table>{also}"


def _html_paragraphs(text: str) -> str:
    return "".join(f"<p>{_esc(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p)


def _html_item(alert: OutboxAlert, item: ItemPayload) -> tuple[str, str]:
    heading = _heading(item) or "monitor"
    mark = _mark(alert.priority)
    lead = ""
    if alert.kind == "update":
        lead = f"<p><strong>{_esc(_reported(item))}</strong></p>"
    elif _headline(alert.kind, item):
        label = mark or alert.priority.label.upper()
        lead = f"<p><strong>{_esc(label)}: {_esc(_headline(alert.kind, item))}</strong></p>"
    title = f"{mark} · {heading}" if mark else heading
    body = (
        f"<h2>{_esc(title)}</h2>{lead}"
        f"<h3>{_html_link(item['url'], _titled(item))}</h3>"
        f"{_html_facts(item, alert.priority)}"
        f"{_html_paragraphs(clean_block(item['summary']))}"
    )
    return title, body


def _html_digest(digest: DigestPayload) -> tuple[str, str]:
    title = clean_line(digest["title"]) or "monitor digest"
    entries, earlier = _entries(digest)
    rows = []
    for entry in entries:
        item = entry.item
        mark = _mark(_priority(item))
        headline = clean_line(item.get("headline", ""), 200)
        prefix = (f"[{mark}] " if mark else "") + (f"{headline}: " if headline else "")
        reports = _html_reports(entry.reports) if entry.reports else ""
        rows.append(
            f"<li>{_esc(prefix)}<strong>{_html_link(item['url'], _titled(item))}</strong>"
            f"{_html_facts(item, _priority(item))}{reports}</li>"
        )
    body = f"<h2>{_esc(title)}</h2><ol>{''.join(rows)}</ol>"
    if earlier:
        groups = "".join(
            f"<li><strong>{_html_link(g['url'], _titled(g))}</strong>"
            f"{_html_reports(g['reports'])}</li>"
            for g in earlier
        )
        body += f"<h3>Further reports of earlier stories</h3><ul>{groups}</ul>"
    return title, body


def _html(alert: OutboxAlert) -> str:
    payload = _payload(alert)
    if alert.kind in STORY_KINDS or alert.kind == "update":
        title, body = _html_item(alert, _item(payload))
    elif alert.kind == "digest":
        title, body = _html_digest(_digest(payload))
    else:
        test = _self_test(payload)
        title = clean_line(test["title"]) or "monitor test alert"
        body = f"<h2>{_esc(title)}</h2>{_html_paragraphs(clean_block(test['text']))}"
    footer = f"<p><small>monitor alert {_esc(clean_line(alert.key))}</small></p>"
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title></head><body>{body}{footer}</body></html>\n"
    )
