"""The `monitor` command. Parses arguments, prints results; no business logic."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from loguru import logger
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Column, Table

from monitor import app as assembly
from monitor import exporter, logs
from monitor.alerts.channels import build_channels
from monitor.alerts.dispatch import deliver_due
from monitor.errors import ConfigError, MonitorError
from monitor.models import utcnow
from monitor.pipeline import Context

T = TypeVar("T")

app = typer.Typer(
    help="Multilingual news monitor: polls sources, matches watchlists, stores and alerts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="MONITOR_CONFIG",
        help="settings file (TOML); default config/monitor.toml when present",
        show_default=False,
    ),
]


class State:
    config: Path | None = None


@app.callback()
def main(config: ConfigOption = None) -> None:
    """Every setting can also be set by environment variable: MONITOR_<NAME>, nested with __."""
    State.config = config


def _load(strict: bool = True) -> assembly.Loaded:
    try:
        loaded = assembly.load(State.config)
    except ConfigError as exc:
        err.print(f"[red]configuration error[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from exc
    logs.configure(loaded.settings.log_level, loaded.settings.log_json)
    if strict and loaded.problems:
        for problem in loaded.problems:
            err.print(f"[red]error[/red] {problem}", highlight=False)
        err.print(f"{len(loaded.problems)} configuration problem(s); see `monitor check`.")
        raise typer.Exit(2)
    for problem in loaded.problems:
        logger.warning("skipped: {}", problem)
    return loaded


def _with_context(
    loaded: assembly.Loaded, work: Callable[[Context], Awaitable[T]], *, daemon: bool = False
) -> T:
    async def runner() -> T:
        async with assembly.open_context(loaded, daemon=daemon) as ctx:
            return await work(ctx)

    try:
        return asyncio.run(runner())
    except MonitorError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date: {value!r}", param_hint=option) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _deliver(ctx: Context) -> None:
    senders = build_channels(ctx.settings.alerts)
    if senders:
        await deliver_due(
            ctx.store, senders, now=utcnow(), settings=ctx.settings.alerts, worker=ctx.worker
        )


# --- commands --------------------------------------------------------------------------------


@app.command()
def run() -> None:
    """Run the daemon: poll each source on its interval and deliver alerts until stopped."""
    from monitor.daemon import Daemon

    loaded = _load(strict=True)
    if not loaded.sources:
        err.print("no sources configured; see config/sources.toml")
        raise typer.Exit(2)

    async def work(ctx: Context) -> None:
        await Daemon(ctx, build_channels(ctx.settings.alerts)).run()

    _with_context(loaded, work, daemon=True)


@app.command()
def poll(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="only this source (repeatable)")
    ] = None,
) -> None:
    """One pass over the sources (all, or those named), deliver alerts, then exit."""
    from monitor.pipeline import run_due

    loaded = _load(strict=False)
    names = source or None
    unknown = [n for n in names or [] if n not in {s.name for s in loaded.sources}]
    if unknown:
        err.print(f"unknown source(s): {', '.join(unknown)}")
        raise typer.Exit(2)

    async def work(ctx: Context) -> list[Any]:
        reports = await run_due(ctx, names, force=True)
        await _deliver(ctx)
        return reports

    reports = _with_context(loaded, work)
    table = Table("source", "status", "entries", "new", "updated", "matched", "alerts", "error")
    for r in reports:
        c = r.counts
        table.add_row(
            r.source,
            r.status,
            str(c.entries),
            str(c.new),
            str(c.updated),
            str(c.matched),
            str(c.alerts),
            r.error or "",
        )
    out.print(table)
    if reports and all(r.status == "error" for r in reports):
        raise typer.Exit(1)


@app.command()
def backfill(
    since: Annotated[str, typer.Option(help="reach back to this date (ISO, e.g. 2026-01-01)")],
    until: Annotated[str | None, typer.Option(help="stop at this date (exclusive)")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="only this source (repeatable)")
    ] = None,
    alert: Annotated[bool, typer.Option(help="send one digest of the new matches")] = False,
) -> None:
    """Walk listing pages, sitemaps and paged feeds back to --since. Idempotent and resumable."""
    from monitor.backfill import backfill as run_backfill

    start = _date(since, "--since")
    end = _date(until, "--until")
    assert start is not None
    loaded = _load(strict=False)
    unknown = [n for n in source or [] if n not in {s.name for s in loaded.sources}]
    if unknown:
        err.print(f"unknown source(s): {', '.join(unknown)}")
        raise typer.Exit(2)

    async def work(ctx: Context) -> Any:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(name: str, done: int, known: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=known)
                bar.update(tasks[name], completed=done, total=known)

            report = await run_backfill(ctx, start, end, source, alert=alert, progress=progress)
        if alert:
            await _deliver(ctx)
        return report

    report = _with_context(loaded, work)
    table = Table("source", "pages", "new", "matched", "errors")
    for s in report.sources:
        table.add_row(
            s.source, str(s.pages), str(s.counts.new), str(s.counts.matched), str(len(s.errors))
        )
    out.print(table)


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="a folder of seeds-format files")],
    alert: Annotated[bool, typer.Option(help="send one digest of the new matches")] = False,
) -> None:
    """Load seeds-format files (NNN_<hex16>.txt), identify language, match, store."""
    from monitor.importer import import_dir

    loaded = _load(strict=False)

    async def work(ctx: Context) -> Any:
        report = import_dir(ctx, directory, alert=alert)
        if alert:
            await _deliver(ctx)
        return report

    report = _with_context(loaded, work)
    c = report.counts
    out.print(f"imported {c.entries} files: {c.new} new, {c.updated} updated, {c.matched} matched")
    for error in report.errors:
        err.print(f"[red]error[/red] {error}", highlight=False)
    if report.errors:
        raise typer.Exit(1)


@app.command()
def export(
    fmt: Annotated[
        Literal["jsonl", "csv"], typer.Option("--format", help="jsonl or csv")
    ] = "jsonl",
    watchlist: Annotated[str | None, typer.Option(help="only items matching it")] = None,
    since: Annotated[str | None, typer.Option(help="published on or after (ISO date)")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file; default stdout")
    ] = None,
) -> None:
    """Stored items with their watchlists and the aliases that matched."""
    loaded = _load(strict=False)
    start = _date(since, "--since")

    async def work(ctx: Context) -> int:
        items = ctx.store.iter_items(watchlist=watchlist, since=start)
        writer = exporter.write_jsonl if fmt == "jsonl" else exporter.write_csv
        if output is None:
            return writer(items, sys.stdout)
        with output.open("w", encoding="utf-8", newline="") as handle:
            return writer(items, handle)

    count = _with_context(loaded, work)
    err.print(f"exported {count} items")


@app.command()
def stories(
    watchlist: Annotated[str | None, typer.Option(help="only stories matching it")] = None,
    since: Annotated[str | None, typer.Option(help="first reported on or after (ISO date)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
    all_stories: Annotated[
        bool, typer.Option("--all", help="also stories that matched no watchlist")
    ] = False,
) -> None:
    """Stories (reports of one event across outlets and languages), oldest first."""
    loaded = _load(strict=False)
    start = _date(since, "--since")

    async def work(ctx: Context) -> list[Any]:
        found = ctx.store.iter_stories(watchlist, start, matched_only=not all_stories)
        return [exporter.story_row(story) for story in found]

    rows = _with_context(loaded, work)
    if as_json:
        for record in rows:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    table = Table(
        Column("story", no_wrap=True),
        "first report",
        "first seen",
        "size",
        "languages",
        "outlets",
        "title",
    )
    for record in rows:
        table.add_row(
            record["id"],
            record["first_at"][:16].replace("T", " "),
            record["first_seen"][:16].replace("T", " "),
            str(record["size"]),
            " ".join(record["languages"]),
            " ".join(record["outlets"]),
            record["title"][:60],
        )
    out.print(table)
    err.print(f"{len(rows)} stories")


@app.command()
def rematch(
    watchlist: Annotated[str | None, typer.Option(help="only this watchlist")] = None,
    since: Annotated[str | None, typer.Option(help="items published on or after (ISO)")] = None,
    alert: Annotated[bool, typer.Option(help="send one digest of the newly matched")] = False,
) -> None:
    """Run changed or new watchlists over stored history; newly matched items go to the corpus."""
    from monitor.rematch import rematch as run_rematch

    loaded = _load(strict=False)
    start = _date(since, "--since")

    async def work(ctx: Context) -> Any:
        with Progress(
            TextColumn("re-matching"), BarColumn(), MofNCompleteColumn(), console=err
        ) as bar:
            task = bar.add_task("items", total=ctx.store.count_items())
            report = run_rematch(
                ctx,
                watchlist,
                start,
                alert=alert,
                progress=lambda done: bar.update(task, completed=done),
            )
        if alert:
            await _deliver(ctx)
        return report

    report = _with_context(loaded, work)
    out.print(f"{report.items} items read, {report.changed} changed")
    for name, count in sorted(report.newly_matched.items()):
        out.print(f"  {name}: {count} newly matched")
    for name, count in sorted(report.unmatched.items()):
        out.print(f"  {name}: {count} no longer matched")


@app.command()
def check() -> None:
    """Validate settings, sources and watchlists; say exactly what is wrong (file and key)."""
    loaded = _load(strict=False)
    for problem in loaded.problems:
        out.print(f"[red]error[/red] {problem}", highlight=False)
    names = loaded.watchlists.names if loaded.watchlists else []
    out.print(
        f"{len(loaded.sources)} sources, {len(names)} watchlists ({', '.join(names)}), "
        f"{len(loaded.settings.alerts.channels)} alert channels"
    )
    if loaded.problems:
        out.print(f"{len(loaded.problems)} problem(s)")
        raise typer.Exit(1)
    out.print("[green]configuration OK[/green]")


@app.command()
def sources() -> None:
    """Each source's health: status, last success, last error, next poll."""
    loaded = _load(strict=False)

    async def work(ctx: Context) -> list[Any]:
        ctx.store.sync_sources(ctx.sources)
        return ctx.store.list_sources()

    states = {s.name: s for s in _with_context(loaded, work)}
    table = Table("source", "kind", "status", "failures", "last success", "next poll", "last error")
    for source in loaded.sources:
        state = states.get(source.name)
        if state is None:
            continue
        table.add_row(
            source.name,
            source.kind,
            state.last_status if source.enabled else "disabled",
            str(state.failures),
            _when(state.last_success),
            _when(state.next_due),
            (state.last_error or "")[:80],
        )
    out.print(table)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@app.command("alert-test")
def alert_test(
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="only this channel (repeatable)")
    ] = None,
) -> None:
    """Send a test alert to every configured channel (or those named) and report."""
    from monitor.store.base import AlertIntent

    loaded = _load(strict=False)
    configured = loaded.settings.alerts.channels
    names = channel or list(configured)
    if not names:
        err.print("no alert channels configured (alerts.channels)")
        raise typer.Exit(2)
    unknown = [n for n in names if n not in configured]
    if unknown:
        err.print(f"unknown channel(s): {', '.join(unknown)}")
        raise typer.Exit(2)

    async def work(ctx: Context) -> Any:
        stamp = utcnow().isoformat(timespec="seconds")
        ctx.store.enqueue_alerts(
            [
                AlertIntent(
                    channel=name,
                    kind="test",
                    key=f"test:{name}:{stamp}",
                    payload={"title": "monitor test alert", "text": f"Sent {stamp}"},
                )
                for name in names
            ]
        )
        senders = build_channels(ctx.settings.alerts)
        return await deliver_due(
            ctx.store,
            {n: senders[n] for n in names},
            now=utcnow(),
            settings=ctx.settings.alerts,
            worker=ctx.worker,
        )

    report = _with_context(loaded, work)
    out.print(report)


def _register_watch_commands() -> None:
    # `explain` and `evaluate` live beside the matcher they explain (monitor/cli_watch.py).
    from monitor.cli_watch import register

    register(app)


_register_watch_commands()
