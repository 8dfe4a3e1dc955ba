"""`monitor export`: stored items as JSON lines or CSV, with their watchlists and the aliases
that matched. Pure formatting over what the store yields; no business logic."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from monitor.store.base import StoredItem, StorySummary

FIELDS = (
    "id",
    "story",
    "url",
    "source",
    "title",
    "language",
    "published",
    "watchlists",
    "aliases",
    "rules",
    "hits",
)


def row(stored: StoredItem) -> dict[str, Any]:
    item = stored.item
    return {
        "id": item.id,
        "story": stored.story_id,
        "url": item.url,
        "source": item.source,
        "title": item.title,
        "language": item.language,
        "published": item.published.isoformat() if item.published else None,
        "watchlists": [m.watchlist for m in stored.matches],
        "aliases": {m.watchlist: m.aliases for m in stored.matches},
        "rules": {m.watchlist: m.rule for m in stored.matches},
        # The explanation: every alias found, where (field and character offsets).
        "hits": {
            m.watchlist: [
                {
                    "entity": h.entity,
                    "surface": h.surface,
                    "field": h.field,
                    "start": h.start,
                    "end": h.end,
                }
                for h in m.hits
            ]
            for m in stored.matches
        },
    }


def rows(items: Iterable[StoredItem]) -> Iterator[dict[str, Any]]:
    return (row(stored) for stored in items)


def write_jsonl(items: Iterable[StoredItem], out: TextIO) -> int:
    count = 0
    for record in rows(items):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


STORY_FIELDS = (
    "id",
    "title",
    "first_at",
    "first_seen",
    "size",
    "languages",
    "outlets",
    "sources",
    "watchlists",
    "alerted",
)


def story_row(story: StorySummary) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "first_at": story.first_at.isoformat(),
        "first_seen": story.created_at.isoformat(),
        "size": story.size,
        "languages": list(story.languages),
        "outlets": list(story.outlets),
        "sources": list(story.sources),
        "watchlists": list(story.watchlists),
        "alerted": list(story.alerted),
    }


def write_csv(items: Iterable[StoredItem], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for record in rows(items):
        record["watchlists"] = ";".join(record["watchlists"])
        record["aliases"] = ";".join(f"{w}: {'|'.join(a)}" for w, a in record["aliases"].items())
        record["rules"] = ";".join(f"{w}: {r}" for w, r in record["rules"].items())
        record["hits"] = ";".join(
            f"{w}: " + "|".join(f"{h['surface']}@{h['field']}:{h['start']}" for h in hits)
            for w, hits in record["hits"].items()
        )
        record["published"] = record["published"] or ""
        record["url"] = record["url"] or ""
        record["story"] = record["story"] or ""
        writer.writerow(record)
        count += 1
    return count
