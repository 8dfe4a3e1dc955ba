"""The one place where the pieces meet.

    due sources -> fetch -> parse -> decide (known? changed?) -> article pages
    -> enrich (extract, language, match: `monitor.enrich`, in-process or in worker processes)
    -> store items + matches + outbox alerts (one transaction per batch) -> corpus files

Retrieval runs in parallel (feeds, then the article pages of one feed); parsing and writes stay
on the event loop's thread; enrichment runs on the other cores when `cpu_workers` > 0. The
daemon's tick, `monitor poll`,
`monitor backfill` and `monitor import` all go through `ingest`, so there is one code path.
Errors of one source come back as a `PollReport` with status "error" and never stop the others.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from loguru import logger

from monitor import schedule
from monitor.batching import Gather
from monitor.config import Settings, SourceConfig
from monitor.enrich import (
    Ahead,
    Batch,
    Candidate,
    Enriched,
    Enricher,
    Job,
    localize,
    needs_page,
)
from monitor.errors import MonitorError, ParseError, SourceError, TransientFetchError
from monitor.leases import lease_is_dead, local_worker
from monitor.models import (
    Entry,
    Evidence,
    FetchResult,
    Item,
    Match,
    ParsedPage,
    SourceState,
    Validators,
    utcnow,
)
from monitor.sources.fetch import Fetcher
from monitor.store import corpus
from monitor.store.base import AlertIntent, ItemWrite, Store
from monitor.stories.evidence import evidence_of
from monitor.stories.policy import AlertPolicy
from monitor.watch.watchlists import Watchlists


@dataclass
class Context:
    """Everything a pipeline run needs, built once by the CLI (see `monitor.app`)."""

    settings: Settings
    store: Store
    sources: dict[str, SourceConfig]
    watchlists: Watchlists
    enricher: Enricher
    fetcher: Fetcher
    clock: Callable[[], datetime] = utcnow
    worker: str = field(default_factory=local_worker)
    leases_checked: bool = False
    sources_synced: bool = False  # the store's source rows match `sources` (once per context)
    saving: int = 0  # polls (and backfills) under way, whose saves may be gathered

    @property
    def corpus_root(self) -> Path:
        return self.settings.corpus_path

    @cached_property
    def policy(self) -> AlertPolicy:
        return AlertPolicy(self.settings, self.watchlists, self.clock)

    @cached_property
    def saves(self) -> Gather[ItemWrite, Saved]:
        """The saves of the sources polled together, gathered into shared transactions."""
        return Gather(
            lambda writes: save_batches(self, writes),
            SAVE_BATCH,
            SAVE_WAIT,
            lambda: self.saving,  # when all of them wait, no other save can come
        )


@dataclass
class Counts:
    entries: int = 0
    new: int = 0
    updated: int = 0
    matched: int = 0
    alerts: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        # Spelled out: once per item saved, and a loop over the names cost ten times as much.
        self.entries += other.entries
        self.new += other.new
        self.updated += other.updated
        self.matched += other.matched
        self.alerts += other.alerts
        self.skipped += other.skipped


@dataclass
class PollReport:
    source: str
    status: str  # ok | not_modified | unchanged | error | busy
    counts: Counts = field(default_factory=Counts)
    error: str | None = None
    next_due: datetime | None = None


# --- building items --------------------------------------------------------------------------


def source_zone(source: SourceConfig, settings: Settings) -> ZoneInfo:
    return ZoneInfo(source.timezone or settings.timezone)


# --- ingestion -------------------------------------------------------------------------------


async def _page(ctx: Context, source: SourceConfig, url: str) -> FetchResult | None:
    """The article page, or None when it cannot be had (the summary stands in)."""
    try:
        return await ctx.fetcher.fetch(
            url, source=source.name, headers=source.headers, verify_tls=source.verify_tls
        )
    except MonitorError as exc:
        logger.warning("source {}: article {}: {}", source.name, url, exc)
        return None


def _in_window(
    entry: Entry, since: datetime | None, until: datetime | None, zone: ZoneInfo
) -> bool:
    published = localize(entry.published, zone)
    if published is None:
        return True
    if since is not None and published < since:
        return False
    return not (until is not None and published >= until)


async def ingest(
    ctx: Context,
    source: SourceConfig,
    batch: Batch,
    *,
    alert: bool,
    first_poll: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    found: list[Found] | None = None,
) -> Counts:
    """Store what is new or changed among the entries of `batch` (see `Enricher.parse`);
    return what happened. New matched items are appended to `found` when given (for a
    digest)."""
    counts = Counts(entries=len(batch.candidates) + len(batch.unusable))
    zone = source_zone(source, ctx.settings)
    for title in batch.unusable:
        logger.warning("source {}: entry without a usable link: {!r}", source.name, title)
    counts.skipped += len(batch.unusable)
    ahead = batch.ahead or (None,) * len(batch.candidates)
    candidates = []
    for candidate, done in zip(batch.candidates, ahead, strict=True):
        if _in_window(candidate.entry, since, until, zone):
            candidates.append((candidate, done))
        else:
            counts.skipped += 1
    known = ctx.store.known([c.id for c, _ in candidates], [c.url for c, _ in candidates])
    fresh: list[tuple[Candidate, Enriched | None]] = []
    for candidate, done in candidates:
        stored = known.get(candidate.id) or known.get(candidate.url)
        if stored is not None and stored == candidate.hash:
            counts.skipped += 1
            continue
        fresh.append((candidate, done))
    # Oldest first, so corpus sequence numbers follow publication order.
    fresh.sort(key=lambda pair: _sort_key(pair[0].entry, zone))
    min_chars = ctx.settings.full_text_min_chars
    todo = [c for c, done in fresh if done is None]
    pages = await asyncio.gather(
        *(
            _page(ctx, source, c.url) if needs_page(source, c.entry, min_chars) else _none()
            for c in todo
        )
    )
    now = ctx.clock()
    jobs = [Job(source, c, page, str(zone), now) for c, page in zip(todo, pages, strict=True)]
    enriched = iter(await ctx.enricher.run(jobs))
    writes = []
    for candidate, done in fresh:
        item, matches, evidence = done or next(enriched)
        may = alert and candidate.id not in known and candidate.url not in known
        writes.append(with_alerts(ctx, item, matches, evidence, alert=may, first_poll=first_poll))
    for write, saved in zip(writes, await ctx.saves.call(writes), strict=True):
        counts.add(saved.counts)
        if saved.status == "new" and found is not None:
            found.extend(saved.found(write.item))
    return counts


async def _none() -> None:
    return None


def _sort_key(entry: Entry, zone: ZoneInfo) -> tuple[int, datetime]:
    published = localize(entry.published, zone)
    if published is None:
        return (1, datetime.min.replace(tzinfo=zone))
    return (0, published)


@dataclass(frozen=True)
class Found:
    """A new item that matched a watchlist, and its story (for a digest of new stories)."""

    item: Item
    match: Match
    story_id: str


@dataclass(frozen=True)
class Saved:
    """What storing one item did."""

    counts: Counts
    status: str
    matches: tuple[Match, ...]
    story_id: str | None = None

    def found(self, item: Item) -> list[Found]:
        return [Found(item, match, self.story_id or item.id) for match in self.matches]


# Items saved in one transaction at most, from one source or several (the gathered saves of
# several sources never exceed it: see monitor.batching).
SAVE_BATCH = 500
SAVE_WAIT = 0.02  # seconds a save waits for those of other sources (see monitor.batching)


def save_batches(ctx: Context, writes: Sequence[ItemWrite]) -> list[Saved]:
    """`save_batch` over `writes`, SAVE_BATCH at a time."""
    saved: list[Saved] = []
    for start in range(0, len(writes), SAVE_BATCH):
        saved += save_batch(ctx, writes[start : start + SAVE_BATCH])
    return saved


def with_alerts(
    ctx: Context,
    item: Item,
    matches: tuple[Match, ...],
    evidence: Evidence | None = None,
    *,
    alert: bool,
    first_poll: bool = False,
) -> ItemWrite:
    """What one save will write: a matched item carries its story evidence, and whether it
    may alert at all (asked to, and recent enough); the store's call to the policy
    (`monitor.stories.policy`) decides which alerts, once its story is known."""
    if not matches:
        return ItemWrite(item)
    may = alert and schedule.may_alert(
        item.published, ctx.clock(), ctx.settings.alerts.max_age, first_poll
    )
    if evidence is None:
        evidence = evidence_of(item, ctx.enricher.matcher)
    return ItemWrite(item, matches, evidence=evidence, alert=may)


def save_batch(ctx: Context, batch: Sequence[ItemWrite]) -> list[Saved]:
    """Store items (with their outbox rows) in one transaction, then write their corpus files."""
    results = ctx.store.save_items(batch, ctx.policy)
    saved = []
    entries: list[corpus.CorpusEntry] = []
    for write, result in zip(batch, results, strict=True):
        counts = Counts()
        if result.status == "new":
            counts.new += 1
        elif result.status == "updated":
            counts.updated += 1
        else:
            counts.skipped += 1
        if result.status != "unchanged" and write.matches:
            counts.matched += 1
        counts.alerts += len(result.alerts)
        entries.extend(result.corpus)
        saved.append(Saved(counts, result.status, write.matches, result.story_id))
    write_corpus(ctx, entries, {w.item.id: w.item for w in batch})
    return saved


def save(ctx: Context, item: Item, *, alert: bool, first_poll: bool = False) -> Saved:
    """Match, store and write the corpus files of one item."""
    matches = tuple(ctx.enricher.matcher.match(item))
    write = with_alerts(ctx, item, matches, alert=alert, first_poll=first_poll)
    return save_batch(ctx, [write])[0]


def queue_digest(ctx: Context, title: str, found: Sequence[Found]) -> int:
    """One digest message per channel of the new stories that import, backfill or rematch
    found: a line per story and watchlist, with its other reports. A story already alerted
    is left out, and the stories listed count as alerted from now on (in the same
    transaction as the digest is queued), so a later report of one is an update."""
    stories: dict[tuple[str, str], list[tuple[Item, Match]]] = {}
    for one in found:
        stories.setdefault((one.story_id, one.match.watchlist), []).append((one.item, one.match))
    if not stories:
        return 0

    def build(new: Sequence[tuple[str, str]]) -> list[AlertIntent]:
        return ctx.policy.digest(title, {pair: stories[pair] for pair in new})

    return ctx.store.alert_stories(sorted(stories), build)


def write_corpus(
    ctx: Context, entries: Sequence[corpus.CorpusEntry], items: dict[str, Item]
) -> None:
    """Write corpus files after the commit that recorded them, then confirm them."""
    if not entries:
        return
    pairs = []
    for entry in entries:
        item = items.get(entry.item_id)
        if item is None:
            stored = ctx.store.find_item(entry.item_id)
            if stored is None:
                logger.error("corpus entry {} has no stored item", entry)
                continue
            item = stored.item
        pairs.append((entry, item))
    corpus.write_entries(ctx.corpus_root, pairs)
    ctx.store.mark_corpus_written([entry for entry, _ in pairs])


def reconcile_corpus(ctx: Context) -> int:
    """Write corpus files recorded but not confirmed (a kill between commit and write)."""
    total = 0
    while batch := ctx.store.unwritten_corpus(limit=500):
        write_corpus(ctx, batch, {})
        total += len(batch)
    if total:
        logger.info("wrote {} corpus files left over from an interrupted run", total)
    return total


# --- polling ---------------------------------------------------------------------------------


async def poll_source(ctx: Context, source: SourceConfig, state: SourceState) -> PollReport:
    """Poll one source and record the outcome on `state` (the caller saves it, with the
    others of the batch, which also releases the lease). Never raises for source errors."""
    with may_save(ctx):
        return await _poll_source(ctx, source, state)


@contextmanager
def may_save(ctx: Context) -> Iterator[None]:
    """Marks a task that may call `ingest`: saves wait for one another only while such tasks
    are under way (see `Context.saves`)."""
    ctx.saving += 1
    try:
        yield
    finally:
        ctx.saving -= 1


async def _poll_source(ctx: Context, source: SourceConfig, state: SourceState) -> PollReport:
    now = ctx.clock()
    interval = source.interval or ctx.settings.schedule.default_interval
    first_poll = state.last_success is None
    state.last_polled = now
    report = PollReport(source.name, "ok")
    try:
        result = await ctx.fetcher.fetch(
            source.url,
            source=source.name,
            validators=Validators(state.etag, state.last_modified),
            headers=source.headers,
            verify_tls=source.verify_tls,
        )
        hint = schedule.cache_max_age(result.headers.get("cache-control"))
        if result.not_modified:
            report.status = "not_modified"
        elif state.content_hash == (digest := hex16_bytes(result.content)):
            report.status = "unchanged"
        else:
            # On a first poll every entry is new: the worker that parses the feed enriches
            # the entries too, instead of getting them back later.
            ahead = (
                Ahead(str(source_zone(source, ctx.settings)), now, ctx.settings.full_text_min_chars)
                if first_poll and source.is_feed
                else None
            )
            parsed = await ctx.enricher.parse(source, result, ahead)
            page, batch = parsed.page, parsed.batch
            since = None
            if source.kind == "sitemap":
                batch += await _child_sitemaps(ctx, source, page)
                # A sitemap lists a site's archive; a poll wants news, backfill wants history.
                since = now - SITEMAP_POLL_WINDOW
            for warning in page.warnings:
                logger.debug("source {}: {}", source.name, warning)
            report.counts = await ingest(
                ctx, source, batch, alert=True, first_poll=first_poll, since=since
            )
            state.content_hash = digest
        state.etag = result.etag or state.etag
        state.last_modified = result.last_modified or state.last_modified
        state.failures = 0
        state.last_status = report.status
        state.last_success = now
        state.last_error = None
        state.items_total += report.counts.new
        state.next_due = schedule.next_success(now, interval, ctx.settings.schedule, hint)
    except (SourceError, ParseError) as exc:
        retry_after = exc.retry_after if isinstance(exc, TransientFetchError) else None
        state.failures += 1
        state.last_status = "error"
        state.last_error = str(exc)
        state.next_due = schedule.next_failure(
            now, interval, state.failures, ctx.settings.schedule, retry_after
        )
        report.status = "error"
        report.error = str(exc)
        logger.warning(
            "source {} failed ({} in a row, next try {}): {}",
            source.name,
            state.failures,
            state.next_due.isoformat(timespec="seconds"),
            exc,
        )
    report.next_due = state.next_due
    if report.status == "ok":
        c = report.counts
        logger.info(
            "source {}: {} entries, {} new, {} updated, {} matched, {} alerts",
            source.name,
            c.entries,
            c.new,
            c.updated,
            c.matched,
            c.alerts,
        )
    return report


SITEMAP_POLL_WINDOW = timedelta(days=7)
SITEMAP_CHILDREN = 3


async def _child_sitemaps(ctx: Context, source: SourceConfig, index: ParsedPage) -> Batch:
    """A poll of a sitemap index reads its newest few child sitemaps."""
    batch = Batch()
    for url in index.next_pages[:SITEMAP_CHILDREN]:
        child = await ctx.fetcher.fetch(
            url, source=source.name, headers=source.headers, verify_tls=source.verify_tls
        )
        batch += (await ctx.enricher.parse(source, child)).batch
    return batch


def hex16_bytes(content: bytes) -> str:
    """Digest of a response body: the same bytes as last time are skipped unparsed."""
    return hashlib.sha256(content).hexdigest()[:16]


def release_dead_leases(ctx: Context) -> int:
    """Free the leases of killed local workers now, instead of waiting for them to expire.
    Leases of other hosts are left to expire: we cannot tell whether those workers live."""
    released = 0
    for state in ctx.store.list_sources():
        if state.lease_until is None or not lease_is_dead(state.lease_owner):
            continue
        past = state.lease_until + timedelta(seconds=1)
        taken = ctx.store.claim(state.name, ctx.worker, ctx.clock(), now=past)
        if taken is not None:
            ctx.store.save_source(taken)
            released += 1
            logger.info("released the lease of dead worker {} on {}", state.lease_owner, state.name)
    return released


async def run_due(
    ctx: Context, names: Sequence[str] | None = None, *, force: bool = False
) -> list[PollReport]:
    """Claim due sources, or with `force` the named ones (all when None) whatever their due
    time, and poll them concurrently. The shared code path of the daemon's tick and of
    `monitor poll`."""
    now = ctx.clock()
    lease_until = now + timedelta(seconds=ctx.settings.schedule.lease)
    if not ctx.sources_synced:
        ctx.store.sync_sources(ctx.sources)
        ctx.sources_synced = True
    states: list[SourceState] = []
    busy: list[PollReport] = []
    if not ctx.leases_checked:
        release_dead_leases(ctx)
        ctx.leases_checked = True
    if force:
        wanted = list(names or ctx.sources)
        states = ctx.store.claim_named(wanted, ctx.worker, lease_until)
        claimed = {s.name for s in states}
        busy = [
            PollReport(name, "busy", error="leased by another worker")
            for name in wanted
            if name not in claimed
        ]
    else:
        states = ctx.store.claim_due(now, ctx.settings.schedule.batch, ctx.worker, lease_until)
    reconcile_corpus(ctx)
    tasks = []
    for state in states:
        source = ctx.sources.get(state.name)
        if source is not None and source.enabled:
            tasks.append(poll_source(ctx, source, state))
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        # Items were stored as each source went; the states (validators, next due time) are
        # written last, in one transaction, and that releases the leases.
        ctx.store.save_sources(states)
    reports = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        reports.append(result)
    return reports + busy
