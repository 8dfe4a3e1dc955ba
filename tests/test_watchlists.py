"""Loading and validating the watchlist files; the rule language."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.watch.watchlists import (
    AllOf,
    AnyOf,
    Near,
    NoneOf,
    Term,
    Weights,
    describe,
    load_watchlists,
)

WATCHLISTS = Path(__file__).resolve().parent.parent / "watchlists"

REQUIRED_ENTITIES = (
    "kazakhstan",
    "pakistan",
    "tokayev",
    "shehbaz-sharif",
    "astana",
    "islamabad",
    "gwadar",
    "karachi",
    "termez",
    "mazar-i-sharif",
    "peshawar",
    "afghanistan",
    "turkmenistan",
    "trans-afghan-railway",
)
LANGUAGES = {"en", "ru", "kk", "uz", "tr", "zh", "ur"}

ENTITIES = """
entities:
  kazakhstan:
    aliases:
      en: [Kazakhstan]
      ru: [Казахстан, {text: РК, exact: true}]
  pakistan:
    aliases:
      en: [Pakistan]
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def load_error(tmp_path: Path, files: dict[str, str]) -> str:
    files = {"entities.yaml": ENTITIES, **files}
    with pytest.raises(ConfigError) as caught:
        load_watchlists(write(tmp_path / "watchlists", files))
    return str(caught.value)


def watchlist(rule: str, name: str = "kz-pk", extra: str = "") -> dict[str, str]:
    return {f"{name}.yaml": f"name: {name}\ntitle: Test\n{extra}rule:\n{rule}\n"}


def test_the_shipped_watchlists_load() -> None:
    loaded = load_watchlists(WATCHLISTS)
    assert loaded.names == ["gwadar", "kz-pk", "tap-railway"]
    assert loaded.title("kz-pk") == "Kazakhstan–Pakistan relations"
    assert len(loaded) == 3
    assert [w.name for w in loaded] == loaded.names
    assert set(loaded["kz-pk"].entities) >= {"kazakhstan", "pakistan"}


@pytest.mark.parametrize("entity", REQUIRED_ENTITIES)
def test_entities_have_aliases_in_every_language_and_both_uzbek_scripts(entity: str) -> None:
    aliases = load_watchlists(WATCHLISTS).entities[entity].aliases
    assert {alias.language for alias in aliases} >= LANGUAGES
    uzbek = [alias.text for alias in aliases if alias.language == "uz"]
    assert any(re.search("[\u0400-\u04ff]", text) for text in uzbek), uzbek
    assert any(re.search("[A-Za-z]", text) for text in uzbek), uzbek


def test_alias_forms(tmp_path: Path) -> None:
    files = {
        "entities.yaml": """
entities:
  tap:
    description: Trans Adriatic Pipeline
    aliases:
      en: [{text: TAP, exact: true}, {text: Trans Adriatic, inflected: false}]
      uz-Latn: [{text: Ostona, case: true}]
""",
        **watchlist("  tap", name="tap"),
    }
    aliases = load_watchlists(write(tmp_path / "w", files)).entities["tap"].aliases
    tap, adriatic, ostona = aliases
    assert tap.exact and tap.case_sensitive and not tap.inflected
    assert not adriatic.exact and not adriatic.case_sensitive and not adriatic.inflected
    assert ostona.case_sensitive and ostona.inflected and ostona.language == "uz"


def test_rule_nodes_and_options(tmp_path: Path) -> None:
    rule = """
  all:
    - kazakhstan
    - {entity: pakistan, where: title, min_score: 3}
    - any: [kazakhstan, pakistan]
      at_least: 2
      where: lead
    - none: [{entity: pakistan, where: anywhere}]
    - near: [kazakhstan, pakistan]
      within: 4
      within_chars: 9
  min_score: 5
"""
    files = {"entities.yaml": ENTITIES, **watchlist(rule, extra="weights: {in_list: 0}\n")}
    loaded = load_watchlists(write(tmp_path / "w", files))["kz-pk"]
    assert loaded.weights == Weights(in_list=0)
    assert loaded.rule == AllOf(
        (
            Term("kazakhstan"),
            Term("pakistan", where="title", min_score=3),
            AnyOf((Term("kazakhstan", "lead"), Term("pakistan", "lead")), at_least=2),
            NoneOf((Term("pakistan"),)),
            Near((Term("kazakhstan"), Term("pakistan")), within=4, within_chars=9),
        ),
        min_score=5,
    )
    assert describe(loaded.rule) == (
        "all-of(kazakhstan, pakistan@title score≥3, 2-of(kazakhstan@lead, pakistan@lead), "
        "none-of(pakistan), near(kazakhstan, pakistan; 4 words/9 chars)) score≥5"
    )


def test_a_rule_may_be_one_entity(tmp_path: Path) -> None:
    files = {"entities.yaml": ENTITIES, **watchlist("  pakistan", name="pk")}
    assert load_watchlists(write(tmp_path / "w", files))["pk"].rule == Term("pakistan")


def test_unknown_entity_names_file_and_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, watchlist("  all: [kazakhstan, pakistn]"))
    assert message.endswith("watchlists/kz-pk.yaml: rule.all[1]: unknown entity 'pakistn'")


@pytest.mark.parametrize(
    ("rule", "key", "problem"),
    [
        (
            "  all: [kazakhstan, {any: [pakistan, kazakstan]}]",
            "rule.all[1].any[1]",
            "unknown entity",
        ),
        ("  {anyof: [kazakhstan]}", "rule", "exactly one of"),
        ("  {all: [kazakhstan], any: [pakistan]}", "rule", "exactly one of"),
        ("  {all: [kazakhstan], at_least: 1}", "rule.at_least", "unknown option"),
        ("  {all: []}", "rule.all", "non-empty list"),
        ("  {entity: pakistan, where: headline}", "rule.where", "not one of"),
        ("  {entity: pakistan, min_score: -1}", "rule.min_score", "number ≥ 0"),
        ("  {any: [kazakhstan, pakistan], at_least: 3}", "rule.at_least", "more than the 2"),
        ("  {near: [kazakhstan]}", "rule.near", "at least two"),
        ("  {near: [kazakhstan, {all: [pakistan]}]}", "rule.near[1]", "entities only"),
        ("  {near: [kazakhstan, pakistan], within: 0}", "rule.within", "whole number ≥ 1"),
        ("  [kazakhstan]", "rule", "an entity id or a mapping"),
    ],
)
def test_rule_errors_name_the_key(tmp_path: Path, rule: str, key: str, problem: str) -> None:
    message = load_error(tmp_path, watchlist(rule))
    assert f"kz-pk.yaml: {key}: " in message, message
    assert problem in message, message


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("name: kz-pk\ntitle: T\n", "kz-pk.yaml: rule", "missing"),
        ("name: other\ntitle: T\nrule: pakistan\n", "kz-pk.yaml: name", "differs"),
        ("name: kz-pk\ntitle: T\nrule: pakistan\ncolour: red\n", "kz-pk.yaml: colour", "Extra"),
        ("name: kz-pk\nrule: pakistan\n", "kz-pk.yaml: title", "required"),
        ("name: kz-pk\ntitle: T\nweights: {body: -1}\nrule: pakistan\n", "weights.body", "0"),
        ("name: kz-pk\ntitle: T\nrule: [unclosed\n", "kz-pk.yaml", "not valid YAML"),
        ("- just\n- a list\n", "kz-pk.yaml", "a mapping"),
    ],
)
def test_watchlist_file_errors(tmp_path: Path, text: str, key: str, problem: str) -> None:
    message = load_error(tmp_path, {"kz-pk.yaml": text})
    assert key in message and problem in message, message


@pytest.mark.parametrize(
    ("entities", "key", "problem"),
    [
        (
            "entities:\n  kazakhstan:\n    aliases:\n      en: [K, {text: X, exakt: true}]\n",
            "entities.kazakhstan.aliases.en[1].exakt",
            "Extra inputs",
        ),
        (
            "entities:\n  kazakhstan:\n    aliases:\n      en: ['ʻ']\n",
            "aliases.en[0]",
            "nothing to match",
        ),
        (
            "entities:\n  kazakhstan:\n    aliases:\n      english: [K]\n",
            "aliases.english",
            "ISO 639",
        ),
        (
            "entities:\n  Kazakhstan:\n    aliases:\n      en: [K]\n",
            "entities.Kazakhstan",
            "lowercase",
        ),
        (
            "entities:\n  kazakhstan:\n    aliases: {}\n",
            "entities.kazakhstan.aliases",
            "at least 1",
        ),
        (
            "entities:\n  pakistan:\n    aliases: {en: [P]}\n  pakistan:\n    aliases: {en: [Q]}\n",
            "entities.yaml",
            "duplicate key 'pakistan'",
        ),
    ],
)
def test_entity_file_errors(tmp_path: Path, entities: str, key: str, problem: str) -> None:
    files = {"entities.yaml": entities, **watchlist("  kazakhstan")}
    message = load_error(tmp_path, files)
    assert key in message and problem in message, message


def test_missing_directory_entities_or_watchlists(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_watchlists(tmp_path / "nowhere")
    empty = write(tmp_path / "empty", {})
    with pytest.raises(ConfigError, match=r"entities\.yaml: missing"):
        load_watchlists(empty)
    only_entities = write(tmp_path / "only", {"entities.yaml": ENTITIES})
    with pytest.raises(ConfigError, match="no watchlist files"):
        load_watchlists(only_entities)


def test_a_broken_copy_of_the_shipped_files_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, copy)
    text = (
        (copy / "kz-pk.yaml")
        .read_text(encoding="utf-8")
        .replace("- any: [pakistan,", "- any: [pakistn,")
    )
    (copy / "kz-pk.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_watchlists(copy)
    assert str(caught.value).endswith("kz-pk.yaml: rule.all[1].any[0]: unknown entity 'pakistn'")


def test_weights() -> None:
    assert Weights() == Weights(title=3, lead=2, body=1, in_list=1)
    weights = Weights(title=3, lead=2, body=1, in_list=0.5)
    assert weights.of("title", listed=False) == 3
    assert weights.of("body", listed=True) == 0.5
