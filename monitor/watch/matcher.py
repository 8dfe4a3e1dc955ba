"""Matching items against watchlists: pure, no I/O.

    Matcher.compile(watchlists)          an Aho-Corasick automaton over every folded alias
    matcher.match(item)   -> [Match]     the watchlists the item satisfies, with the rule that
                                         fired and the hits (field, offsets, surface)
    matcher.explain(item) -> [Explanation]  every watchlist: matched or not, and why (and
                                         each of its developments: met or not, and why)

Fields: "title"; "body" (the summary, then the text, once when the text repeats the
summary); "lead" is the first ~300 characters of the body. A hit that lies within the lead
is reported with field "lead" (the lead is a prefix of the body, so its offsets are the same
in both); `fields(item)` gives the three strings the offsets refer to.

How an alias is found: the field is folded (monitor.text.normalize), one automaton finds
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

The automaton (`KeyFinder`, ahocorasick-rs) holds the keys of all four scripts: it takes
~20 µs per 3,000 characters in any of them. The candidates are checked in one loop, their
offsets mapped back to the original text all at once, and the mentions of one entity that
overlap merged with a single sort. Entities no watchlist names are left out: they cannot
change a result.

How a rule is evaluated. `match` runs on every item, so it works in passes. The title and
the body are folded and searched as one text. Sets of entities of which a rule needs one
each (`_required`) settle most watchlists for most items at once: a watchlist is looked at
only for an item that names an entity of the set it is least likely to meet (`_rarest`).
A first pass then works on per-entity counts computed once per item (mentions per field
and, only where a watchlist weighs them less, how many stand in a list, tested on as few
mentions as the decision takes); a composite stops as soon as its result is known, and
positions are read only for a `near` (and, for one of two terms, first only to see that
some pair is near enough at all). Only a watchlist that holds is evaluated again, with the
decisions `explain` makes, to build its Match (`_Evaluation.held`: the score, the hits and
the rule that fired, without an outcome tree). A first-pass score is a lower bound of the
full one, by the same formula (exact wherever a minimum depends on it), so the first pass
never rejects what the full evaluation accepts (tests compare them on random rules).

Developments (the events a watchlist awaits, see monitor.watch.watchlists) are evaluated only
for a watchlist that holds, over the same mentions, and the Match carries the ids of those
met. Entities that only development rules name (words for arriving, "in Astana") have an
automaton of their own, searched once per item and only when a watchlist with developments
has matched: an item that matches nothing pays nothing for them, and common words such as
"will visit" never reach the automata every item goes through.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice, pairwise

from monitor.models import FieldName, Hit, Item, Match, Priority
from monitor.text.normalize import (
    Folded,
    KeyFinder,
    fold,
    fold_key,
    has_han,
    is_han,
    is_word_letter,
    word_end,
)
from monitor.watch.watchlists import (
    Alias,
    AllOf,
    AnyOf,
    Development,
    Near,
    NearTerm,
    Node,
    NoneOf,
    Sentence,
    Term,
    Watchlist,
    Watchlists,
    Weights,
    describe,
    near_terms,
)

__all__ = ["LEAD_CHARS", "DevelopmentExplanation", "Explanation", "Matcher", "Outcome", "fields"]

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
_SENTENCE_ENDS = ".!?。！？؟۔\n"  # ۔ is the Urdu full stop
_SENTENCE_END = re.compile(f"[{_SENTENCE_ENDS}]")
_SEPARATOR = re.compile("[,，、،;；]")
_UP_TO_SENTENCE_END = re.compile(f"(?s:.*)[{_SENTENCE_ENDS}]")
_UP_TO_SEPARATOR = re.compile(f"(?s:.*){_SEPARATOR.pattern}")
_LIST_SEPARATORS = frozenset(",，、،;；")
_SENTENCE_REACH = 400
# Where a sentence ends, for a `sentence` node: a full stop, ! ? or … before a space, a
# closing quote or the end ("Mr. Sharif" splits a sentence: an extra split only makes such a
# node stricter), and the Chinese and Urdu stops and line breaks anywhere.
_SENTENCE_BREAK = re.compile("[.!?…](?=[\\s\"'»”’)\\]]|$)|[。！？؟۔\n]")

_LIST_MIN_ITEMS = 4  # an enumeration of four or more names
_CONJUNCTIONS = frozenset(
    {"and", "or", "и", "или", "ve", "veya", "da", "va", "yoki", "ва", "ёки", "мен", "және"}
    | {"немесе", "ҳамда", "hamda", "اور", "یا"}
)
_HAN_CONJUNCTIONS = frozenset("和与及或")
_SEPARATOR_CLASS = _SEPARATOR.pattern
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
    starts_word: bool  # the alias begins with a letter of an alphabetic script
    ends_word: bool
    long_stem: bool
    suffixes: frozenset[str]

    @property
    def plain(self) -> bool:
        """Any case, any suffix: nothing to check once the word start and the tail are."""
        return self.long_stem and self.alias.inflected and not self.alias.case_sensitive


# What a key stands for: whether its last character is a letter (so the word may run on),
# whether every pattern of it must start a word, its patterns with `plain`, and when it has
# one pattern and that is plain (the usual key) what a mention of it is: entity, alias as
# written, minus the alias's length (see _merge_overlaps).
_Key = tuple[bool, bool, tuple[tuple[_Pattern, bool], ...], tuple[str, str, int] | None]


@dataclass(frozen=True)
class _Finder:
    """Alias keys, and what each stands for, found all at once in a folded text."""

    finder: KeyFinder
    keys: tuple[_Key, ...]  # by the finder's key index
    strings: tuple[str, ...]  # the keys themselves, by the same index

    @classmethod
    def over(cls, keys: dict[str, _Key]) -> _Finder:
        return cls(KeyFinder(list(keys)), tuple(keys.values()), tuple(keys))


_JOIN = "\x00"  # between title and body, scanned as one text: not a letter, space or key
# One mention: entity, alias as written in the entity file, [start, end) in the original text.
_Raw = tuple[str, str, int, int]


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


def _needs_stem(alias: Alias) -> bool:
    """Does `Matcher._whole` read the original text at the end of the stem, when letters
    follow it?"""
    return alias.case_sensitive or not alias.inflected


def _suffix_ok(tail: str, allowed: frozenset[str]) -> bool:
    if tail in allowed:
        return True
    return any(tail[:i] in allowed and tail[i:] in allowed for i in range(1, len(tail)))


# A mention where `Matcher._scan` found it: start, entity, minus its length, minus the
# alias's length, its number in the order found, alias, end; sorted, they come by start and,
# for each entity, longer first, then the longer alias, then as found.
_Placed = tuple[int, str, int, int, int, str, int]


def _merge_overlaps(placed: list[_Placed]) -> list[_Raw]:
    """One mention per place: mentions of one entity that overlap become one over their
    union ("Kazakh" within "Kazakhstan", "哈萨克" within "哈萨克斯坦", "Prime Minister Shehbaz"
    and "Shehbaz Sharif" in "Prime Minister Shehbaz Sharif"), under the longest alias (of
    two over the same span, "Astana" before the stem "Астан" that also runs to its end).
    In order of start, then entity.

    One sort, by start: each entity's mentions then come in the order a sort by entity
    would give them, and the merged ones come out in order."""
    placed.sort()
    merged: list[_Raw] = []
    latest: dict[str, int] = {}  # entity -> its last mention in `merged`
    for start, entity, _, _, _, alias, end in placed:
        at = latest.get(entity)
        if at is not None:
            _, last_alias, last_start, last_end = merged[at]
            if start < last_end:
                if end > last_end:
                    longer = alias if end - start > last_end - last_start else last_alias
                    merged[at] = (entity, longer, last_start, end)
                continue
        latest[entity] = len(merged)
        merged.append((entity, alias, start, end))
    return merged


# --- enumerations ----------------------------------------------------------------------------


def _has_conjunction(span: str) -> bool:
    """Is there an "and"/"or" word in `span`? By its words (a regex of the alternatives,
    case-insensitive, tries each at every position: it was most of the list test's time)."""
    if any(char in span for char in _HAN_CONJUNCTIONS):
        return True
    return any(word.lower() in _CONJUNCTIONS for word in _WORD_RUN.findall(span))


def _in_list(text: str, start: int, end: int) -> bool:
    """Does the mention at text[start:end] stand in an enumeration of 4+ names?

    Looks only at the mention's own sentence, found around it (within _SENTENCE_REACH
    characters either side: a longer "sentence" is a table or a list of links, not prose),
    so the cost follows the mentions asked about and not the length of the text."""
    reach = max(0, start - _SENTENCE_REACH)
    # A greedy match runs to the mention, then backs up to the last sentence end: C speed.
    found = _UP_TO_SENTENCE_END.match(text, reach, start)
    sentence_start = found.end() if found else reach
    found = _SENTENCE_END.search(text, end, end + _SENTENCE_REACH)
    sentence_end = found.start() if found else min(len(text), end + _SENTENCE_REACH)
    # "A, B, C, D" has three separators, "A, B, C and D" two and a conjunction.
    items = len(_SEPARATOR.findall(text, sentence_start, sentence_end)) + 1
    if items >= 3:
        last = _UP_TO_SEPARATOR.match(text, sentence_start, sentence_end)
        if last and _has_conjunction(text[last.end() : sentence_end]):
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


_SentenceKey = tuple[int, int]  # 0 for the title, 1 for the body; the sentence's number
_BEYOND = 1 << 62  # past the end of any text


class _Sentences:
    """An item's sentences, for `_Mentions.sentences`: where each ends, which sentences an
    entity's mentions stand in, and each sentence's mentions (built once, when asked for)."""

    __slots__ = ("_breaks", "_by_entity", "_mentions", "_parts", "_single")

    def __init__(self, mentions: _Mentions, single: bool = False) -> None:
        """`single`: `mentions` are one sentence's already, its only sentence."""
        self._mentions = mentions
        self._single = single
        self._breaks: tuple[list[int], ...] = tuple(
            [] if single else [found.start() for found in _SENTENCE_BREAK.finditer(text)]
            for text in (mentions.texts["title"], mentions.texts["body"])
        )
        # entity -> its mentions in the title and in the body, each with their starts
        self._by_entity: dict[str, tuple[tuple[list[_Raw], list[int]], ...]] | None = None
        self._parts: dict[_SentenceKey | None, _Mentions] = {}
        if single:
            self._parts = {(0, 0): mentions, (1, 0): mentions, None: mentions}

    def keys(self, entities: Iterable[str]) -> set[_SentenceKey]:
        """The sentences that name one of `entities`."""
        raw, breaks = self._mentions.raw, self._breaks
        keys = set()
        for entity in entities:
            for where, _, start, _ in raw.get(entity, ()):
                text = 0 if where == "title" else 1
                keys.add((text, bisect_left(breaks[text], start)))
        return keys

    def unnamed(self, named: int) -> bool:
        """Does some sentence name nothing, when `named` of them name something?"""
        if self._single:
            return named == 0
        texts = self._mentions.texts
        return _sentence_count(texts["title"]) + _sentence_count(texts["body"]) > named

    def part(self, key: _SentenceKey | None) -> _Mentions:
        """The mentions of one sentence (None: a sentence that names nothing)."""
        part = self._parts.get(key)
        if part is None:
            whole = self._mentions
            title, body = whole.texts["title"], whole.texts["body"]
            found: list[_Raw] = []
            if key is not None:
                text, number = key
                breaks = self._breaks[text]
                # The sentence holds the starts in (the previous break, its own break].
                low = breaks[number - 1] if number else -1
                high = breaks[number] if number < len(breaks) else _BEYOND
                for entries, starts in (e[text] for e in self._entities().values()):
                    found += entries[bisect_right(starts, low) : bisect_right(starts, high)]
                found.sort(key=lambda raw: raw[2])
                if text:  # the body's offsets past the title and the joint (_Mentions.add)
                    cut = len(title) + len(_JOIN)
                    found = [(e, alias, s + cut, t + cut) for e, alias, s, t in found]
            part = _Mentions(title, body, whole.lead_end, found)
            part._in_list = whole._in_list  # the same texts: whether one is listed is shared
            part._sentences = _Sentences(part, single=True)
            self._parts[key] = part
        return part

    def _entities(self) -> dict[str, tuple[tuple[list[_Raw], list[int]], ...]]:
        if self._by_entity is None:
            self._by_entity = {}
            for entity, found in self._mentions.raw.items():
                title = [(entity, alias, s, e) for where, alias, s, e in found if where == "title"]
                body = [(entity, alias, s, e) for where, alias, s, e in found if where != "title"]
                self._by_entity[entity] = (
                    (title, [raw[2] for raw in title]),
                    (body, [raw[2] for raw in body]),
                )
        return self._by_entity


def _sentence_count(text: str) -> int:
    """How many sentences (with something other than spaces in them) `text` has."""
    count, start = 0, 0
    for found in _SENTENCE_BREAK.finditer(text):
        count += bool(text[start : found.start()].strip())
        start = found.end()
    return count + bool(text[start:].strip())


class _Found:
    """A hit, and (when a watchlist asks) whether it stands in an enumeration of names."""

    __slots__ = ("_listed", "_mentions", "hit")

    def __init__(self, hit: Hit, mentions: _Mentions):
        self.hit = hit
        self._mentions = mentions
        self._listed: bool | None = None

    @property
    def listed(self) -> bool:
        if self._listed is None:
            hit = self.hit
            self._listed = self._mentions.in_list(hit.field == "title", hit.start, hit.end)
        return self._listed


_FIELD_INDEX: dict[FieldName, int] = {"title": 0, "lead": 1, "body": 2}
_NOT_LISTED = (0, 0, 0)


class Mentioned:
    """The entities an item mentions, of those the watchlists' rules name: `entities` in
    order of first mention (the title's, then the body's), `lead` those mentioned in the
    title or starting within the body's lead. Worked out when first read: only a matched
    item's story evidence reads them, and `match_mentioned` hands one out for every item."""

    __slots__ = ("_cut", "_found", "_lead_end", "_read")

    def __init__(self, found: Sequence[_Raw], cut: int, lead_end: int) -> None:
        self._found = found  # offsets as in `_Mentions.add`: the body's past `cut`
        self._cut = cut
        self._lead_end = lead_end
        self._read: tuple[tuple[str, ...], frozenset[str]] | None = None

    @property
    def entities(self) -> tuple[str, ...]:
        return self._work_out()[0]

    @property
    def lead(self) -> frozenset[str]:
        return self._work_out()[1]

    def _work_out(self) -> tuple[tuple[str, ...], frozenset[str]]:
        if self._read is None:
            entities: dict[str, None] = {}
            lead: set[str] = set()
            for entity, _, start, _ in self._found:
                entities.setdefault(entity, None)
                if start - self._cut < self._lead_end:  # (a title's offsets lie below `cut`)
                    lead.add(entity)
            self._read = (tuple(entities), frozenset(lead))
        return self._read


class _Mentions:
    """One item's mentions, by entity: counts per field at once; Hit objects, and the test
    for an enumeration, only for the entities a rule asks about (the test is what a
    watchlist weighing listed names differently costs, so each mention takes it once)."""

    __slots__ = (
        "_first",
        "_found",
        "_in_list",
        "_listed",
        "_sentences",
        "awaited",
        "counts",
        "folds",
        "lead_end",
        "raw",
        "texts",
    )

    def __init__(self, title: str, body: str, lead_end: int, found: Sequence[_Raw] = ()):
        """`found`: see `add`."""
        self.texts: dict[str, str] = {"title": title, "body": body}
        self.lead_end = lead_end
        self.raw: dict[str, list[tuple[FieldName, str, int, int]]] = {}
        self.counts: dict[str, list[int]] = {}  # entity -> mentions in title, lead, body
        self.awaited = False  # the entities only developments name have been looked for
        self.folds: dict[str, Folded] | None = None  # while a scan may follow (Matcher)
        self._found: dict[str, list[_Found]] = {}
        self._listed: dict[str, tuple[int, int, int]] = {}
        self._in_list: dict[tuple[bool, int], bool] = {}
        self._sentences: _Sentences | None = None
        self._first = found  # what the watchlists' rules name (see `mentioned`)
        self.add(found)

    def mentioned(self) -> Mentioned:
        """The entities the rules name that the title and body mention (not those only
        developments name, added later)."""
        return Mentioned(self._first, len(self.texts["title"]) + len(_JOIN), self.lead_end)

    def add(self, found: Sequence[_Raw]) -> None:
        """Mentions of the title and of the body, in order, the body's offsets past the
        title and the joint (see `Matcher._scan_fields`): first of all, then of entities
        not seen yet (those only developments name), so what was counted or cached for the
        others stays as it is."""
        self._sentences = None
        lead_end, raw, counts = self.lead_end, self.raw, self.counts
        cut = len(self.texts["title"]) + len(_JOIN)
        for entity, alias, start, end in found:
            if start >= cut:
                start -= cut
                end -= cut
                lead = end <= lead_end
                mention: tuple[FieldName, str, int, int] = (
                    "lead" if lead else "body",
                    alias,
                    start,
                    end,
                )
                index = 1 if lead else 2
            elif end < cut:  # (no key holds the joint, so always)
                mention, index = ("title", alias, start, end), 0
            else:
                continue
            mentions = raw.get(entity)
            if mentions is None:
                raw[entity] = [mention]
                tally = counts[entity] = [0, 0, 0]
            else:
                mentions.append(mention)
                tally = counts[entity]
            tally[index] += 1

    def sentences(self, required: Sequence[frozenset[str]] = ()) -> Iterator[_Mentions]:
        """The item's mentions sentence by sentence (title sentences, then body ones), for
        `sentence` nodes, each over the same texts, so offsets and lists stay what they are:
        only the sentences that name an entity of each set in `required` (see _required: no
        other sentence can satisfy the node). With nothing required, every sentence that
        names something, and one empty entry for those that name nothing (a none-of may
        hold there)."""
        if self._sentences is None:
            self._sentences = _Sentences(self)
        sentences = self._sentences
        if not required:
            keys = sentences.keys(self.raw)
            yield from (sentences.part(key) for key in sorted(keys))
            if sentences.unnamed(len(keys)):
                yield sentences.part(None)
            return
        smallest, *others = sorted(required, key=len)
        keys = sentences.keys(smallest)
        for needed in others:
            if not keys:
                return
            keys &= sentences.keys(needed)
        yield from (sentences.part(key) for key in sorted(keys))

    def in_list(self, in_title: bool, start: int, end: int) -> bool:
        """Does the mention at [start, end) of the title (or body) stand in a list?"""
        key = (in_title, start)
        listed = self._in_list.get(key)
        if listed is None:
            text = self.texts["title" if in_title else "body"]
            listed = self._in_list[key] = _in_list(text, start, end)
        return listed

    def found(self, entity: str) -> list[_Found]:
        found = self._found.get(entity)
        if found is None:
            found = []
            for where, alias, start, end in self.raw.get(entity, ()):
                text = self.texts["title" if where == "title" else "body"]
                hit = Hit(entity, alias, where, start, end, text[start:end])
                found.append(_Found(hit, self))
            self._found[entity] = found
        return found

    def listed(self, entity: str) -> tuple[int, int, int]:
        """How many of the entity's mentions in title, lead and body stand in a list."""
        listed = self._listed.get(entity)
        if listed is None:
            tally = [0, 0, 0]
            for where, _, start, end in self.raw.get(entity, ()):
                if self.in_list(where == "title", start, end):
                    tally[_FIELD_INDEX[where]] += 1
            listed = self._listed[entity] = (tally[0], tally[1], tally[2])
        return listed


def _field_weights(weights: Weights, where: str) -> tuple[float, float, float]:
    """Title, lead and body weights of a term; 0 where the term does not look."""
    lead = weights.lead if where in ("lead", "anywhere") else 0.0
    body = weights.body if where == "anywhere" else 0.0
    return (weights.title, lead, body)


def _term_score(
    counts: Sequence[int], listed: Sequence[int], vector: Sequence[float], in_list: float
) -> float:
    """A term's score from its mentions per field: the one formula both passes use (spelled
    out for the three fields: it runs for every term of every watchlist looked at)."""
    title, lead, body = counts
    weight_title, weight_lead, weight_body = vector
    score = 0.0
    if title and weight_title:
        score += (title - listed[0]) * weight_title + listed[0] * (weight_title * in_list)
    if lead and weight_lead:
        score += (lead - listed[1]) * weight_lead + listed[1] * (weight_lead * in_list)
    if body and weight_body:
        score += (body - listed[2]) * weight_body + listed[2] * (weight_body * in_list)
    return score


# --- the full evaluation (explain, and building a Match) -------------------------------------


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
    developments: tuple[DevelopmentExplanation, ...] = ()  # in file order

    def render(self) -> str:
        """A few readable lines for `monitor explain`."""
        head = "MATCH" if self.matched else "no match"
        lines = [f"{self.watchlist}: {head} (score {self.score:g})", f"  rule: {self.rule}"]
        lines += _reasons(self.fired, self.failed, self.hits, "  ")
        for development in self.developments:
            lines += development.render().splitlines()
        return "\n".join(lines)


@dataclass(frozen=True)
class DevelopmentExplanation:
    """Everything `explain` knows about one development of a watchlist and one item. A
    development is met when its rule holds and the watchlist matched."""

    id: str
    title: str
    priority: Priority
    met: bool
    rule: str  # the development's rule, readable
    fired: str | None  # the part that fired; None when the rule does not hold
    failed: tuple[str, ...]  # the parts that failed, and why (or that the watchlist did not)
    hits: tuple[Hit, ...]  # every mention of an entity the rule names
    outcome: Outcome = field(repr=False)

    @property
    def holds(self) -> bool:
        return self.outcome.ok

    def render(self) -> str:
        head = "MET" if self.met else "not met"
        lines = [
            f"  development {self.id} ({self.priority.label}): {head}",
            f"    rule: {self.rule}",
        ]
        lines += _reasons(self.fired, self.failed, self.hits, "    ")
        return "\n".join(lines)


def _reasons(
    fired: str | None, failed: Sequence[str], hits: Sequence[Hit], indent: str
) -> list[str]:
    lines = [f"{indent}fired: {fired}"] if fired else []
    lines += [f"{indent}failed: {reason}" for reason in failed]
    lines += [
        f"{indent}hit: {h.entity} {h.field}[{h.start}:{h.end}] {h.surface!r} (alias {h.alias!r})"
        for h in hits
    ]
    return lines


_FIELD_ORDER = {"title": 0, "lead": 1, "body": 2}
_LEAVES = (Term, Near, NoneOf)  # (a tuple: `A | B` in isinstance builds a union each call)
_OWN_OUTCOME = (Near, Sentence)  # nodes `_Evaluation.held` takes from `run`
# What held of a node, for a Match: score, hits, the part that fired (see _Evaluation.held).
_Held = tuple[float, list[Hit], str]


def _sorted_hits(hits: Iterable[Hit]) -> tuple[Hit, ...]:
    unique = {(h.entity, h.field, h.start, h.end): h for h in hits}
    return tuple(sorted(unique.values(), key=lambda h: (_FIELD_ORDER[h.field], h.start, h.entity)))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Children:
    """A composite node's children, indexed so that a pass can visit only those an item may
    satisfy: a term whose entity the item never names fails, whatever else it asks."""

    __slots__ = ("others", "terms")

    def __init__(self, node: AllOf | AnyOf | NoneOf):
        self.terms: dict[str, list[int]] = {}  # entity -> indices of its term children
        self.others: list[int] = []  # indices of the other children
        for index, child in enumerate(node.children):
            if isinstance(child, Term):
                self.terms.setdefault(child.entity, []).append(index)
            else:
                self.others.append(index)

    def present(self, counts: dict[str, list[int]]) -> list[int]:
        """Indices of the children worth visiting, in rule order (scores add in it). Not to
        be changed: it may be `others` itself."""
        terms = self.terms
        if not terms:
            return self.others
        # Walk the smaller of the two (a set intersection of the key views is slower).
        if len(counts) < len(terms):
            found = [i for entity in counts if entity in terms for i in terms[entity]]
        else:
            found = [i for entity, indices in terms.items() if entity in counts for i in indices]
        return sorted(found + self.others) if self.others or len(found) > 1 else found


def _index_sentences(
    node: Node, into: dict[int, tuple[frozenset[str], ...]]
) -> dict[int, tuple[frozenset[str], ...]]:
    """What the child of every sentence node under `node` requires (_required), by node id."""
    if isinstance(node, Sentence):
        into[id(node)] = tuple(_required(node.child))
        _index_sentences(node.child, into)
    elif isinstance(node, AllOf | AnyOf | NoneOf):
        for child in node.children:
            _index_sentences(child, into)
    return into


def _index_children(node: Node, into: dict[int, _Children]) -> dict[int, _Children]:
    """`_Children` of every composite node under `node`, by node id."""
    if isinstance(node, AllOf | AnyOf | NoneOf):
        into[id(node)] = _Children(node)
        for child in node.children:
            _index_children(child, into)
    elif isinstance(node, Sentence):
        _index_children(node.child, into)
    return into


class _Evaluation:
    """One item's mentions, evaluated against one watchlist's rule, with hits and outcomes.

    With `explain`, every node is evaluated and the readable reasons are written. Without,
    the evaluation builds a Match: only what held matters, so the children of a composite
    node that cannot hold (terms of absent entities, found through `children`) are skipped."""

    def __init__(
        self,
        mentions: _Mentions,
        weights: Weights,
        explain: bool,
        children: dict[int, _Children] | None = None,
        required: dict[int, tuple[frozenset[str], ...]] | None = None,
        described: dict[int, str] | None = None,
    ):
        self.mentions = mentions
        self.weights = weights
        self.explain = explain
        self.children = children if children is not None else {}
        self.required = required  # of each sentence node's child, by node id (_required)
        self.described = described  # leaves already described, by node id (see `_fired`)

    def counted(self, term: Term) -> list[tuple[Hit, float, bool]]:
        """The term's mentions that weigh something here: hit, weight, in a list."""
        in_list = self.weights.in_list
        # The weight of each field the term looks at (by its `where`), 0 where it does not.
        vector = _field_weights(self.weights, term.where)
        result = []
        for item in self.mentions.found(term.entity):
            hit = item.hit
            weight = vector[_FIELD_INDEX[hit.field]]
            if weight:  # (a field it does not look at, or that weighs nothing)
                listed = in_list != 1 and item.listed
                if listed:
                    weight *= in_list  # as Weights.of
                if weight > 0:
                    result.append((hit, weight, listed))
        return result

    def run(self, node: Node) -> Outcome:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Near):
            return self.near(node)
        if isinstance(node, Sentence):
            return self.sentence(node)
        explain = self.explain
        plan = None if explain else self.children.get(id(node))
        if plan is None:
            children = tuple(self.run(child) for child in node.children)
        else:
            present = plan.present(self.mentions.counts)
            children = tuple([self.run(node.children[index]) for index in present])
        passed = [child for child in children if child.ok]
        if isinstance(node, NoneOf):
            if passed:
                note = "present: " + ", ".join(describe(c.node) for c in passed) if explain else ""
                return Outcome(node, False, 0.0, (), note, children)
            return Outcome(node, True, 0.0, (), "none present", children)
        score = 0.0
        for child in passed:
            score += child.score
        if isinstance(node, AllOf):
            if len(passed) < len(node.children):
                return Outcome(node, False, 0.0, (), "not all hold", children)
        elif isinstance(node, AnyOf) and len(passed) < node.at_least:
            note = f"{len(passed)} of {node.at_least} needed hold" if explain else ""
            return Outcome(node, False, 0.0, (), note, children)
        if score < node.min_score:
            note = f"score {score:g} < {node.min_score:g}" if explain else ""
            return Outcome(node, False, score, (), note, children)
        return Outcome(node, True, score, (), f"score {score:g}" if explain else "", children)

    def held(self, node: Node) -> _Held | None:
        """What `run` makes of `node` without `explain`, as a Match takes it: the score, the
        hits of the part that held (as `_collect`) and that part readable (as `_fired`);
        None when it does not hold. The same decisions, but no outcome is built for a term
        or a composite, nor walked again: this is most of a second pass."""
        if isinstance(node, Term):
            counted = self.counted(node)
            if not counted:
                return None
            score = self.term_score(node, counted)
            if score < node.min_score:
                return None
            return score, [hit for hit, _, _ in counted], _described(node, self.described)
        if isinstance(node, _OWN_OUTCOME):
            outcome = self.run(node)
            if not outcome.ok:
                return None
            return outcome.score, _collect(outcome), _fired(outcome, self.described)
        plan = self.children.get(id(node))
        indices = range(len(node.children)) if plan is None else plan.present(self.mentions.counts)
        passed = [held for i in indices if (held := self.held(node.children[i])) is not None]
        if isinstance(node, NoneOf):
            return None if passed else (0.0, [], _described(node, self.described))
        score = 0.0
        for child_score, _, _ in passed:
            score += child_score
        if isinstance(node, AllOf):
            if len(passed) < len(node.children):
                return None
        elif isinstance(node, AnyOf) and len(passed) < node.at_least:
            return None
        if score < node.min_score:
            return None
        hits: list[Hit] = []
        for _, child_hits, _ in passed:
            hits += child_hits
        return score, hits, _fired_composite(node, [fired for _, _, fired in passed])

    def sentence(self, node: Sentence) -> Outcome:
        """The best sentence that satisfies the child; when none does, with `explain`, the
        child over the whole item says what is missing (or that only sentences together
        hold it)."""
        best: Outcome | None = None
        required = self.required.get(id(node)) if self.required is not None else None
        if required is None:
            required = tuple(_required(node.child))
        for part in self.mentions.sentences(required):
            evaluation = _Evaluation(part, self.weights, self.explain, self.children, self.required)
            outcome = evaluation.run(node.child)
            if outcome.ok and (best is None or outcome.score > best.score):
                best = outcome
        if best is not None:
            note = f"score {best.score:g}" if self.explain else ""
            return Outcome(node, True, best.score, (), note, (best,))
        if not self.explain:
            return Outcome(node, False, 0.0, (), "")
        whole = self.run(node.child)
        note = "holds only across sentences" if whole.ok else "no sentence holds"
        return Outcome(node, False, 0.0, (), note, (whole,))

    def term(self, node: Term) -> Outcome:
        counted = self.counted(node)
        if not counted:
            return Outcome(node, False, 0.0, (), self.why_not(node) if self.explain else "")
        score = self.term_score(node, counted)
        hits = tuple([hit for hit, _, _ in counted])
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

    def term_score(self, node: Term, counted: list[tuple[Hit, float, bool]]) -> float:
        """The score of a term's counted mentions (see `counted`)."""
        counts, listed = [0, 0, 0], [0, 0, 0]
        for hit, _, in_list in counted:
            field_index = _FIELD_INDEX[hit.field]
            counts[field_index] += 1
            listed[field_index] += in_list
        weights = self.weights
        return _term_score(counts, listed, _field_weights(weights, node.where), weights.in_list)

    def why_not(self, node: Term) -> str:
        mentions = self.mentions.found(node.entity)
        if not mentions:
            return "no mention"
        places = ", ".join(sorted({m.hit.field for m in mentions}))
        why = f"{_plural(len(mentions), 'mention')} ({places}) that do not count here"
        listed = sum(1 for m in mentions if m.listed) if self.weights.in_list != 1 else 0
        return f"{why}, {listed} in a list" if listed else why

    def distance(
        self, text: str, ordered: Sequence[Hit], limit: tuple[int, int]
    ) -> tuple[int, int]:
        """See `_distance`."""
        return _distance(text, [(hit.start, hit.end) for hit in ordered], limit, self.explain)

    def near_hits(self, term: NearTerm) -> list[tuple[Hit, float]]:
        """The counted mentions of a near's term (of any of its entities), with weights."""
        return [(hit, weight) for one in near_terms(term) for hit, weight, _ in self.counted(one)]

    def near(self, node: Near) -> Outcome:
        per_term = [self.near_hits(term) for term in node.terms]
        if not all(per_term):
            if not self.explain:
                return Outcome(node, False, 0.0, (), "")
            missing = [
                describe(t) for t, hits in zip(node.terms, per_term, strict=True) if not hits
            ]
            return Outcome(node, False, 0.0, (), f"no counted mention of {', '.join(missing)}")
        best: tuple[float, tuple[tuple[Hit, float], ...]] | None = None
        closest: int | None = None
        # No group can weigh more than each term's heaviest mention: once one does, stop.
        ceiling = 0.0
        for hits in per_term:
            ceiling += max(weight for _, weight in hits)
        # Mentions of the terms side by side in one text: title, or lead+body.
        for text_name in ("title", "body"):
            if best is not None and best[0] >= ceiling:
                break
            in_text = [
                [(h, w) for h, w in hits if (h.field == "title") == (text_name == "title")]
                for hits in per_term
            ]
            if not all(in_text):
                continue
            text = self.mentions.texts[text_name]
            for combo in _windows(in_text):
                ordered = sorted((hit for hit, _ in combo), key=lambda hit: hit.start)
                gap, limit = self.distance(text, ordered, (node.within, node.within_chars))
                closest = gap if closest is None else min(closest, gap)
                if gap <= limit:
                    score = 0.0
                    for _, weight in combo:
                        score += weight
                    if best is None or score > best[0]:
                        best = (score, combo)
                        if score >= ceiling:
                            break
        if best is None:
            why = "never in the same field" if closest is None else f"closest {closest} apart"
            return Outcome(node, False, 0.0, (), why)
        score, combo = best
        if score < node.min_score:
            return Outcome(node, False, score, (), f"score {score:g} < {node.min_score:g}")
        return Outcome(node, True, score, _sorted_hits(h for h, _ in combo), f"score {score:g}")


def _distance(
    text: str, ordered: Sequence[tuple[int, int]], limit: tuple[int, int], explain: bool
) -> tuple[int, int]:
    """Words (or, where the text between is Chinese, characters) between mentions in order
    ([start, end) each), and the limit that applies (`limit`: words, characters). Without
    `explain` the words are counted only until there are more than the limit: a gap of a
    thousand words is as far as one of eleven, and listing its words was most of the time
    an item naming two countries far apart took."""
    gaps = [
        text[a_end:b_start] if b_start > a_end else ""
        for (_, a_end), (b_start, _) in pairwise(ordered)
    ]
    in_chars = [has_han(gap) for gap in gaps]
    applies = limit[1] if any(in_chars) else limit[0]
    total = 0
    for gap, chars in zip(gaps, in_chars, strict=True):
        if chars:
            total += len("".join(gap.split()))
        elif explain:
            total += len(_WORD_RUN.findall(gap))
        else:
            total += sum(1 for _ in islice(_WORD_RUN.finditer(gap), applies - total + 1))
        if total > applies and not explain:
            break
    return total, applies


def _collect(outcome: Outcome, into: list[Hit] | None = None) -> list[Hit]:
    """The hits of the part of the rule that held (into `into`, when given)."""
    hits = [] if into is None else into
    if outcome.ok:
        hits += outcome.hits
        for child in outcome.children:
            _collect(child, hits)
    return hits


_MAX_COMBINATIONS = 4096


def _windows(
    per_term: list[list[tuple[Hit, float]]],
) -> Iterable[tuple[tuple[Hit, float], ...]]:
    """Candidate groups, one mention per term. Each mention pairs with the nearest mention
    of every other term (found by bisection: an item naming both countries in every sentence
    has a hundred of each), which finds the closest groups without trying every product."""
    ordered = [sorted(hits, key=lambda hw: hw[0].start) for hits in per_term]
    starts = [[hw[0].start for hw in hits] for hits in ordered]
    seen: set[tuple[int, ...]] = set()
    for index, hits in enumerate(ordered):
        for anchor in hits:
            at = anchor[0].start
            group: list[tuple[Hit, float]] = []
            for other_index, others in enumerate(ordered):
                if other_index == index:
                    group.append(anchor)
                    continue
                # The nearest start; of two as near, the earlier one.
                after = bisect_left(starts[other_index], at)
                if after == len(others) or (
                    after > 0 and at - others[after - 1][0].start <= others[after][0].start - at
                ):
                    after -= 1
                group.append(others[after])
            key = tuple(id(hw[0]) for hw in group)
            if key not in seen and len(seen) < _MAX_COMBINATIONS:
                seen.add(key)
                yield tuple(group)


def _fired(outcome: Outcome, described: dict[int, str] | None = None) -> str:
    """The part of the rule that fired, readable: any-of nodes list only what held.
    `described` holds leaves already described, by node id."""
    node = outcome.node
    if isinstance(node, _LEAVES):
        return _described(node, described)
    if isinstance(node, Sentence):
        return f"sentence({_fired(outcome.children[0], described)})"
    parts = [_fired(child, described) for child in outcome.children if child.ok]
    return _fired_composite(node, parts)


def _described(node: Term | Near | NoneOf, described: dict[int, str] | None) -> str:
    text = described.get(id(node)) if described is not None else None
    return text if text is not None else describe(node)


def _fired_composite(node: AllOf | AnyOf, parts: list[str]) -> str:
    """An all-of or any-of that fired, readable, from the parts of it that held."""
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
    if isinstance(outcome.node, Sentence):
        # What the whole item lacks, or that it holds only across sentences.
        whole = outcome.children[0] if outcome.children else None
        inner = _failures(whole) if whole is not None else []
        return inner or [f"{describe(outcome.node)}: {outcome.note}"]
    failed_children = [child for child in outcome.children if not child.ok]
    if isinstance(outcome.node, AllOf | AnyOf) and failed_children:
        reasons = [reason for child in failed_children for reason in _failures(child)]
        if outcome.note.startswith("score"):
            reasons.append(f"{describe(outcome.node)}: {outcome.note}")
        return reasons
    return [f"{describe(outcome.node)}: {outcome.note}"]


# --- the first pass: scores from counts ------------------------------------------------------

_FAIL = -1.0  # a node that does not hold; one that holds returns its score (>= 0)
_Run = Callable[[_Mentions], float]
_MANY_CHILDREN = 8  # an any-of with more children than this visits only those that may hold


def _compile_term(term: Term, weights: Weights, scored: bool) -> _Run:
    entity, min_score, in_list = term.entity, term.min_score, weights.in_list
    vector = _field_weights(weights, term.where)
    # What one mention weighs at most (with a hair of slack for rounding): when even that
    # many unlisted mentions cannot reach the minimum, the list test is skipped.
    upper = sum(vector) * max(1.0, in_list) * 1.000001

    def run(mentions: _Mentions) -> float:
        counts = mentions.counts.get(entity)
        if counts is None:
            return _FAIL
        listed = _NOT_LISTED
        if in_list != 1:
            if max(counts) * upper < min_score:
                return _FAIL  # not enough even if none stood in a list
            if not scored:
                # Whether it holds is all that counts: it does as soon as the mentions seen
                # weigh enough (see _partial_scores), so the list test is run on as few
                # mentions as it takes (a none-of of words that are everywhere).
                found = mentions.raw[entity]
                for score in _partial_scores(mentions, found, vector, in_list):
                    if score > 0 and score >= min_score:
                        return 0.0
                return _FAIL
            listed = mentions.listed(entity)
        score = _term_score(counts, listed, vector, in_list)
        return score if score > 0 and score >= min_score else _FAIL

    return run


def _partial_scores(
    mentions: _Mentions,
    found: Sequence[tuple[FieldName, str, int, int]],
    vector: tuple[float, float, float],
    in_list: float,
) -> Iterator[float]:
    """A term's score over one more of its mentions at a time (`found`, those in the fields
    it weighs), each tested for a list as it comes; the last is its full score.

    A score over some of the mentions never exceeds the score over all of them
    (`_term_score` only adds non-negative terms, and rounding is monotonic), so a minimum
    that one of them reaches, the full score reaches too: stopping there is exact, in any
    order. The order found is title, lead, body: the heaviest first by default."""
    counts, listed = [0, 0, 0], [0, 0, 0]
    for where, _, start, end in found:
        field_index = _FIELD_INDEX[where]
        if not vector[field_index]:
            continue
        counts[field_index] += 1
        listed[field_index] += mentions.in_list(where == "title", start, end)
        yield _term_score(counts, listed, vector, in_list)


def _compile_near(node: Near, weights: Weights) -> _Run:
    # Each term needs a mention in a field it looks at before positions are worth reading
    # (whether one stands in a list is for `near` to find out, once).
    looked_at = [
        [(one.entity, _field_weights(weights, one.where)) for one in near_terms(term)]
        for term in node.terms
    ]
    limit = (node.within, node.within_chars)

    def run(mentions: _Mentions) -> float:
        for options in looked_at:
            for entity, vector in options:
                counts = mentions.counts.get(entity)
                if counts is not None and any(n and w for n, w in zip(counts, vector, strict=True)):
                    break  # this term has a mention that may count
            else:
                return _FAIL
        if len(looked_at) == 2 and not _some_pair_near(mentions, looked_at, limit):
            return _FAIL
        outcome = _Evaluation(mentions, weights, explain=False).near(node)
        return outcome.score if outcome.ok else _FAIL

    return run


def _some_pair_near(
    mentions: _Mentions,
    looked_at: Sequence[Sequence[tuple[str, tuple[float, float, float]]]],
    limit: tuple[int, int],
) -> bool:
    """Are two mentions of a two-term near, one of each term, in fields it weighs, near
    enough? The pair `near` finds (among the mentions that count, which these include) is
    one of these pairs, at the same distance: with none of them, `near` fails, and the
    list test and the hits it needs are spared (two countries named sentences apart)."""
    sides = [
        [
            (where == "title", start, end)
            for entity, vector in options
            for where, _, start, end in mentions.raw.get(entity, ())
            if vector[_FIELD_INDEX[where]]
        ]
        for options in looked_at
    ]
    texts = mentions.texts
    for in_title, a_start, a_end in sides[0]:
        text = texts["title" if in_title else "body"]
        for b_in_title, b_start, b_end in sides[1]:
            if b_in_title != in_title:
                continue
            # In order of start; of two that start together, the first term's first.
            ordered = [(a_start, a_end), (b_start, b_end)]
            if b_start < a_start:
                ordered.reverse()
            gap, applies = _distance(text, ordered, limit, explain=False)
            if gap <= applies:
                return True
    return False


def _compile_sentence(node: Sentence, weights: Weights, scored: bool) -> _Run:
    """Any sentence that satisfies the child: the first one, or, where an ancestor weighs
    the score, the best one (as `_Evaluation.sentence` takes)."""
    child = _compile_node(node.child, weights, scored)
    required = tuple(_required(node.child))

    def sentence(mentions: _Mentions) -> float:
        best = _FAIL
        for part in mentions.sentences(required):
            score = child(part)
            if score >= 0 and not scored:
                return 0.0
            best = max(best, score)
        return best

    return sentence


def _compile_node(node: Node, weights: Weights, scored: bool = False) -> _Run:
    """The rule as nested closures over per-entity counts: the same decisions as
    `_Evaluation.run`, without building outcomes or hits. Scores are exact where an
    ancestor weighs them (`scored`: a min_score above); elsewhere a composite stops as soon
    as its result is known (an any-of at its at_least-th child that holds), and returns 0
    for a node that holds."""
    if isinstance(node, Term):
        return _compile_term(node, weights, scored)
    if isinstance(node, Near):
        return _compile_near(node, weights)
    if isinstance(node, Sentence):
        return _compile_sentence(node, weights, scored)
    if isinstance(node, NoneOf):
        absent = [_compile_node(child, weights) for child in node.children]  # held or not
        candidates = _Children(node)
        visit_all = len(absent) <= _MANY_CHILDREN  # (a term of an absent entity fails fast)

        def none_of(mentions: _Mentions) -> float:
            for index in range(len(absent)) if visit_all else candidates.present(mentions.counts):
                if absent[index](mentions) >= 0:
                    return _FAIL
            return 0.0

        return none_of
    min_score = node.min_score
    if isinstance(node, AnyOf) and not scored and _weighs_terms(node, weights):
        return _compile_threshold(node, weights)
    scored = scored or min_score > 0
    children = [_compile_node(child, weights, scored) for child in node.children]
    if isinstance(node, AllOf):

        def all_of(mentions: _Mentions) -> float:
            total = 0.0
            for child in children:
                score = child(mentions)
                if score < 0:
                    return _FAIL
                total += score
            return total if total >= min_score else _FAIL

        return all_of
    at_least = node.at_least
    plan = _Children(node)
    every = range(len(children))
    many = len(children) > _MANY_CHILDREN

    def any_of(mentions: _Mentions) -> float:
        indices = plan.present(mentions.counts) if many else every
        total, passed = 0.0, 0
        for index in indices:
            score = children[index](mentions)
            if score >= 0:
                total += score
                passed += 1
                if passed >= at_least and not scored:
                    return 0.0  # held, and nothing above weighs by how much
        return total if passed >= at_least and total >= min_score else _FAIL

    return any_of


def _weighs_terms(node: AnyOf, weights: Weights) -> bool:
    """An any-of of plain entities that must weigh `min_score` together, where a mention in
    a list weighs less (kz-pk: "any of Kazakhstan, Astana, Tokayev, score 2 or more")."""
    return (
        node.min_score > 0
        and weights.in_list < 1
        and all(isinstance(c, Term) and not c.min_score for c in node.children)
    )


def _compile_threshold(node: AnyOf, weights: Weights) -> _Run:
    """An any-of of `_weighs_terms`, whose own score nothing above weighs: it holds as soon
    as the mentions seen weigh `min_score`, so the costly test for a list (a mention in one
    weighs less) is run on as few mentions as it takes (see _partial_scores).

    Stopping early is safe: a term's score over some of its mentions never exceeds its
    score over all of them (`_term_score` only adds non-negative terms, and rounding is
    monotonic), so what is reached here is reached by `_Evaluation.run` too."""
    terms = [child for child in node.children if isinstance(child, Term)]
    vectors = [_field_weights(weights, term.where) for term in terms]
    in_list, min_score, at_least = weights.in_list, node.min_score, node.at_least

    def threshold(mentions: _Mentions) -> float:
        total, passed = 0.0, 0
        for term, vector in zip(terms, vectors, strict=True):
            found = mentions.raw.get(term.entity)
            if found is None:
                continue
            score = 0.0
            for score in _partial_scores(mentions, found, vector, in_list):
                if score > 0 and passed + 1 >= at_least and total + score >= min_score:
                    return 0.0
            if score > 0:
                total += score
                passed += 1
        return 0.0 if passed >= at_least and total >= min_score else _FAIL

    return threshold


def _required(node: Node) -> list[frozenset[str]]:
    """Sets of entities of which an item must name at least one each for `node` to hold
    (necessary, not sufficient): a cheap test that settles most watchlists for most items.
    A node that may hold with no mention at all (one with a none-of) requires nothing."""
    if isinstance(node, Term):
        return [frozenset({node.entity})]
    if isinstance(node, Near):
        return [frozenset(one.entity for one in near_terms(term)) for term in node.terms]
    if isinstance(node, NoneOf):
        return []
    if isinstance(node, Sentence):
        return _required(node.child)
    if isinstance(node, AllOf):
        return [needed for child in node.children for needed in _required(child)]
    # any-of: whichever children hold, each requires one of its sets; take the smallest.
    union: set[str] = set()
    for child in node.children:
        needed = _required(child)
        if not needed:
            return []
        union |= min(needed, key=len)
    return [frozenset(union)]


@dataclass(frozen=True)
class _Awaited:
    """A development, compiled as a watchlist's rule is: a first pass on counts, and what
    the full evaluation needs."""

    development: Development
    run: _Run
    children: dict[int, _Children]
    sentences: dict[int, tuple[frozenset[str], ...]]
    # What the rule requires (_required) of the entities a watchlist's rule names too:
    # known before the entities only developments name are looked for.
    known: tuple[frozenset[str], ...]

    @classmethod
    def compile(cls, development: Development, weights: Weights, named: set[str]) -> _Awaited:
        rule = development.rule
        run = _compile_node(rule, weights)
        known = tuple(needed for needed in _required(rule) if needed <= named)
        children, sentences = _index_children(rule, {}), _index_sentences(rule, {})
        return cls(development, run, children, sentences, known)

    def may_be_met(self, mentions: _Mentions) -> bool:
        """Can the item meet it, by what the first scan found? (See _required.)"""
        present = mentions.counts.keys()
        return not any(present.isdisjoint(needed) for needed in self.known)

    def met(self, mentions: _Mentions, weights: Weights) -> bool:
        if not self.may_be_met(mentions) or self.run(mentions) < 0:
            return False
        evaluation = _Evaluation(mentions, weights, False, self.children, self.sentences)
        return evaluation.run(self.development.rule).ok


def _rarest(required: Sequence[frozenset[str]], popular: dict[str, int]) -> frozenset[str]:
    """The requirement an item is least likely to meet, by a guess made once: as likely as
    its likeliest entity, and an entity that more watchlists require is likelier (the
    countries a whole set of watchlists is about: `popular` counts them), then the smaller.
    A watchlist that needs one of four countries and one of a hundred minor names is looked
    at only for items naming a minor name, not for every item naming a country."""
    return min(required, key=lambda needed: (max(popular[e] for e in needed), len(needed)))


def _popularity(compiled: Iterable[_Compiled]) -> dict[str, int]:
    """How many watchlists require each entity (see _rarest)."""
    popular: dict[str, int] = {}
    for one in compiled:
        for entity in {entity for needed in one.required for entity in needed}:
            popular[entity] = popular.get(entity, 0) + 1
    return popular


@dataclass(frozen=True)
class _Compiled:
    watchlist: Watchlist
    run: _Run
    required: tuple[frozenset[str], ...]  # see _required
    entities: frozenset[str]
    empty: Match | None  # what an item naming none of the entities gets (a rule of none-of)
    children: dict[int, _Children]  # for the second pass
    sentences: dict[int, tuple[frozenset[str], ...]]  # for the second pass
    described: dict[int, str]  # for the rule that fired
    awaited: tuple[_Awaited, ...]  # the watchlist's developments


# What one alias key stands for, grouped while compiling: its patterns, by entity and the
# options that must be checked apart (see Matcher.compile).
_Group = tuple[str, bool, bool, str]


def _compile_finder(
    watchlists: Watchlists, names: set[str], suffixes: dict[str, frozenset[str]]
) -> _Finder:
    """The finder of every alias of the entities in `names`."""
    # Aliases that fold alike ("Pakistan" in English and Turkish, Гвадар and Gvadar) are
    # one pattern accepting the suffixes of all their languages, so a place is found once.
    # Case-sensitive ones stay apart: each has its own case to check.
    by_key: dict[str, dict[_Group, _Pattern]] = {}
    for entity in watchlists.entities.values():
        if entity.id not in names:
            continue
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
            patterns = by_key.setdefault(key, {})
            pattern = patterns.get(group)
            patterns[group] = _Pattern(
                alias=pattern.alias if pattern else alias,
                starts_word=is_word_letter(key[0]),
                ends_word=is_word_letter(key[-1]),
                long_stem=(pattern is not None and pattern.long_stem)
                or (bool(words) and len(words[-1]) >= _LONG_STEM),
                suffixes=(pattern.suffixes | allowed) if pattern else allowed,
            )
    keys: dict[str, _Key] = {}
    for key, patterns in by_key.items():
        starts_word = all(pattern.starts_word for pattern in patterns.values())
        pairs = tuple((pattern, pattern.plain) for pattern in patterns.values())
        only = None
        if len(pairs) == 1 and pairs[0][1]:
            alias = pairs[0][0].alias
            only = (alias.entity, alias.text, -len(alias.text))
        keys[key] = (is_word_letter(key[-1]), starts_word, pairs, only)
    return _Finder.over(keys)


def _rule_entities(watchlists: Watchlists) -> set[str]:
    """The entities the watchlists' rules name (not those only their developments name)."""
    return {entity for watchlist in watchlists for entity in watchlist.entities}


# --- the matcher -----------------------------------------------------------------------------


class Matcher:
    """Compiled watchlists. Build once with `compile`; `match` and `explain` are pure."""

    def __init__(self, watchlists: Watchlists, finder: _Finder, awaited_finder: _Finder):
        self.watchlists = watchlists
        self._finder = finder
        # The aliases of entities that only developments name (see the module docstring).
        self._awaited_finder = awaited_finder
        named = _rule_entities(watchlists)
        self._compiled = tuple(self._compile_rule(w, named) for w in watchlists)
        # A watchlist is looked at only when the item names an entity of its rarest
        # requirement (see _required and _rarest); one that requires nothing, always. The
        # others are tested then (the item names an entity of that one, or the watchlist
        # would not be looked at).
        self._keyed: dict[str, list[int]] = {}
        self._always: set[int] = set()
        further: list[tuple[frozenset[str], ...]] = []
        popular = _popularity(self._compiled)
        for index, compiled in enumerate(self._compiled):
            if not compiled.required:
                self._always.add(index)
                further.append(())
                continue
            key = _rarest(compiled.required, popular)
            for entity in key:
                self._keyed.setdefault(entity, []).append(index)
            further.append(tuple(needed for needed in compiled.required if needed is not key))
        self._further = tuple(further)

    @classmethod
    def compile(cls, watchlists: Watchlists) -> Matcher:
        suffixes = _folded_suffixes()
        # Only what a rule names can change a result: a gazetteer entity no watchlist uses
        # stays out of the automata.
        named = _rule_entities(watchlists)
        awaited = {e for watchlist in watchlists for e in watchlist.development_entities}
        return cls(
            watchlists,
            _compile_finder(watchlists, named, suffixes),
            _compile_finder(watchlists, awaited - named, suffixes),
        )

    @staticmethod
    def _compile_rule(watchlist: Watchlist, named: set[str]) -> _Compiled:
        nobody = _Mentions("", "", 0)
        outcome = _Evaluation(nobody, watchlist.weights, False).run(watchlist.rule)
        empty = _make_match(watchlist, outcome) if outcome.ok else None
        run = _compile_node(watchlist.rule, watchlist.weights)
        children = _index_children(watchlist.rule, {})
        # Smallest first: the rarest requirement settles the most items soonest.
        required = tuple(sorted(set(_required(watchlist.rule)), key=len))
        entities = frozenset(watchlist.entities)
        described = _describe_leaves(watchlist.rule, {})
        sentences = _index_sentences(watchlist.rule, {})
        awaited = tuple(
            _Awaited.compile(d, watchlist.weights, named) for d in watchlist.developments
        )
        return _Compiled(
            watchlist, run, required, entities, empty, children, sentences, described, awaited
        )

    def scan(self, text: str, field_name: FieldName, developments: bool = False) -> list[Hit]:
        """Every alias found in one text, as hits in `field_name` with original offsets: of
        the entities the watchlists' rules name, and with `developments` also of those that
        only their developments name."""
        folds: dict[str, Folded] = {}
        found = self._scan(text, self._finder, folds, "text")
        if developments and self._awaited_finder.keys:
            found += self._scan(text, self._awaited_finder, folds, "text")
            found.sort(key=lambda raw: (raw[2], raw[0]))
        return [
            Hit(entity, alias, field_name, start, end, text[start:end])
            for entity, alias, start, end in found
        ]

    def _scan(self, text: str, finder: _Finder, folds: dict[str, Folded], key: str) -> list[_Raw]:
        """The mentions in `text`; `folds` keeps its fold, under `key`, for a later scan."""
        if not text or not finder.keys:
            return []
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = fold(text)
        s = folded.text
        keys = finder.keys
        # The candidates kept: what each is (entity, alias as written, minus its length),
        # None or what `_whole` checks, and [start, end) in the folded text, mapped back all
        # at once with [start, stem end) of those whose tail `_whole` reads.
        mentions: list[tuple[str, str, int]] = []
        checks: list[tuple[Alias, bool] | None] = []
        starts: list[int] = []
        ends: list[int] = []
        stem_starts: list[int] = []
        stem_ends: list[int] = []
        for index, start, stem_end in finder.finder.find(s):
            ends_word, starts_word, patterns, only = keys[index]
            # Inside a word (the usual reject, so before anything else): is the character
            # before a letter of an alphabetic script? Han ones (from U+3400) are not.
            after_letter = False
            if start:
                before = s[start - 1]
                after_letter = before.isalpha() and (before < "\u3400" or not is_han(before))
                if after_letter and starts_word:
                    continue
            # `word_end` runs over letters only, so a key followed by anything that is not a
            # letter or a digit (the usual case) ends where it ends without the regex call.
            end = stem_end
            if ends_word and s[stem_end : stem_end + 1].isalnum():
                end = word_end(s, stem_end)
            if only is not None:  # one plain pattern, which starts a word if `starts_word`
                mentions.append(only)
                checks.append(None)
                starts.append(start)
                ends.append(end)
                continue
            tail = end > stem_end
            for pattern, plain in patterns:
                if after_letter and pattern.starts_word:
                    continue
                alias = pattern.alias
                if plain:
                    checks.append(None)
                else:
                    if (
                        tail
                        and alias.inflected
                        and not pattern.long_stem
                        and not _suffix_ok(s[stem_end:end], pattern.suffixes)
                    ):
                        continue
                    checks.append((alias, tail))
                    if tail and _needs_stem(alias):
                        stem_starts.append(start)
                        stem_ends.append(stem_end)
                mentions.append((alias.entity, alias.text, -len(alias.text)))
                starts.append(start)
                ends.append(end)
        if not mentions:
            return []
        count = len(mentions)
        # (Spans the finder found in this very text: no need to check they lie in it.)
        begins, finishes = folded.bounds(starts + stem_starts, ends + stem_ends, checked=False)
        stem_finishes = iter(finishes[count:])
        original = folded.original
        placed: list[_Placed] = []
        for number, ((entity, text, shorter), check, begin, finish) in enumerate(
            zip(mentions, checks, begins[:count], finishes[:count], strict=True)
        ):
            if check is not None:
                alias, tail = check
                stem_finish = next(stem_finishes) if tail and _needs_stem(alias) else finish
                if not self._whole(original, alias, tail, begin, stem_finish):
                    continue
            placed.append((begin, entity, begin - finish, shorter, number, text, finish))
        return _merge_overlaps(placed)

    @staticmethod
    def _whole(text: str, alias: Alias, tail: bool, begin: int, stem_end: int) -> bool:
        """The checks that need the original text: the case of a case-sensitive alias, and
        a whole word for one that takes no suffix (`tail`: letters follow the stem, whose
        original end is `stem_end`)."""
        if not alias.case_sensitive and not (tail and not alias.inflected):
            return True
        if alias.case_sensitive and not _same_case(text[begin:stem_end], alias.text):
            return False
        # A whole word, but "TAP'ın" and "CPEC's" are still TAP and CPEC.
        return not (tail and not alias.inflected and text[stem_end] not in _APOSTROPHES)

    def _scan_fields(
        self, title: str, body: str, finder: _Finder, folds: dict[str, Folded]
    ) -> list[_Raw]:
        """The mentions in the title, then those in the body with offsets past the title
        and a joint (as if in `title + _JOIN + body`, see `_Mentions.add`; `folds`: see
        _scan)."""
        if not title or not body or _JOIN in title or _JOIN in body:
            cut = len(title) + len(_JOIN)
            found = self._scan(title, finder, folds, "title")
            found += [
                (e, a, s + cut, t + cut) for e, a, s, t in self._scan(body, finder, folds, "body")
            ]
            return found
        # One fold and one pass over both: no key holds the joint, nor runs across it.
        return self._scan(f"{title}{_JOIN}{body}", finder, folds, "joint")

    def _mentions(self, item: Item) -> _Mentions:
        texts = fields(item)
        title, body = texts["title"], texts["body"]
        folds: dict[str, Folded] = {}
        found = self._scan_fields(title, body, self._finder, folds)
        mentions = _Mentions(title, body, len(texts["lead"]), found)
        mentions.folds = folds  # a watchlist with developments may scan again (see _awaited)
        return mentions

    def _look_for_awaited(self, mentions: _Mentions) -> None:
        """Add the mentions of the entities only developments name, once per item."""
        if mentions.awaited:
            return
        mentions.awaited = True
        if self._awaited_finder.keys:
            title, body = mentions.texts["title"], mentions.texts["body"]
            folds = mentions.folds if mentions.folds is not None else {}
            mentions.add(self._scan_fields(title, body, self._awaited_finder, folds))
        mentions.folds = None  # done with

    def match(self, item: Item) -> list[Match]:
        """The watchlists `item` satisfies, in name order, each with the developments it
        meets."""
        return self._match(self._mentions(item))

    def match_mentioned(self, item: Item) -> tuple[list[Match], Mentioned]:
        """`match(item)` and `mentioned(item)` from one scan of the item."""
        mentions = self._mentions(item)
        return self._match(mentions), mentions.mentioned()

    def mentioned(self, item: Item) -> Mentioned:
        """The entities the watchlists' rules name that `item` mentions, in order, and
        those in its title or lead."""
        return self._mentions(item).mentioned()

    def _match(self, mentions: _Mentions) -> list[Match]:
        present = mentions.counts.keys()
        candidates = set(self._always)
        keyed = self._keyed
        for entity in present:
            indices = keyed.get(entity)
            if indices is not None:
                candidates.update(indices)
        matches: list[Match] = []
        every, further = self._compiled, self._further
        for index in sorted(candidates):
            compiled = every[index]
            if compiled.empty is not None and present.isdisjoint(compiled.entities):
                # It holds with nothing named.
                matches.append(self._awaited(compiled, mentions, compiled.empty))
                continue
            for needed in further[index]:
                if present.isdisjoint(needed):
                    break
            else:
                if compiled.run(mentions) >= 0:
                    self._second_pass(compiled, mentions, matches)
        return matches

    def _second_pass(self, compiled: _Compiled, mentions: _Mentions, matches: list[Match]) -> None:
        watchlist = compiled.watchlist
        evaluation = _Evaluation(
            mentions,
            watchlist.weights,
            False,
            compiled.children,
            compiled.sentences,
            compiled.described,
        )
        held = evaluation.held(watchlist.rule)
        if held is not None:
            score, hits, fired = held
            match = Match(
                watchlist=watchlist.name, hits=_sorted_hits(hits), rule=fired, score=score
            )
            matches.append(self._awaited(compiled, mentions, match))

    def _awaited(self, compiled: _Compiled, mentions: _Mentions, match: Match) -> Match:
        """`match` with the ids of the watchlist's developments the item meets."""
        if not any(awaited.may_be_met(mentions) for awaited in compiled.awaited):
            return match  # most items of a watchlist name nobody a development needs
        self._look_for_awaited(mentions)
        weights = compiled.watchlist.weights
        met = tuple(a.development.id for a in compiled.awaited if a.met(mentions, weights))
        return replace(match, developments=met) if met else match

    def explain(self, item: Item) -> list[Explanation]:
        """For every watchlist: matched or not, what fired or what failed, and the hits;
        and for each of its developments, met or not, and why."""
        mentions = self._mentions(item)
        self._look_for_awaited(mentions)
        explanations = []
        for watchlist in self.watchlists:
            outcome = _Evaluation(mentions, watchlist.weights, True).run(watchlist.rule)
            explanations.append(
                Explanation(
                    watchlist=watchlist.name,
                    matched=outcome.ok,
                    score=outcome.score if outcome.ok else 0.0,
                    rule=describe(watchlist.rule),
                    fired=_fired(outcome) if outcome.ok else None,
                    failed=tuple(_failures(outcome)),
                    hits=_named_hits(mentions, watchlist.entities),
                    outcome=outcome,
                    developments=tuple(
                        _explain_development(development, watchlist, outcome.ok, mentions)
                        for development in watchlist.developments
                    ),
                )
            )
        return explanations


def _named_hits(mentions: _Mentions, entities: Iterable[str]) -> tuple[Hit, ...]:
    return _sorted_hits(f.hit for entity in entities for f in mentions.found(entity))


def _explain_development(
    development: Development, watchlist: Watchlist, matched: bool, mentions: _Mentions
) -> DevelopmentExplanation:
    outcome = _Evaluation(mentions, watchlist.weights, True).run(development.rule)
    failed = list(_failures(outcome))
    if not matched:
        failed.insert(0, f"the watchlist {watchlist.name} did not match")
    return DevelopmentExplanation(
        id=development.id,
        title=development.title,
        priority=development.priority,
        met=matched and outcome.ok,
        rule=describe(development.rule),
        fired=_fired(outcome) if outcome.ok else None,
        failed=tuple(failed),
        hits=_named_hits(mentions, development.entities),
        outcome=outcome,
    )


def _make_match(
    watchlist: Watchlist, outcome: Outcome, described: dict[int, str] | None = None
) -> Match:
    return Match(
        watchlist=watchlist.name,
        hits=_sorted_hits(_collect(outcome)),
        rule=_fired(outcome, described),
        score=outcome.score,
    )


def _describe_leaves(node: Node, into: dict[int, str]) -> dict[int, str]:
    """`describe` of every term, near and none-of node under `node`, by node id."""
    if isinstance(node, Term | Near | NoneOf):
        into[id(node)] = describe(node)
    if isinstance(node, AllOf | AnyOf | NoneOf):
        for child in node.children:
            _describe_leaves(child, into)
    elif isinstance(node, Sentence):
        _describe_leaves(node.child, into)
    return into
