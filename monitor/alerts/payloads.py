"""Build alert payloads (the JSON kept in the outbox) from pipeline records.

The shapes are the TypedDicts in `render.py`; this module only fills them, so that what an alert
says is decided when the alert is queued (in the item's transaction), not when it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from monitor.alerts.render import DigestPayload, ItemPayload, StoryReports
from monitor.models import Item, Match, OutboxAlert

SUMMARY_CHARS = 500


def item_payload(item: Item, match: Match, watchlist_title: str) -> ItemPayload:
    summary = item.summary or item.text
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1].rstrip() + "…"
    return ItemPayload(
        item_id=item.id,
        title=item.title or summary[:120],
        url=item.url,
        source=item.source,
        language=item.language,
        watchlist=match.watchlist,
        watchlist_title=watchlist_title,
        published=item.published.isoformat() if item.published else None,
        summary=summary,
        aliases=match.aliases,
        rule=match.rule,
    )


def digest_payload(title: str, items: list[ItemPayload]) -> DigestPayload:
    return DigestPayload(title=title, items=items)


def folded_digest(
    members: Sequence[OutboxAlert], parents: Mapping[str, OutboxAlert] | None = None
) -> DigestPayload:
    """The digest that carries `members`, the alerts of one channel folded at one boundary:
    new stories (and breaking news, developments) in queue order, and further reports
    ("update" alerts) grouped by story. A group takes its story's title and link from the
    story's first alert on the channel (`parents`, by its key) when it is not in this digest
    itself, else from its first report."""
    items: list[ItemPayload] = []
    groups: dict[str, StoryReports] = {}
    for alert in members:
        payload = cast(dict[str, Any], alert.payload if isinstance(alert.payload, dict) else {})
        if alert.kind == "digest":  # a digest folded into another: its lines, as they are
            items.extend(payload.get("items") or [])
            for group in payload.get("updates") or []:
                _group(groups, str(group.get("story_id") or ""), group)["reports"].extend(
                    group.get("reports") or []
                )
            continue
        entry = cast(ItemPayload, {**payload, "priority": alert.priority.label})
        if alert.kind != "update":
            items.append(entry)
            continue
        story = str(payload.get("story_id") or alert.thread_key or payload.get("item_id") or "")
        parent = (parents or {}).get(alert.thread_key or "")
        head = parent.payload if parent is not None and isinstance(parent.payload, dict) else {}
        _group(groups, story, head or payload)["reports"].append(entry)
    digest = DigestPayload(title=_digest_title(items, groups.values()), items=items)
    if groups:
        digest["updates"] = list(groups.values())
    return digest


def _group(groups: dict[str, StoryReports], story: str, head: Mapping[str, Any]) -> StoryReports:
    """The group of `story`'s further reports, made from `head` (its first alert's payload,
    else a report's) when it is the first."""
    if story not in groups:
        groups[story] = StoryReports(
            story_id=story,
            title=str(head.get("title") or ""),
            url=head.get("url"),
            watchlist_title=str(head.get("watchlist_title") or head.get("watchlist") or ""),
            reports=[],
        )
    return groups[story]


def _digest_title(items: Sequence[ItemPayload], groups: Iterable[StoryReports]) -> str:
    reports = sum(len(g["reports"]) for g in groups)
    parts = []
    if items:
        parts.append(f"{len(items)} new " + ("story" if len(items) == 1 else "stories"))
    if reports:
        parts.append(f"{reports} further " + ("report" if reports == 1 else "reports"))
    return "monitor digest: " + ", ".join(parts) if parts else "monitor digest"
