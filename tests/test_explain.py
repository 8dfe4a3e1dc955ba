"""Explaining a match: the text `monitor explain` prints, and the `explain` and `evaluate`
commands, run through a typer app of their own (monitor.cli registers them in production)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

import monitor.cli
from monitor.cli_watch import register
from monitor.config import load_settings
from monitor.explain import counted_hits, explain_text, snippet
from monitor.models import Item, hex16
from monitor.store import open_store
from monitor.store.corpus import render
from monitor.watch.matcher import Matcher
from monitor.watch.watchlists import load_watchlists
from tests.workspace import WATCHLISTS, workspace

FILLER = "Officials answered questions about prices, wages and the harvest outlook. " * 3


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(load_watchlists(WATCHLISTS))


def item(text: str, title: str = "", item_id: str = "x1", url: str | None = None) -> Item:
    return Item(id=item_id, url=url, source="test", title=title, text=text, language="en")


def part(text: str, watchlist: str) -> str:
    """One watchlist's paragraph of an explanation."""
    return next(p for p in text.split("\n\n") if p.startswith(f"{watchlist}:"))


# --- the text --------------------------------------------------------------------------------


def test_snippet_marks_the_mention_with_context() -> None:
    text = "The railway from Termez to Peshawar was discussed in Tashkent on Monday."
    start = text.index("Termez")
    assert snippet(text, start, start + 6, context=10) == "…lway from «Termez» to Peshaw…"
    assert snippet("Termez", 0, 6) == "«Termez»"
    assert snippet("a\nTermez\nb", 2, 8) == "a «Termez» b"  # one line


def test_a_match_shows_the_rule_that_fired_and_the_aliases(matcher: Matcher) -> None:
    it = item(
        title="Tokayev meets Shehbaz Sharif in Islamabad",
        text="Kazakhstan and Pakistan signed a declaration on trade. " + FILLER,
    )
    section = part(explain_text(matcher, it), "kz-pk")
    assert section.startswith("kz-pk: MATCH, score ")
    assert "\n  fired:  all-of(any-of(kazakhstan, tokayev) score≥2" in section
    assert "failed" not in section
    # Every alias with field, offsets, surface and alias; the counted ones marked.
    assert "* tokayev         title[0:7]" in section
    assert '"Shehbaz Sharif"' in section and "(alias Shehbaz Sharif)" in section
    assert "lead[0:10]" in section and "«Kazakhstan» and Pakistan signed" in section


def test_no_match_shows_what_failed(matcher: Matcher) -> None:
    it = item(
        title="Ministers discuss regional water sharing",
        text="Foreign ministers of Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan, "
        "Pakistan and India met in Geneva to discuss water sharing. " + FILLER,
    )
    text = explain_text(matcher, it, watchlists=["kz-pk"])
    assert "\ngwadar:" not in text and "\ntap-railway:" not in text
    assert "\nkz-pk: no match" in text
    assert "failed: kazakhstan: 1 mention (lead) that do not count here, 1 in a list" in text
    # Neither country counts anywhere: no mark before them.
    assert "  kazakhstan  lead[" in text and "* kazakhstan" not in text


def test_counted_hits_leave_out_what_a_none_of_found(matcher: Matcher) -> None:
    it = item(title="TAPI gas pipeline reaches Herat", text="The pipeline railway plans. " + FILLER)
    (explanation,) = [e for e in matcher.explain(it) if e.watchlist == "tap-railway"]
    assert not explanation.matched
    entities = {hit.entity for hit in counted_hits(explanation.outcome)}
    assert "tapi-pipeline" not in entities and "railway" in entities


# --- the commands ----------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[typer.Typer, Path]]:
    """A typer app with the two commands, and the global --config pointed at a workspace."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, so the commands keep their names."""

    register(app)
    config = workspace(tmp_path / "ws", [])
    previous = monitor.cli.State.config
    monitor.cli.State.config = config
    try:
        yield app, config
    finally:
        monitor.cli.State.config = previous


def run(app: typer.Typer, *args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_explain_a_seeds_format_file(cli: tuple[typer.Typer, Path], tmp_path: Path) -> None:
    app, _ = cli
    title = "Tokayev and Shehbaz Sharif sign a declaration in Islamabad"
    body = "Kazakhstan and Pakistan agreed to expand trade through Gwadar port. " + FILLER
    path = tmp_path / f"001_{hex16(title)}.txt"
    path.write_text(render("2026-02-04", title, body), encoding="utf-8")
    result = run(app, "explain", str(path))
    assert result.exit_code == 0, result.output
    assert f"item {hex16(title)}, en: {title}" in result.output
    assert "kz-pk: MATCH" in result.output and "gwadar: MATCH" in result.output
    assert "tap-railway: no match" in result.output


def test_explain_a_stored_item_by_id_and_by_url(
    cli: tuple[typer.Typer, Path], matcher: Matcher
) -> None:
    app, config = cli
    url = "https://example.invalid/news/1"
    stored = item("Gwadar port handled its first transit cargo. " + FILLER, "Gwadar", "abc123", url)
    store = open_store(load_settings(config).db_url)
    store.migrate()
    store.save_item(stored, matcher.match(stored))
    store.close()
    for target in ("abc123", url):
        result = run(app, "explain", target)
        assert result.exit_code == 0, result.output
        assert "item abc123, en: Gwadar" in result.output
        assert "gwadar: MATCH" in result.output
        assert "stored with matches: gwadar" in result.output


def test_explain_what_is_neither_file_nor_item(cli: tuple[typer.Typer, Path]) -> None:
    app, _ = cli
    result = run(app, "explain", "no-such-item")
    assert result.exit_code == 1
    assert "no stored item" in result.output


SMALL_SET = [
    {
        "id": "en-001",
        "language": "en",
        "script": "Latn",
        "title": "Kazakhstan and Pakistan sign a trade agreement",
        "body": "Kazakhstan and Pakistan signed a trade agreement in Astana. " + FILLER,
        "watchlists": ["kz-pk"],
    },
    {
        "id": "en-002",
        "language": "en",
        "script": "Latn",
        "title": "Gwadar port handles transit cargo",
        "body": "Gwadar port handled its first cargo. " + FILLER,
        "watchlists": [],
        "note": "labelled wrong on purpose",
    },
]


def test_evaluate_prints_the_tables_and_the_errors(
    cli: tuple[typer.Typer, Path], tmp_path: Path
) -> None:
    app, _ = cli
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump({"items": SMALL_SET}), encoding="utf-8")
    result = run(app, "evaluate", "--set", str(path))
    assert result.exit_code == 0, result.output
    assert "2 items" in result.output
    rows = {}
    for line in result.output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0] in ("kz-pk", "gwadar", "en"):
            rows[cells[0]] = cells[1:]
    # labelled, TP, FP, FN, precision, recall, F1
    assert rows["kz-pk"] == ["1", "1", "0", "0", "1.000", "1.000", "1.000"]
    assert rows["gwadar"] == ["0", "0", "1", "0", "0.000", "1.000", "0.000"]
    # items, precision, recall, F1, language ID, on titles
    assert rows["en"] == ["2", "0.500", "1.000", "0.667", "2/2", "2/2"]
    assert "language ID on items: 2/2 = 100.0%" in result.output
    assert "Misclassified items (1)" in result.output
    assert "en-002" in result.output and "gwadar: fired gwadar" in result.output
    assert "labelled wrong on purpose" in result.output
    quiet = run(app, "evaluate", "--set", str(path), "--no-errors")
    assert quiet.exit_code == 0 and "Misclassified" not in quiet.output


def test_evaluate_a_missing_or_bad_set(cli: tuple[typer.Typer, Path], tmp_path: Path) -> None:
    app, _ = cli
    missing = run(app, "evaluate", "--set", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 2 and "cannot read" in missing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"items": [{**SMALL_SET[0], "watchlists": ["nope"]}]}))
    result = run(app, "evaluate", "--set", str(bad))
    assert result.exit_code == 2 and "unknown watchlists: nope" in result.output
