"""From what a source said to a stored-ready item: article extraction, language, matching.

This is the CPU-bound part of a poll. `enrich` is a pure function of its job (plus a compiled
matcher), so it runs the same in the polling process or in a worker process (`Enricher` with
`cpu_workers > 0`), where it uses the machine's other cores while the polling process fetches
and writes.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from loguru import logger

from monitor import heap
from monitor.config import SourceConfig
from monitor.errors import ParseError
from monitor.models import (
    Article,
    Entry,
    Evidence,
    FetchResult,
    Item,
    Match,
    ParsedPage,
    hex16,
)
from monitor.sources.extract import extract_article, squeezed
from monitor.sources.pages import parse_page
from monitor.stories.evidence import evidence_from
from monitor.text.language import detect_language
from monitor.urls import canonical_url
from monitor.watch.matcher import Matcher
from monitor.watch.watchlists import load_watchlists

try:
    import fcntl  # pipe sizes (Linux)
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")


def localize(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A naive date from a source is read in the source's zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def entry_id(entry: Entry, url: str) -> str:
    return hex16(entry.guid) if entry.guid else hex16(url)


def entry_hash(entry: Entry) -> str:
    """What the source said about an item; a change means the item was updated."""
    published = entry.published.isoformat() if entry.published else ""
    return hex16("\x1f".join((entry.title, entry.summary, entry.content or "", published)))


def needs_page(source: SourceConfig, entry: Entry, min_chars: int) -> bool:
    """Fetch the article page when the feed gave only a summary (or the source says always)."""
    if source.full_text == "never":
        return False
    if source.full_text == "always" or not source.is_feed:
        return True
    return entry.content is None or len(entry.content) < min_chars


@dataclass(frozen=True)
class Candidate:
    """An entry with a usable link, and the keys it is looked up and compared by."""

    entry: Entry
    url: str  # canonical
    id: str
    hash: str  # `entry_hash`: a change means the item was updated


def build_item(
    source: SourceConfig,
    candidate: Candidate,
    article: Article | None,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> Item:
    entry = candidate.entry
    title = squeezed(entry.title or (article.title if article else ""))
    text = (article.text if article and article.text else entry.content or entry.summary).strip()
    published = localize(entry.published, zone) or localize(
        article.published if article else None, zone
    )
    sample = f"{title}\n{text[:3000]}"
    return Item(
        id=candidate.id,
        url=candidate.url,
        source=source.name,
        guid=entry.guid,
        title=title,
        summary=squeezed(entry.summary)[:2000],
        text=text,
        published=published,
        language=detect_language(sample, hint=source.language or entry.language),
        fetched_at=now,
        entry_hash=candidate.hash,
    )


@dataclass(frozen=True)
class Job:
    """One entry to enrich: what the source said, and its article page when one was fetched."""

    source: SourceConfig
    candidate: Candidate
    page: FetchResult | None
    zone: str
    now: datetime


# An item, the watchlists it matched, and (when it matched any) its story evidence.
Enriched = tuple[Item, tuple[Match, ...], Evidence]


@dataclass(frozen=True)
class Batch:
    """A page's entries made ready for `pipeline.ingest`: the candidates, the titles of
    entries without a usable link, and (on a source's first poll) each candidate already
    enriched where it needs no article page, else None."""

    candidates: tuple[Candidate, ...] = ()
    unusable: tuple[str, ...] = ()
    ahead: tuple[Enriched | None, ...] = ()

    def __add__(self, other: Batch) -> Batch:
        ahead = (self.ahead or (None,) * len(self.candidates)) + (
            other.ahead or (None,) * len(other.candidates)
        )
        return Batch(
            self.candidates + other.candidates,
            self.unusable + other.unusable,
            ahead if any(ahead) else (),
        )


def batch_of(entries: Sequence[Entry]) -> Batch:
    candidates = []
    unusable = []
    for entry in entries:
        raw = entry.url or (entry.guid or "")
        if not raw.startswith(("http://", "https://")):
            unusable.append(entry.title)
            continue
        url = canonical_url(raw)
        candidates.append(Candidate(entry, url, entry_id(entry, url), entry_hash(entry)))
    return Batch(tuple(candidates), tuple(unusable))


@dataclass(frozen=True)
class Ahead:
    """Enrich a page's entries along with parsing it: on a source's first poll, when they are
    all new, this saves shipping them to a worker twice."""

    zone: str
    now: datetime
    min_chars: int


@dataclass(frozen=True)
class Parsed:
    page: ParsedPage
    batch: Batch


def enrich(job: Job, matcher: Matcher) -> Enriched:
    article = None
    if job.page is not None:
        try:
            article = extract_article(
                job.page.content,
                url=job.page.url,
                encoding=job.page.encoding,
                selector=job.source.content_selector,
            )
        except ParseError as exc:
            logger.warning("source {}: article {}: {}", job.source.name, job.candidate.url, exc)
    item = build_item(job.source, job.candidate, article, zone=ZoneInfo(job.zone), now=job.now)
    _ = item.content_hash  # kept on the item: the polling process needs it twice
    found, mentioned = matcher.match_mentioned(item)
    # Stories need evidence only of matched items (the others stand alone): found here, on
    # the enrichment cores, not in the polling process, from the matcher's own scan.
    return item, tuple(found), evidence_from(item, mentioned) if found else _NO_EVIDENCE


# One object for every unmatched item, so that a batch of them crosses to the polling process
# as one (pickle sends an object once per message): unpickling a fresh empty Evidence (three
# frozensets) for each was a third of the cost of receiving a first poll's items.
_NO_EVIDENCE = Evidence()


# --- running it ------------------------------------------------------------------------------

_worker_matcher: Matcher | None = None


def _start_worker(watchlists_dir: str) -> None:
    global _worker_matcher
    # Ctrl-C reaches the whole process group: the polling process stops the workers itself
    # (Enricher.close), so a worker must not die of it mid-batch with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_matcher = Matcher.compile(load_watchlists(Path(watchlists_dir)))
    detect_language("warm-up: load the language identification model")
    heap.settle()


def _ready() -> bool:
    return _worker_matcher is not None


def _enrich_all(jobs: Sequence[Job], matcher: Matcher) -> list[Enriched]:
    return [enrich(job, matcher) for job in jobs]


def _parse(
    source: SourceConfig, result: FetchResult, ahead: Ahead | None, matcher: Matcher
) -> Parsed:
    page = parse_page(source, result)
    batch = batch_of(page.entries)
    if ahead is not None:
        enriched = tuple(
            None
            if needs_page(source, c.entry, ahead.min_chars)
            else enrich(Job(source, c, None, ahead.zone, ahead.now), matcher)
            for c in batch.candidates
        )
        batch = Batch(batch.candidates, batch.unusable, enriched)
    return Parsed(page, batch)


# Bytes a pipe between the polling process and its workers holds (Linux's default cap for
# an unprivileged process; its default size is 64 KiB).
PIPE_BYTES = 1 << 20


def pipe_max_size() -> int:
    """The largest pipe an unprivileged process may ask for (Linux's setting; PIPE_BYTES
    where it cannot be read)."""
    try:
        return int(Path("/proc/sys/fs/pipe-max-size").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return PIPE_BYTES


def _widen_pipes(pool: ProcessPoolExecutor) -> None:
    """Let the pool's pipes hold a whole call and a whole result. A feed goes to a worker as
    ~120 KB and comes back parsed as ~190 KB: through a 64 KiB pipe a worker's write waits
    until the polling process's result thread, which needs the interpreter lock, has read
    the rest, and the worker stood idle ~2 ms per feed (11 % of a first poll). Linux only
    (elsewhere, or when refused, the pipes stay as they are); the queues are the pool's own
    attributes, the same in Python 3.11 to 3.13 (a test checks that the pipes widen)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # (None without fcntl too)
    if set_size is None:
        return
    size = min(PIPE_BYTES, pipe_max_size())
    for queue in (getattr(pool, "_call_queue", None), getattr(pool, "_result_queue", None)):
        reader = getattr(queue, "_reader", None)
        if reader is None:
            continue
        try:
            fcntl.fcntl(reader.fileno(), set_size, size)
        except OSError as exc:  # e.g. over the user's pipe quota
            logger.debug("enrichment pipes keep their size: {}", exc)
            return


class _TheWorkersMatcher:
    """Shipped in place of a `Matcher` argument: the worker puts its own there."""


def _in_worker(work: Callable[..., T], args: tuple[Any, ...]) -> T:
    """Run `work` in a worker, with the worker's own matcher where the caller had one."""
    assert _worker_matcher is not None, "worker started without its initializer"
    return work(*(_worker_matcher if isinstance(arg, _TheWorkersMatcher) else arg for arg in args))


# Calls queued per worker before the polling process does the next one itself.
BACKLOG_PER_WORKER = 16


class Enricher:
    """Runs `enrich` over a feed's new entries: in this process (`processes=0`), or in a pool
    of worker processes that each compiled the same watchlists (spawned, not forked: the
    polling process has threads and open connections)."""

    def __init__(self, matcher: Matcher, watchlists_dir: Path, processes: int = 0) -> None:
        self.matcher = matcher
        self._pool: ProcessPoolExecutor | None = None
        self._processes = processes
        self._watchlists_dir = watchlists_dir
        self._waiting = 0  # calls sent to the workers and not back yet
        self._backlog = BACKLOG_PER_WORKER * processes
        if processes > 0:
            self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            self._processes,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(str(self._watchlists_dir),),
        )
        _widen_pipes(pool)
        return pool

    async def start(self) -> None:
        """Start the workers now (each loads the language model and compiles the watchlists),
        not inside the first poll."""
        if self._pool is not None:
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, _ready) for _ in range(self._processes))
            )

    async def run(self, jobs: Sequence[Job]) -> list[Enriched]:
        if not jobs:
            return []
        return await self._call(_enrich_all, list(jobs), self.matcher)

    async def parse(
        self, source: SourceConfig, result: FetchResult, ahead: Ahead | None = None
    ) -> Parsed:
        """`parse_page` on a worker, with the entries made ready for `ingest` (`batch_of`)
        and, when `ahead` is given, enriched: parsing a feed is the polling process's
        largest CPU cost after storing, and the workers have the other cores."""
        return await self._call(_parse, source, result, ahead, self.matcher)

    async def _call(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in a worker, or here without workers. Workers get the matcher from
        their initializer: a `Matcher` argument is replaced by theirs (see `_in_worker`)."""
        if self._pool is None or self._waiting >= self._backlog:
            # No workers, or all of them busy with work queued behind: this process has a
            # core's share too, and would otherwise only wait for them.
            return work(*args)
        loop = asyncio.get_running_loop()
        pool = self._pool
        shipped = tuple(_TheWorkersMatcher() if isinstance(arg, Matcher) else arg for arg in args)
        self._waiting += 1
        try:
            return await loop.run_in_executor(pool, _in_worker, work, shipped)
        except BrokenProcessPool:
            # A worker died (killed, out of memory). Replace the pool once for everyone, and
            # do this batch here, so that no entry is lost and polling goes on.
            logger.error("an enrichment worker died; starting new workers")
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            return work(*args)
        finally:
            self._waiting -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def default_processes() -> int:
    """One worker per core beyond the first, which the polling process keeps."""
    return max((os.cpu_count() or 1) - 1, 0)
