"""The matcher's fast paths against straightforward references (issue 3: the speed target,
with not a single result changed).

- `scan` against a reference scanner: every key looked for with `str.find` in a text folded
  one character at a time, each candidate checked on its own, overlaps merged by sorting
  twice, on generated texts in Latin, Cyrillic, Chinese and Urdu script;
- the second pass (`_Evaluation.held`) against the outcome tree it replaces;
- the first pass of a two-term `near` (which first looks for any pair near enough) and of a
  term whose score nobody weighs (which stops at the first mentions that are enough),
  against `explain`, on random rules and texts in two scripts;
- the choice of the requirement a watchlist is looked up by.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import monitor.stories.evidence as evidence_module
import monitor.watch.matcher as matcher_module
from monitor.models import Evidence, Hit, Item
from monitor.stories.evidence import evidence_from, evidence_of, figures
from monitor.text.normalize import fold_key, word_end
from monitor.watch.matcher import (
    _APOSTROPHES,
    _SUFFIXES,
    Matcher,
    _Evaluation,
    _Finder,
    _make_match,
    _same_case,
    _suffix_ok,
    fields,
)
from monitor.watch.watchlists import Watchlist, load_watchlists
from tests.rules import random_rule
from tests.test_normalize import _reference

WATCHLISTS = Path(__file__).resolve().parent.parent / "watchlists"
_Raw = tuple[str, str, int, int]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(load_watchlists(WATCHLISTS))


# --- scan against a reference ----------------------------------------------------------------


def _reference_merge(found: list[_Raw]) -> list[_Raw]:
    """Overlapping mentions of one entity become one, as the matcher did before its single
    sort: by entity, start, longer first, longer alias first, then as found."""
    merged: list[_Raw] = []
    for raw in sorted(found, key=lambda r: (r[0], r[2], r[2] - r[3], -len(r[1]))):
        entity, alias, start, end = raw
        if merged:
            last_entity, last_alias, last_start, last_end = merged[-1]
            if last_entity == entity and start < last_end:
                if end > last_end:
                    longer = alias if end - start > last_end - last_start else last_alias
                    merged[-1] = (entity, longer, last_start, end)
                continue
        merged.append(raw)
    merged.sort(key=lambda r: (r[2], r[0]))
    return merged


def _is_word_letter(char: str) -> bool:
    return char.isalpha() and not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff")


def _reference_scan(finder: _Finder, text: str) -> list[_Raw]:
    """The mentions `Matcher._scan` finds, one obvious step at a time."""
    folded, spans = _reference(text)
    candidates = []
    for index, key in enumerate(finder.strings):
        at = folded.find(key)
        while at != -1:
            candidates.append((at + len(key), -len(key), index))
            at = folded.find(key, at + 1)
    found: list[_Raw] = []
    # In the order an Aho-Corasick automaton reports them: by end, the longer first.
    for stem_end, minus_length, index in sorted(candidates):
        start = stem_end + minus_length
        ends_word, _, patterns, _ = finder.keys[index]
        after_letter = start > 0 and _is_word_letter(folded[start - 1])
        end = word_end(folded, stem_end) if ends_word else stem_end
        for pattern, plain in patterns:
            alias = pattern.alias
            if after_letter and pattern.starts_word:
                continue
            tail = folded[stem_end:end]
            if (
                tail
                and not plain
                and alias.inflected
                and not pattern.long_stem
                and not _suffix_ok(tail, pattern.suffixes)
            ):
                continue
            begin, finish = spans[start][0], spans[end - 1][1]
            if not plain:
                stem_finish = spans[stem_end - 1][1]
                if alias.case_sensitive and not _same_case(text[begin:stem_finish], alias.text):
                    continue
                if tail and not alias.inflected and text[stem_finish] not in _APOSTROPHES:
                    continue
            found.append((alias.entity, alias.text, begin, finish))
    return _reference_merge(found)


_WORDS = {
    "latin": ["the", "talks", "port", "rail", "and", "sorular", "üç", "yılında", "va", "hamda"],
    "cyrillic": ["переговоры", "порт", "и", "мен", "және", "ва", "туралы", "жаңа", "ўзбек"],
    "han": ["会谈", "和", "港口", "铁路", "代表团", "古巴方面"],
    "arabic": ["اور", "بندرگاہ", "ریلوے", "مذاکرات"],
}
_SCRIPT_SUFFIXES = {
    "latin": [*_SUFFIXES["tr"].split(), *_SUFFIXES["en"].split(), *_SUFFIXES["uz"].split()[:10]],
    "cyrillic": [*_SUFFIXES["kk"].split(), *_SUFFIXES["ru"].split()],
    "han": ["方面", "港", "人"],
    "arabic": _SUFFIXES["ur"].split(),
}
_GLUE = [" ", " ", " ", "  ", ", ", ". ", "\n", " - ", " – ", "'", "’", "(", ") ", "2", "²", '"']


def _script(alias: str) -> str:
    for char in alias:
        if "\u0400" <= char <= "\u04ff":
            return "cyrillic"
        if "\u3400" <= char <= "\u9fff":
            return "han"
        if "\u0600" <= char <= "\u06ff":
            return "arabic"
    return "latin"


def _surface(rng: random.Random, alias: str) -> str:
    """An alias as a text may write it: another case, a suffix, an apostrophe, separators."""
    script = _script(alias)
    roll = rng.random()
    if roll < 0.15:
        alias = alias.upper()
    elif roll < 0.3:
        alias = alias.lower()
    elif roll < 0.35 and script == "latin":
        alias = alias.replace("I", "İ").replace("i", "ı")
    elif roll < 0.4 and script == "han" and len(alias) > 2:
        alias = alias[:2] + rng.choice([" ", "·", " · "]) + alias[2:]
    if rng.random() < 0.4:
        alias += rng.choice(["", "'", "’", "ʼ"]) + rng.choice(_SCRIPT_SUFFIXES[script])
    return alias


def _texts(watchlists_dir: Path, count: int, seed: int) -> list[str]:
    """Texts in one script each (no word mixes scripts, no combining marks: what a
    one-character-at-a-time fold sees right), some long, some short, some ASCII."""
    entities = yaml.safe_load((watchlists_dir / "entities.yaml").read_text(encoding="utf-8"))
    by_script: dict[str, list[str]] = {}
    for entity in entities["entities"].values():
        for forms in entity.get("aliases", {}).values():
            for form in forms:
                alias = form["text"] if isinstance(form, dict) else form
                by_script.setdefault(_script(alias), []).append(alias)
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        script = rng.choice(sorted(by_script))
        pieces = []
        for _ in range(rng.choice([3, 12, 40, 120])):
            if rng.random() < 0.35:
                pieces.append(_surface(rng, rng.choice(by_script[script])))
            else:
                pieces.append(rng.choice(_WORDS[script]))
            pieces.append(rng.choice(_GLUE) if script != "han" or rng.random() < 0.3 else "")
        texts.append("".join(pieces))
    return texts


def test_scan_finds_what_a_reference_scanner_finds(matcher: Matcher) -> None:
    texts = _texts(WATCHLISTS, 400, 20261123)
    assert any(len(text) >= 200 for text in texts) and any(len(text) < 200 for text in texts)
    assert any(text.isascii() for text in texts)
    hits = 0
    for text in texts:
        expected = _reference_scan(matcher._finder, text)
        found = [(h.entity, h.alias, h.start, h.end) for h in matcher.scan(text, "body")]
        assert found == expected, text
        with_awaited = _reference_scan(matcher._awaited_finder, text)
        expected_all = sorted(expected + with_awaited, key=lambda raw: (raw[2], raw[0]))
        found_all = matcher.scan(text, "body", developments=True)
        assert [(h.entity, h.alias, h.start, h.end) for h in found_all] == expected_all, text
        assert all(h.surface == text[h.start : h.end] for h in found_all)
        hits += len(found)
    assert hits > 1000  # the texts do name the entities


def _evidence_by_two_scans(item: Item, matcher: Matcher, cap: int) -> Evidence:
    """Evidence as it was built before the matcher's own scan was reused: the title and
    the body scanned apart, a body mention in the lead when it starts there."""
    texts = fields(item)
    title, body = texts["title"], texts["body"]
    entities: dict[str, None] = {}
    lead: set[str] = set()
    for hit in matcher.scan(title, "title"):
        entities.setdefault(hit.entity, None)
        lead.add(hit.entity)
    for hit in matcher.scan(body, "body"):
        entities.setdefault(hit.entity, None)
        if hit.start < len(texts["lead"]):
            lead.add(hit.entity)
    kept = list(entities)[:cap]
    return Evidence(
        entities=frozenset(kept),
        lead_entities=frozenset(lead & set(kept)),
        numbers=frozenset(figures(f"{title}\n{body}")),
    )


@pytest.mark.parametrize("cap", [evidence_module.MAX_ENTITIES, 3])
def test_evidence_from_the_match_scan_is_that_of_two_scans(
    matcher: Matcher, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with a cap of 3 entities, which keeps the first three named."""
    monkeypatch.setattr(evidence_module, "MAX_ENTITIES", cap)
    texts = _texts(WATCHLISTS, 300, 20261124)
    rng = random.Random(7)
    past_lead = capped = 0
    for number, text in enumerate(texts):
        cut = rng.randrange(len(text) + 1)
        title, body = text[:cut].replace("\n", " "), text[cut:]
        summary = "" if rng.random() < 0.5 else body[: rng.randrange(len(body) + 1)]
        item = Item(
            id=f"{number:016x}",
            url=f"https://example.org/{number}",
            source="test",
            title=title,
            summary=summary,
            text=body,
            language="en",
            fetched_at=datetime(2026, 11, 24, tzinfo=UTC),
        )
        matches, mentioned = matcher.match_mentioned(item)
        expected = _evidence_by_two_scans(item, matcher, cap)
        assert evidence_from(item, mentioned) == expected, text
        assert evidence_of(item, matcher) == expected, text
        assert matches == matcher.match(item)
        past_lead += expected.lead_entities != expected.entities
        capped += len(mentioned.entities) > cap
    # Some items name entities only past the lead; with the small cap, some name more.
    assert (capped if cap == 3 else past_lead) > 10


def test_the_finder_holds_every_alias_key(matcher: Matcher) -> None:
    named = {e for watchlist in matcher.watchlists for e in watchlist.entities}
    keys = {
        fold_key(alias.text)
        for entity in matcher.watchlists.entities.values()
        if entity.id in named
        for alias in entity.aliases
    }
    assert set(matcher._finder.strings) == keys
    assert len(matcher._finder.finder) == len(keys)


# --- random rules: the passes against the full evaluation ------------------------------------

_NAMES = {
    "alpha": {"en": ["Alpha"], "zh": ["阿尔法"]},
    "beta": {"en": ["Beta"], "zh": ["贝塔"]},
    "gamma": {"en": ["Gamma"], "ru": ["Гамма"]},
    "delta": {"en": ["Delta"], "zh": ["德尔塔"]},
}


def _random_item(rng: random.Random) -> Item:
    """Sentences in English and Chinese, the names close together or far apart, some in
    lists ("Alpha, Beta, Gamma and Delta")."""
    names = ["Alpha", "Beta", "Gamma", "Гамма", "Delta", "阿尔法", "贝塔", "德尔塔", "Alpha's"]
    words = ["the", "talks", "and", "of", "port", ",", "和", "会谈", "在", "，", "、"]

    def sentence() -> str:
        parts = [
            rng.choice(names) if rng.random() < 0.35 else rng.choice(words)
            for _ in range(rng.randint(2, 12))
        ]
        joiner = "" if rng.random() < 0.3 else " "
        return joiner.join(parts) + rng.choice([".", "。", "!", "\n"])

    text = " ".join(sentence() for _ in range(rng.randint(1, 30)))
    title = sentence()[:80] if rng.random() < 0.7 else ""
    return Item(id="random", url=None, source="test", title=title, text=text)


def _random_matcher(tmp_path: Path, seed: int, count: int) -> Matcher:
    rng = random.Random(seed)
    directory = tmp_path / f"rules-{seed}"
    directory.mkdir()
    entities = {"entities": {e: {"aliases": aliases} for e, aliases in _NAMES.items()}}
    (directory / "entities.yaml").write_text(
        yaml.safe_dump(entities, allow_unicode=True), encoding="utf-8"
    )
    for number in range(count):
        weights = {
            "title": rng.choice([3, 2.5, 1]),
            "lead": rng.choice([2, 1, 0.5]),
            "body": rng.choice([1, 0.5, 0]),
            "in_list": rng.choice([0, 0.5, 1, 2]),
        }
        spec = {"name": f"w{number:02d}", "title": "W", "weights": weights}
        spec["rule"] = random_rule(
            rng, 3, sorted(_NAMES), any_in_near=True, within_chars=True, sentence=True
        )
        (directory / f"w{number:02d}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return Matcher.compile(load_watchlists(directory))


def test_match_agrees_with_explain_on_nears_and_lists_in_two_scripts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`match` (a first pass that stops early and skips nears with no pair near enough,
    then `held`) against `explain` (every node, in full): the same watchlists, scores,
    rules that fired, and exactly the hits of the parts that held."""
    pairs: list[bool] = []

    def some_pair_near(*args: Any) -> bool:
        pairs.append(near := matcher_module._some_pair_near_unpatched(*args))
        return near

    monkeypatch.setattr(
        matcher_module, "_some_pair_near_unpatched", matcher_module._some_pair_near, raising=False
    )
    monkeypatch.setattr(matcher_module, "_some_pair_near", some_pair_near)
    matcher = _random_matcher(tmp_path, 20261124, 40)
    rng = random.Random(7)
    matched = 0
    for _ in range(150):
        item = _random_item(rng)
        matches = {m.watchlist: m for m in matcher.match(item)}
        explained = {e.watchlist: e for e in matcher.explain(item) if e.matched}
        assert set(matches) == set(explained), item
        for name, match in matches.items():
            explanation = explained[name]
            assert (match.score, match.rule) == (explanation.score, explanation.fired)
            full = _make_match(_watchlist(matcher, name), explanation.outcome)
            assert match.hits == full.hits
        matched += len(matches)
    assert 1000 < matched < 150 * 40
    assert True in pairs and False in pairs  # the shortcut both spares and lets through


def _watchlist(matcher: Matcher, name: str) -> Watchlist:
    return next(w for w in matcher.watchlists if w.name == name)


def test_the_second_pass_builds_what_the_outcome_tree_gives(tmp_path: Path) -> None:
    """`_Evaluation.held` against `run` followed by `_make_match` (what it replaces), on
    every watchlist of random rules and items, whether the watchlist holds or not."""
    matcher = _random_matcher(tmp_path, 20261125, 40)
    rng = random.Random(8)
    held_some = 0
    for _ in range(150):
        mentions = matcher._mentions(_random_item(rng))
        for compiled in matcher._compiled:
            watchlist = compiled.watchlist
            args = (mentions, watchlist.weights, False, compiled.children, compiled.sentences)
            outcome = _Evaluation(*args).run(watchlist.rule)
            held = _Evaluation(*args, compiled.described).held(watchlist.rule)
            if not outcome.ok:
                assert held is None
                continue
            assert held is not None
            match = _make_match(watchlist, outcome, compiled.described)
            score, hits, fired = held
            assert (score, fired) == (match.score, match.rule)
            assert sorted(set(hits), key=_hit_key) == sorted(match.hits, key=_hit_key)
            held_some += 1
    assert held_some > 1000


def _hit_key(hit: Hit) -> tuple[str, int, str]:
    return (hit.field, hit.start, hit.entity)


# --- which requirement a watchlist is looked up by -------------------------------------------


def test_a_watchlist_is_looked_up_by_its_rarest_requirement(tmp_path: Path) -> None:
    """Three watchlists need one of a few shared countries and one of their own minor
    names: each is looked at for items naming one of its minor names, not for every item
    naming a country, and still matches exactly what it did."""
    directory = tmp_path / "w"
    directory.mkdir()
    countries = {c: {"aliases": {"en": [c.title()]}} for c in ("kaz", "pak")}
    minor = {f"m{i}": {"aliases": {"en": [f"Minorname{i}"]}} for i in range(9)}
    entities = {"entities": {**countries, **minor}}
    (directory / "entities.yaml").write_text(yaml.safe_dump(entities), encoding="utf-8")
    for number in range(3):
        own = [f"m{i}" for i in range(number * 3, number * 3 + 3)]
        rule = {"all": [{"any": ["kaz", "pak"]}, {"any": own}]}
        spec = {"name": f"w{number}", "title": "W", "rule": rule}
        (directory / f"w{number}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    matcher = Matcher.compile(load_watchlists(directory))
    assert "kaz" not in matcher._keyed and "pak" not in matcher._keyed
    assert sorted(matcher._keyed["m4"]) == [1]

    def item(text: str) -> Item:
        return Item(id="x", url=None, source="test", title="", text=text)

    assert [m.watchlist for m in matcher.match(item("Kaz and Minorname4 met."))] == ["w1"]
    assert matcher.match(item("Kaz and Pak met.")) == []
    assert matcher.match(item("Minorname4 met.")) == []
