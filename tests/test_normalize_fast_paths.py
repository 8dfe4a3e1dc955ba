"""The fold's fast paths and the key finder against straightforward references (issue 3:
the matcher's speed target, with not a single result changed).

- ASCII texts fold with `str.translate`'s ASCII fast path, short and long;
- long texts skip `unicodedata.is_normalized` when no character can make them not NFC;
- Han texts squeeze their few spaces in Python, their many with numpy; other long texts
  squeeze theirs (paragraph breaks) with numpy;
- folds of three or more characters (ligatures, ﷺ) are written out after the first two;
- `KeyFinder` (ahocorasick-rs) finds what `str.find` finds, overlaps included.
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from monitor.text.normalize import _SHORT, KeyFinder, _Coded, _not_nfc, fold
from tests.test_normalize import _reference


def _same_fold_as_reference(text: str) -> None:
    folded = fold(text)
    expected, spans = _reference(text)
    assert folded.text == expected, repr(text)
    assert folded.spans([(i, i + 1) for i in range(len(folded.text))]) == spans, repr(text)


@pytest.mark.parametrize("size", [(1, 30), (80, 400)])  # short (bisection), long (array)
def test_ascii_texts_fold_as_the_reference_does(size: tuple[int, int]) -> None:
    alphabet = [*"aBcXyZ09 .,;'`\"-_()\t\n\r\x0b\x00", "  ", "Pak", "ISLAMABAD", " - ", "'s"]
    rng = random.Random(20261126)
    lengths = set()
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(*size)))
        assert text.isascii()
        lengths.add(len(text) >= _SHORT)
        _same_fold_as_reference(text)
    assert len(lengths) == 1 or size[0] > 1  # (the long ones are long)


def test_han_texts_squeeze_few_and_many_spaces_as_the_reference_does() -> None:
    han = [*"哈萨克斯坦巴基", "a", "Б", "。", "1"]
    gaps = [" ", "  ", "·", " · ", "\n"]
    rng = random.Random(20261127)
    for many in (False, True):  # in Python (up to 32 spaces), with numpy (more)
        for _ in range(150):
            pieces = [rng.choice(han) for _ in range(rng.randint(200, 400))]
            for _ in range(rng.randint(40, 120) if many else rng.randint(0, 8)):
                pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(gaps))
            _same_fold_as_reference("".join(pieces))


@pytest.mark.parametrize("letters", ["Пәкістан Қазақстан", "Pakistan'ın Türkiye", "ﬃ Ǆ Ё"])
def test_runs_of_spaces_in_long_texts_are_squeezed_as_the_reference_does(letters: str) -> None:
    """Paragraph breaks fold to runs of spaces in most texts: squeezed with numpy, the map
    back kept, whether or not a character folded to other than one (ﬃ, Ǆ)."""
    gaps = [" ", "  ", "\n\n", " \n \t ", "\u00a0 ", ". ", "   "]
    rng = random.Random(20261124)
    for _ in range(150):
        pieces = [rng.choice(letters) for _ in range(rng.randint(220, 400))]
        for _ in range(rng.randint(1, 30)):
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(gaps))
        text = "".join(pieces)
        assert len(text) >= _SHORT and not text.isascii()
        _same_fold_as_reference(text)
        _same_fold_as_reference(rng.choice(gaps) + text + rng.choice(gaps))


@pytest.mark.parametrize("pad", [0, 300])  # short (str.translate), long (numpy)
def test_spaces_at_the_ends_of_a_han_text(pad: int) -> None:
    tail = "巴" * pad
    for text in [" 哈萨 克", "  哈萨克 ", "哈 ", " 哈 萨 ", "哈·萨 ·  克 a 克", "\n哈\n"]:
        _same_fold_as_reference(text + tail)
        _same_fold_as_reference(tail + text)


def test_long_folds_are_written_out_in_full() -> None:
    for text in ["ﷺ word " * 40, "a…b ½ ㍻ ﬃ " * 30, "x" * 250 + "ﷺ"]:
        _same_fold_as_reference(text)


_TRICKY = [
    *"aeoiuAEOIUйЙёЁäöüÄÖÜçÇşŞǆ",
    "\u0301",  # combining acute
    "\u0306",  # combining breve (и + ◌̆ = й)
    "\u0308",
    "\u05b0\u05b1",  # Hebrew points out of canonical order
    "\u1100\u1161",  # Hangul L + V: composes to 가
    "\u09c7\u09be",  # Bengali vowel signs that compose
    "\u212b",  # Angstrom sign: NFC changes it
    "\uf900",  # CJK compatibility ideograph
    "哈 萨",
    "Kazakhstan ",
    "Қазақстан ",
    "ASTANА",  # a mixed-script word
    "\U0001d400",
    "\U00030001",
]


def test_the_nfc_shortcut_only_says_yes_to_nfc_texts() -> None:
    rng = random.Random(20261128)
    said = set()
    for _ in range(3000):
        text = "".join(rng.choice(_TRICKY) for _ in range(rng.randint(1, 12)))
        nfc = _Coded.of(text).nfc()
        said.add(nfc)
        if nfc:
            assert unicodedata.is_normalized("NFC", text), repr(text)
    assert said == {True, False}


def test_the_characters_that_may_break_nfc_are_flagged() -> None:
    flagged = set(_not_nfc(0x30000))
    for char in "\u0301\u0306\u1161\u11a8\u09be\u212b\uf900\u3099":
        assert ord(char) in flagged, hex(ord(char))
    for char in "aйЙ哈Қ\u0648":
        assert ord(char) not in flagged


def test_long_and_short_texts_with_neighbours_fold_alike() -> None:
    """What the character-by-character reference cannot check (combining marks, mixed-script
    words, Hangul, out-of-order marks): a text folded short and eight times over, long,
    must agree on the text and on every offset."""
    rng = random.Random(20261129)
    for _ in range(300):
        text = "".join(rng.choice(_TRICKY) for _ in range(rng.randint(3, 20))) + " "
        if len(text) * 8 < _SHORT or len(text) >= _SHORT:
            continue
        if unicodedata.combining(text[0]) or len(unicodedata.normalize("NFC", text)) != len(text):
            continue  # (a cluster across the copies, or composed, would shift the period)
        short, long = fold(text), fold(text * 8)
        assert long.text == short.text * 8, repr(text)
        n, m = len(short.text), len(text)
        for index in range(len(long.text)):
            shift = (index // n) * m
            begin, end = long.span(index, index + 1)
            expected = short.span(index % n, index % n + 1)
            assert (begin - shift, end - shift) == expected, (repr(text), index)


def test_bounds_checks_spans_unless_told_not_to() -> None:
    folded = fold("Qazaqstan and Pakistan " * 20)
    starts, ends = [0, 14, 200], [9, 22, 210]
    assert folded.bounds(starts, ends) == folded.bounds(starts, ends, checked=False)
    assert list(zip(*folded.bounds(starts, ends), strict=True)) == folded.spans(
        list(zip(starts, ends, strict=True))
    )
    with pytest.raises(ValueError, match="outside"):
        folded.bounds([5], [5])
    with pytest.raises(ValueError, match="outside"):
        folded.bounds([0], [10_000])


# --- finding keys ----------------------------------------------------------------------------


def _brute_force(keys: list[str], text: str) -> list[tuple[int, int, int]]:
    found = []
    for index, key in enumerate(keys):
        at = text.find(key)
        while at != -1:
            found.append((index, at, at + len(key)))
            at = text.find(key, at + 1)
    # By end, the longer first: the order of an Aho-Corasick automaton.
    return sorted(found, key=lambda f: (f[2], f[1]))


def test_key_finder_finds_every_occurrence_in_every_script() -> None:
    rng = random.Random(20261130)
    letters = [*"abш克😀\U00030001", "ab", "qazaq", "stan", "哈萨", "پاک", "ستان"]
    made = {"".join(rng.choice(letters) for _ in range(rng.randint(1, 3))) for _ in range(60)}
    keys = sorted(made)
    finder = KeyFinder(keys)
    assert len(finder) == len(keys)
    for _ in range(300):
        text = "".join(rng.choice([*letters, " ", "x"]) for _ in range(rng.randint(0, 60)))
        assert finder.find(text) == _brute_force(keys, text), text


def test_key_finder_with_no_keys_finds_nothing_and_refuses_an_empty_key() -> None:
    assert KeyFinder([]).find("anything") == []
    with pytest.raises(ValueError, match="empty"):
        KeyFinder(["a", ""])
