"""Matching items against watchlists: pure, no I/O.

    Matcher.compile(watchlists)          one Aho-Corasick automaton over every folded alias
    matcher.match(item)   -> [Match]     the watchlists the item satisfies, with the rule that
                                         fired and the hits (field, offsets, surface)
    matcher.explain(item) -> [Explanation]  every watchlist: matched or not, and why

Fields: "title"; "body" (the summary, then the text, once when the text repeats the
summary); "lead" is the first ~300 characters of the body. A hit that lies within the lead
is reported with field "lead" (the lead is a prefix of the body, so its offsets are the same
in both); `fields(item)` gives the three strings the offsets refer to.

How an alias is found: the field is folded (monitor.text.normalize), the automaton finds
every alias key in one pass, and each candidate is then checked:
- it must start a word (Chinese aliases, having no word boundaries, match anywhere);
- an exact alias (`{text: TAP, exact: true}`) must be written in the alias's case and be a
  whole word, except for a suffix after an apostrophe ("TAP'ın", "CPEC's"); "TAPI" is not
  "TAP". `case: true` asks for the case only (Uzbek "Ostona" the city, not "ostona", a
  threshold); `inflected: false` for the whole word only;
- an inflected alias (the default) may be followed by letters: any letters when its last
  word is a long stem (5+ letters: "Pakistan" -> "Pakistan'ın", "Пәкістанның"), one or two
  known suffixes of its language when it is short, so "РК" is never found in "парк" and a
  short stem never runs on into an unrelated word.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import ahocorasick

from monitor.models import FieldName, Hit, Item, Match
from monitor.text.normalize import Folded, fold, fold_key, is_han, is_word_letter
from monitor.watch.watchlists import (
    Alias,
    AllOf,
    AnyOf,
    Near,
    Node,
    NoneOf,
    Term,
    Watchlists,
    Weights,
    describe,
)

__all__ = ["LEAD_CHARS", "Explanation", "Matcher", "Outcome", "fields"]

LEAD_CHARS = 300
_LEAD_SLACK = 40  # the lead ends at a word boundary up to this many characters later
_LONG_STEM = 5  # letters in an alias's last word from which any suffix is accepted

# Regular suffixes, from /work/shared/SOURCES.md section 2 and the standard paradigms. Only
# short stems (under five letters) are held to these; they are folded like the text, so
# "ның" and "ning" are the same suffix.
_SUFFIXES: dict[str, str] = {
    "kk": "ның нің дың дің тың тің ға ге қа ке на не а е да де та те нда нде нан нен дан ден "
    "тан тен ны ні ды ді ты ті н мен пен бен дық дік тық тік лық лік ғы гі қы кі лар лер дар "
    "дер тар тер ы і сы сі",
    "uz": "ning ga ka qa da dan ni lik liq lar dagi i si нинг га ка қа да дан ни лик лар даги и си",
    "tr": "ın in un ün nın nin nun nün a e ya ye na ne da de ta te nda nde dan den tan ten ndan "
    "nden ı i u ü yı yi yu yü nı ni nu nü lı li lu lü lar ler la le yla yle ca ce ça çe ki",
    "ru": "а я у ю ом ем ой ей е и ы ам ям ами ями ах ях ов ев ий ая ое ые ого ому ым ом ой ую "
    "их ими ский ская ское ские ского скому ским ском ской скую ских скими ец цы",
    "en": "s es i is ian ians n",
    "ur": "ی ے وں یں",
}
_ALL_LANGUAGES = "*"

_APOSTROPHES = frozenset("'`´ʹʻʼʽ‘’‛′＇")
_SENTENCE_END = re.compile(r"[.!?。！？؟\n]")
_LIST_SEPARATORS = frozenset(",，、،;；")

_LIST_MIN_ITEMS = 4  # an enumeration of four or more names
_CONJUNCTIONS = frozenset(
    {"and", "or", "и", "или", "ve", "veya", "da", "va", "yoki", "ва", "ёки", "мен", "және"}
    | {"немесе", "ҳамда", "hamda", "اور", "یا"}
)
_HAN_CONJUNCTIONS = frozenset("和与及或")
_SEPARATOR_CLASS = "[,，、،;；]"
_CONJUNCTION = re.compile(
    rf"(?:\b(?:{'|'.join(sorted(_CONJUNCTIONS))})\b|[{''.join(_HAN_CONJUNCTIONS)}])", re.IGNORECASE
)
_SHORT_ITEM_BEFORE = re.compile(rf"{_SEPARATOR_CLASS}\s*(?:[\w'’-]+\s*){{1,3}}$")
_SHORT_ITEM_AFTER = re.compile(
    rf"{_SEPARATOR_CLASS}\s*(?:[\w'’-]+\s*){{1,3}}(?:{_SEPARATOR_CLASS}|"
    rf"(?:{'|'.join(sorted(_CONJUNCTIONS))})\b)",
    re.IGNORECASE,
)
_WORD_RUN = re.compile(r"\w+")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_LAST_WORD = re.compile(r"(\w+)\W*$")


def _folded_suffixes() -> dict[str, frozenset[str]]:
    table = {lang: frozenset(map(fold_key, words.split())) for lang, words in _SUFFIXES.items()}
    table[_ALL_LANGUAGES] = frozenset().union(*table.values())
    return table


# --- fields ----------------------------------------------------------------------------------


def _body(item: Item) -> str:
    summary, text = item.summary.strip(), item.text.strip()
    if not summary:
        return text
    if not text:
        return summary
    # Feeds often send the first paragraph as the summary: counting it twice would double
    # its mentions.
    probe = " ".join(summary.split()[:12])
    if probe and probe in " ".join(text[: len(summary) + 400].split()):
        return text
    return f"{summary}\n\n{text}"


def _lead_end(body: str) -> int:
    if len(body) <= LEAD_CHARS:
        return len(body)
    space = body.find(" ", LEAD_CHARS, LEAD_CHARS + _LEAD_SLACK)
    return space if space != -1 else LEAD_CHARS


def fields(item: Item) -> dict[FieldName, str]:
    """The texts that hit offsets refer to: title, lead (a prefix of body) and body."""
    body = _body(item)
    return {"title": item.title, "lead": body[: _lead_end(body)], "body": body}


# --- compiled aliases ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    alias: Alias
    length: int  # of the folded key
    starts_word: bool  # the alias begins with a letter of an alphabetic script
    ends_word: bool
    long_stem: bool
    suffixes: frozenset[str]


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


def _same_case(surface: str, alias: str) -> bool:
    """Written in the alias's case: "TAP" is not "Tap"; a transliteration (different letter
    count) must agree on its first letter and on being all capitals."""
    got, want = _letters(surface), _letters(alias)
    if len(got) == len(want):
        return all(g.isupper() == w.isupper() for g, w in zip(got, want, strict=True))
    return bool(got and want) and (
        got[0].isupper() == want[0].isupper() and got.isupper() == want.isupper()
    )


def _suffix_ok(tail: str, allowed: frozenset[str]) -> bool:
    if tail in allowed:
        return True
    return any(tail[:i] in allowed and tail[i:] in allowed for i in range(1, len(tail)))


class _Sentences:
    """Where one text's sentences end and its list separators stand, found on first use, so
    telling whether a mention stands in an enumeration costs a few bisections."""

    def __init__(self, text: str):
        self.text = text
        self._ends: list[int] | None = None
        self._separators: list[int] = []

    def listed(self, start: int, end: int) -> bool:
        """Does the mention at text[start:end] stand in an enumeration of 4+ names?"""
        text = self.text
        if self._ends is None:
            self._ends = [m.start() for m in _SENTENCE_END.finditer(text)]
            self._separators = [m.start() for m in re.finditer(_SEPARATOR_CLASS, text)]
        ends, separators = self._ends, self._separators
        k = bisect_left(ends, start)
        sentence_start = ends[k - 1] + 1 if k else 0
        k = bisect_left(ends, end)
        sentence_end = ends[k] if k < len(ends) else len(text)
        first = bisect_left(separators, sentence_start)
        last = bisect_left(separators, sentence_end)
        # "A, B, C, D" has three separators, "A, B, C and D" two and a conjunction.
        items = last - first + 1
        if items >= 3 and _CONJUNCTION.search(text, separators[last - 1], sentence_end):
            items += 1
        if items < _LIST_MIN_ITEMS:
            return False
        before = text[max(sentence_start, start - 80) : start].rstrip()
        # "..., X": a separator just before.
        if before and (before[-1] in _LIST_SEPARATORS or before[-1] in _HAN_CONJUNCTIONS):
            return True
        # "..., Y and X": a conjunction just before, after a short item that follows a
        # separator ("Kazakhstan and Pakistan signed deals on trade, energy, ..." is no list).
        word = _LAST_WORD.search(before)
        if (
            word
            and word.group(1).lower() in _CONJUNCTIONS
            and _SHORT_ITEM_BEFORE.search(before[: word.start()].rstrip())
        ):
            return True
        # "X, Y, ...": a separator just after (past the rest of an inflected word), then a
        # short item and another separator or a conjunction.
        after = text[end : min(sentence_end, end + 80)]
        rest = _WORD_RUN.match(after)
        after = (after[rest.end() :] if rest else after).lstrip()
        return bool(after) and after[0] in _LIST_SEPARATORS and bool(_SHORT_ITEM_AFTER.match(after))


class _Found:
    """A hit, and (when a watchlist asks) whether it stands in an enumeration of names."""

    __slots__ = ("_listed", "_sentences", "hit")

    def __init__(self, hit: Hit, sentences: _Sentences):
        self.hit = hit
        self._sentences = sentences
        self._listed: bool | None = None

    @property
    def listed(self) -> bool:
        if self._listed is None:
            self._listed = self._sentences.listed(self.hit.start, self.hit.end)
        return self._listed


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one rule node fared on one item."""

    node: Node
    ok: bool
    score: float
    hits: tuple[Hit, ...]  # a term's or near's counted mentions (composites: see children)
    note: str  # why, readable
    children: tuple[Outcome, ...] = ()


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` knows about one watchlist and one item."""

    watchlist: str
    matched: bool
    score: float
    rule: str  # the whole rule, readable
    fired: str | None  # the part that fired (as in Match.rule); None when not matched
    failed: tuple[str, ...]  # the parts that failed, and why
    hits: tuple[Hit, ...]  # every mention of an entity the rule names
    outcome: Outcome = field(repr=False)

    def render(self) -> str:
        """A few readable lines for `monitor explain`."""
        head = "MATCH" if self.matched else "no match"
        lines = [f"{self.watchlist}: {head} (score {self.score:g})", f"  rule: {self.rule}"]
        if self.fired:
            lines.append(f"  fired: {self.fired}")
        lines += [f"  failed: {reason}" for reason in self.failed]
        lines += [
            f"  hit: {h.entity} {h.field}[{h.start}:{h.end}] {h.surface!r} (alias {h.alias!r})"
            for h in self.hits
        ]
        return "\n".join(lines)


_FIELD_ORDER = {"title": 0, "lead": 1, "body": 2}


def _sorted_hits(hits: Iterable[Hit]) -> tuple[Hit, ...]:
    unique = {(h.entity, h.field, h.start, h.end): h for h in hits}
    return tuple(sorted(unique.values(), key=lambda h: (_FIELD_ORDER[h.field], h.start, h.entity)))


def _allowed(where: str, field_name: str) -> bool:
    if where == "title":
        return field_name == "title"
    if where == "lead":
        return field_name in ("title", "lead")
    return True


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Evaluation:
    """One item's mentions, evaluated against one watchlist's rule. Notes (the readable
    reasons) are written only for `explain`: `match` runs on every item and needs none."""

    def __init__(
        self,
        found: dict[str, list[_Found]],
        texts: dict[str, str],
        weights: Weights,
        explain: bool,
    ):
        self.found = found
        self.texts = texts  # "title" and "body"; lead hits live in the body
        self.weights = weights
        self.explain = explain

    def counted(self, term: Term) -> list[tuple[Hit, float]]:
        weights = self.weights
        result = []
        for item in self.found.get(term.entity, ()):
            hit = item.hit
            if _allowed(term.where, hit.field):
                listed = weights.in_list != 1 and item.listed
                weight = weights.of(hit.field, listed)
                if weight > 0:
                    result.append((hit, weight))
        return result

    def run(self, node: Node) -> Outcome:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Near):
            return self.near(node)
        children = tuple(self.run(child) for child in node.children)
        passed = [child for child in children if child.ok]
        explain = self.explain
        if isinstance(node, NoneOf):
            if passed:
                note = "present: " + ", ".join(describe(c.node) for c in passed) if explain else ""
                return Outcome(node, False, 0.0, (), note, children)
            return Outcome(node, True, 0.0, (), "none present", children)
        score = sum(child.score for child in passed)
        if isinstance(node, AllOf):
            if len(passed) < len(children):
                return Outcome(node, False, 0.0, (), "not all hold", children)
        elif isinstance(node, AnyOf) and len(passed) < node.at_least:
            note = f"{len(passed)} of {node.at_least} needed hold" if explain else ""
            return Outcome(node, False, 0.0, (), note, children)
        if score < node.min_score:
            note = f"score {score:g} < {node.min_score:g}" if explain else ""
            return Outcome(node, False, score, (), note, children)
        return Outcome(node, True, score, (), f"score {score:g}" if explain else "", children)

    def term(self, node: Term) -> Outcome:
        counted = self.counted(node)
        if not counted:
            return Outcome(node, False, 0.0, (), self.why_not(node) if self.explain else "")
        score = sum(weight for _, weight in counted)
        hits = tuple(hit for hit, _ in counted)
        summary = ""
        if self.explain:
            by_field = ", ".join(
                f"{name} {n}"
                for name in ("title", "lead", "body")
                if (n := sum(1 for h in hits if h.field == name))
            )
            summary = f"{_plural(len(hits), 'mention')} ({by_field}), score {score:g}"
        if score < node.min_score:
            return Outcome(node, False, score, (), f"{summary} < {node.min_score:g}")
        return Outcome(node, True, score, hits, summary)

    def why_not(self, node: Term) -> str:
        mentions = self.found.get(node.entity, ())
        if not mentions:
            return "no mention"
        places = ", ".join(sorted({m.hit.field for m in mentions}))
        why = f"{_plural(len(mentions), 'mention')} ({places}) that do not count here"
        listed = sum(1 for m in mentions if m.listed) if self.weights.in_list != 1 else 0
        return f"{why}, {listed} in a list" if listed else why

    def distance(self, text: str, first: Hit, last: Hit) -> tuple[int, bool]:
        """Words (or, in Chinese, characters) between two mentions; True when characters."""
        gap = text[first.end : last.start] if last.start > first.end else ""
        if any(is_han(c) for c in gap):
            return sum(1 for c in gap if not c.isspace()), True
        return len(_WORD_RUN.findall(gap)), False

    def near(self, node: Near) -> Outcome:
        per_term = [self.counted(term) for term in node.terms]
        missing = [describe(t) for t, hits in zip(node.terms, per_term, strict=True) if not hits]
        if missing:
            return Outcome(node, False, 0.0, (), f"no counted mention of {', '.join(missing)}")
        best: tuple[float, tuple[tuple[Hit, float], ...]] | None = None
        closest: int | None = None
        # Mentions of the terms side by side in one text: title, or lead+body.
        for text_name in ("title", "body"):
            in_text = [
                [(h, w) for h, w in hits if (h.field == "title") == (text_name == "title")]
                for hits in per_term
            ]
            if not all(in_text):
                continue
            for combo in _windows(in_text):
                ordered = sorted((hit for hit, _ in combo), key=lambda hit: hit.start)
                steps = [self.distance(self.texts[text_name], a, b) for a, b in pairwise(ordered)]
                gap = sum(n for n, _ in steps)
                chars = any(in_chars for _, in_chars in steps)
                limit = node.within_chars if chars else node.within
                closest = gap if closest is None else min(closest, gap)
                if gap <= limit:
                    score = sum(w for _, w in combo)
                    if best is None or score > best[0]:
                        best = (score, combo)
        if best is None:
            why = "never in the same field" if closest is None else f"closest {closest} apart"
            return Outcome(node, False, 0.0, (), why)
        score, combo = best
        if score < node.min_score:
            return Outcome(node, False, score, (), f"score {score:g} < {node.min_score:g}")
        return Outcome(node, True, score, _sorted_hits(h for h, _ in combo), f"score {score:g}")


def _collect(outcome: Outcome) -> Iterator[Hit]:
    """The hits of the part of the rule that held."""
    if not outcome.ok:
        return
    yield from outcome.hits
    for child in outcome.children:
        yield from _collect(child)


_MAX_COMBINATIONS = 4096


def _windows(
    per_term: list[list[tuple[Hit, float]]],
) -> Iterable[tuple[tuple[Hit, float], ...]]:
    """Candidate groups, one mention per term. Each mention pairs with the nearest mention
    of every other term, which finds the closest groups without trying every product."""
    seen: set[tuple[int, ...]] = set()
    for index, hits in enumerate(per_term):
        for anchor in hits:
            group: list[tuple[Hit, float]] = []
            for other_index, others in enumerate(per_term):
                if other_index == index:
                    group.append(anchor)
                else:
                    group.append(min(others, key=lambda hw: abs(hw[0].start - anchor[0].start)))
            key = tuple(id(hw[0]) for hw in group)
            if key not in seen and len(seen) < _MAX_COMBINATIONS:
                seen.add(key)
                yield tuple(group)


def _fired(outcome: Outcome) -> str:
    """The part of the rule that fired, readable: any-of nodes list only what held."""
    node = outcome.node
    if isinstance(node, Term | Near | NoneOf):
        return describe(node)
    parts = [_fired(child) for child in outcome.children if child.ok]
    suffix = f" score≥{node.min_score:g}" if node.min_score else ""
    if isinstance(node, AnyOf):
        if len(parts) == 1 and node.at_least == 1 and not suffix:
            return parts[0]
        name = "any-of" if node.at_least == 1 else f"{node.at_least}-of"
        return f"{name}({', '.join(parts)}){suffix}"
    return f"all-of({', '.join(parts)}){suffix}"


def _failures(outcome: Outcome) -> list[str]:
    """The innermost parts that failed, with their reasons."""
    if outcome.ok:
        return []
    failed_children = [child for child in outcome.children if not child.ok]
    if isinstance(outcome.node, AllOf | AnyOf) and failed_children:
        reasons = [reason for child in failed_children for reason in _failures(child)]
        if outcome.note.startswith("score"):
            reasons.append(f"{describe(outcome.node)}: {outcome.note}")
        return reasons
    return [f"{describe(outcome.node)}: {outcome.note}"]


# --- the matcher -----------------------------------------------------------------------------


class Matcher:
    """Compiled watchlists. Build once with `compile`; `match` and `explain` are pure."""

    def __init__(self, watchlists: Watchlists, automaton: ahocorasick.Automaton | None):
        self.watchlists = watchlists
        self._automaton = automaton

    @classmethod
    def compile(cls, watchlists: Watchlists) -> Matcher:
        suffixes = _folded_suffixes()
        # Aliases that fold alike ("Pakistan" in English and Turkish, Гвадар and Gvadar) are
        # one pattern accepting the suffixes of all their languages, so a place is found once.
        # Case-sensitive ones stay apart: each has its own case to check.
        by_key: dict[str, dict[tuple[str, bool, bool, str], _Pattern]] = defaultdict(dict)
        for entity in watchlists.entities.values():
            for alias in entity.aliases:
                key = fold_key(alias.text)
                words = _LETTER_RUN.findall(alias.text)
                allowed = suffixes.get(alias.language, suffixes[_ALL_LANGUAGES])
                group = (
                    alias.entity,
                    alias.case_sensitive,
                    alias.inflected,
                    alias.text if alias.case_sensitive else "",
                )
                pattern = by_key[key].get(group)
                by_key[key][group] = _Pattern(
                    alias=pattern.alias if pattern else alias,
                    length=len(key),
                    starts_word=is_word_letter(key[0]),
                    ends_word=is_word_letter(key[-1]),
                    long_stem=(pattern is not None and pattern.long_stem)
                    or (bool(words) and len(words[-1]) >= _LONG_STEM),
                    suffixes=(pattern.suffixes | allowed) if pattern else allowed,
                )
        if not by_key:
            return cls(watchlists, None)
        automaton = ahocorasick.Automaton()
        for key, patterns in by_key.items():
            automaton.add_word(key, tuple(patterns.values()))
        automaton.make_automaton()
        return cls(watchlists, automaton)

    def scan(self, text: str, field_name: FieldName) -> list[Hit]:
        """Every alias found in one text, as hits in `field_name` with original offsets."""
        if self._automaton is None or not text:
            return []
        folded = fold(text)
        found = [hit for hit in self._candidates(folded, field_name) if hit is not None]
        return _merge_overlaps(found, text)

    def _candidates(self, folded: Folded, field_name: FieldName) -> Iterable[Hit | None]:
        s = folded.text
        size = len(s)
        for last, patterns in self._automaton.iter(s) if self._automaton else ():
            start = last + 1 - patterns[0].length
            stem_end = last + 1
            for pattern in patterns:
                if pattern.starts_word and start > 0 and is_word_letter(s[start - 1]):
                    continue
                end = stem_end
                if pattern.ends_word:
                    while end < size and is_word_letter(s[end]):
                        end += 1
                yield self._check(folded, pattern, start, stem_end, end, field_name)

    def _check(
        self,
        folded: Folded,
        pattern: _Pattern,
        start: int,
        stem_end: int,
        end: int,
        field_name: FieldName,
    ) -> Hit | None:
        alias = pattern.alias
        tail = folded.text[stem_end:end]
        if (
            tail
            and alias.inflected
            and not pattern.long_stem
            and not _suffix_ok(tail, pattern.suffixes)
        ):
            return None
        text = folded.original
        original_start, original_end = folded.span(start, end)
        if alias.case_sensitive or (tail and not alias.inflected):
            original_stem_end = folded.span(start, stem_end)[1] if tail else original_end
            stem = text[original_start:original_stem_end]
            if alias.case_sensitive and not _same_case(stem, alias.text):
                return None
            # A whole word, but "TAP'ın" and "CPEC's" are still TAP and CPEC.
            if tail and not alias.inflected and text[original_stem_end] not in _APOSTROPHES:
                return None
        return Hit(
            entity=alias.entity,
            alias=alias.text,
            field=field_name,
            start=original_start,
            end=original_end,
            surface=text[original_start:original_end],
        )

    def _find(self, item: Item) -> tuple[dict[str, list[_Found]], dict[str, str]]:
        texts = fields(item)
        title, body = texts["title"], texts["body"]
        lead_end = len(texts["lead"])
        found: dict[str, list[_Found]] = defaultdict(list)
        in_title, in_body = _Sentences(title), _Sentences(body)
        for hit in self.scan(title, "title"):
            found[hit.entity].append(_Found(hit, in_title))
        for hit in self.scan(body, "body"):
            if hit.end <= lead_end:
                hit = Hit(hit.entity, hit.alias, "lead", hit.start, hit.end, hit.surface)
            found[hit.entity].append(_Found(hit, in_body))
        return dict(found), {"title": title, "body": body}

    def match(self, item: Item) -> list[Match]:
        """The watchlists `item` satisfies, in name order."""
        found, texts = self._find(item)
        matches = []
        for watchlist in self.watchlists:
            outcome = _Evaluation(found, texts, watchlist.weights, False).run(watchlist.rule)
            if outcome.ok:
                matches.append(
                    Match(
                        watchlist=watchlist.name,
                        hits=_sorted_hits(_collect(outcome)),
                        rule=_fired(outcome),
                        score=outcome.score,
                    )
                )
        return matches

    def explain(self, item: Item) -> list[Explanation]:
        """For every watchlist: matched or not, what fired or what failed, and the hits."""
        found, texts = self._find(item)
        explanations = []
        for watchlist in self.watchlists:
            outcome = _Evaluation(found, texts, watchlist.weights, True).run(watchlist.rule)
            named = watchlist.entities
            hits = _sorted_hits(f.hit for entity in named for f in found.get(entity, ()))
            explanations.append(
                Explanation(
                    watchlist=watchlist.name,
                    matched=outcome.ok,
                    score=outcome.score if outcome.ok else 0.0,
                    rule=describe(watchlist.rule),
                    fired=_fired(outcome) if outcome.ok else None,
                    failed=tuple(_failures(outcome)),
                    hits=hits,
                    outcome=outcome,
                )
            )
        return explanations


def _merge_overlaps(hits: Sequence[Hit], text: str) -> list[Hit]:
    """One mention per place: hits of one entity that overlap become one hit over their
    union ("Kazakh" within "Kazakhstan", "哈萨克" within "哈萨克斯坦", "Prime Minister Shehbaz"
    and "Shehbaz Sharif" in "Prime Minister Shehbaz Sharif"), under the longest alias."""
    merged: list[Hit] = []
    ordered = sorted(hits, key=lambda h: (h.entity, h.start, -(h.end - h.start)))
    for hit in ordered:
        previous = merged[-1] if merged else None
        if previous is None or previous.entity != hit.entity or hit.start >= previous.end:
            merged.append(hit)
            continue
        if hit.end > previous.end:
            longer = hit if hit.end - hit.start > previous.end - previous.start else previous
            merged[-1] = Hit(
                previous.entity,
                longer.alias,
                previous.field,
                previous.start,
                hit.end,
                text[previous.start : hit.end],
            )
    return sorted(merged, key=lambda hit: (hit.start, hit.entity))
