"""`monitor explain` and `monitor evaluate`: the watchlist commands. Parse arguments, find the
item or the labelled set, print; no business logic (that is monitor.explain and
monitor.evaluate).

    monitor explain data/corpus/kz-pk/001_3f2a9c0d1e4b5a67.txt   a seeds-format file
    monitor explain 3f2a9c0d1e4b5a67                             an item id in the store
    monitor explain https://www.inform.kz/en/...                 an item URL in the store
    monitor evaluate [--set tests/eval/labelled.yaml] [--errors/--no-errors]

`register(app)` adds both to the `monitor` app. They read the global `--config` from
monitor.cli.State when they run (not when imported: monitor.cli imports this module).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from monitor import app as assembly
from monitor import evaluate as scoring
from monitor.errors import ConfigError, MonitorError
from monitor.explain import explain_text
from monitor.models import Item
from monitor.store import open_store
from monitor.store.corpus import parse_seed_file
from monitor.text.language import detect_language
from monitor.watch.matcher import Matcher

__all__ = ["evaluate", "explain", "register"]

_BODY_SAMPLE = 3000  # characters of the body the pipeline gives the language identifier


def register(app: typer.Typer) -> None:
    """Add `explain` and `evaluate` to the `monitor` command."""
    app.command("explain")(explain)
    app.command("evaluate")(evaluate)


def _console() -> Console:
    # Wide when captured or piped, so table rows and explanations stay one line each.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _fail(message: str, code: int) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[red]error[/red] {message}")
    return typer.Exit(code)


def _load() -> tuple[assembly.Loaded, Matcher]:
    from monitor import cli  # here, not at the top: monitor.cli imports this module

    try:
        loaded = assembly.load(cli.State.config)
    except ConfigError as exc:
        raise _fail(f"configuration: {exc}", 2) from exc
    if loaded.watchlists is None:
        problems = "; ".join(str(p) for p in loaded.problems) or "no watchlists"
        raise _fail(problems, 2)
    return loaded, Matcher.compile(loaded.watchlists)


def _item_from_file(path: Path) -> Item:
    try:
        doc = parse_seed_file(path)
    except MonitorError as exc:
        raise _fail(str(exc), 1) from exc
    return Item(
        id=doc.hex16,
        url=None,
        source=f"file:{path.name}",
        title=doc.title,
        text=doc.body,
        language=detect_language(f"{doc.title}\n{doc.body[:_BODY_SAMPLE]}"),
    )


def _item_from_store(loaded: assembly.Loaded, target: str) -> tuple[Item, list[str]]:
    try:
        store = open_store(loaded.settings.db_url)
        try:
            store.migrate()
            stored = store.find_item(target)
        finally:
            store.close()
    except MonitorError as exc:
        raise _fail(str(exc), 1) from exc
    if stored is None:
        raise _fail(f"no file, and no stored item with the id or URL {target!r}", 1)
    return stored.item, [match.watchlist for match in stored.matches]


def explain(
    target: Annotated[
        str, typer.Argument(help="a seeds-format file, or the id or URL of a stored item")
    ],
) -> None:
    """Why an item did or did not match each watchlist: the rule that fired or the parts
    that failed, and every alias found, with its field and offsets."""
    loaded, matcher = _load()
    path = Path(target)
    recorded = None
    if path.is_file():
        item = _item_from_file(path)
    else:
        item, recorded = _item_from_store(loaded, target)
    console = _console()
    console.print(explain_text(matcher, item), markup=False, soft_wrap=True)
    if recorded is not None:
        stored = ", ".join(recorded) or "none"
        console.print(f"\nstored with matches: {stored}", markup=False)


def _ratio(value: float) -> str:
    return f"{value:.3f}"


def _watchlist_table(report: scoring.Report) -> Table:
    table = Table(title="Per watchlist", title_justify="left")
    for column in ("watchlist", "labelled", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column == "watchlist" else "right")
    for column in ("precision", "recall", "F1"):
        table.add_column(column, justify="right")
    rows = [*report.watchlists.items(), ("all", report.overall)]
    for name, scores in rows:
        table.add_row(
            name,
            str(scores.support),
            str(scores.tp),
            str(scores.fp),
            str(scores.fn),
            _ratio(scores.precision),
            _ratio(scores.recall),
            _ratio(scores.f1),
        )
    return table


def _group_table(report: scoring.Report) -> Table:
    table = Table(title="Per language (Uzbek by script)", title_justify="left")
    table.add_column("language")
    for column in ("items", "precision", "recall", "F1", "language ID", "on titles"):
        table.add_column(column, justify="right")
    for group, scores in report.groups.items():
        correct, total = report.language_items.groups.get(group, (0, 0))
        on_titles, _ = report.language_titles.groups.get(group, (0, 0))
        table.add_row(
            group,
            str(total),
            _ratio(scores.precision),
            _ratio(scores.recall),
            _ratio(scores.f1),
            f"{correct}/{total}",
            f"{on_titles}/{total}",
        )
    return table


def _misses_table(report: scoring.Report) -> Table:
    table = Table(title=f"Misclassified items ({len(report.misses)})", title_justify="left")
    for column in ("item", "expected", "got", "why"):
        table.add_column(column, overflow="fold")
    for miss in report.misses:
        why = "\n".join(miss.reasons)
        if miss.note:
            why += f"\nnote: {miss.note}"
        table.add_row(
            miss.id,
            ", ".join(sorted(miss.expected)) or "-",
            ", ".join(sorted(miss.got)) or "-",
            why,
        )
    return table


def evaluate(
    path: Annotated[
        Path | None,
        typer.Option("--set", help="the labelled set (default: tests/eval/labelled.yaml)"),
    ] = None,
    show_errors: Annotated[
        bool, typer.Option("--errors/--no-errors", help="list the misclassified items")
    ] = True,
) -> None:
    """Score the watchlists and the language identifier on a labelled set: precision,
    recall and F1 per watchlist and per language, and language ID accuracy."""
    labelled_set = path or scoring.DEFAULT_SET
    try:
        items = scoring.load_labelled(labelled_set)
    except ConfigError as exc:
        raise _fail(str(exc), 2) from exc
    _, matcher = _load()
    try:
        report = scoring.evaluate(matcher, items)
    except ConfigError as exc:
        raise _fail(str(exc), 2) from exc
    console = _console()
    console.print(f"{labelled_set}: {report.items} items", markup=False)
    console.print(_watchlist_table(report))
    console.print(_group_table(report))
    for label, score in (("items", report.language_items), ("titles", report.language_titles)):
        console.print(
            f"language ID on {label}: {score.correct}/{score.total} = {score.accuracy:.1%}",
            markup=False,
        )
    if not show_errors:
        return
    if report.misses:
        console.print(_misses_table(report))
    for label, score in (("items", report.language_items), ("titles", report.language_titles)):
        for item_id, expected, detected in score.errors:
            console.print(
                f"language of {label[:-1]} {item_id}: {detected}, expected {expected}",
                markup=False,
            )
