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

Speed: the common path is C-level string work (`lower`, `translate`, one regex scan); the
offset map back to the original is only built when someone asks for it (a hit), because most
scanned text yields no hit at all.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache
from itertools import repeat

__all__ = ["Folded", "fold", "fold_key", "is_han", "is_word_letter"]

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
_SPACE_RUN = re.compile(" +")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SPACES = re.compile("  +")
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


@cache
def _tables() -> tuple[list[str], dict[str, int], re.Pattern[str], re.Pattern[str]]:
    """The translate table (built on first use, ~0.1 s), the output length of each
    character whose fold is not one character long, and patterns finding those characters
    (for mapping offsets back): one for text in the Basic Multilingual Plane, one for text
    beyond it. A class mixing both planes makes the regex engine test every character
    against a list (300 instead of 30 µs on 4,000 characters).

    A list indexed by code point translates about twice as fast as a dict (measured on the
    seeds: 50 vs 120 µs per 3,000 characters); an index past its end keeps the character."""
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
    lengths = {chr(code): len(out) for code, out in table.items() if len(out) != 1}
    bmp = "".join(re.escape(char) for char in sorted(lengths) if ord(char) < 0x10000)
    astral = "".join(re.escape(char) for char in sorted(lengths) if ord(char) >= 0x10000)
    irregular = re.compile(f"[{bmp}]")
    irregular_astral = re.compile(f"[{bmp}]|[{astral}]")
    translate = [table.get(code, chr(code)) for code in range(_TABLE_SIZE)]
    return translate, lengths, irregular, irregular_astral


class _Translated:
    """Where `translate` changed lengths: the few characters that became two or none.

    Only these are recorded (a regex finds them at C speed), so mapping back costs little
    more than the hits it serves; a full per-character table was most of a hit-rich
    item's matching time."""

    __slots__ = ("inputs", "lengths", "outputs", "shifts")

    def __init__(self, lowered: str) -> None:
        _, lengths, irregular, irregular_astral = _tables()
        if _ASTRAL.search(lowered):
            irregular = irregular_astral
        self.inputs: list[int] = []  # input index of each irregular character
        self.outputs: list[int] = []  # where its output starts
        self.lengths: list[int] = []  # its output length
        self.shifts: list[int] = []  # output minus input index just after it
        shift = 0
        for found in irregular.finditer(lowered):
            index = found.start()
            length = lengths[found.group()]
            self.inputs.append(index)
            self.outputs.append(index + shift)
            self.lengths.append(length)
            shift += length - 1
            self.shifts.append(shift)

    def source(self, index: int) -> int:
        """Input index of the character that produced output `index`."""
        k = bisect_right(self.outputs, index) - 1
        if k < 0:
            return index
        if index < self.outputs[k] + self.lengths[k]:
            return self.inputs[k]
        return index - self.shifts[k]


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


class _Squeezed:
    """Deleted runs (extra spaces): output index j came from input j + deleted-before-j."""

    __slots__ = ("at", "total")

    def __init__(self, at: list[int], total: list[int]) -> None:
        self.at = at  # output positions where a deletion happened, ascending
        self.total = total  # characters deleted up to and including that position

    def source(self, index: int) -> int:
        k = bisect_right(self.at, index)
        return index + (self.total[k - 1] if k else 0)


class Folded:
    """A folded text and the way back: `span(start, end)` gives the original offsets of a
    folded span; `source(start, end)` the original text of it."""

    __slots__ = ("_lowered", "_recomposed", "_squeezed", "_translated", "original", "text")

    def __init__(
        self,
        original: str,
        text: str,
        lowered: str,
        recomposed: _Recomposed | None,
        squeezed: _Squeezed | None,
    ) -> None:
        self.original = original
        self.text = text
        self._lowered = lowered  # what was translated: one character per original character
        self._recomposed = recomposed
        self._squeezed = squeezed
        self._translated: _Translated | None = None

    def __repr__(self) -> str:
        return f"Folded({self.text!r})"

    def _input_index(self, index: int) -> int:
        """Folded index -> index in the (recomposed) text that was translated."""
        if self._squeezed is not None:
            index = self._squeezed.source(index)
        if self._translated is None:
            self._translated = _Translated(self._lowered)
        return self._translated.source(index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of the folded [start, end); end > start."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside the folded text ({len(self.text)})")
        first = self._input_index(start)
        last = self._input_index(end - 1)
        if self._recomposed is not None:
            return self._recomposed.starts[first], self._recomposed.ends[last]
        return first, last + 1

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


def _squeeze(text: str) -> tuple[str, _Squeezed | None]:
    """Runs of spaces to one space; spaces between two Han characters removed."""
    han = not text.isascii() and _HAN.search(text) is not None
    runs = _SPACE_RUN if han else _SPACES
    at: list[int] = []
    total: list[int] = []
    pieces: list[str] = []
    deleted = last = 0
    for run in runs.finditer(text):
        start, end = run.span()
        between_han = (
            han and start > 0 and end < len(text) and is_han(text[start - 1]) and is_han(text[end])
        )
        cut = start if between_han else start + 1
        if cut == end:
            continue
        pieces.append(text[last:cut])
        at.append(cut - deleted)
        deleted += end - cut
        total.append(deleted)
        last = end
    if not at:
        return text, None
    pieces.append(text[last:])
    return "".join(pieces), _Squeezed(at, total)


def fold(text: str) -> Folded:
    """Fold `text` for matching; see the module docstring for what is merged."""
    table = _tables()[0]
    recomposed = None
    if not unicodedata.is_normalized("NFC", text):
        recomposed = _Recomposed(text)
        pre = recomposed.text
    else:
        pre = text
    # Every step up to `translate` keeps one character per character: "İ" is the only
    # character whose lowercase is longer (checked in the tests), so it goes first.
    lowered = _unmix_words((pre.replace("İ", "I") if "İ" in pre else pre).lower())
    folded, squeezed = _squeeze(lowered.translate(table))
    return Folded(text, folded, lowered, recomposed, squeezed)


def fold_key(text: str) -> str:
    """The folded form of an alias: folded and stripped of outer spaces."""
    return fold(text).text.strip(" ")


def is_han(char: str) -> bool:
    return _HAN.match(char) is not None


def is_word_letter(char: str) -> bool:
    """A letter that continues a word: Han characters do not join alphabetic words."""
    return char.isalpha() and _HAN.match(char) is None
