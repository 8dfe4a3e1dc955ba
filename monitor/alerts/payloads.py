"""Build alert payloads (the JSON kept in the outbox) from pipeline records.

The shapes are the TypedDicts in `render.py`; this module only fills them, so that what an alert
says is decided when the alert is queued (in the item's transaction), not when it is sent.
"""

from __future__ import annotations

from monitor.alerts.render import DigestPayload, ItemPayload
from monitor.models import Item, Match

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
