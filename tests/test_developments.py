"""Awaited developments: the `developments:` of a watchlist file, the rule language's `any`
terms in a near and `sentence` nodes, and the shipped `sharif-visit-kazakhstan` on texts in
the seven languages (tests/visit_texts.py) and on the shared seeds."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.errors import ConfigError
from monitor.explain import explain_text
from monitor.models import Item, Match, Priority
from monitor.store.corpus import parse_seed_file
from monitor.text.language import detect_language
from monitor.watch.matcher import Matcher
from monitor.watch.watchlists import (
    AllOf,
    AnyOf,
    Development,
    Near,
    NoneOf,
    Sentence,
    Term,
    describe,
    load_watchlists,
)
from tests import visit_texts
from tests.rules import random_rule

WATCHLISTS = Path(__file__).resolve().parent.parent / "watchlists"
VISIT = "sharif-visit-kazakhstan"

ENTITIES = """
entities:
  alpha: {aliases: {en: [Alpha]}}
  beta: {aliases: {en: [Beta]}}
  gamma: {aliases: {en: [Gamma]}}
  arrival: {aliases: {en: [arrived, landed]}}
  wish: {aliases: {en: [hopes]}}
"""


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(load_watchlists(WATCHLISTS))


def item(text: str, title: str = "") -> Item:
    return Item(id="test", url=None, source="test", title=title, text=text)


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def watchlist_file(rule: str = "alpha", developments: str = "", name: str = "kz-pk") -> str:
    return f"name: {name}\ntitle: Test\nrule: {rule}\n{developments}"


def load(tmp_path: Path, text: str) -> Matcher:
    """A matcher of one watchlist, kz-pk, over the small entity file above."""
    directory = write(tmp_path / "watchlists", {"entities.yaml": ENTITIES, "kz-pk.yaml": text})
    return Matcher.compile(load_watchlists(directory))


def load_error(tmp_path: Path, text: str) -> str:
    directory = write(tmp_path / "watchlists", {"entities.yaml": ENTITIES, "kz-pk.yaml": text})
    with pytest.raises(ConfigError) as caught:
        load_watchlists(directory)
    return str(caught.value)


def met(matcher: Matcher, it: Item, watchlist: str = "kz-pk") -> tuple[str, ...] | None:
    """The developments `it` meets in `watchlist`; None when it does not match it."""
    found: dict[str, Match] = {m.watchlist: m for m in matcher.match(it)}
    return found[watchlist].developments if watchlist in found else None


# --- the file ----------------------------------------------------------------------------------


def test_the_shipped_development() -> None:
    loaded = load_watchlists(WATCHLISTS)
    (development,) = loaded["kz-pk"].developments
    assert development.id == VISIT
    assert development.title == "Shehbaz Sharif's return state visit to Kazakhstan"
    assert development.priority is Priority.URGENT
    assert {"shehbaz-sharif", "in-kazakhstan", "to-kazakhstan"} <= set(development.entities)
    assert loaded["gwadar"].developments == () and loaded["tap-railway"].developments == ()
    # The entities only it names are not the watchlist's.
    assert "visit-arrival" in loaded["kz-pk"].development_entities
    assert "visit-arrival" not in loaded["kz-pk"].entities


NEW_ENTITIES = (
    "in-kazakhstan",
    "to-kazakhstan",
    "visit-arrival",
    "visit-talks",
    "visit-announced",
    "visit-invitation",
    "other-sharifs",
    "earlier-occasion",
    "going-home",
)


@pytest.mark.parametrize("entity", NEW_ENTITIES)
def test_the_new_entities_have_every_language_and_both_uzbek_scripts(entity: str) -> None:
    aliases = load_watchlists(WATCHLISTS).entities[entity].aliases
    assert {alias.language for alias in aliases} >= {"en", "ru", "kk", "uz", "tr", "zh", "ur"}
    uzbek = [alias.text for alias in aliases if alias.language == "uz"]
    assert any("\u0400" <= char <= "\u04ff" for text in uzbek for char in text), uzbek
    assert any("a" <= char.lower() <= "z" for text in uzbek for char in text), uzbek


def test_developments_are_read_in_file_order(tmp_path: Path) -> None:
    developments = """developments:
  - id: landed
    title: Alpha lands
    rule: {all: [alpha, arrival]}
  - id: with-beta
    title: Alpha with Beta
    rule: {near: [alpha, beta], within: 2}
    priority: high
"""
    matcher = load(tmp_path, watchlist_file(developments=developments))
    first, second = matcher.watchlists["kz-pk"].developments
    assert first == Development(
        "landed", "Alpha lands", AllOf((Term("alpha"), Term("arrival")))
    )  # urgent by default
    assert first.priority is Priority.URGENT and second.priority is Priority.HIGH
    assert second.rule == Near((Term("alpha"), Term("beta")), within=2)
    assert met(matcher, item("Alpha arrived with Beta.")) == ("landed", "with-beta")
    assert met(matcher, item("Beta arrived long before Alpha left.")) == ("landed",)
    assert met(matcher, item("Alpha stayed at home.")) == ()
    assert met(matcher, item("Beta arrived.")) is None  # the watchlist itself did not match


@pytest.mark.parametrize(
    ("developments", "key", "problem"),
    [
        (
            "developments:\n  - {id: a, title: A, rule: {all: [alpha, x]}}\n",
            "kz-pk.yaml: developments[0].rule.all[1]",
            "unknown entity 'x'",
        ),
        (
            "developments:\n  - {id: a, title: A, rule: alpha}\n"
            "  - {id: a, title: B, rule: beta}\n",
            "kz-pk.yaml: developments[1].id",
            "duplicate id 'a' (also developments[0])",
        ),
        (
            "developments:\n  - {id: a, title: A, rule: alpha, priority: critical}\n",
            "kz-pk.yaml: developments[0].priority",
            "unknown priority 'critical' (one of low, normal, high, urgent)",
        ),
        (
            "developments:\n  - {id: a, title: A, rule: alpha, priority: 3}\n",
            "kz-pk.yaml: developments[0].priority",
            "valid string",
        ),
        ("developments:\n  - {id: A b, title: A, rule: alpha}\n", "developments[0].id", "pattern"),
        ("developments:\n  - {id: a, rule: alpha}\n", "developments[0].title", "required"),
        ("developments:\n  - {id: a, title: A}\n", "developments[0].rule", "required"),
        (
            "developments:\n  - {id: a, title: A, rule: alpha, colour: red}\n",
            "developments[0].colour",
            "Extra inputs",
        ),
        ("developments: {id: a}\n", "kz-pk.yaml: developments", "valid list"),
        (
            "developments:\n  - {id: a, title: A, rule: {near: [alpha, {all: [beta]}]}}\n",
            "developments[0].rule.near[1]",
            "entities only, or an `any` of entities",
        ),
    ],
)
def test_development_errors_name_file_and_key(
    tmp_path: Path, developments: str, key: str, problem: str
) -> None:
    message = load_error(tmp_path, watchlist_file(developments=developments))
    assert f"{key}: " in message and problem in message, message


def test_the_error_of_the_issue(tmp_path: Path) -> None:
    text = watchlist_file(
        developments="developments:\n  - {id: a, title: A, rule: {all: [alpha, x]}}\n"
    )
    message = load_error(tmp_path, text)
    assert message.endswith(
        "watchlists/kz-pk.yaml: developments[0].rule.all[1]: unknown entity 'x'"
    )


# --- the rule language: `any` terms in a near, `sentence` nodes ---------------------------------


def test_any_terms_and_sentence_nodes_are_read(tmp_path: Path) -> None:
    rule = "{sentence: {all: [{near: [alpha, {any: [beta, gamma]}], within: 3}, {none: [wish]}]}}"
    matcher = load(tmp_path, watchlist_file(rule=rule))
    parsed = matcher.watchlists["kz-pk"].rule
    assert parsed == Sentence(
        AllOf(
            (
                Near((Term("alpha"), AnyOf((Term("beta"), Term("gamma")))), within=3),
                NoneOf((Term("wish"),)),
            )
        )
    )
    assert describe(parsed) == (
        "sentence(all-of(near(alpha, any-of(beta, gamma); 3 words/20 chars), none-of(wish)))"
    )
    assert matcher.watchlists["kz-pk"].entities == ("alpha", "beta", "gamma", "wish")


@pytest.mark.parametrize(
    ("rule", "key", "problem"),
    [
        (
            "{near: [alpha, {any: [beta, gamma], at_least: 2}]}",
            "rule.near[1].at_least",
            "no at_least",
        ),
        (
            "{near: [alpha, {any: [beta, gamma], min_score: 2}]}",
            "rule.near[1].min_score",
            "no min_score",
        ),
        ("{near: [alpha, {any: [beta, {all: [gamma]}]}]}", "rule.near[1].any[1]", "entities only"),
        ("{near: [alpha, {none: [beta]}]}", "rule.near[1]", "entities only"),
        ("{sentence: [alpha, beta]}", "rule.sentence", "one rule node"),
        ("{sentence: {all: [alpha, x]}}", "rule.sentence.all[1]", "unknown entity 'x'"),
        ("{sentence: alpha, min_score: 2}", "rule.min_score", "unknown option (allowed: where)"),
    ],
)
def test_rule_language_errors(tmp_path: Path, rule: str, key: str, problem: str) -> None:
    message = load_error(tmp_path, watchlist_file(rule=rule))
    assert f"kz-pk.yaml: {key}: " in message and problem in message, message


@pytest.mark.parametrize(
    ("rule", "title", "text", "expected"),
    [
        # A term of a near stands for any of its entities.
        ("{near: [alpha, {any: [beta, gamma]}], within: 1}", "", "Alpha met Gamma.", True),
        ("{near: [alpha, {any: [beta, gamma]}], within: 1}", "", "Alpha met the Gamma.", False),
        ("{near: [{any: [alpha, beta]}, gamma], within: 1}", "", "Beta, Gamma.", True),
        # ... and `where` reaches inside it.
        (
            "{near: [alpha, {any: [beta, gamma]}], where: title}",
            "Alpha and Beta",
            "Alpha, Beta",
            True,
        ),
        ("{near: [alpha, {any: [beta, gamma]}], where: title}", "Alpha", "Alpha and Beta.", False),
        # One sentence satisfies the node, or none does.
        ("{sentence: {all: [alpha, beta]}}", "", "Alpha and Beta met.", True),
        ("{sentence: {all: [alpha, beta]}}", "", "Alpha met. Beta left.", False),
        ("{sentence: {all: [alpha, beta]}}", "", "Alpha met! Beta left? Gamma.", False),
        ("{sentence: {all: [alpha, beta]}}", "", "阿 Alpha 来了。Beta 走了。", False),
        ("{sentence: {all: [alpha, beta]}}", "", "Alpha came\nBeta left", False),
        ("{sentence: {all: [alpha, beta]}}", "", "Alpha, 3.5 km from Beta.", True),  # not a stop
        ("{sentence: {all: [alpha, beta]}}", "Alpha", "Beta came.", False),  # title, body apart
        ("{sentence: {all: [alpha, beta]}}", "Alpha meets Beta", "Nothing.", True),
        # A none-of inside looks at that sentence only.
        ("{sentence: {all: [alpha, {none: [wish]}]}}", "", "Gamma hopes. Alpha arrived.", True),
        ("{sentence: {all: [alpha, {none: [wish]}]}}", "", "Gamma hopes Alpha arrived.", False),
        ("{all: [alpha, {none: [wish]}]}", "", "Gamma hopes. Alpha arrived.", False),
        # A sentence that names nothing satisfies a none-of alone.
        ("{sentence: {none: [alpha]}}", "", "Alpha arrived. Nothing else.", True),
        ("{sentence: {none: [alpha]}}", "", "Alpha arrived. Alpha left.", False),
    ],
)
def test_rule_language(tmp_path: Path, rule: str, title: str, text: str, expected: bool) -> None:
    matcher = load(tmp_path, watchlist_file(rule=rule))
    assert bool(matcher.match(item(text, title=title))) is expected


def test_a_sentence_node_explains_what_no_sentence_holds(tmp_path: Path) -> None:
    matcher = load(tmp_path, watchlist_file(rule="{sentence: {all: [alpha, beta]}}"))
    (across,) = matcher.explain(item("Alpha met. Beta left."))
    assert not across.matched
    assert across.failed == ("sentence(all-of(alpha, beta)): holds only across sentences",)
    (missing,) = matcher.explain(item("Alpha met."))
    assert missing.failed == ("beta: no mention",)
    (held,) = matcher.explain(item("Gamma. Alpha met Beta."))
    assert held.matched and held.fired == "sentence(all-of(alpha, beta))"
    (match,) = matcher.match(item("Gamma. Alpha met Beta."))
    assert match.rule == held.fired and [h.surface for h in match.hits] == ["Alpha", "Beta"]


# --- match and explain agree, on random rules --------------------------------------------------

NAMES = {"alpha": "Alpha", "beta": "Beta", "gamma": "Gamma", "delta": "Delta"}


def _rule(rng: random.Random) -> object:
    return random_rule(
        rng, 3, sorted(NAMES), where=False, any_in_near=True, sentence=True, at_least=False
    )


def _random_text(rng: random.Random, sentences: int) -> str:
    words = ["the", "minister", "said", "talks", "and", "of", "port", "Mr."]
    out = []
    for _ in range(sentences):
        parts = [
            rng.choice(list(NAMES.values())) if rng.random() < 0.35 else rng.choice(words)
            for _ in range(rng.randint(2, 9))
        ]
        out.append(" ".join(parts).capitalize() + rng.choice([".", ".", "!", "。", ";"]))
    return " ".join(out)


def test_match_agrees_with_explain_on_random_rules_and_developments(tmp_path: Path) -> None:
    """`match` settles rules on counts first and runs developments only for a watchlist that
    holds; `explain` evaluates everything in full. On random rules with `any` terms and
    `sentence` nodes, as watchlist rules and as developments, the two must agree."""
    rng = random.Random(20260204)
    directory = write(tmp_path / "w", {})
    entities = {"entities": {e: {"aliases": {"en": [name]}} for e, name in NAMES.items()}}
    (directory / "entities.yaml").write_text(yaml.safe_dump(entities), encoding="utf-8")
    for number in range(40):
        spec: dict[str, object] = {
            "name": f"w{number:02d}",
            "title": "W",
            "weights": {"body": rng.choice([1, 0.5]), "in_list": rng.choice([0, 1])},
            "rule": _rule(rng),
            "developments": [
                {"id": f"d{index}", "title": "D", "rule": _rule(rng)}
                for index in range(rng.randint(0, 3))
            ],
        }
        (directory / f"w{number:02d}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    matcher = Matcher.compile(load_watchlists(directory))
    matched, developments = 0, 0
    for _ in range(150):
        it = item(_random_text(rng, rng.randint(1, 8)), title=_random_text(rng, 1)[:50])
        matches = {m.watchlist: m for m in matcher.match(it)}
        explained = {e.watchlist: e for e in matcher.explain(it)}
        assert set(matches) == {name for name, e in explained.items() if e.matched}, it.text
        for name, match in matches.items():
            explanation = explained[name]
            assert match.score == explanation.score and match.rule == explanation.fired
            assert match.developments == tuple(d.id for d in explanation.developments if d.met)
            developments += len(match.developments)
        for name, explanation in explained.items():
            if name not in matches:
                assert not any(d.met for d in explanation.developments)
        matched += bool(matches)
    assert matched > 30 and developments > 30  # neither the rules nor the developments impossible


# --- the matcher: only for a watchlist that matched --------------------------------------------


def test_entities_only_developments_name_are_looked_for_apart(matcher: Matcher) -> None:
    text = "Prime Minister Shehbaz Sharif arrived in Astana."
    plain = {hit.entity for hit in matcher.scan(text, "body")}
    assert plain == {"shehbaz-sharif", "astana"}
    every = {hit.entity for hit in matcher.scan(text, "body", developments=True)}
    assert every == {"shehbaz-sharif", "astana", "visit-arrival", "in-kazakhstan"}


def test_developments_run_only_after_a_watchlist_matched(
    matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked: list[str] = []
    original = Matcher._look_for_awaited

    def spy(self: Matcher, mentions: Any) -> None:
        looked.append("scan")
        original(self, mentions)

    monkeypatch.setattr(Matcher, "_look_for_awaited", spy)
    # Nothing matches: the developments' words are never looked for.
    assert (
        matcher.match(item("The minister will visit the region next week and met farmers.")) == []
    )
    # kz-pk matches, but nobody the development needs is named (Shehbaz Sharif).
    kz_pk = item(
        "Kazakhstan and Pakistan agreed on a transit corridor.", title="Kazakhstan, Pakistan"
    )
    assert met(matcher, kz_pk) == ()
    assert looked == []
    # Sharif is named: the development's own entities are looked for, once.
    arrival = visit_texts.ARRIVAL["en"]
    assert met(matcher, item(arrival[1], title=arrival[0])) == (VISIT,)
    assert looked == ["scan"]


def test_explain_shows_each_development(matcher: Matcher) -> None:
    title, body = visit_texts.ARRIVAL["en"]
    text = explain_text(matcher, item(body, title=title), watchlists=["kz-pk"])
    paragraph = next(p for p in text.split("\n\n") if p.startswith("  development "))
    lines = paragraph.splitlines()
    assert lines[0] == (
        f"  development {VISIT} (urgent): MET: Shehbaz Sharif's return state visit to Kazakhstan"
    )
    assert lines[1].startswith("    rule:   any-of(sentence(all-of(any-of(all-of(near(")
    assert lines[2].startswith(
        "    fired:  sentence(all-of(all-of(near(shehbaz-sharif, visit-arrival"
    )
    assert "    * visit-arrival " in paragraph and '"arrived"' in paragraph
    assert "«arrived» in Astana" in paragraph
    assert "failed" not in paragraph


def test_explain_says_why_a_development_is_not_met(matcher: Matcher) -> None:
    title, body = visit_texts.INVITATION["en"]
    explanation = next(
        e for e in matcher.explain(item(body, title=title)) if e.watchlist == "kz-pk"
    )
    assert explanation.matched
    (development,) = explanation.developments
    assert not development.met and development.fired is None
    assert any("visit-invitation" in reason for reason in development.failed), development.failed
    assert f"development {VISIT} (urgent): not met" in explanation.render()
    # The rule may hold while the watchlist does not match (one mention of each side, in
    # the body past the lead, weighs too little for kz-pk): still not met, and said so.
    filler = "Officials answered questions about prices, wages and the harvest outlook. " * 5
    lone = item(filler + "Prime Minister Shehbaz Sharif arrived in Astana on Monday.")
    (kz_pk,) = [e for e in matcher.explain(lone) if e.watchlist == "kz-pk"]
    assert not kz_pk.matched and met(matcher, lone) is None
    (development,) = kz_pk.developments
    assert development.holds and not development.met
    assert development.failed == ("the watchlist kz-pk did not match",)


# --- the shipped development on reports in every language ---------------------------------------


def _fires(matcher: Matcher, text: visit_texts.Text) -> bool:
    title, body = text
    developments = met(matcher, item(body, title=title))
    assert developments is not None, f"does not match kz-pk: {title}"
    return VISIT in developments


def _language(key: str) -> str:
    return key.split("-")[0]


@pytest.mark.parametrize("language", sorted(visit_texts.ARRIVAL))
def test_arrival_fires_in_every_language(matcher: Matcher, language: str) -> None:
    title, body = visit_texts.ARRIVAL[language]
    assert detect_language(f"{title}\n{body}") == _language(language)
    assert _fires(matcher, (title, body))


@pytest.mark.parametrize("key", sorted(visit_texts.ON_THE_VISIT))
def test_setting_off_welcome_and_talks_in_astana_fire(matcher: Matcher, key: str) -> None:
    assert _fires(matcher, visit_texts.ON_THE_VISIT[key])


@pytest.mark.parametrize("language", sorted(visit_texts.ANNOUNCED))
def test_announcement_fires_in_every_language(matcher: Matcher, language: str) -> None:
    title, body = visit_texts.ANNOUNCED[language]
    assert detect_language(f"{title}\n{body}") == _language(language)
    assert _fires(matcher, (title, body))


@pytest.mark.parametrize("key", sorted(visit_texts.ANNOUNCED_EN))
def test_ways_of_announcing(matcher: Matcher, key: str) -> None:
    assert _fires(matcher, visit_texts.ANNOUNCED_EN[key])


@pytest.mark.parametrize("language", sorted(visit_texts.INVITATION))
def test_the_invitation_alone_does_not_fire(matcher: Matcher, language: str) -> None:
    title, body = visit_texts.INVITATION[language]
    assert detect_language(f"{title}\n{body}") == _language(language)
    assert not _fires(matcher, (title, body))


@pytest.mark.parametrize("key", sorted(visit_texts.HARD_NEGATIVES))
def test_hard_negatives_do_not_fire(matcher: Matcher, key: str) -> None:
    assert not _fires(matcher, visit_texts.HARD_NEGATIVES[key])


@pytest.mark.parametrize("key", sorted(visit_texts.BORDERLINE))
def test_borderline_decisions(matcher: Matcher, key: str) -> None:
    text, expected = visit_texts.BORDERLINE[key]
    assert _fires(matcher, text) is expected


def test_the_seeds_match_kz_pk_without_firing(matcher: Matcher, seeds_dir: Path) -> None:
    """The five seeds report Tokayev's visit to Islamabad and the invitation: kz-pk, and no
    visit of Sharif's."""
    paths = sorted(seeds_dir.glob("*.txt"))
    assert len(paths) == 5
    for path in paths:
        doc = parse_seed_file(path)
        developments = met(matcher, item(doc.body, title=doc.title))
        assert developments == (), (path.name, developments)
