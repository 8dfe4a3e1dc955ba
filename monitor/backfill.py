"""`monitor backfill`: reach back through what each source offers, down to a date.

Listing pages are followed through their pagination, sitemap indexes into their child sitemaps,
feeds through RFC 5005 paged/archived links. Every page goes through the same `ingest` as a poll,
with alerts off, so a second run stores nothing new (idempotent). The walk of each source is
checkpointed in the store after every page (`cursors`), so a killed backfill resumes where it
stopped; a finished walk clears its checkpoint.
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
    return f"backfill:{source}:{since.isoformat()}:{until.isoformat() if until else '-'}"


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
    found: list[Found] = []
    chosen = [ctx.sources[n] for n in names] if names else list(ctx.sources.values())
    for source in chosen:
        if not source.enabled:
            continue
        with may_save(ctx):
            report.sources.append(await _walk(ctx, source.name, since, until, found, progress))
    if alert:
        report.digests = queue_digest(
            ctx, f"Backfill since {since.date().isoformat()}: new matches", found
        )
    return report


async def _walk(
    ctx: Context,
    name: str,
    since: datetime,
    until: datetime | None,
    found: list[Found],
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
        counts = await ingest(
            ctx, source, parsed.batch, alert=False, since=since, until=until, found=found
        )
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
