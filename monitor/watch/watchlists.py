"""Watchlists and the shared entity file: loading, validation, and the rule language.

    watchlists/
      entities.yaml      entity id -> aliases by language (shared by every watchlist)
      kz-pk.yaml         one file per watchlist: name, title, description, weights, rule,
      ...                and the developments it awaits

An alias is a plain string (inflected, the default: the alias is a stem and the word may go
on with a suffix, as Kazakh, Uzbek, Turkish and Russian words do) or a mapping:
`{text: TAP, exact: true}` (case-sensitive, whole word: for acronyms),
`{text: Ostona, case: true}` (case-sensitive, still inflected) or
`{text: ..., inflected: false}` (whole word, any case).

A rule is a tree of nodes:

    kazakhstan                              an entity: at least one mention that counts
    {entity: pakistan, where: title,        `where`: title | lead (title or lead) | anywhere
     min_score: 2}                          `min_score`: its mentions must weigh this much
    {all: [node, ...], min_score: N}        every node holds (and their scores add up to N)
    {any: [node, ...], at_least: K}         K of the nodes hold (default 1)
    {none: [node, ...]}                     none of the nodes holds
    {near: [entity, entity, ...],           a mention of each within `within` words of each
     within: 5, within_chars: 12}           other (`within_chars` characters in Chinese)
    {near: [a, {any: [b, c]}]}              a term of a near may be an `any` of entities
    {sentence: node}                        one sentence of the title or of the body
                                            satisfies the node on its own mentions

A composite node may carry `where`, applied to the entities inside that set none.

`near` finds one mention per term, close together. Its terms are entities, or an `any` of
entities (no `at_least`, no `min_score`) of which any mention stands for the term: "a word
for arriving next to Kazakhstan or Astana as the place" is `near: [visit-arrival, {any:
[in-kazakhstan, to-kazakhstan]}]`.

`sentence` evaluates its node on each sentence apart, over the mentions in it, and holds
when one sentence satisfies it (its score is the best sentence's). It is how a rule says
"in the same statement": the parts of an all-of in one sentence, and a none-of that only
looks at that sentence ("Sharif will visit Kazakhstan" but not "Tokayev hopes Sharif will
visit Kazakhstan", while another sentence of the same item may name the invitation). A
sentence ends at . ! ? or … before a space, a closing quote or the end of the text, at the
Chinese 。！？, the Urdu ۔ and ؟, and at a line break; the title and the body are never one
sentence.

A watchlist may name the developments it awaits: a list under `developments:`, each
`{id, title, rule, priority}` (an id unique in the file; priority low | normal | high |
urgent, default urgent). A
development's rule is written in the same language and evaluated, with the watchlist's
weights, over the same mentions, and only for an item that matches the watchlist: it says
which of the watchlist's items report the awaited event ("Sharif arrives in Astana"), not
which items belong to the watchlist.

Weights say how much one mention counts: by where it stands (title 3, lead 2, body 1 by
default) and, multiplied, when it stands in an enumeration of four or more names
("Kazakhstan, Kyrgyzstan, Tajikistan and Pakistan": `in_list`, 1 by default). A mention
that weighs 0 does not count at all: with `in_list: 0` a co-mention in a long list of
countries is not enough, and `min_score: 2` asks for more than a passing mention in the
body.

Loading validates everything and raises ConfigError naming the file and the key, e.g.
`watchlists/kz-pk.yaml: rule.all[1]: unknown entity 'pakistn'` or
`watchlists/kz-pk.yaml: developments[0].rule.all[1]: unknown entity 'x'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import ConfigError
from monitor.models import Priority
from monitor.text.normalize import fold_key

__all__ = [
    "ENTITIES_FILE",
    "Alias",
    "AllOf",
    "AnyOf",
    "Development",
    "Entity",
    "Near",
    "NearTerm",
    "Node",
    "NoneOf",
    "Sentence",
    "Term",
    "Watchlist",
    "Watchlists",
    "Weights",
    "Where",
    "describe",
    "load_watchlists",
    "near_terms",
]

ENTITIES_FILE = "entities.yaml"

Where = Literal["title", "lead", "anywhere"]

_ID = r"^[a-z0-9][a-z0-9-]*$"
_LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z]{4})?$"


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alias:
    """One way an entity is written. `language` is the primary code ("uz" for uz-Latn)."""

    entity: str
    text: str
    language: str
    case_sensitive: bool = False
    inflected: bool = True

    @property
    def exact(self) -> bool:
        return self.case_sensitive and not self.inflected


@dataclass(frozen=True)
class Entity:
    id: str
    description: str
    aliases: tuple[Alias, ...]


@dataclass(frozen=True)
class Term:
    entity: str
    where: Where = "anywhere"
    min_score: float = 0.0


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]
    min_score: float = 0.0


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]
    at_least: int = 1
    min_score: float = 0.0


@dataclass(frozen=True)
class NoneOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    terms: tuple[NearTerm, ...]  # an entity, or an any-of of entities (of terms only)
    within: int = 10  # words between the first and the last mention
    within_chars: int = 20  # characters, when the text between them is Chinese
    min_score: float = 0.0


@dataclass(frozen=True)
class Sentence:
    """Holds when one sentence of the title or body satisfies `child` on its own."""

    child: Node


Node: TypeAlias = Term | AllOf | AnyOf | NoneOf | Near | Sentence
NearTerm: TypeAlias = Term | AnyOf


def near_terms(term: NearTerm) -> tuple[Term, ...]:
    """The entities a term of a near stands for: itself, or the members of its any-of."""
    if isinstance(term, Term):
        return (term,)
    return tuple(child for child in term.children if isinstance(child, Term))


@dataclass(frozen=True)
class Weights:
    title: float = 3.0
    lead: float = 2.0
    body: float = 1.0
    in_list: float = 1.0  # multiplier for a mention inside an enumeration of 4+ names

    def of(self, field: str, listed: bool) -> float:
        weight: float = getattr(self, field)
        return weight * self.in_list if listed else weight


@dataclass(frozen=True)
class Development:
    """An event a watchlist waits for: among the watchlist's items, those whose mentions
    satisfy `rule` report it."""

    id: str
    title: str
    rule: Node
    priority: Priority = Priority.URGENT

    @property
    def entities(self) -> tuple[str, ...]:
        """Entities the rule names, in order of first appearance."""
        return tuple(dict.fromkeys(_entities(self.rule)))


@dataclass(frozen=True)
class Watchlist:
    name: str
    title: str
    description: str
    rule: Node
    weights: Weights
    path: str
    developments: tuple[Development, ...] = ()

    @property
    def entities(self) -> tuple[str, ...]:
        """Entities the rule names, in order of first appearance."""
        return tuple(dict.fromkeys(_entities(self.rule)))

    @property
    def development_entities(self) -> tuple[str, ...]:
        """Entities the developments' rules name, in order of first appearance."""
        return tuple(dict.fromkeys(e for d in self.developments for e in d.entities))


class Watchlists:
    """The loaded entity file and watchlists, by name."""

    def __init__(self, entities: Mapping[str, Entity], watchlists: Mapping[str, Watchlist]):
        self.entities = dict(entities)
        self.watchlists = dict(sorted(watchlists.items()))

    @property
    def names(self) -> list[str]:
        return list(self.watchlists)

    def title(self, name: str) -> str:
        return self.watchlists[name].title

    def __getitem__(self, name: str) -> Watchlist:
        return self.watchlists[name]

    def __iter__(self) -> Iterator[Watchlist]:
        return iter(self.watchlists.values())

    def __len__(self) -> int:
        return len(self.watchlists)


def _entities(node: Node) -> Iterator[str]:
    if isinstance(node, Term):
        yield node.entity
    elif isinstance(node, Near):
        for term in node.terms:
            yield from _entities(term)
    elif isinstance(node, Sentence):
        yield from _entities(node.child)
    else:
        for child in node.children:
            yield from _entities(child)


def _number(value: float) -> str:
    return f"{value:g}"


def describe(node: Node) -> str:
    """A rule as one readable line: `all-of(kazakhstan score≥2, near(a, b; 5 words))`."""
    if isinstance(node, Term):
        text = node.entity
        if node.where != "anywhere":
            text += f"@{node.where}"
        if node.min_score:
            text += f" score≥{_number(node.min_score)}"
        return text
    if isinstance(node, Sentence):
        return f"sentence({describe(node.child)})"
    if isinstance(node, Near):
        inner = ", ".join(describe(term) for term in node.terms)
        text = f"near({inner}; {node.within} words/{node.within_chars} chars)"
    else:
        inner = ", ".join(describe(child) for child in node.children)
        if isinstance(node, AllOf):
            text = f"all-of({inner})"
        elif isinstance(node, AnyOf):
            text = f"any-of({inner})" if node.at_least == 1 else f"{node.at_least}-of({inner})"
        else:
            return f"none-of({inner})"
    if node.min_score:
        text += f" score≥{_number(node.min_score)}"
    return text


# --- file schemas ----------------------------------------------------------------------------


class _AliasSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    exact: bool = False  # case-sensitive and whole word: acronyms (TAP, CPEC)
    case: bool = False  # case-sensitive, still inflected (Uzbek "Ostona" vs "ostona")
    inflected: bool = True


class _EntitySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    aliases: dict[str, list[str | _AliasSpec]] = Field(min_length=1)


class _EntitiesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities: dict[str, _EntitySpec] = Field(min_length=1)


class _WeightsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: float = Field(3.0, ge=0)
    lead: float = Field(2.0, ge=0)
    body: float = Field(1.0, ge=0)
    in_list: float = Field(1.0, ge=0)


class _DevelopmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    rule: Any
    priority: str = Priority.URGENT.label


class _WatchlistFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    description: str = ""
    weights: _WeightsSpec = Field(default_factory=_WeightsSpec)
    rule: Any
    developments: list[_DevelopmentSpec] = Field(default_factory=list)


# --- loading ---------------------------------------------------------------------------------


# libyaml's parser when PyYAML was built with it: ~10x faster on a 30,000-alias entity file
# (2.6 s in pure Python). Only parsing moves to C; constructing stays in Python, so the
# duplicate-key check below applies either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """safe_load, except that a repeated key is an error: a second `kazakhstan:` entry
    would otherwise silently replace the first one's aliases."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {line})", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _read_yaml(path: Path, where: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(where, f"not valid YAML: {exc}".replace("\n", " ")) from exc


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"str", "_AliasSpec"}:
            continue  # pydantic names the union member it tried; the key is what matters
        else:
            path += f".{part}" if path else str(part)
    return path


def _validation_error(where: str, exc: ValidationError) -> ConfigError:
    # For an alias that is neither a string nor a valid mapping pydantic reports both union
    # members; the deeper error ("exakt: extra inputs are not permitted") is the useful one.
    error = max(exc.errors(), key=lambda e: len(e["loc"]))
    key = _key_path(tuple(error["loc"]))
    return ConfigError(f"{where}: {key}" if key else where, error["msg"])


def _load_entities(path: Path) -> dict[str, Entity]:
    where = str(path)
    if not path.is_file():
        raise ConfigError(where, "missing: the shared entity file is required")
    raw = _read_yaml(path, where)
    try:
        spec = _EntitiesFile.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(where, exc) from exc
    entities = {}
    for entity_id, entity in spec.entities.items():
        key = f"entities.{entity_id}"
        if not re.match(_ID, entity_id):
            raise ConfigError(f"{where}: {key}", "an id is lowercase letters, digits and '-'")
        aliases = []
        for language, items in entity.aliases.items():
            if not re.match(_LANGUAGE, language):
                raise ConfigError(
                    f"{where}: {key}.aliases.{language}",
                    "a language is an ISO 639 code, optionally with a script (uz-Latn)",
                )
            for index, item in enumerate(items):
                alias = _AliasSpec(text=item) if isinstance(item, str) else item
                if not fold_key(alias.text):
                    raise ConfigError(
                        f"{where}: {key}.aliases.{language}[{index}]",
                        f"alias {alias.text!r} has nothing to match (only spaces or marks)",
                    )
                aliases.append(
                    Alias(
                        entity=entity_id,
                        text=alias.text.strip(),
                        language=language.split("-")[0],
                        case_sensitive=alias.exact or alias.case,
                        inflected=alias.inflected and not alias.exact,
                    )
                )
        entities[entity_id] = Entity(entity_id, entity.description, tuple(aliases))
    return entities


_NODE_KINDS = ("all", "any", "none", "near", "sentence", "entity")
_OPTIONS: dict[str, set[str]] = {
    "entity": {"where", "min_score"},
    "all": {"where", "min_score"},
    "any": {"where", "min_score", "at_least"},
    "none": {"where"},
    "near": {"where", "min_score", "within", "within_chars"},
    "sentence": {"where"},
}
_WHERE = ("title", "lead", "anywhere")


class _RuleParser:
    """Rule YAML -> nodes, with errors that name the key (`rule.all[1].any[0]`)."""

    def __init__(self, where: str, entities: Mapping[str, Entity]):
        self.where = where
        self.entities = entities

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {key}", message)

    def node(self, raw: Any, key: str, where: Where = "anywhere") -> Node:
        if isinstance(raw, str):
            return self.term({"entity": raw}, key, where)
        if not isinstance(raw, dict):
            raise self.error(key, f"a rule node is an entity id or a mapping, not {raw!r}")
        kinds = [kind for kind in _NODE_KINDS if kind in raw]
        if len(kinds) != 1:
            raise self.error(key, f"a rule node has exactly one of {', '.join(_NODE_KINDS)}")
        kind = kinds[0]
        unknown = set(raw) - {kind} - _OPTIONS[kind]
        if unknown:
            allowed = ", ".join(sorted(_OPTIONS[kind])) or "nothing"
            raise self.error(f"{key}.{sorted(unknown)[0]}", f"unknown option (allowed: {allowed})")
        where = self.where_option(raw, key, where)
        if kind == "entity":
            return self.term(raw, key, where)
        if kind == "sentence":
            if isinstance(raw[kind], list):
                raise self.error(f"{key}.sentence", "sentence takes one rule node (an all-of...)")
            return Sentence(self.node(raw[kind], f"{key}.sentence", where))
        children = raw[kind]
        if not isinstance(children, list) or not children:
            raise self.error(f"{key}.{kind}", "expected a non-empty list of rule nodes")
        child_key = f"{key}.{kind}"
        if kind == "near":
            if len(children) < 2:
                raise self.error(child_key, "near needs at least two entities")
            terms = tuple(
                self.near_term(child, f"{child_key}[{index}]", where)
                for index, child in enumerate(children)
            )
            return Near(
                terms,
                within=self.count(raw, key, "within", 10),
                within_chars=self.count(raw, key, "within_chars", 20),
                min_score=self.score(raw, key),
            )
        nodes = tuple(
            self.node(child, f"{child_key}[{index}]", where) for index, child in enumerate(children)
        )
        if kind == "all":
            return AllOf(nodes, min_score=self.score(raw, key))
        if kind == "none":
            return NoneOf(nodes)
        at_least = self.count(raw, key, "at_least", 1)
        if at_least > len(nodes):
            raise self.error(f"{key}.at_least", f"{at_least} is more than the {len(nodes)} nodes")
        return AnyOf(nodes, at_least=at_least, min_score=self.score(raw, key))

    def near_term(self, raw: Any, key: str, where: Where) -> NearTerm:
        """An entity, or an `any` of entities with neither `at_least` nor `min_score`:
        a near finds one mention per term, so its terms can only be sets of entities."""
        term = self.node(raw, key, where)
        if isinstance(term, Term):
            return term
        only = "near takes entities only, or an `any` of entities"
        if not isinstance(term, AnyOf):
            raise self.error(key, only)
        for index, child in enumerate(term.children):
            if not isinstance(child, Term):
                raise self.error(f"{key}.any[{index}]", only)
        if "at_least" in raw or "min_score" in raw:
            option = "at_least" if "at_least" in raw else "min_score"
            raise self.error(f"{key}.{option}", f"{only}: no {option} on an `any` in a near")
        return term

    def term(self, raw: dict[str, Any], key: str, where: Where) -> Term:
        entity = raw["entity"]
        if not isinstance(entity, str) or entity not in self.entities:
            raise self.error(key, f"unknown entity {entity!r}")
        return Term(entity, where=where, min_score=self.score(raw, key))

    def where_option(self, raw: dict[str, Any], key: str, default: Where) -> Where:
        value = raw.get("where", default)
        if value not in _WHERE:
            raise self.error(f"{key}.where", f"{value!r} is not one of {', '.join(_WHERE)}")
        where: Where = value
        return where

    def score(self, raw: dict[str, Any], key: str) -> float:
        value = raw.get("min_score", 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.error(f"{key}.min_score", f"expected a number ≥ 0, not {value!r}")
        return float(value)

    def count(self, raw: dict[str, Any], key: str, option: str, default: int) -> int:
        value = raw.get(option, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(f"{key}.{option}", f"expected a whole number ≥ 1, not {value!r}")
        return value


def _load_watchlist(path: Path, entities: Mapping[str, Entity]) -> Watchlist:
    where = str(path)
    raw = _read_yaml(path, where)
    if not isinstance(raw, dict):
        raise ConfigError(where, "a watchlist file is a mapping (name, title, rule, ...)")
    if "rule" not in raw:
        raise ConfigError(f"{where}: rule", "missing")
    try:
        spec = _WatchlistFile.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(where, exc) from exc
    if spec.name != path.stem:
        raise ConfigError(f"{where}: name", f"{spec.name!r} differs from the file name")
    parser = _RuleParser(where, entities)
    rule = parser.node(spec.rule, "rule")
    weights = Weights(**spec.weights.model_dump())
    developments = _developments(where, spec.developments, parser)
    return Watchlist(spec.name, spec.title, spec.description, rule, weights, where, developments)


def _developments(
    where: str, specs: list[_DevelopmentSpec], parser: _RuleParser
) -> tuple[Development, ...]:
    developments: list[Development] = []
    first: dict[str, int] = {}
    for index, spec in enumerate(specs):
        key = f"developments[{index}]"
        if spec.id in first:
            raise ConfigError(
                f"{where}: {key}.id",
                f"duplicate id {spec.id!r} (also developments[{first[spec.id]}])",
            )
        first[spec.id] = index
        try:
            priority = Priority.parse(spec.priority)
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}.priority", str(exc)) from None
        rule = parser.node(spec.rule, f"{key}.rule")
        developments.append(Development(spec.id, spec.title, rule, priority))
    return tuple(developments)


def load_watchlists(directory: Path) -> Watchlists:
    """Load `entities.yaml` and every other `*.yaml` in `directory` as a watchlist."""
    if not directory.is_dir():
        raise ConfigError(str(directory), "not a directory")
    entities = _load_entities(directory / ENTITIES_FILE)
    watchlists = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == ENTITIES_FILE:
            continue
        watchlist = _load_watchlist(path, entities)
        watchlists[watchlist.name] = watchlist
    if not watchlists:
        raise ConfigError(str(directory), f"no watchlist files (*.yaml besides {ENTITIES_FILE})")
    return Watchlists(entities, watchlists)
