"""Calls from many tasks gathered into one: the saves of many sources in one transaction.

A first poll saves 50 items per feed. Each transaction dirties a leaf page of every index for
almost every item (ids are hashes, so inserts land all over each index), and SQLite writes
every dirty page to its WAL at commit: 9 pages per item, 300 MB of writes for a 42 MB store.
Saving several feeds' items in one transaction shares those pages.

`Gather(run, size, wait, callers).call(parts)` queues `parts` and returns their share of the
results of one `run(all queued parts)`, made when `size` parts are queued, when every caller
that may come (`callers()`) is waiting, or `wait` seconds after the first. `run` runs on the
event loop's thread, as the calls it replaces did. When it fails, each caller's parts are run
again alone, so that only the callers whose own parts fail get the exception (one source's bad
item must not keep the others' items out of the store).

A run holds at most `size` parts unless one caller brings more: a call that would take the
queue past `size` first runs what is queued. The saves rely on it: a run of `size` parts at
most is one transaction, so a failed run of several callers committed nothing, and running
their parts again alone stores each item once and reports it as new (a run split into two
transactions could have committed the first before failing, and the callers in it would
have been told their items were unchanged).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")


class Gather(Generic[P, R]):
    """Calls of `run` from many tasks, gathered into one (see the module docstring)."""

    def __init__(
        self,
        run: Callable[[list[P]], list[R]],
        size: int,
        wait: float,
        callers: Callable[[], int] = lambda: 0,
    ) -> None:
        self._run = run
        self._size = size
        self._wait = wait
        self._callers = callers
        self._queued: list[tuple[list[P], asyncio.Future[list[R]]]] = []
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None

    async def call(self, parts: Sequence[P]) -> list[R]:
        if not parts:
            return []
        if self._queued and self._count + len(parts) > self._size:
            self.flush()  # (see the module docstring: a run of several callers fits `size`)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[R]] = loop.create_future()
        self._queued.append((list(parts), future))
        self._count += len(parts)
        if self._count >= self._size or len(self._queued) >= self._callers():
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._wait, self.flush)
        return await future

    def flush(self) -> None:
        """Run what is queued now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        queued, self._queued, self._count = self._queued, [], 0
        if not queued:
            return
        try:
            results = self._run([part for parts, _ in queued for part in parts])
        except Exception as exc:
            if len(queued) == 1:
                _, future = queued[0]
                if not future.done():
                    future.set_exception(exc)
                return
            # One caller's parts must not sink the others': each runs alone, and only those
            # whose parts fail again get the error.
            for one in queued:
                self._settle(one, self._run)
            return
        except BaseException as exc:
            for _, future in queued:
                if not future.done():
                    future.set_exception(exc)
            raise
        start = 0
        for parts, future in queued:
            if not future.done():  # a caller cancelled meanwhile: its parts were run all the same
                future.set_result(results[start : start + len(parts)])
            start += len(parts)

    @staticmethod
    def _settle(
        queued: tuple[list[P], asyncio.Future[list[R]]], run: Callable[[list[P]], list[R]]
    ) -> None:
        """Run one caller's parts and give it the results or the exception."""
        parts, future = queued
        try:
            results = run(parts)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(results)
