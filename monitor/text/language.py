"""Language identification for the region's languages: en, ru, kk, uz (Cyrillic and Latin),
tr, zh, ur, and whatever else py3langid knows, as ISO 639-1 codes ("und" when there is no
text to judge).

Two kinds of evidence, cheapest first:

1. Script and letters. Han text is Chinese; letters that only one of the region's languages
   uses are decisive (Uzbek ў ҳ and oʻ/gʻ, Kazakh ә ұ і ң ө ү һ, Urdu ے ٹ ڈ ڑ ں, Turkish
   ı ğ ş). This settles most texts without a model and is what makes short titles right:
   the character n-gram model cannot tell Kazakh from Uzbek Cyrillic in five words, but
   "ў" can.
2. py3langid (a naive Bayes model over byte n-grams, ~11x faster than langdetect), limited
   to the languages written in the text's script, with a prior for the region's languages
   (on short strings the model alone happily says Tagalog for an English headline).

The feed's declared language (`hint`) only adds a small bonus to the model's score: it breaks
ties, and never overrides letters or a script that say otherwise.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.text.normalize import code_points

__all__ = ["REGION", "detect_language"]

REGION = ("en", "ru", "kk", "uz", "tr", "zh", "ur")

UNDETERMINED = "und"
_REGION_SET = frozenset(REGION)
_SHORT_WORDS = 4

# Raw scores are log-likelihoods that grow with the text: the priors decide only between
# close candidates on a few words (a title), never against a paragraph's evidence.
_REGION_PRIOR = 8.0
_HINT_PRIOR = 3.0
_MARKS_EVERY = 12  # a language's own letters decide alone when one comes every 12 words

_SAMPLE = 1000  # characters looked at for letters and words: ~150 words, plenty
_MODEL_SAMPLE = 600  # characters given to the model: enough for a paragraph, and fast
_RUSSIAN_EVERY = 15  # ы or э once in 15 words (Russian prose: once in ~8)
_ENGLISH_EVERY = 8  # the, of, and... once in 8 words (English prose: once in ~4)
_PARAGRAPH_WORDS = 12  # below, a title: the model is cheap there, and letters are few
_SHORT_PREFIX = 64  # enough characters to tell whether a text has _SHORT_WORDS words

_CYRILLIC_LANGUAGES = frozenset(
    {"ru", "kk", "uz", "ky", "tg", "tt", "ba", "mn", "uk", "be", "bg", "mk", "sr"}
)
_TURKIC_CYRILLIC = frozenset({"kk", "uz", "ky", "tg", "tt", "ba"})
_ARABIC_LANGUAGES = frozenset({"ur", "fa", "ar", "ps", "ug", "ku", "sd"})
_OTHER_SCRIPTS = frozenset(
    {"el", "he", "hi", "bn", "ta", "te", "ml", "kn", "gu", "pa", "or", "as", "mr", "ne", "si",
     "th", "lo", "km", "my", "ka", "hy", "am", "ja", "ko", "dz", "sa", "zh"}
)  # fmt: skip

# The script of each letter (1 another script's, 0 not a letter), looked up for a whole
# sample at once (`_letters`): what a regex pass per script did at ten times the cost.
_SCRIPTS = ("other", "latin", "cyrillic", "arabic", "han", "kana", "hangul")
_SCRIPT_RANGES = (
    ("latin", 0x0041, 0x005A), ("latin", 0x0061, 0x007A), ("latin", 0x00C0, 0x024F),
    ("latin", 0x1E00, 0x1EFF), ("cyrillic", 0x0400, 0x052F), ("arabic", 0x0600, 0x06FF),
    ("arabic", 0x0750, 0x077F), ("arabic", 0xFB50, 0xFDFF), ("arabic", 0xFE70, 0xFEFF),
    ("han", 0x3400, 0x4DBF), ("han", 0x4E00, 0x9FFF), ("han", 0xF900, 0xFAFF),
    ("kana", 0x3041, 0x30FF), ("hangul", 0xAC00, 0xD7AF),
)  # fmt: skip
_TABLE_SIZE = 0x10000  # past it (rare planes) a character counts as another script's letter

# Letters that only some of the region's languages use, counted in the same pass: each group
# is one count.
_MARK_GROUPS = (
    ("kazakh_only", "әұӘҰ"),  # Kazakh's own, beside the ones it shares below
    ("kazakh_shared", "іңөүһІҢӨҮҺ"),
    ("uzbek", "ўҳЎҲ"),
    ("tajik", "ҷӣӯҶӢӮ"),
    ("ukrainian", "їєґЇЄҐ"),
    ("turkic", "қғҚҒ"),  # Kazakh and Uzbek both
    # Russian among the Cyrillic languages the model knows: Bulgarian, Ukrainian, Serbian
    # and Macedonian have no ы or э; Belarusian, Kyrgyz, Mongolian, Tatar and Bashkir do,
    # but also letters caught earlier (ў, і, ө, ү, ә).
    ("russian", "ыэЫЭ"),
    # Without these a short Cyrillic text is not taken for Serbian or Macedonian, nor for
    # Bulgarian (whose ъ is a common vowel, and which has no ы or э): the model, on a title,
    # happily says Bulgarian for Russian ("Гвадалахара примет матчи чемпионата мира").
    ("south_slavic", "јљњћђѓќџѕЈЉЊЋЂЃЌЏЅ"),
    ("hard_sign", "ъЪ"),
    ("urdu", "ٹڈڑںےۓ"),
    ("turkish", "ıİğĞşŞ"),
    ("azerbaijani", "əƏ"),
    ("kazakh_latin", "ǵńúáóŪūÑñÄä"),
)
_MARK_NAMES = tuple(name for name, _ in _MARK_GROUPS)
_WORDS = re.compile(r"\w+")
# A word with one of those letters, counted from its first one: linear, where a leading \w*
# made the engine retry every word from every letter (~110 µs per 2,000 characters).
_MARKED_WORD = re.compile(r"[әұіңөүһӘҰІҢӨҮҺўҳЎҲҷӣӯҶӢӮ]\w*")
_UZBEK_LATIN = re.compile(r"[oOgG][ʻ‘’'`ʼ´](?=[^\W\d_])")
# English function words: no other Latin-script language writes them this often.
# Looked for in the lower-cased sample, from their first letters (a class the engine scans
# for quickly): a leading \b and IGNORECASE made it try every position, at twice the cost.
_ENGLISH_WORDS = re.compile(r"[tofaw](?<!\w[tofaw])(?:he|f|nd|ith|hat|rom)\b")

# Declared codes seen in feeds that are not ISO 639-1.
_HINT_ALIASES = {"kz": "kk", "oz": "uz", "cn": "zh", "ua": "uk", "tj": "tg", "kg": "ky"}


@cache
def _identifier() -> Any:
    """The model, loaded once (~0.5 s) on first use. Our own instance, so a restriction set
    here never changes py3langid's module-level identifier for anyone else."""
    return LanguageIdentifier.from_model_file(MODEL_FILE)


_CLASSES = len(_MARK_GROUPS) + 1  # mark group numbers, from 1; 0 none


@cache
def _table() -> np.ndarray:
    """Code point -> its letter class: script number (see _SCRIPTS, from 1; 0 not a letter)
    times _CLASSES plus its mark group number; one entry past the end for every code point
    beyond the table (another script's letter)."""
    table = np.zeros(_TABLE_SIZE + 1, dtype=np.uint8)
    other = _SCRIPTS.index("other") + 1
    for code in range(_TABLE_SIZE):
        if chr(code).isalpha():
            table[code] = other * _CLASSES
    for script, low, high in _SCRIPT_RANGES:
        number = _SCRIPTS.index(script) + 1
        for code in range(low, high + 1):
            if chr(code).isalpha():
                table[code] = number * _CLASSES
    for number, (_, letters) in enumerate(_MARK_GROUPS, start=1):
        for letter in letters:
            table[ord(letter)] += number
    table[_TABLE_SIZE] = other * _CLASSES
    return table


class _Letters:
    """How many letters of each script, and of each mark group, a sample has: one lookup of
    all its code points, one count of the classes, summed both ways."""

    def __init__(self, sample: str) -> None:
        codes = np.minimum(code_points(sample), _TABLE_SIZE)
        classes = np.bincount(_table().take(codes), minlength=(len(_SCRIPTS) + 1) * _CLASSES)
        classes = classes.reshape(len(_SCRIPTS) + 1, _CLASSES)
        # Counts as Python ints at once (`tolist`): indexing a numpy array per name cost more
        # than the counting.
        by_script = classes.sum(axis=1).tolist()
        self.script = dict(zip(_SCRIPTS, by_script[1:], strict=True))
        self.any = any(by_script[1:])
        by_mark = classes.sum(axis=0).tolist()
        self.mark = dict(zip(_MARK_NAMES, by_mark[1:], strict=True))


@cache
def _labels() -> frozenset[str]:
    labels: list[str] = _identifier().labels
    return frozenset(label for label in labels if len(label) == 2 and label != "zxx")


@lru_cache(maxsize=256)  # a few codes, one per source
def _normalise_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    code = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    return _HINT_ALIASES.get(code, code) or None


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _short(text: str) -> bool:
    """Fewer than _SHORT_WORDS words; most texts show more in their first few characters."""
    if len(_WORDS.findall(text[:_SHORT_PREFIX])) >= _SHORT_WORDS:
        return False
    return len(text) <= _SHORT_PREFIX or _count(_WORDS, text) < _SHORT_WORDS


def _words(text: str) -> int:
    """Words of `text`, counted between spaces: a third of the time of counting runs of word
    characters (17 µs on 1,000 characters), and the same count on prose; only the density of
    marks is judged by it."""
    return len(text.split())


def _rank(text: str, candidates: frozenset[str], hint: str | None) -> str:
    """The model's best candidate, with the region and hint priors added. A name or two
    ("Gwadar") says nothing the model can use, so there only the region (and the declared
    language) are candidates."""
    if _short(text):
        regional = candidates & (_REGION_SET | {hint})
        candidates = regional or candidates
    scores: list[tuple[str, float]] = _identifier().rank(text[:_MODEL_SAMPLE])
    best, best_score = UNDETERMINED, float("-inf")
    for label, score in scores:
        if label not in candidates:
            continue
        if label in REGION:
            score += _REGION_PRIOR
        if label == hint:
            score += _HINT_PRIOR
        if score > best_score:
            best, best_score = label, score
    return best


def _dense(marks: int, words: int, every: int) -> bool:
    """At least one mark every `every` words: a language's own letters, not a quoted name."""
    return marks > 0 and marks * every >= words


def _cyrillic(sample: str, letters: _Letters, hint: str | None) -> str:
    words = max(1, _words(sample))
    mark = letters.mark
    kazakh = mark["kazakh_only"] + mark["kazakh_shared"]
    uzbek = mark["uzbek"]
    tajik = mark["tajik"]
    # Ukrainian shares і with Kazakh, and ї є ґ with nothing in the region.
    if _dense(mark["ukrainian"], words, _MARKS_EVERY):
        return "uk"
    # Words, not letters, are weighed against the text: a Kazakh text has a word with one of
    # its letters every 1-3 words and an Uzbek one every 3-10 (measured on the test texts),
    # while a Russian report quoting "Мәжіліс" has one such word in twenty.
    if (kazakh or uzbek or tajik) and _dense(_count(_MARKED_WORD, sample), words, _MARKS_EVERY):
        if tajik > uzbek and tajik > kazakh:
            return "tg"
        # ў is everywhere in Uzbek ("ўз", "бўйича"), and Kazakh never uses it.
        if uzbek * 2 >= kazakh:
            return "uz"
        if mark["kazakh_only"] or mark["turkic"]:
            return "kk"
        return _rank(sample, _TURKIC_CYRILLIC | {"ky"}, hint)
    if _dense(mark["turkic"], words, _MARKS_EVERY):
        return _rank(sample, _TURKIC_CYRILLIC, hint)
    russian = mark["russian"]
    if words >= _PARAGRAPH_WORDS and _dense(russian, words, _RUSSIAN_EVERY):
        return "ru"  # a paragraph of Russian letters: the model would only agree, slowly
    candidates = _CYRILLIC_LANGUAGES & _labels()
    if not mark["south_slavic"]:
        candidates -= {"sr", "mk"}
    if russian or not mark["hard_sign"]:
        candidates -= {"bg"}
    return _rank(sample, candidates, hint)


def _latin(sample: str, letters: _Letters, hint: str | None) -> str:
    words = max(1, _words(sample))
    if _dense(_count(_UZBEK_LATIN, sample), words, _MARKS_EVERY):
        return "uz"
    mark = letters.mark
    if _dense(mark["azerbaijani"], words, _MARKS_EVERY):
        return "az"
    # ı ğ ş also spell names in English and Russian copy ("Erdoğan"), so only a dense run
    # of them settles Turkish without the model.
    if _dense(mark["turkish"], words, 4) and not mark["kazakh_latin"]:
        return "tr"
    english = _count(_ENGLISH_WORDS, sample.lower())
    if words >= _PARAGRAPH_WORDS and _dense(english, words, _ENGLISH_EVERY):
        return "en"  # a paragraph of English function words: the model would only agree
    candidates = _labels() - _CYRILLIC_LANGUAGES - _ARABIC_LANGUAGES - _OTHER_SCRIPTS
    return _rank(sample, candidates | {"uz"}, hint)


def _arabic(sample: str, letters: _Letters, hint: str | None) -> str:
    if letters.mark["urdu"]:
        return "ur"
    return _rank(sample, _ARABIC_LANGUAGES & _labels(), hint)


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of `text`'s language, or "und" when it has no letters.

    `hint` is the language the source declares (feed `<language>`, `xml:lang`, the source
    configuration), in any common form ("en-US", "kz", "uz_Latn"); it only breaks ties.
    """
    sample = text[:_SAMPLE]
    letters = _Letters(sample)
    if not letters.any:
        return UNDETERMINED
    declared = _normalise_hint(hint)
    script = letters.script
    han = script["han"]
    kana = script["kana"]
    if kana and kana * 4 >= han:
        return "ja"
    # A Han character carries about as much as a short word: weigh it against letters.
    scripts = {
        "han": han * 3,
        "hangul": script["hangul"] * 3,
        "cyrillic": script["cyrillic"],
        "latin": script["latin"],
        "arabic": script["arabic"],
    }
    best = max(scripts, key=lambda name: scripts[name])
    if scripts[best] == 0:
        return _rank(sample, _labels(), declared)
    if best == "han":
        return "zh"
    if best == "hangul":
        return "ko"
    if best == "cyrillic":
        return _cyrillic(sample, letters, declared)
    if best == "arabic":
        return _arabic(sample, letters, declared)
    return _latin(sample, letters, declared)
