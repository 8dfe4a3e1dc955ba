"""The enrichment pool parses and enriches in worker processes, and survives a worker that
dies: the batch is done in-process, new workers start, and the next batch runs in them again."""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import heap
from monitor.config import SourceConfig
from monitor.enrich import (
    PIPE_BYTES,
    Ahead,
    Enriched,
    Enricher,
    Job,
    Parsed,
    batch_of,
    pipe_max_size,
)
from monitor.errors import ParseError
from monitor.models import Entry, FetchResult
from monitor.watch.matcher import Matcher
from monitor.watch.watchlists import load_watchlists
from tests.texts import KZ_PK
from tests.workspace import WATCHLISTS, rss


def _pid() -> int:
    return os.getpid()


def test_a_killed_worker_loses_no_entry_and_is_replaced(tmp_path: Path) -> None:
    matcher = Matcher.compile(load_watchlists(WATCHLISTS))
    source = SourceConfig(name="wire", kind="rss", url="http://127.0.0.1:9/feed.xml")
    title, body = KZ_PK["kk"]
    entries = [Entry(url=f"http://127.0.0.1:9/{n}", title=title, content=body) for n in range(3)]
    now = datetime.now(UTC)
    jobs = [Job(source, c, None, "UTC", now) for c in batch_of(entries).candidates]

    async def scenario() -> None:
        enricher = Enricher(matcher, WATCHLISTS, processes=1)
        try:
            await enricher.start()
            first = await enricher.run(jobs)
            assert [m.watchlist for _, ms, _ in first for m in ms] == ["kz-pk"] * 3
            loop = asyncio.get_running_loop()
            pool = enricher._pool
            assert pool is not None
            worker = await loop.run_in_executor(pool, _pid)
            os.kill(worker, signal.SIGKILL)
            second = await enricher.run(jobs)  # the pool is broken: done here instead
            assert [item.language for item, _, _ in second] == ["kk"] * 3
            assert enricher._pool is not pool
            assert await loop.run_in_executor(enricher._pool, _pid) != worker
            third = await enricher.run(jobs)
            assert len(third) == 3
        finally:
            enricher.close()

    asyncio.run(scenario())


def test_a_worker_keeps_what_it_loaded_out_of_garbage_collections() -> None:
    """Its start-up heap (language model, compiled watchlists) is frozen and young objects are
    collected less often than Python's default (see monitor.heap)."""

    async def scenario() -> tuple[int, tuple[int, int, int]]:
        enricher = Enricher(Matcher.compile(load_watchlists(WATCHLISTS)), WATCHLISTS, 1)
        try:
            await enricher.start()
            loop = asyncio.get_running_loop()
            assert enricher._pool is not None
            frozen = await loop.run_in_executor(enricher._pool, gc.get_freeze_count)
            return frozen, await loop.run_in_executor(enricher._pool, gc.get_threshold)
        finally:
            enricher.close()

    frozen, threshold = asyncio.run(scenario())
    assert frozen > 10_000
    assert threshold[0] == heap.YOUNG_THRESHOLD


def test_parsing_runs_in_a_worker_and_a_parse_error_comes_back_whole() -> None:
    error = ParseError("wire", "not a feed")
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.source, again.message) == (ParseError, "wire", "not a feed")

    source = SourceConfig(name="wire", kind="rss", url="http://127.0.0.1:9/feed.xml")
    feed = rss([{"title": "Kazakhstan", "link": "http://127.0.0.1:9/a", "content": "x"}])
    good = FetchResult("http://127.0.0.1:9/feed.xml", 200, feed.encode(), {})
    bad = FetchResult("http://127.0.0.1:9/feed.xml", 200, b"\x00\x01 not xml at all", {})

    async def scenario() -> None:
        enricher = Enricher(Matcher.compile(load_watchlists(WATCHLISTS)), WATCHLISTS, 1)
        try:
            parsed = await enricher.parse(source, good)
            assert [e.title for e in parsed.page.entries] == ["Kazakhstan"]
            assert [c.url for c in parsed.batch.candidates] == ["http://127.0.0.1:9/a"]
            assert parsed.batch.ahead == ()  # not asked to enrich ahead
            with pytest.raises(ParseError) as caught:
                await enricher.parse(source, bad)
            assert caught.value.source == "wire"
        finally:
            enricher.close()

    asyncio.run(scenario())


def test_enriching_ahead_in_a_worker_gives_what_the_two_steps_give() -> None:
    """A first poll parses and enriches in one trip to a worker; later polls enrich only the
    new entries, after the store said which are new. Both make the same items."""
    source = SourceConfig(name="wire", kind="rss", url="http://127.0.0.1:9/feed.xml")
    title, body = KZ_PK["kk"]
    feed = rss(
        [
            {"title": title, "link": "http://127.0.0.1:9/a?utm_source=rss", "content": body},
            {"title": "Weather", "link": "http://127.0.0.1:9/b", "content": "Rain in Almaty."},
            {"title": "No link", "link": "", "content": "x"},
        ]
    )
    result = FetchResult("http://127.0.0.1:9/feed.xml", 200, feed.encode(), {})
    now = datetime(2026, 11, 24, tzinfo=UTC)
    matcher = Matcher.compile(load_watchlists(WATCHLISTS))

    async def scenario() -> tuple[Parsed, Parsed, list[Enriched]]:
        enricher = Enricher(matcher, WATCHLISTS, processes=1)
        try:
            ahead = await enricher.parse(source, result, Ahead("UTC", now, 10))
            # An entry shorter than `min_chars` waits for its article page instead.
            short = await enricher.parse(source, result, Ahead("UTC", now, 100))
            plain = await enricher.parse(source, result)
            jobs = [Job(source, c, None, "UTC", now) for c in plain.batch.candidates]
            return ahead, short, await enricher.run(jobs)
        finally:
            enricher.close()

    ahead, short, two_steps = asyncio.run(scenario())
    assert short.batch.ahead[0] == two_steps[0] and short.batch.ahead[1] is None
    assert [c.url for c in ahead.batch.candidates] == [
        "http://127.0.0.1:9/a",
        "http://127.0.0.1:9/b",
    ]
    assert ahead.batch.unusable == ("No link",)
    assert list(ahead.batch.ahead) == two_steps
    assert [m.watchlist for m in two_steps[0][1]] == ["kz-pk"]
    assert two_steps[0][2].entities  # a matched item carries its story evidence


def test_calls_beyond_the_workers_backlog_run_in_the_polling_process() -> None:
    """With the workers' queue full, the polling process takes the next call itself (it has
    a core's share too); below that, every call goes to a worker."""

    async def scenario() -> list[int]:
        enricher = Enricher(Matcher.compile(load_watchlists(WATCHLISTS)), WATCHLISTS, 1)
        try:
            await enricher.start()
            calls = enricher._backlog + 2
            return list(await asyncio.gather(*(enricher._call(_pid) for _ in range(calls))))
        finally:
            enricher.close()

    pids = asyncio.run(scenario())
    assert pids.count(os.getpid()) == 2
    assert len(set(pids) - {os.getpid()}) == 1  # the rest, in the one worker


def test_an_items_content_hash_crosses_from_the_worker_and_a_copy_computes_its_own() -> None:
    matcher = Matcher.compile(load_watchlists(WATCHLISTS))
    source = SourceConfig(name="wire", kind="rss", url="http://127.0.0.1:9/feed.xml")
    title, body = KZ_PK["en"]
    entries = [Entry(url="http://127.0.0.1:9/1", title=title, content=body)]
    jobs = [Job(source, c, None, "UTC", datetime.now(UTC)) for c in batch_of(entries).candidates]

    async def scenario() -> list[Enriched]:
        enricher = Enricher(matcher, WATCHLISTS, processes=1)
        try:
            await enricher.start()
            return await enricher.run(jobs)
        finally:
            enricher.close()

    [(item, _, _)] = asyncio.run(scenario())
    assert "content_hash" in item.__dict__  # computed in the worker, pickled with the item
    fresh = type(item).model_validate(item.model_dump())
    assert item.content_hash == fresh.content_hash
    changed = item.model_copy(update={"text": item.text + " More."})
    assert changed.content_hash != item.content_hash
    assert changed.content_hash == type(item).model_validate(changed.model_dump()).content_hash


def test_the_pipes_to_the_workers_hold_a_whole_parsed_feed() -> None:
    """A worker must not wait for the polling process to read its result in 64 KiB pieces
    (see enrich._widen_pipes); a new pool, after a worker died, gets wide pipes too."""
    fcntl = pytest.importorskip("fcntl", reason="pipe sizes are set on Linux only")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are set on Linux only")

    matcher = Matcher.compile(load_watchlists(WATCHLISTS))
    enricher = Enricher(matcher, WATCHLISTS, processes=1)
    try:
        for _ in range(2):
            pool = enricher._pool
            assert pool is not None
            for queue in (pool._call_queue, pool._result_queue):  # type: ignore[attr-defined]
                size = fcntl.fcntl(queue._reader.fileno(), fcntl.F_GETPIPE_SZ)
                assert size >= min(PIPE_BYTES, pipe_max_size()) > 64 * 1024
            enricher._pool = enricher._new_pool()
            pool.shutdown(wait=True)
    finally:
        enricher.close()
