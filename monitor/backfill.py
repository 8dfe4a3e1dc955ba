"""`monitor backfill`: reach back through what each source offers, down to a date.

Listing pages are followed through their pagination, sitemap indexes into their child sitemaps,
feeds through RFC 5005 paged/archived links. Every page goes through the same `ingest` as a poll,
with alerts off, so a second run stores nothing new (idempotent). The walk of each source is
checkpointed in the store after every page (`cursors`), so a killed backfill resumes where it
stopped; a finished walk clears its checkpoint. The new matches found so far are checkpointed
too, so that the digest of a resumed `backfill --alert` names those the killed run found (a
kill between a page's save and its checkpoint can still leave that page's out: the resumed
walk finds its items stored already).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from loguru import logger

from monitor.enrich import localize
from monitor.errors import SourceError
from monitor.pipeline import (
    Context,
    Counts,
    Found,
    ingest,
    may_save,
    queue_digest,
    source_zone,
)

# progress(source, pages_done, pages_known): called after every page
Progress = Callable[[str, int, int], None]


@dataclass
class SourceBackfill:
    source: str
    pages: int = 0
    counts: Counts = field(default_factory=Counts)
    errors: list[str] = field(default_factory=list)
    resumed: bool = False


@dataclass
class BackfillReport:
    sources: list[SourceBackfill] = field(default_factory=list)
    digests: int = 0

    @property
    def counts(self) -> Counts:
        total = Counts()
        for source in self.sources:
            total.add(source.counts)
        return total


def cursor_key(source: str, since: datetime, until: datetime | None) -> str:
    return f"backfill:{source}:{_window(since, until)}"


def finds_key(since: datetime, until: datetime | None) -> str:
    """Where the new matches of a backfill over this window are kept until it ends."""
    return f"backfill-found:{_window(since, until)}"


def _window(since: datetime, until: datetime | None) -> str:
    return f"{since.isoformat()}:{until.isoformat() if until else '-'}"


async def backfill(
    ctx: Context,
    since: datetime,
    until: datetime | None = None,
    names: Sequence[str] | None = None,
    *,
    alert: bool = False,
    progress: Progress | None = None,
) -> BackfillReport:
    report = BackfillReport()
    finds = _Finds(ctx, finds_key(since, until))
    chosen = [ctx.sources[n] for n in names] if names else list(ctx.sources.values())
    for source in chosen:
        if not source.enabled:
            continue
        with may_save(ctx):
            report.sources.append(await _walk(ctx, source.name, since, until, finds, progress))
    if alert:
        report.digests = queue_digest(
            ctx, f"Backfill since {since.date().isoformat()}: new matches", finds.found
        )
    finds.clear()
    return report


class _Finds:
    """The new matches of one backfill, kept in the store (a cursor) as they are found."""

    def __init__(self, ctx: Context, key: str) -> None:
        self.ctx = ctx
        self.key = key
        self.found: list[Found] = []
        saved = ctx.store.get_cursor(key)
        for item_id, watchlist in json.loads(saved) if saved else []:
            stored = ctx.store.find_item(item_id)
            match = next(
                (m for m in (stored.matches if stored else ()) if m.watchlist == watchlist), None
            )
            if stored is not None and match is not None:
                self.found.append(Found(stored.item, match, stored.story_id or stored.item.id))

    def save(self) -> None:
        pairs = [[one.item.id, one.match.watchlist] for one in self.found]
        self.ctx.store.set_cursor(self.key, json.dumps(pairs))

    def clear(self) -> None:
        self.ctx.store.set_cursor(self.key, None)


async def _walk(
    ctx: Context,
    name: str,
    since: datetime,
    until: datetime | None,
    finds: _Finds,
    progress: Progress | None,
) -> SourceBackfill:
    source = ctx.sources[name]
    zone = source_zone(source, ctx.settings)
    result = SourceBackfill(name)
    key = cursor_key(name, since, until)
    saved = ctx.store.get_cursor(key)
    if saved:
        state = json.loads(saved)
        queue, seen, result.pages = state["queue"], set(state["seen"]), state["pages"]
        result.resumed = True
        logger.info("backfill {}: resuming after {} pages", name, result.pages)
    else:
        queue, seen = [source.url], {source.url}
    while queue and result.pages < source.max_pages:
        url = queue[0]
        try:
            fetched = await ctx.fetcher.fetch(
                url, source=name, headers=source.headers, verify_tls=source.verify_tls
            )
            parsed = await ctx.enricher.parse(source, fetched)
            page = parsed.page
        except SourceError as exc:
            result.errors.append(f"{url}: {exc}")
            logger.warning("backfill {}: {}: {}", name, url, exc)
            queue.pop(0)
            continue
        before = len(finds.found)
        counts = await ingest(
            ctx, source, parsed.batch, alert=False, since=since, until=until, found=finds.found
        )
        if len(finds.found) > before:
            finds.save()  # before the page's checkpoint (see the module docstring)
        result.counts.add(counts)
        result.pages += 1
        queue.pop(0)
        dated = [localize(e.published, zone) for e in page.entries if e.published]
        reached_since = bool(dated) and all(d is not None and d < since for d in dated)
        if not reached_since:
            for nxt in page.next_pages:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        ctx.store.set_cursor(
            key, json.dumps({"queue": queue, "seen": sorted(seen), "pages": result.pages})
        )
        if progress:
            progress(name, result.pages, result.pages + len(queue))
    ctx.store.set_cursor(key, None)
    return result
