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
from functools import cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

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

_CYRILLIC_LANGUAGES = frozenset(
    {"ru", "kk", "uz", "ky", "tg", "tt", "ba", "mn", "uk", "be", "bg", "mk", "sr"}
)
_TURKIC_CYRILLIC = frozenset({"kk", "uz", "ky", "tg", "tt", "ba"})
_ARABIC_LANGUAGES = frozenset({"ur", "fa", "ar", "ps", "ug", "ku", "sd"})
_OTHER_SCRIPTS = frozenset(
    {"el", "he", "hi", "bn", "ta", "te", "ml", "kn", "gu", "pa", "or", "as", "mr", "ne", "si",
     "th", "lo", "km", "my", "ka", "hy", "am", "ja", "ko", "dz", "sa", "zh"}
)  # fmt: skip

# Script of each letter as one character, so one `translate` and a few `count`s replace a
# regex pass per script (those passes were 60 % of the time on an English item).
_SCRIPT_RANGES = (
    ("L", 0x0041, 0x005A), ("L", 0x0061, 0x007A), ("L", 0x00C0, 0x024F),
    ("L", 0x1E00, 0x1EFF), ("C", 0x0400, 0x052F), ("A", 0x0600, 0x06FF),
    ("A", 0x0750, 0x077F), ("A", 0xFB50, 0xFDFF), ("A", 0xFE70, 0xFEFF),
    ("H", 0x3400, 0x4DBF), ("H", 0x4E00, 0x9FFF), ("H", 0xF900, 0xFAFF),
    ("K", 0x3041, 0x30FF), ("G", 0xAC00, 0xD7AF),
)  # fmt: skip
_SCRIPT_TABLE_SIZE = 0x10000  # past it (rare planes) a character is not counted

_KAZAKH_LETTERS = re.compile(r"[әұіңөүһӘҰІҢӨҮҺ]")
_KAZAKH_ONLY = re.compile(r"[әұӘҰ]")
_UZBEK_LETTERS = re.compile(r"[ўҳЎҲ]")
_SHARED_TURKIC = re.compile(r"[қғҚҒ]")
_TAJIK_LETTERS = re.compile(r"[ҷӣӯҶӢӮ]")
_UKRAINIAN_LETTERS = re.compile(r"[їєґЇЄҐ]")
_URDU_LETTERS = re.compile(r"[ٹڈڑںےۓ]")
_UZBEK_LATIN = re.compile(r"[oOgG][ʻ‘’'`ʼ´](?=[^\W\d_])")
_TURKISH_LATIN = re.compile(r"[ıİğĞşŞ]")
_AZERBAIJANI_LATIN = re.compile(r"[əƏ]")
_KAZAKH_LATIN = re.compile(r"[ǵńúáóŪūÑñÄä]")
_WORDS = re.compile(r"\w+")
# A word with one of those letters, counted from its first one: linear, where a leading \w*
# made the engine retry every word from every letter (~110 µs per 2,000 characters).
_MARKED_WORD = re.compile(r"[әұіңөүһӘҰІҢӨҮҺўҳЎҲҷӣӯҶӢӮ]\w*")
# Letters of Russian among the Cyrillic languages the model knows: Bulgarian, Ukrainian,
# Serbian and Macedonian have no ы or э; Belarusian, Kyrgyz, Mongolian, Tatar and Bashkir
# do, but also letters caught earlier (ў, і, ө, ү, ә).
_RUSSIAN_LETTERS = re.compile(r"[ыэЫЭ]")
# Letters without which a short Cyrillic text is not taken for Serbian or Macedonian, nor for
# Bulgarian (whose ъ is a common vowel, and which has no ы or э): the model, on a title,
# happily says Bulgarian for Russian ("Гвадалахара примет матчи чемпионата мира").
_SOUTH_SLAVIC_LETTERS = re.compile(r"[јљњћђѓќџѕЈЉЊЋЂЃЌЏЅ]")
_HARD_SIGN = re.compile(r"[ъЪ]")
# English function words: no other Latin-script language writes them this often.
_ENGLISH_WORDS = re.compile(r"\b(?:the|of|and|with|that|from)\b", re.IGNORECASE)

# Declared codes seen in feeds that are not ISO 639-1.
_HINT_ALIASES = {"kz": "kk", "oz": "uz", "cn": "zh", "ua": "uk", "tj": "tg", "kg": "ky"}


@cache
def _identifier() -> Any:
    """The model, loaded once (~0.5 s) on first use. Our own instance, so a restriction set
    here never changes py3langid's module-level identifier for anyone else."""
    return LanguageIdentifier.from_model_file(MODEL_FILE)


@cache
def _script_table() -> list[str]:
    table = ["o" if chr(code).isalpha() else "" for code in range(_SCRIPT_TABLE_SIZE)]
    for script, low, high in _SCRIPT_RANGES:
        for code in range(low, high + 1):
            if chr(code).isalpha():
                table[code] = script
    return table


@cache
def _labels() -> frozenset[str]:
    labels: list[str] = _identifier().labels
    return frozenset(label for label in labels if len(label) == 2 and label != "zxx")


def _normalise_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    code = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    return _HINT_ALIASES.get(code, code) or None


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _rank(text: str, candidates: frozenset[str], hint: str | None) -> str:
    """The model's best candidate, with the region and hint priors added. A name or two
    ("Gwadar") says nothing the model can use, so there only the region (and the declared
    language) are candidates."""
    if _count(_WORDS, text) < _SHORT_WORDS:
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


def _cyrillic(sample: str, hint: str | None) -> str:
    words = max(1, _count(_WORDS, sample))
    kazakh = _count(_KAZAKH_LETTERS, sample)
    uzbek = _count(_UZBEK_LETTERS, sample)
    tajik = _count(_TAJIK_LETTERS, sample)
    # Ukrainian shares і with Kazakh, and ї є ґ with nothing in the region.
    if _dense(_count(_UKRAINIAN_LETTERS, sample), words, _MARKS_EVERY):
        return "uk"
    # Words, not letters, are weighed against the text: a Kazakh text has a word with one of
    # its letters every 1-3 words and an Uzbek one every 3-10 (measured on the test texts),
    # while a Russian report quoting "Мәжіліс" has one such word in twenty.
    if _dense(_count(_MARKED_WORD, sample), words, _MARKS_EVERY):
        if tajik > uzbek and tajik > kazakh:
            return "tg"
        # ў is everywhere in Uzbek ("ўз", "бўйича"), and Kazakh never uses it.
        if uzbek * 2 >= kazakh:
            return "uz"
        if _count(_KAZAKH_ONLY, sample) or _count(_SHARED_TURKIC, sample):
            return "kk"
        return _rank(sample, _TURKIC_CYRILLIC | {"ky"}, hint)
    if _dense(_count(_SHARED_TURKIC, sample), words, _MARKS_EVERY):
        return _rank(sample, _TURKIC_CYRILLIC, hint)
    russian = _count(_RUSSIAN_LETTERS, sample)
    if words >= _PARAGRAPH_WORDS and _dense(russian, words, _RUSSIAN_EVERY):
        return "ru"  # a paragraph of Russian letters: the model would only agree, slowly
    candidates = _CYRILLIC_LANGUAGES & _labels()
    if not _count(_SOUTH_SLAVIC_LETTERS, sample):
        candidates -= {"sr", "mk"}
    if russian or not _count(_HARD_SIGN, sample):
        candidates -= {"bg"}
    return _rank(sample, candidates, hint)


def _latin(sample: str, hint: str | None) -> str:
    words = max(1, _count(_WORDS, sample))
    if _dense(_count(_UZBEK_LATIN, sample), words, _MARKS_EVERY):
        return "uz"
    if _dense(_count(_AZERBAIJANI_LATIN, sample), words, _MARKS_EVERY):
        return "az"
    # ı ğ ş also spell names in English and Russian copy ("Erdoğan"), so only a dense run
    # of them settles Turkish without the model.
    turkish = _count(_TURKISH_LATIN, sample)
    if _dense(turkish, words, 4) and not _count(_KAZAKH_LATIN, sample):
        return "tr"
    english = _count(_ENGLISH_WORDS, sample)
    if words >= _PARAGRAPH_WORDS and _dense(english, words, _ENGLISH_EVERY):
        return "en"  # a paragraph of English function words: the model would only agree
    candidates = _labels() - _CYRILLIC_LANGUAGES - _ARABIC_LANGUAGES - _OTHER_SCRIPTS
    return _rank(sample, candidates | {"uz"}, hint)


def _arabic(sample: str, hint: str | None) -> str:
    if _count(_URDU_LETTERS, sample):
        return "ur"
    return _rank(sample, _ARABIC_LANGUAGES & _labels(), hint)


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of `text`'s language, or "und" when it has no letters.

    `hint` is the language the source declares (feed `<language>`, `xml:lang`, the source
    configuration), in any common form ("en-US", "kz", "uz_Latn"); it only breaks ties.
    """
    sample = text[:_SAMPLE]
    classes = sample.translate(_script_table())
    if not classes:
        return UNDETERMINED
    declared = _normalise_hint(hint)
    han = classes.count("H")
    kana = classes.count("K")
    if kana and kana * 4 >= han:
        return "ja"
    # A Han character carries about as much as a short word: weigh it against letters.
    scripts = {
        "han": han * 3,
        "hangul": classes.count("G") * 3,
        "cyrillic": classes.count("C"),
        "latin": classes.count("L"),
        "arabic": classes.count("A"),
    }
    script = max(scripts, key=lambda name: scripts[name])
    if scripts[script] == 0:
        return _rank(sample, _labels(), declared)
    if script == "han":
        return "zh"
    if script == "hangul":
        return "ko"
    if script == "cyrillic":
        return _cyrillic(sample, declared)
    if script == "arabic":
        return _arabic(sample, declared)
    return _latin(sample, declared)
