"""Folding: what it merges, and the way back to original offsets."""

from __future__ import annotations

import random
import sys

import pytest

from monitor.text.normalize import fold, fold_key, is_han, is_word_letter


def same(*texts: str) -> None:
    folded = {fold(text).text for text in texts}
    assert len(folded) == 1, folded


def test_turkish_dotted_and_dotless_i_fold_to_one_letter() -> None:
    same("Islamabad", "İSLAMABAD", "İslamabad", "ıslamabad", "ISLAMABAD", "islamabad")
    assert fold("İSLAMABAD'TA").text == "islamabadta"


def test_kazakh_and_uzbek_cyrillic_meet_latin() -> None:
    same("Покистон", "Pokiston")
    same("Қазақстан", "Qazaqstan")
    same("Қозоғистон", "Qozogʻiston", "Qozog‘iston", "Qozog’iston", "Qozog'iston", "Qozog`iston")
    same("Ўзбекистон", "Oʻzbekiston", "O‘zbekiston", "O’zbekiston", "O'zbekiston", "O`zbekiston")
    same("Пешовар", "Peshovar")
    # ң and Uzbek "ng" are one sound: Kazakh and Uzbek genitives fold alike.
    assert fold("Пәкістанның").text == fold("Pokistonning").text.replace("o", "a")


def test_lookalike_letters_in_mixed_words() -> None:
    same("ASTANА", "ASTANA")  # the last А is Cyrillic
    same("Кazinform", "Kazinform")  # the К is Cyrillic
    same("Kaзахcтан", "Казахстан")  # the K and c are Latin
    # A Latin word next to a Cyrillic word is left alone.
    assert fold("Fauji Фонд").text == "fauji fond"


def test_urdu_letter_variants_and_marks() -> None:
    same("پاکستانی", "پاکستاني", "پاکستانى")  # farsi ye, arabic ye, alef maksura
    same("کراچی", "كراچی")  # keheh and arabic kaf
    same("آستانہ", "آستانه", "آستانۀ", "استانہ")
    same("پاکستان", "پَاکِسْتَان", "پاکـــستان")  # harakat and tatweel
    same("اسلام آباد", "اسلام  آباد")
    assert fold("اسلام\u200cآباد").text == fold("اسلامآباد").text  # zero-width non-joiner


def test_chinese_separators_and_spaces() -> None:
    same(
        "夏巴兹·谢里夫",
        "夏巴兹・谢里夫",
        "夏巴兹•谢里夫",
        "夏巴兹‧谢里夫",
        "夏巴兹 谢里夫",
        "夏巴兹谢里夫",
    )
    same("哈萨克斯坦—土库曼斯坦—阿富汗—巴基斯坦", "哈萨克斯坦 - 土库曼斯坦 - 阿富汗 - 巴基斯坦")
    # Spaces between Latin words stay.
    assert fold("Fauji Foundation 基金").text == "fauji foundation 基金"


def test_dashes_quotes_and_spaces() -> None:
    same(
        "Termez–Mazar-i-Sharif–Kabul–Peshawar",
        "Termez – Mazar-i-Sharif – Kabul – Peshawar",
        "Termez — Mazar‐i‐Sharif — Kabul — Peshawar",
        "Termez - Mazar i Sharif - Kabul -\nPeshawar",
    )
    same("“TAP”", "«TAP»", "„TAP“", '"TAP"')
    assert fold("Pakistan’s").text == "pakistans"


def test_compatibility_forms_and_decomposed_text() -> None:
    same("ＰＡＫＩＳＴＡＮ", "Pakistan")  # full-width
    same("ﬁnance", "finance")
    same("Islamabad\u00a0police", "Islamabad police")
    same("и\u0306од", "йод")  # decomposed й
    same("Qazaqsta\u0301n", "Qazaqstán", "Qazaqstan")


def test_fold_key_strips_outer_spaces() -> None:
    assert fold_key("  - Nur-Sultan – ") == "nur sultan"
    assert fold_key("ʻ") == ""


def test_word_letters() -> None:
    assert is_word_letter("a") and is_word_letter("ң") and is_word_letter("پ")
    assert not is_word_letter("哈") and is_han("哈")
    assert not is_word_letter("1") and not is_word_letter("-")


@pytest.mark.parametrize(
    ("text", "folded_word", "original"),
    [
        ("Делегация Пәкістанның бүгін", "pakistanning", "Пәкістанның"),
        ("ASTANА. Кazinform – Президент", "kazinform", "Кazinform"),
        ("Tokayev İslamabad'ta karşılandı", "islamabadta", "İslamabad'ta"),
        ("Qozog‘istonning Janubiy Osiyodagi", "qozogistonning", "Qozog‘istonning"),
        ("巴基斯坦总理夏巴兹 · 谢里夫先生", "夏巴兹谢里夫", "夏巴兹 · 谢里夫"),
        ("  Shchuchinsk  and   Щучинск ", "shuchinsk", "Щучинск"),
        ("قازقستان  اور  پاکستان", "پاکستان", "پاکستان"),
        ("Ka\u0301zakhstan and и\u0306од", "yod", "и\u0306од"),
        ("ＰＡＫＩＳＴＡＮ’s port", "pakistans", "ＰＡＫＩＳＴＡＮ’s"),
    ],
)
def test_spans_point_back_into_the_original(text: str, folded_word: str, original: str) -> None:
    folded = fold(text)
    start = folded.text.index(folded_word)
    begin, end = folded.span(start, start + len(folded_word))
    assert text[begin:end] == original
    assert folded.source(start, start + len(folded_word)) == original


def test_span_rejects_an_empty_or_outside_span() -> None:
    folded = fold("Pakistan")
    with pytest.raises(ValueError):
        folded.span(3, 3)
    with pytest.raises(ValueError):
        folded.span(0, 99)


def _reference(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Fold one character at a time and squeeze spaces by hand: slow, but obviously right."""
    out: list[tuple[str, int]] = []
    for index, char in enumerate(text):
        out += [(c, index) for c in fold(char).text]
    result: list[tuple[str, int]] = []
    for position, (char, index) in enumerate(out):
        if char == " ":
            following = next((c for c, _ in out[position:] if c != " "), None)
            previous = result[-1][0] if result else None
            if previous == " " or (
                previous and following and is_han(previous) and is_han(following)
            ):
                continue
        result.append((char, index))
    return "".join(c for c, _ in result), [(i, i + 1) for _, i in result]


@pytest.mark.parametrize(
    ("runs", "sizes"),
    [(3000, (1, 25)), (150, (60, 400))],  # titles (str.translate), bodies (numpy)
)
def test_offsets_agree_with_a_character_by_character_reference(
    runs: int, sizes: tuple[int, int]
) -> None:
    # No mixed-script words and no combining marks here: those depend on neighbours, which
    # the reference cannot see. Everything else is context-free or a space squeeze.
    alphabet = [*"aBcİIıŞşЧчЩщЬьЪъңҢўЎЁё'’ʻ-– —·\n\t哈萨克 斯坦ﬁﷺÉｅ0", "Pak", "پاکستان"]
    alphabet += ["\U00030001", "\U0002a700", "\U0001d400", "㎏"]  # beyond the table, Han, compat
    rng = random.Random(20260204)
    for _ in range(runs):
        pieces = [rng.choice(alphabet) for _ in range(rng.randint(*sizes))]
        text = " ".join(pieces) if rng.random() < 0.5 else "".join(pieces)
        if any("a" <= c.lower() <= "z" for c in text) and any(
            "\u0400" <= c <= "\u04ff" for c in text
        ):
            text = text.translate(str.maketrans("aBcPk", "12345"))
        folded = fold(text)
        expected, spans = _reference(text)
        assert folded.text == expected, repr(text)
        assert [folded.span(i, i + 1) for i in range(len(folded.text))] == spans, repr(text)


def test_only_dotted_capital_i_lowercases_to_two_characters() -> None:
    """fold() relies on `str.lower` keeping one character per character, except for "İ"."""
    longer = [
        code
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and len(chr(code).lower()) != 1
    ]
    assert longer == [0x130]


@pytest.mark.parametrize(
    "text",
    [
        "ASTANА. Кazinform – Мемлекет басшысы Пәкістанның премьер-министрімен кездесті. ",
        "Kaзахcтан  и   Пакистан\u00a0подписали соглашение; 哈萨克斯坦 与 巴基斯坦 ",
        "Ka\u0301zakhstan and и\u0306од, ＰＡＫＩＳＴＡＮ’s port, İSLAMABAD'TA ﷺ ",
    ],
)
def test_long_and_short_texts_fold_alike(text: str) -> None:
    """Bodies take the numpy path and titles `str.translate`: the two must agree, text and
    offsets, or a hit would point at the wrong characters."""
    short, long = fold(text), fold(text * 8)
    assert len(text) < 200 <= len(text * 8)
    assert long.text == short.text * 8
    n, m = len(short.text), len(text)
    for index in range(len(long.text)):
        shift = (index // n) * m
        begin, end = long.span(index, index + 1)
        assert (begin - shift, end - shift) == short.span(index % n, index % n + 1), index
