"""Scoring the matcher and the language identifier against a labelled set.

    items = load_labelled(Path("tests/eval/labelled.yaml"))
    report = evaluate(matcher, items)
    report.watchlists["kz-pk"].precision        # per watchlist
    report.groups["uz-Latn"].f1                  # per language (Uzbek by script), all watchlists
    report.misses                                # what went wrong, and which rule fired or failed
    report.language_items.accuracy               # language of title + body
    report.language_titles.accuracy              # language of the title alone

Pure: the set is read by `load_labelled`, everything else is computed from data. The set's
format and label rules are in tests/eval/README.md. An item is matched as the pipeline
matches it (title, and the body as the item's text); its language is detected as the
pipeline does (title and the first 3,000 characters of the text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitor.errors import ConfigError
from monitor.models import Item
from monitor.text.language import detect_language
from monitor.watch.matcher import Explanation, Matcher

__all__ = [
    "DEFAULT_SET",
    "LabelledItem",
    "LanguageScore",
    "Miss",
    "Report",
    "Scores",
    "evaluate",
    "group_of",
    "load_labelled",
]

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "eval" / "labelled.yaml"
_ID = re.compile(r"^[a-z]{2}(-[a-z]{4})?-\d{3}$")
_BODY_SAMPLE = 3000  # characters of the text the pipeline gives the language identifier


@dataclass(frozen=True)
class LabelledItem:
    """One item of the set, with its true language, script and watchlists."""

    id: str
    language: str  # ISO 639-1
    script: str  # Latn, Cyrl, Hans, Arab
    title: str
    body: str
    watchlists: frozenset[str]
    note: str = ""

    @property
    def group(self) -> str:
        return group_of(self.language, self.script)

    def item(self) -> Item:
        return Item(id=self.id, url=None, source="eval", title=self.title, text=self.body)


def group_of(language: str, script: str) -> str:
    """The reporting group: the language, with Uzbek split by script (uz-Cyrl, uz-Latn)."""
    return f"{language}-{script}" if language == "uz" else language


def load_labelled(path: Path) -> list[LabelledItem]:
    """Read a labelled set. Raises ConfigError naming the file and the item on a bad entry."""
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(where, f"not valid YAML: {exc}".replace("\n", " ")) from exc
    entries = raw.get("items") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(where, "expected a mapping with a non-empty list `items`")
    items: list[LabelledItem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        key = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: {key}", "an item is a mapping")
        missing = {"id", "language", "script", "title", "body", "watchlists"} - set(entry)
        if missing:
            raise ConfigError(f"{where}: {key}", f"missing {', '.join(sorted(missing))}")
        item_id = str(entry["id"])
        if not _ID.match(item_id) or item_id in seen:
            raise ConfigError(f"{where}: {key}.id", f"{item_id!r} is malformed or repeated")
        labels = entry["watchlists"]
        if not isinstance(labels, list) or not all(isinstance(w, str) for w in labels):
            raise ConfigError(f"{where}: {key}.watchlists", "a list of watchlist names")
        seen.add(item_id)
        items.append(
            LabelledItem(
                id=item_id,
                language=str(entry["language"]),
                script=str(entry["script"]),
                title=str(entry["title"]).strip(),
                body=str(entry["body"]).strip(),
                watchlists=frozenset(labels),
                note=str(entry.get("note") or ""),
            )
        )
    return items


# --- scores ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """True positives, false positives and false negatives, and what follows from them.
    With nothing to find and nothing found, precision and recall are 1 (nothing went
    wrong); F1 is their harmonic mean, 0 when both are 0."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Scores) -> Scores:
        return Scores(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def support(self) -> int:
        """How many positives the labels hold."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        found = self.tp + self.fp
        return self.tp / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.support if self.support else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Miss:
    """An item whose matched watchlists differ from its labels."""

    id: str
    group: str
    title: str
    expected: frozenset[str]
    got: frozenset[str]
    reasons: tuple[str, ...]  # per wrong watchlist: the rule that fired, or what failed
    note: str = ""

    @property
    def false_positives(self) -> frozenset[str]:
        return self.got - self.expected

    @property
    def false_negatives(self) -> frozenset[str]:
        return self.expected - self.got


@dataclass(frozen=True)
class LanguageScore:
    """Language identification: how many right, per group, and the errors."""

    correct: int
    total: int
    errors: tuple[tuple[str, str, str], ...]  # (item id, expected, detected)
    groups: Mapping[str, tuple[int, int]]  # group -> (correct, total)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


@dataclass(frozen=True)
class Report:
    watchlists: Mapping[str, Scores]  # by watchlist name
    groups: Mapping[str, Scores]  # by language group, summed over the watchlists
    cells: Mapping[tuple[str, str], Scores]  # by (group, watchlist)
    misses: tuple[Miss, ...]
    language_items: LanguageScore
    language_titles: LanguageScore
    items: int

    @property
    def overall(self) -> Scores:
        total = Scores()
        for scores in self.watchlists.values():
            total += scores
        return total


# --- evaluation ------------------------------------------------------------------------------


def _reasons(explanations: Iterable[Explanation], wrong: frozenset[str]) -> tuple[str, ...]:
    reasons = []
    for explanation in explanations:
        if explanation.watchlist not in wrong:
            continue
        if explanation.matched:
            surfaces = ", ".join(dict.fromkeys(h.surface for h in explanation.hits)) or "none"
            reasons.append(f"{explanation.watchlist}: fired {explanation.fired} [{surfaces}]")
        else:
            failed = "; ".join(explanation.failed) or "no part held"
            reasons.append(f"{explanation.watchlist}: failed {failed}")
    return tuple(reasons)


def _language_score(results: Sequence[tuple[LabelledItem, str]]) -> LanguageScore:
    groups: dict[str, tuple[int, int]] = {}
    errors = []
    for labelled, detected in results:
        right = detected == labelled.language
        correct, total = groups.get(labelled.group, (0, 0))
        groups[labelled.group] = (correct + right, total + 1)
        if not right:
            errors.append((labelled.id, labelled.language, detected))
    correct = sum(c for c, _ in groups.values())
    return LanguageScore(correct, len(results), tuple(errors), dict(sorted(groups.items())))


def evaluate(
    matcher: Matcher,
    items: Sequence[LabelledItem],
    detect: Callable[[str], str] = detect_language,
) -> Report:
    """Match and identify every item; score against the labels. Labels naming a watchlist
    the matcher does not have raise ConfigError: the scores would silently omit it."""
    names = list(matcher.watchlists.names)
    unknown = sorted({w for labelled in items for w in labelled.watchlists} - set(names))
    if unknown:
        raise ConfigError("labelled set", f"labels name unknown watchlists: {', '.join(unknown)}")
    cells: dict[tuple[str, str], Scores] = {}
    misses = []
    on_items, on_titles = [], []
    for labelled in items:
        item = labelled.item()
        got = frozenset(match.watchlist for match in matcher.match(item))
        for name in names:
            expected, found = name in labelled.watchlists, name in got
            scores = Scores(
                tp=int(expected and found),
                fp=int(found and not expected),
                fn=int(expected and not found),
            )
            key = (labelled.group, name)
            cells[key] = cells.get(key, Scores()) + scores
        if got != labelled.watchlists:
            wrong = got ^ labelled.watchlists
            misses.append(
                Miss(
                    id=labelled.id,
                    group=labelled.group,
                    title=labelled.title,
                    expected=labelled.watchlists,
                    got=got,
                    reasons=_reasons(matcher.explain(item), wrong),
                    note=labelled.note,
                )
            )
        on_items.append((labelled, detect(f"{labelled.title}\n{labelled.body[:_BODY_SAMPLE]}")))
        on_titles.append((labelled, detect(labelled.title)))
    by_watchlist = {name: Scores() for name in names}
    by_group: dict[str, Scores] = {}
    for (group, name), scores in sorted(cells.items()):
        by_watchlist[name] += scores
        by_group[group] = by_group.get(group, Scores()) + scores
    return Report(
        watchlists=by_watchlist,
        groups=by_group,
        cells=dict(sorted(cells.items())),
        misses=tuple(misses),
        language_items=_language_score(on_items),
        language_titles=_language_score(on_titles),
        items=len(items),
    )
