"""Folding text to one matching skeleton, with a way back to the original offsets.

A utility module: it holds no business logic (no aliases, no languages, no suffix rules).
The same `fold` is applied to aliases and to item text, so anything it merges matches both
ways. What it merges, and why:

- NFKC compatibility forms (full-width letters, ligatures, Arabic presentation forms, NBSP);
  the text is NFC-composed first, so a decomposed "и + ◌̆" folds like "й".
- Case, with every Turkish I folded to "i": İ, I, ı and i all become "i". Turkish rules
  (I→ı) would break "ISLAMABAD" in English text, and plain rules break "İSLAMABAD".
- Cyrillic is transliterated to a Latin skeleton chosen so that Kazakh and Uzbek Cyrillic
  meet the Latin alphabets of both languages: Қазақстан ~ Qazaqstan, Қозоғистон ~
  Qozogʻiston, Ўзбекистон ~ Oʻzbekiston, Пәкістанның ~ "pakistanning" (ң, ñ → "ng").
  Latin diacritics are dropped, with ş/ç → sh/ch so Turkish "Karaçi" meets "Karachi".
- In a word mixing Cyrillic and Latin letters (Kazinform's "ASTANА", "Кazinform") the
  minority script's lookalike letters are read as the majority's.
- Apostrophes of every kind (ʻ ‘ ’ ' ` ʼ) are dropped, so oʻ/gʻ reduce to o/g and Turkish
  "Pakistan'ın" reads as one word; double quotes of every kind become '"'.
- Hyphens and dashes become spaces, so "Mazar-i-Sharif" ~ "Mazar i Sharif" and
  "A–B–C" ~ "A – B – C"; runs of whitespace become one space.
- Arabic-script variants used interchangeably in Urdu (ي ى → ی, ك → ک, ه ۀ ة → ہ, أ إ آ → ا)
  and harakat/tatweel/zero-width joiners are removed.
- Chinese name separators (· ・ • ‧) become spaces, and spaces between Han characters are
  removed, so "夏巴兹·谢里夫" ~ "夏巴兹 谢里夫" ~ "夏巴兹谢里夫".

Speed (per 3,000 characters, measured with the matcher benchmark): an ASCII text folds one
character to one or none with `str.translate`'s ASCII fast path (~5 µs). Another short
text (an alias, a title) is folded with `str.translate`, and the offset map back to the
original is only built when someone asks for it (a hit). Another long text (a body) is
folded with numpy table lookups over its code points (~30 µs for Cyrillic instead of ~95
with `str.translate`), which give every folded character's source index on the way, in a
fixed dozen numpy calls (each costs ~1 µs before any work); the table also tells when no
character can make the text other than NFC, which spares `unicodedata.is_normalized`.
"""

from __future__ import annotations

import codecs
import re
import sys
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from operator import lt
from typing import NamedTuple

import numpy as np
from ahocorasick_rs import AhoCorasick, Implementation, MatchKind

__all__ = [
    "Folded",
    "KeyFinder",
    "code_points",
    "fold",
    "fold_key",
    "has_han",
    "is_han",
    "is_word_letter",
    "word_end",
]

# --- the per-character table ----------------------------------------------------------------

# Chosen to meet the Uzbek and Kazakh Latin alphabets (x for х, j for ж, q for қ, o for ў).
# ё is "e", not Uzbek "yo": Russian copy writes е for ё at will, and every alias is listed in
# both Uzbek scripts anyway.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "ґ": "g", "д": "d", "е": "e",
    "ё": "e", "є": "ye", "ж": "j", "җ": "j", "з": "z", "ҙ": "z", "и": "i", "й": "y",
    "і": "i", "ї": "yi", "к": "k", "қ": "q", "ҡ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "ng", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "ҫ": "s", "т": "t",
    "у": "u", "ұ": "u", "ү": "u", "ў": "o", "ӯ": "u", "ф": "f", "х": "x", "ҳ": "h",
    "һ": "h", "ц": "ts", "ч": "ch", "ҷ": "j", "ш": "sh", "щ": "sh", "ъ": "", "ы": "i",
    "ь": "", "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ӣ": "i", "ј": "j", "ѕ": "s",
    "ӏ": "",
}  # fmt: skip

# Latin letters whose decomposition does not give the skeleton wanted.
_LATIN = {
    "ı": "i", "ş": "sh", "ș": "sh", "ç": "ch", "ñ": "ng", "ń": "ng", "ŋ": "ng", "ə": "a",
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ħ": "h", "ŧ": "t",
}  # fmt: skip

_ARABIC = {
    "ي": "ی", "ى": "ی", "ك": "ک", "ه": "ہ", "ۀ": "ہ", "ۂ": "ہ", "ە": "ہ", "ة": "ہ",
    "ۃ": "ہ", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ـ": "",
}  # fmt: skip

_APOSTROPHES = "'`´ʹʻʼʽʾʿˈ‘’‚‛′＇"
_DOUBLE_QUOTES = '"“”„‟«»‹›「」『』〝〞〟＂'
_DASHES = "-‐‑‒–—―−⁃﹘﹣－⸺⸻"
_NAME_SEPARATORS = "·・･•‧∙⋅"
_INVISIBLE = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)

# Nonspacing marks that are diacritics or harakat (not the vowel signs of Indic scripts).
_MARK_RANGES = (
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x0591, 0x05C7),
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x06D6, 0x06ED),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)

_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_HAN = re.compile(f"[{_HAN_RANGES}]")
_SPACES = re.compile("  +")
# Letters that continue a word, as `is_word_letter` says, found at C speed.
_WORD_RUN = re.compile(f"[^\\W\\d_{_HAN_RANGES}]*")
_HAN_GAP = re.compile(f"(?<=[{_HAN_RANGES}]) (?=[{_HAN_RANGES}])")
_CYRILLIC_LETTER = re.compile("[\u0400-\u04ff]")
_LATIN_LETTER = re.compile("[a-zà-ɏ]")
_CYRILLIC_RUN = re.compile("[\u0400-\u04ff]+")
_LATIN_RUN = re.compile("[a-zà-ɏ]+")

# Lowercase lookalikes (after `lower()`, so capital-only lookalikes such as Н/H count too).
_LATIN_TO_CYRILLIC = str.maketrans("aceopxyibkmhtjs", "асеорхуівкмнтјѕ")
_CYRILLIC_TO_LATIN = str.maketrans("асеорхуівкмнтјѕһ", "aceopxyibkmhtjsh")


def _is_mark(code: int) -> bool:
    return any(low <= code <= high for low, high in _MARK_RANGES)


def _fold_char(char: str) -> str:
    """The skeleton of one lowercase, compatibility-decomposed character."""
    if char == "ς":
        # `str.lower` writes a final sigma at the end of a word, a per-character table
        # cannot: both are one letter here, so the two ways of folding agree.
        return "σ"
    for table in (_CYRILLIC, _LATIN, _ARABIC):
        if char in table:
            return table[char]
    if char.isspace() or char in _DASHES or char in _NAME_SEPARATORS:
        return " "
    if char in _APOSTROPHES or char in _INVISIBLE:
        return ""
    if char in _DOUBLE_QUOTES:
        return '"'
    code = ord(char)
    if _is_mark(code):
        return ""
    if 0x0660 <= code <= 0x0669 or 0x06F0 <= code <= 0x06F9:
        return str(code & 0xF)  # Arabic-Indic digits
    if 0x00C0 <= code <= 0x024F or 0x1E00 <= code <= 0x1EFF:
        base = unicodedata.normalize("NFD", char)[0]
        if base.isascii() and base.isalpha():
            return base.lower()
    return char


_TABLE_SIZE = 0x30000  # beyond it (rare planes) characters are kept as they are
_SHORT = 200  # characters: below, `str.translate` beats numpy's fixed cost per call
_NONE = 0  # `first` of a character that folds to nothing


@dataclass(frozen=True)
class _Tables:
    """The per-character fold, twice: a list for `str.translate` over lowercased text
    (short texts, aliases) and arrays for numpy over text as it is, capitals folded in the
    table (long texts, where it also gives every output character's source)."""

    translate: list[str]  # code point -> its fold; an index past the end keeps the character
    lengths: list[str]  # code point -> chr(length of its fold), for short texts' offset maps
    ascii: list[str | None]  # the fold of each ASCII character, capitals too (None: dropped)
    ascii_dropped: str  # the ASCII characters that fold to nothing
    kind: np.ndarray  # uint8: length of the fold (low 5 bits) | script (bits 5-6) | NFC bit
    first: np.ndarray  # uint32: the first character of the fold
    second: np.ndarray  # uint32: the second
    longer: dict[int, str]  # the folds of three or more characters (ligatures, ﷺ)
    han: np.ndarray  # bool, one longer than the table: is this code point Han?


_LENGTH_BITS = np.uint8(0x1F)
_LATIN_LETTER_BIT = 0x20  # a letter of a Latin/Cyrillic word, for the lookalike repair
_CYRILLIC_LETTER_BIT = 0x40
_BOTH_SCRIPTS = np.uint8(_LATIN_LETTER_BIT | _CYRILLIC_LETTER_BIT)
# A character after which a text may not be NFC: one that NFC changes, a combining mark, or
# one that composes with the character before it (the second of a canonical pair, Hangul
# vowels and final consonants). A text with none of them is NFC (the quick check of UAX #15
# says yes), so a long text skips `unicodedata.is_normalized` (~7 µs per 3,000 characters).
_NOT_NFC_BIT = 0x80


def _not_nfc(table_size: int) -> list[int]:
    """The code points below `table_size` that earn `_NOT_NFC_BIT` (see there)."""
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    flagged = []
    for code in range(table_size):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        decomposition = unicodedata.decomposition(char)
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
        if unicodedata.combining(char) or unicodedata.normalize("NFC", char) != char:
            flagged.append(code)
    return sorted(seconds.union(flagged))


@cache
def _tables() -> _Tables:
    """Built on first use (~0.15 s). A list indexed by code point translates about twice as
    fast as a dict (measured on the seeds: 50 vs 120 µs per 3,000 characters)."""
    table: dict[int, str] = {}
    ranges = (range(0x10000), range(0x1D400, 0x1D800), range(0x1F100, 0x1F200))
    for block in ranges:
        for code in block:
            if 0xD800 <= code <= 0xDFFF:
                continue
            char = chr(code)
            compat = unicodedata.normalize("NFKC", char)
            if compat != char:
                compat = compat.replace("İ", "i").lower()
            out = "".join(_fold_char(c) for c in compat)
            if out != char:
                table[code] = out
    translate = [table.get(code, chr(code)) for code in range(_TABLE_SIZE)]
    kind = np.ones(_TABLE_SIZE, dtype=np.uint8)
    first = np.arange(_TABLE_SIZE, dtype=np.uint32)
    second = np.zeros(_TABLE_SIZE, dtype=np.uint32)
    longer = {}
    # The arrays fold the lowercase of each character, so the text need not be lowercased
    # first; "İ" is the one character whose lowercase is two ("i" and a dot above).
    changed = set(table) | {code for code in range(_TABLE_SIZE) if chr(code).lower() != chr(code)}
    for code in changed:
        if 0xD800 <= code <= 0xDFFF:
            continue
        lower = "i" if code == ord("İ") else chr(code).lower()
        out = translate[ord(lower)] if ord(lower) < _TABLE_SIZE else lower
        kind[code] = len(out)
        first[code] = ord(out[0]) if out else _NONE
        if len(out) >= 2:
            second[code] = ord(out[1])
        if len(out) >= 3:
            longer[code] = out
    for code in range(_TABLE_SIZE):
        lower = chr(code).lower()
        if len(lower) == 1 and _is_word_part(lower):
            cyrillic = "\u0400" <= lower <= "\u04ff"
            kind[code] |= _CYRILLIC_LETTER_BIT if cyrillic else _LATIN_LETTER_BIT
    kind[_not_nfc(_TABLE_SIZE)] |= _NOT_NFC_BIT
    han = np.zeros(_TABLE_SIZE + 1, dtype=bool)
    for low, high in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF)):
        han[low : high + 1] = True
    lengths = [chr(len(out)) for out in translate]
    ascii_fold = [translate[ord(chr(code).lower())] or None for code in range(128)]
    ascii_dropped = "".join(chr(code) for code, out in enumerate(ascii_fold) if out is None)
    return _Tables(translate, lengths, ascii_fold, ascii_dropped, kind, first, second, longer, han)


# An array of 4-byte characters copies a str's code points (surrogates too) in well under a
# µs per 3,000 characters, where encoding to UTF-32 takes ~4 µs. "w" is Py_UCS4; "u", its
# name before Python 3.13, is wchar_t, 4 bytes except on Windows.
_WIDE = "w" if sys.version_info >= (3, 13) else "u"
_WIDE_OK = array(_WIDE).itemsize == 4


def code_points(text: str) -> np.ndarray:
    """The code points of `text`, as a uint32 array over a copy of its characters."""
    if _WIDE_OK:
        return np.frombuffer(array(_WIDE, text), dtype=np.uint32)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _text(codes: np.ndarray) -> str:
    # The codec function itself, on the array's buffer: `bytes.decode` goes through the
    # codec registry and a Python wrapper.
    text: str = codecs.utf_32_le_decode(codes.data, "surrogatepass", True)[0]
    return text


class _Coded(NamedTuple):
    """A text's code points and their table entries, for `_fold_codes`."""

    codes: np.ndarray  # uint32
    table_index: np.ndarray  # the codes, with those past the table at 0
    kind: np.ndarray  # the table's kind of each
    beyond: np.ndarray | None  # bool: past the table; None: none is
    top: int  # the highest code point
    kinds: int  # every kind bit that some character has

    @classmethod
    def of(cls, text: str) -> _Coded:
        codes = code_points(text)
        top = int(np.maximum.reduce(codes)) if len(codes) else 0  # `max` is a Python wrapper
        beyond = codes >= _TABLE_SIZE if top >= _TABLE_SIZE else None
        index = codes if beyond is None else np.where(beyond, 0, codes)
        kind = _tables().kind.take(index)
        kinds = int(np.bitwise_or.reduce(kind)) if len(kind) else 0
        return cls(codes, index, kind, beyond, top, kinds)

    def nfc(self) -> bool:
        """Is the text NFC for sure? (No means perhaps not: see _NOT_NFC_BIT.)"""
        return self.beyond is None and not self.kinds & _NOT_NFC_BIT


def _fold_codes(text: str, coded: _Coded) -> tuple[str, _CodeMap]:
    """Fold an NFC text (`coded`: its `_Coded`) with numpy, keeping the way back.

    The arrays fold capitals themselves: the text is only lowercased for a lookalike repair.
    Vectorised, because a per-character Python map was most of a hit-rich item's matching
    time."""
    tables = _tables()
    codes, index, kind, beyond, top, kinds = coded
    if not len(codes):
        return "", _CodeMap(None)
    if (kinds & _BOTH_SCRIPTS) == _BOTH_SCRIPTS:
        # A Latin letter touching a Cyrillic one: a word to repair.
        pairs = kind[1:] | kind[:-1]
        if ((pairs & _BOTH_SCRIPTS) == _BOTH_SCRIPTS).any():
            codes = code_points(_unmix_words(_lower(text)))
            index = codes if beyond is None else np.where(beyond, 0, codes)
            kind = tables.kind.take(index)
    length = kind & _LENGTH_BITS
    first = tables.first.take(index)
    if beyond is not None:
        length[beyond] = 1
        first[beyond] = codes[beyond]
    out = first
    source = None
    if np.count_nonzero(length != 1):  # (`any` is a Python wrapper)
        # Each output character's source (which is the map back), so each character's first
        # output repeated once per output character (one folding to nothing drops out), then
        # the outputs after a character's first (the same source as the one before) get its
        # second one, and the rare longer folds (ligatures, ﷺ) are written out in full. Few
        # numpy calls, whatever the text: each costs ~1 µs before any work.
        source = np.arange(len(length)).repeat(length)
        out = first.take(source)
        later = (source[1:] == source[:-1]).nonzero()[0] + 1
        if len(later):
            out[later] = tables.second.take(index.take(source.take(later)))
            if int(np.maximum.reduce(length)) >= 3:
                longer = (length >= 3).nonzero()[0]
                for char, start in zip(
                    longer.tolist(), source.searchsorted(longer).tolist(), strict=True
                ):
                    tail = tables.longer[int(index[char])]
                    out[start : start + len(tail)] = [ord(c) for c in tail]
    folded = _text(out)
    han = top >= 0x3400  # below, no Han character
    dropped: list[int] | np.ndarray = []
    if han and " " in folded:
        if folded.count(" ") > _FEW_SPACES:
            out, kept = _squeeze_codes(out, tables, han)
            if kept is not None:
                folded = _text(out)
                source = kept if source is None else source.take(kept)
        else:
            folded, dropped = _squeeze_han(folded)
    elif "  " in folded:  # (paragraph breaks, folded to spaces: most texts)
        keep = _not_a_second_space(out)
        out = out[keep]
        folded = _text(out)
        source = np.flatnonzero(keep) if source is None else source[keep]
    if len(dropped):
        source = _without(np.arange(len(out)) if source is None else source, dropped)
    return folded, _CodeMap(source)


_FEW_SPACES = 32  # in a text with Han characters: up to this many, squeezed in Python


def _without(array: np.ndarray, positions: Sequence[int] | np.ndarray) -> np.ndarray:
    """`array` less the elements at `positions` (np.delete, without its Python-level
    argument handling, a few µs a call)."""
    if not len(positions):
        return array
    keep = np.ones(len(array), dtype=bool)
    keep[positions] = False
    return array[keep]


def _not_a_second_space(codes: np.ndarray) -> np.ndarray:
    """Where `codes` holds anything but a space right after a space: a mask that squeezes
    runs of spaces to one (four numpy calls; a regex pass and a list of positions took
    twice as long on a text with a few paragraph breaks)."""
    spaces = codes == 32
    keep = np.empty(len(codes), dtype=bool)
    keep[0] = True
    np.logical_not(spaces[1:] & spaces[:-1], out=keep[1:])
    return keep


def _squeeze_han(folded: str) -> tuple[str, list[int]]:
    """`_squeeze_codes` for a text with few spaces, in Python (~10x faster than its numpy
    calls when there are few): runs of spaces to one space, a run between two Han
    characters removed. Returns the text and the positions dropped."""
    dropped: list[int] = []
    pieces: list[str] = []
    size, last = len(folded), 0
    at = folded.find(" ")
    while at != -1:
        end = at + 1
        while end < size and folded[end] == " ":
            end += 1
        between = at > 0 and end < size and is_han(folded[at - 1]) and is_han(folded[end])
        first = at if between else at + 1
        if first < end:
            dropped.extend(range(first, end))
            pieces.append(folded[last:first])
            last = end
        at = folded.find(" ", end)
    if not dropped:
        return folded, dropped
    pieces.append(folded[last:])
    return "".join(pieces), dropped


class _CodeMap:
    """The way back from a text folded by `_fold_codes`, for many positions at once: the
    source of each folded character (None: the one at the same index)."""

    __slots__ = ("_source",)

    def __init__(self, source: np.ndarray | None) -> None:
        self._source = source

    def sources(self, indices: list[int]) -> list[int]:
        if self._source is None:
            return indices
        result: list[int] = self._source.take(indices).tolist()
        return result


class _Dropped:
    """The way back from a text folded one character to one or to none (ASCII text): each
    step's dropped positions, as `p - i` for the i-th of them, which is how many characters
    were kept before it, so a kept index is found by bisection."""

    __slots__ = ("_steps",)

    def __init__(self, *steps: list[int]) -> None:
        """`steps`: the positions dropped by each step, in the text before that step."""
        self._steps = [[p - i for i, p in enumerate(step)] for step in steps if step]

    def sources(self, indices: list[int]) -> list[int]:
        for step in reversed(self._steps):
            indices = [index + bisect_right(step, index) for index in indices]
        return indices


def _fold_ascii(text: str) -> tuple[str, _Dropped | _CodeMap]:
    """An ASCII text folds one character to one (or none: apostrophes), with the ASCII
    fast path of `str.translate` (~3 µs per 3,000 characters, a sixth of numpy's). The
    way back bisects the few dropped positions for a short text; a long one, whose hits are
    many, takes them from an array of sources."""
    tables = _tables()
    translated = text.translate(tables.ascii)
    dropped: list[int] = []
    if len(translated) < len(text):
        for char in tables.ascii_dropped:
            at = text.find(char)
            while at != -1:
                dropped.append(at)
                at = text.find(char, at + 1)
        dropped.sort()
    squeezed: list[int] = []
    if "  " in translated:
        for run in _SPACES.finditer(translated):
            squeezed.extend(range(run.start() + 1, run.end()))
        translated = _SPACES.sub(" ", translated)
    if len(text) < _SHORT or not (dropped or squeezed):
        return translated, _Dropped(dropped, squeezed)
    source = _without(np.arange(len(text)), dropped)
    return translated, _CodeMap(_without(source, squeezed))


_IRREGULAR_LENGTH = re.compile("[^\x01]")
_SPACE_RUN = re.compile(" +")


def _short_source(lowered: str, translated: str) -> list[int] | None:
    """The source map of a short text, in Python: for a title, the numpy calls' fixed cost
    is several times the work. `translated` is `lowered` translated, before the squeeze."""
    tables = _tables()
    lengths = lowered.translate(tables.lengths)
    irregular = _IRREGULAR_LENGTH.search(lengths)
    source: list[int] | None = None
    if irregular:
        source = []
        last = 0
        for found in _IRREGULAR_LENGTH.finditer(lengths, irregular.start()):
            index = found.start()
            source.extend(range(last, index))
            length = ord(found.group())  # past the table, the character itself: kept
            source.extend(repeat(index, length if length < _TABLE_SIZE else 1))
            last = index + 1
        source.extend(range(last, len(lowered)))
    han = " " in translated and not translated.isascii() and _HAN.search(translated)
    if "  " not in translated and not han:
        return source
    drop: set[int] = set()
    for run in _SPACE_RUN.finditer(translated):
        start, end = run.span()
        between_han = (
            han
            and start > 0
            and end < len(translated)
            and is_han(translated[start - 1])
            and is_han(translated[end])
        )
        drop.update(range(start if between_han else start + 1, end))
    if not drop:
        return source
    kept = source if source is not None else range(len(translated))
    return [index for position, index in enumerate(kept) if position not in drop]


def _squeeze_codes(
    out: np.ndarray, tables: _Tables, han: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Runs of spaces to one space; a run between two Han characters removed. Returns the
    codes and, when any went, the positions of those kept."""
    spaces = np.flatnonzero(out == 32)
    if not len(spaces):
        return out, None
    follows = np.empty(len(spaces), dtype=bool)  # the space right after another space
    follows[0] = False
    np.equal(spaces[1:] - spaces[:-1], 1, out=follows[1:])
    drop = spaces[follows]
    if han:
        firsts = spaces[~follows]
        lasts = spaces[np.append(~follows[1:], True)]
        inside = (firsts > 0) & (lasts < len(out) - 1)
        firsts, lasts = firsts[inside], lasts[inside]
        limit = np.uint32(_TABLE_SIZE)
        between = tables.han.take(np.minimum(out[firsts - 1], limit)) & tables.han.take(
            np.minimum(out[lasts + 1], limit)
        )
        if between.any():
            drop = np.concatenate((drop, firsts[between]))
    if not len(drop):
        return out, None
    keep = np.ones(len(out), dtype=bool)
    keep[drop] = False
    return out[keep], np.flatnonzero(keep)


# --- offset maps -----------------------------------------------------------------------------


class _Recomposed:
    """NFC recomposition of a text that was not NFC: output char -> input [start, end)."""

    __slots__ = ("ends", "starts", "text")

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        cluster = 0
        for index in range(1, len(text) + 1):
            if index < len(text) and unicodedata.combining(text[index]):
                continue
            out = unicodedata.normalize("NFC", text[cluster:index])
            pieces.append(out)
            self.starts.extend(repeat(cluster, len(out)))
            self.ends.extend(repeat(index, len(out)))
            cluster = index
        self.text = "".join(pieces)


class Folded:
    """A folded text and the way back: `span(start, end)` gives the original offsets of a
    folded span, `spans` of many at once; `source(start, end)` the original text of one."""

    __slots__ = ("_lowered", "_map", "_recomposed", "original", "text")

    def __init__(
        self,
        original: str,
        text: str,
        lowered: str,
        recomposed: _Recomposed | None,
        code_map: _CodeMap | _Dropped | None = None,
    ) -> None:
        self.original = original
        self.text = text
        # What `str.translate` folded, one character per (composed) character: for a short
        # text, whose map back is built from it on first use.
        self._lowered = lowered
        self._recomposed = recomposed
        self._map: _CodeMap | _Dropped | list[int] | None = code_map

    def __repr__(self) -> str:
        return f"Folded({self.text!r})"

    def spans(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Original [start, end) of each folded [start, end); end > start."""
        begins, finishes = self.bounds([start for start, _ in pairs], [end for _, end in pairs])
        return list(zip(begins, finishes, strict=True))

    def bounds(
        self, starts: Sequence[int], ends: Sequence[int], checked: bool = True
    ) -> tuple[list[int], list[int]]:
        """`spans` as two lists: the original starts and ends of the folded [starts[i],
        ends[i]) (for the matcher's many hits per text, without a tuple for each).
        `checked=False` skips the test that each span lies in the text, for spans found
        in it."""
        size = len(self.text)
        if (
            checked
            and starts
            and (min(starts) < 0 or max(ends) > size or not all(map(lt, starts, ends)))
        ):
            start, end = next(
                (start, end)
                for start, end in zip(starts, ends, strict=True)
                if not 0 <= start < end <= size
            )
            raise ValueError(f"span {start}:{end} outside the folded text ({size})")
        if self._map is None:
            # A short text was folded with `str.translate`: map it now that a hit needs it.
            lowered = self._lowered
            short = _short_source(lowered, lowered.translate(_tables().translate))
            self._map = short if short is not None else _CodeMap(None)
        indices = [*starts, *[end - 1 for end in ends]]
        if isinstance(self._map, list):
            short_map = self._map
            sources = [short_map[index] for index in indices]
        else:
            sources = self._map.sources(indices)
        count = len(starts)
        recomposed = self._recomposed
        if recomposed is not None:
            begins = [recomposed.starts[first] for first in sources[:count]]
            return begins, [recomposed.ends[last] for last in sources[count:]]
        return sources[:count], [last + 1 for last in sources[count:]]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of the folded [start, end); end > start."""
        return self.spans(((start, end),))[0]

    def source(self, start: int, end: int) -> str:
        first, last = self.span(start, end)
        return self.original[first:last]


def _unmix(word: str) -> str:
    cyrillic = sum(1 for c in word if "\u0400" <= c <= "\u04ff")
    if cyrillic * 2 >= len(word):
        return word.translate(_LATIN_TO_CYRILLIC)
    return word.translate(_CYRILLIC_TO_LATIN)


def _is_word_part(char: str) -> bool:
    return "a" <= char <= "z" or "à" <= char <= "ɏ" or "\u0400" <= char <= "\u04ff"


def _unmix_words(text: str) -> str:
    """Read lookalike letters of mixed Cyrillic/Latin words in the word's majority script.

    Only runs of the minority script are visited (a regex scan skips the rest), so a
    Cyrillic text with a few Latin names costs a few Python steps, not one per word."""
    if text.isascii() or not _CYRILLIC_LETTER.search(text):
        return text
    sample = text[:400]
    mostly_cyrillic = len(_CYRILLIC_LETTER.findall(sample)) * 2 > len(_LATIN_LETTER.findall(sample))
    runs = _LATIN_RUN if mostly_cyrillic else _CYRILLIC_RUN
    edits: list[tuple[int, int]] = []
    for run in runs.finditer(text):
        start, end = run.span()
        joined_left = start > 0 and _is_word_part(text[start - 1])
        joined_right = end < len(text) and _is_word_part(text[end])
        if not (joined_left or joined_right):
            continue
        while start > 0 and _is_word_part(text[start - 1]):
            start -= 1
        while end < len(text) and _is_word_part(text[end]):
            end += 1
        if not edits or start >= edits[-1][1]:
            edits.append((start, end))
    if not edits:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in edits:
        pieces += (text[last:start], _unmix(text[start:end]))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _squeeze(text: str) -> str:
    """Runs of spaces to one space; spaces between two Han characters removed."""
    if "  " in text:
        text = _SPACES.sub(" ", text)
    if " " in text and not text.isascii() and _HAN.search(text):
        text = _HAN_GAP.sub("", text)
    return text


def _composed(text: str) -> tuple[str, _Recomposed | None]:
    """NFC-composed, with the way back when that changed anything."""
    if unicodedata.is_normalized("NFC", text):
        return text, None
    recomposed = _Recomposed(text)
    return recomposed.text, recomposed


def _lower(text: str) -> str:
    """Lowercased, one character per character: "İ" is the only character whose lowercase
    is longer (checked in the tests)."""
    return (text.replace("İ", "I") if "İ" in text else text).lower()


def fold(text: str) -> Folded:
    """Fold `text` for matching; see the module docstring for what is merged."""
    if text.isascii():
        folded, dropped = _fold_ascii(text)
        return Folded(text, folded, "", None, dropped)
    if len(text) >= _SHORT:
        coded = _Coded.of(text)
        if coded.nfc():
            folded, code_map = _fold_codes(text, coded)
            return Folded(text, folded, "", None, code_map)
    composed, recomposed = _composed(text)
    if len(composed) < _SHORT:
        lowered = _unmix_words(_lower(composed))
        folded = _squeeze(lowered.translate(_tables().translate))
        return Folded(text, folded, lowered, recomposed)
    folded, code_map = _fold_codes(composed, _Coded.of(composed))
    return Folded(text, folded, "", recomposed, code_map)


@lru_cache(maxsize=1 << 16)
def fold_key(text: str) -> str:
    """The folded form of an alias: folded and stripped of outer spaces. Cached: the
    loader and the compiler fold every alias, and 30,000 of them take a while."""
    lowered = _unmix_words(_lower(_composed(text)[0]))
    return _squeeze(lowered.translate(_tables().translate)).strip(" ")


def is_han(char: str) -> bool:
    return _HAN.match(char) is not None


def has_han(text: str) -> bool:
    return not text.isascii() and _HAN.search(text) is not None


def is_word_letter(char: str) -> bool:
    """A letter that continues a word: Han characters do not join alphabetic words."""
    return char.isalpha() and _HAN.match(char) is None


def word_end(text: str, index: int) -> int:
    """Where the word running on at `index` ends: past every letter of an alphabetic
    script (`index` itself when none follows)."""
    found = _WORD_RUN.match(text, index)
    return found.end() if found else index


# --- finding many keys at once ---------------------------------------------------------------


class KeyFinder:
    """Every occurrence of every key in a text, overlapping ones included, as (key index,
    start, end), ordered by end (of two ending together, the longer first).

    ahocorasick-rs (the Rust aho-corasick crate's contiguous NFA) finds 30,000 keys in four
    scripts in ~20 µs per 3,000 characters, in any script. pyahocorasick looks a node's
    children up one by one: at a root with hundreds of first characters (Chinese names,
    Urdu ones) it took ~25 ns per character, and the keys had to be split by script (with
    Han keys found by hashing) to keep it near 65 µs per item. The DFA is no faster on so
    many keys and takes ten times the memory and build time (measured with the matcher
    benchmark's 30,000 aliases)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if any(not key for key in keys):
            raise ValueError("an empty key would be found everywhere")
        self._automaton = (
            AhoCorasick(
                keys,
                matchkind=MatchKind.Standard,
                store_patterns=False,
                implementation=Implementation.ContiguousNFA,
            )
            if keys
            else None
        )
        self._count = len(keys)

    def __len__(self) -> int:
        return self._count

    def find(self, text: str) -> list[tuple[int, int, int]]:
        if self._automaton is None:
            return []
        return self._automaton.find_matches_as_indexes(text, overlapping=True)
