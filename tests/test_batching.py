"""Calls gathered into one (monitor/batching.py): by size, or after the wait; each caller gets
its own share of the results; a failure reaches every caller whose parts it had."""

from __future__ import annotations

import asyncio

import pytest

from monitor.batching import Gather


class Runner:
    def __init__(self, fail: bool = False) -> None:
        self.runs: list[list[int]] = []
        self.fail = fail

    def __call__(self, parts: list[int]) -> list[int]:
        self.runs.append(parts)
        if self.fail:
            raise RuntimeError("store down")
        return [part * 10 for part in parts]


def test_calls_reaching_the_size_run_at_once_as_one() -> None:
    runner = Runner()

    async def scenario() -> list[list[int]]:
        # The wait never comes, and more callers might: the size decides.
        gather = Gather(runner, size=5, wait=3600, callers=lambda: 99)
        return list(
            await asyncio.gather(gather.call([1, 2]), gather.call([3]), gather.call([4, 5]))
        )

    assert asyncio.run(scenario()) == [[10, 20], [30], [40, 50]]
    assert runner.runs == [[1, 2, 3, 4, 5]]


def test_a_lone_call_runs_after_the_wait() -> None:
    runner = Runner()

    async def scenario() -> tuple[list[int], list[int]]:
        gather = Gather(runner, size=100, wait=0.01, callers=lambda: 99)
        first = await gather.call([7])
        second = await gather.call([8, 9])
        return first, second

    assert asyncio.run(scenario()) == ([70], [80, 90])
    assert runner.runs == [[7], [8, 9]]


def test_an_empty_call_runs_nothing() -> None:
    runner = Runner()
    assert asyncio.run(Gather(runner, size=1, wait=0).call([])) == []
    assert runner.runs == []


def test_a_failure_reaches_only_the_callers_whose_own_parts_fail() -> None:
    """The run fails as a whole; each caller's parts are run again alone, and only the one
    with the bad part gets the error (one source's bad item keeps no other source's items
    out of the store)."""
    runs: list[list[int]] = []

    def run(parts: list[int]) -> list[int]:
        runs.append(parts)
        if 13 in parts:
            raise RuntimeError("bad part")
        return [part * 10 for part in parts]

    async def scenario() -> list[object]:
        gather = Gather(run, size=4, wait=3600, callers=lambda: 99)
        calls = (gather.call([1]), gather.call([13, 2]), gather.call([3]))
        return list(await asyncio.gather(*calls, return_exceptions=True))

    first, second, third = asyncio.run(scenario())
    assert first == [10] and third == [30]
    assert isinstance(second, RuntimeError) and str(second) == "bad part"
    assert runs == [[1, 13, 2, 3], [1], [13, 2], [3]]


def test_a_call_that_would_overfill_the_run_first_runs_what_is_queued() -> None:
    """Several callers' parts are run together only up to `size` (one save transaction); a
    single caller with more runs alone."""
    runner = Runner()

    async def scenario() -> list[list[int]]:
        gather = Gather(runner, size=5, wait=0.01, callers=lambda: 99)
        calls = ([1, 2, 3], [4, 5, 6], list(range(7, 14)), [14, 15], [16])
        return list(await asyncio.gather(*(gather.call(parts) for parts in calls)))

    results = asyncio.run(scenario())
    assert results == [
        [10, 20, 30],
        [40, 50, 60],
        [n * 10 for n in range(7, 14)],
        [140, 150],
        [160],
    ]
    assert runner.runs == [[1, 2, 3], [4, 5, 6], list(range(7, 14)), [14, 15, 16]]


def test_a_lone_callers_failure_is_not_run_again() -> None:
    runner = Runner(fail=True)
    with pytest.raises(RuntimeError, match="store down"):
        asyncio.run(Gather(runner, size=1, wait=0).call([5]))
    assert runner.runs == [[5]]


def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    runner = Runner()

    async def scenario() -> list[int]:
        gather = Gather(runner, size=100, wait=0.01, callers=lambda: 99)
        doomed = asyncio.ensure_future(gather.call([1]))
        kept = asyncio.ensure_future(gather.call([2]))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return await kept

    assert asyncio.run(scenario()) == [20]
    assert runner.runs == [[1, 2]]  # what was queued is run: a save is never half-dropped


def test_when_every_caller_that_may_come_is_waiting_the_run_does_not_wait() -> None:
    runner = Runner()

    async def scenario() -> list[list[int]]:
        gather = Gather(runner, size=100, wait=3600, callers=lambda: 2)
        return list(await asyncio.gather(gather.call([1]), gather.call([2])))

    assert asyncio.run(scenario()) == [[10], [20]]  # (with the hour's wait, it would hang)
    assert runner.runs == [[1, 2]]
