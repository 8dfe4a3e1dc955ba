"""`monitor run`: the APScheduler loop, signals and shutdown. No business logic.

Two jobs: `tick` claims due sources from the store (the store is the schedule, so several
workers can share it) and polls them through `pipeline.run_due`; `deliver` drains the alert
outbox. Neither waits for the other, so a slow channel never delays polling.

On SIGTERM/SIGINT the scheduler stops starting work, work in flight gets `grace` seconds to
finish, then is cancelled. Cancelling is safe: each item is stored in its own transaction with
its outbox rows, corpus files are written atomically and re-written from the store on the next
start, and a source's lease simply expires.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from loguru import logger

from monitor.alerts.dispatch import Sender, deliver_due
from monitor.models import utcnow
from monitor.pipeline import Context, run_due

DELIVER_EVERY = 5.0


class Daemon:
    def __init__(
        self,
        ctx: Context,
        senders: Mapping[str, Sender],
        *,
        grace: float = 20.0,
    ) -> None:
        self.ctx = ctx
        self.senders = senders
        self.grace = grace
        self.stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[object]] = set()
        self._poll_lock = asyncio.Lock()

    async def tick(self) -> None:
        if self._poll_lock.locked() or self.stopping.is_set():
            return  # the previous tick is still polling: skip, the store keeps the schedule
        async with self._poll_lock:
            await self._tracked(run_due(self.ctx))

    async def deliver(self) -> None:
        if self.stopping.is_set():
            return
        await self._tracked(
            deliver_due(
                self.ctx.store,
                self.senders,
                now=self.ctx.clock(),
                settings=self.ctx.settings.alerts,
                worker=self.ctx.worker,
            )
        )

    async def _tracked(self, work: Awaitable[object]) -> object:
        task = asyncio.ensure_future(work)
        self._inflight.add(task)
        try:
            return await task
        finally:
            self._inflight.discard(task)

    def stop(self) -> None:
        if not self.stopping.is_set():
            logger.info("stopping: finishing work in flight (up to {} s)", self.grace)
        self.stopping.set()

    async def run(self, install_signals: bool = True) -> None:
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
        scheduler = AsyncIOScheduler(event_loop=loop)
        jobs: list[tuple[Callable[[], Awaitable[None]], float]] = [
            (self.tick, self.ctx.settings.schedule.tick),
            (self.deliver, DELIVER_EVERY),
        ]
        for job, seconds in jobs:
            scheduler.add_job(
                job,
                "interval",
                seconds=seconds,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=utcnow(),
            )
        scheduler.start()
        logger.info(
            "monitor running: {} sources, {} watchlists, {} alert channels, worker {}",
            len(self.ctx.sources),
            len(self.ctx.watchlists.names),
            len(self.senders),
            self.ctx.worker,
        )
        try:
            await self.stopping.wait()
        finally:
            scheduler.shutdown(wait=False)
            if self._inflight:
                _, pending = await asyncio.wait(set(self._inflight), timeout=self.grace)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=5)
                    logger.warning(
                        "abandoned {} unfinished jobs; they resume next start", len(pending)
                    )
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            logger.info("monitor stopped")
