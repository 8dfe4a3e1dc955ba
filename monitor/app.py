"""Assemble a pipeline `Context` from configuration: settings, sources, watchlists, store,
fetcher. Used by every command; `monitor check` reports the same problems that stop `run`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from monitor import heap
from monitor.config import Settings, SourceConfig, load_settings, load_sources
from monitor.enrich import Enricher, default_processes
from monitor.errors import ConfigError
from monitor.pipeline import Context
from monitor.sources.fetch import Fetcher
from monitor.store import open_store
from monitor.text.language import detect_language
from monitor.watch.matcher import Matcher
from monitor.watch.watchlists import Watchlists, load_watchlists


@dataclass
class Loaded:
    """Configuration read from disk, with every problem found on the way."""

    settings: Settings
    sources: list[SourceConfig] = field(default_factory=list)
    watchlists: Watchlists | None = None
    problems: list[ConfigError] = field(default_factory=list)


def load(config: Path | None = None, **overrides: object) -> Loaded:
    """Read settings (a global error raises ConfigError), then sources and watchlists (their
    errors are collected in `problems`, naming file and key)."""
    settings = load_settings(config, **overrides)
    loaded = Loaded(settings)
    try:
        loaded.sources, loaded.problems = load_sources(settings.sources_file)
    except ConfigError as exc:
        loaded.problems.append(exc)
    try:
        loaded.watchlists = load_watchlists(settings.watchlists_dir)
    except ConfigError as exc:
        loaded.problems.append(exc)
    if loaded.watchlists is not None:
        known = set(loaded.watchlists.names)
        for name, channel in settings.alerts.channels.items():
            for index, watchlist in enumerate(channel.watchlists):
                if watchlist not in known:
                    loaded.problems.append(
                        ConfigError(
                            f"alerts.channels.{name}.watchlists[{index}]",
                            f"unknown watchlist {watchlist!r} (known: {sorted(known)})",
                        )
                    )
    return loaded


@asynccontextmanager
async def open_context(loaded: Loaded, *, daemon: bool = False) -> AsyncIterator[Context]:
    """A ready Context: store migrated, workers started, fetcher open; closed on exit. With
    `cpu_workers = -1` only a daemon starts worker processes (a one-shot command would spend
    longer starting them than it saves)."""
    if loaded.watchlists is None:
        raise ConfigError(str(loaded.settings.watchlists_dir), "no usable watchlists")
    settings = loaded.settings
    # Load the language model now (~0.4 s, once), not inside the first poll.
    detect_language("warm-up: load the language identification model")
    workers = settings.cpu_workers
    if workers < 0:
        workers = default_processes() if daemon else 0
    store = open_store(settings.db_url)
    try:
        store.migrate()
        enricher = Enricher(Matcher.compile(loaded.watchlists), settings.watchlists_dir, workers)
        try:
            await enricher.start()
            heap.settle()  # everything is loaded now
            async with Fetcher(settings.http) as fetcher:
                ctx = Context(
                    settings=settings,
                    store=store,
                    sources={s.name: s for s in loaded.sources},
                    watchlists=loaded.watchlists,
                    enricher=enricher,
                    fetcher=fetcher,
                )
                if settings.worker_id:
                    ctx.worker = settings.worker_id
                yield ctx
        finally:
            enricher.close()
    finally:
        store.close()
