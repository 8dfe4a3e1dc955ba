"""Matcher benchmark: 30,000 aliases, items of ~3,000 characters, one core.

    python bench/matcher_bench.py [--aliases 30000] [--items 4000] [--chars 3000] [--seed 1]
                                  [--repeats 3] [--profile 25]

Writes a watchlists directory to a temporary folder: the shipped entities and watchlists,
plus generated entities (place and person names in Latin, Cyrillic, Han and Arabic script,
with a Turkish and a Kazakh variant, up to `--aliases` aliases in all) and 24 generated
watchlists naming every one of them (any-of/all-of with scores, near, none-of). Then, in
this process:

  1. load + compile: `load_watchlists` and `Matcher.compile` (the first fold builds its
     translate table, so this is what a cold start costs);
  2. match: `Matcher.match` over generated items in the eight languages of the eval set
     (neutral news sentences with, per item, a few mentions of real entities and of
     generated names: typical news density), then over dense items (every sentence names
     Kazakhstan and Pakistan), on one core;
  3. language: `detect_language` on the same items (title + body, as the pipeline calls it).

Targets (issue 3): >= 5,000 items/s at 3,000 characters with 30,000 aliases (0.2 ms per item)
and load + compile < 2 s. Every rate is CPU time (`time.process_time`), the best of the
passes: other processes on the machine slow a pass down, never speed it up.

`--profile N` then runs one more pass at typical density under cProfile and prints the N
functions with the most time of their own (it does not change the figures above).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.models import Item  # noqa: E402
from monitor.text.language import detect_language  # noqa: E402
from monitor.watch.matcher import Matcher  # noqa: E402
from monitor.watch.watchlists import load_watchlists  # noqa: E402

# --- generated names ---------------------------------------------------------------------------

_ONSETS = [*"bdgklmnpqrstvzjy", "sh", "ch", "kh"]
_VOWELS = ["a", "e", "i", "o", "u", "a", "o"]
_CODAS = ["", "", "", "n", "r", "l", "k", "t", "m", "s"]
_LATIN_TO_CYRILLIC = {
    "sh": "ш", "ch": "ч", "kh": "х", "b": "б", "d": "д", "g": "г", "k": "к", "l": "л",
    "m": "м", "n": "н", "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т", "v": "в",
    "z": "з", "j": "ж", "y": "й", "a": "а", "e": "е", "i": "и", "o": "о", "u": "у",
}  # fmt: skip
# Characters of the standard Chinese transliteration of foreign names (~250, as a real
# gazetteer has): the automaton's root then has as many children as a real one.
_HAN = (
    "阿埃艾爱安昂奥巴拜班邦包保鲍贝本比彼毕边宾波伯博布查楚茨达大戴丹道德登迪蒂丁东杜敦多厄恩"
    "尔法凡范菲费芬丰冯佛夫福富盖甘冈高戈格根古瓜圭哈海汉豪赫黑亨胡华霍基吉加贾杰金卡凯坎康考"
    "柯科克肯库夸奎拉莱兰朗劳勒雷里利连林琳隆卢鲁伦罗洛马迈曼芒毛梅门蒙米明莫默穆纳奈南瑙内尼"
    "努诺欧帕派潘庞佩彭皮平珀普齐奇恰乔切钦丘萨赛桑瑟森沙尚舍圣施什斯松苏索塔泰坦汤唐陶特提廷"
    "通图托瓦万旺威韦维温沃乌伍西希锡夏谢辛休亚扬耶伊因尤于扎泽曾詹朱卓兹宗"
)
_ARABIC = "ابتپٹثجچحخدڈذرڑزژسشصطعغفقکگلمنوہی"
_PLACE_WORDS = {"en": "Lake", "ru": "озеро", "zh": "湖", "ur": "جھیل"}


def _latin_name(rng: random.Random, syllables: int) -> str:
    parts = [
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    ]
    return "".join(parts).capitalize()


def _cyrillic(latin: str) -> str:
    out, i, low = [], 0, latin.lower()
    while i < len(low):
        pair = low[i : i + 2]
        if pair in _LATIN_TO_CYRILLIC:
            out.append(_LATIN_TO_CYRILLIC[pair])
            i += 2
        else:
            out.append(_LATIN_TO_CYRILLIC.get(low[i], low[i]))
            i += 1
    return "".join(out).capitalize()


def _entity_aliases(rng: random.Random) -> dict[str, list[str]]:
    """One generated place or person, written in six ways (as the real entity file does)."""
    person = rng.random() < 0.4
    first = _latin_name(rng, rng.randint(2, 4))
    latin = f"{_latin_name(rng, 2)} {first}" if person else first
    han = "".join(rng.choice(_HAN) for _ in range(rng.randint(3, 5)))
    arabic = "".join(rng.choice(_ARABIC) for _ in range(rng.randint(4, 7)))
    if person:
        han = f"{han}·{''.join(rng.choice(_HAN) for _ in range(3))}"
        arabic = f"{arabic} {''.join(rng.choice(_ARABIC) for _ in range(4))}"
    cyrillic = " ".join(_cyrillic(word) for word in latin.split())
    return {
        "en": [latin],
        "tr": [latin.replace("sh", "ş").replace("ch", "ç")],
        "ru": [cyrillic],
        "kk": [cyrillic.replace("к", "қ", 1) if "к" in cyrillic else cyrillic + "ы"],
        "zh": [han],
        "ur": [arabic],
    }


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_watchlists(
    directory: Path, aliases: int, rng: random.Random
) -> list[dict[str, list[str]]]:
    """The shipped watchlists plus generated ones, `aliases` aliases in all. Returns the
    generated entities' aliases (by language) so items can mention them."""
    shipped = ROOT / "watchlists"
    directory.mkdir(parents=True)
    for path in shipped.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    real = load_watchlists(directory)
    count = sum(len(entity.aliases) for entity in real.entities.values())
    generated: list[dict[str, list[str]]] = []
    lines = []
    while count < aliases:
        names = _entity_aliases(rng)
        if rng.random() < 0.1:  # a few lakes and provinces with a descriptive word
            names = {
                lang: [f"{_PLACE_WORDS.get(lang, 'Lake')} {forms[0]}", *forms]
                for lang, forms in names.items()
            }
        names = {lang: forms[: max(1, aliases - count)] for lang, forms in names.items()}
        generated.append(names)
        lines.append(f"  gen-{len(generated)}:\n    aliases:")
        for lang, forms in names.items():
            lines.append(f"      {lang}: [{', '.join(_yaml_string(f) for f in forms)}]")
            count += len(forms)
            if count >= aliases:
                break
    with (directory / "entities.yaml").open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines) + "\n")
    # Every generated entity is named by one of 24 watchlists (about 190 each), so the
    # automata really hold every alias: a matcher leaves out entities no rule names.
    ids = [f"gen-{i + 1}" for i in range(len(generated))]
    rng.shuffle(ids)
    for number in range(24):
        chunk = ids[number::24]
        third = len(chunk) // 3
        a, b, c = chunk[:third], chunk[third : 2 * third], chunk[2 * third :]
        kind = number % 3
        if kind == 0:
            rule = f"  all:\n    - any: [{', '.join(a)}]\n      min_score: 2\n"
            rule += f"    - any: [{', '.join(b + c)}]\n      min_score: 2\n"
        elif kind == 1:
            rule = f"  any:\n    - near: [{a[0]}, {b[0]}]\n      within: 8\n"
            rule += f"    - all:\n        - any: [{', '.join(a[1:])}]\n"
            rule += f"        - any: [{', '.join(b[1:])}]\n          at_least: 2\n"
            rule += f"        - none: [{', '.join(c)}]\n"
        else:
            rule = f"  all:\n    - any: [{', '.join(a + b)}]\n      min_score: 2\n"
            rule += "    - any: [kazakhstan, pakistan, astana, islamabad]\n"
            rule += f"    - none: [{', '.join(c)}]\n"
        (directory / f"gen-{number:02d}.yaml").write_text(
            f"name: gen-{number:02d}\ntitle: Generated {number}\nrule:\n{rule}", encoding="utf-8"
        )
    return generated


# --- generated items ---------------------------------------------------------------------------

# Neutral wire-report sentences: no watchlist entity, so every hit is a planted mention.
NEUTRAL = {
    "en": [
        "The ministry published its quarterly statistics on Monday.",
        "Officials answered questions from reporters about prices, wages and the harvest.",
        "The central bank kept its base rate unchanged, citing slowing inflation.",
        "Parliament approved amendments to the tax code after a long debate.",
        "The company said it would invest in new equipment over the next three years.",
        "Weather forecasters expect rain and strong wind in the northern regions.",
        "Exporters of grain and metals reported higher volumes than a year ago.",
        "The delegation also visited a technology park and a university campus.",
    ],
    "ru": [
        "Министерство опубликовало квартальную статистику в понедельник.",
        "Чиновники ответили на вопросы журналистов о ценах, зарплатах и урожае.",
        "Национальный банк сохранил базовую ставку, сославшись на замедление инфляции.",
        "Парламент одобрил поправки в налоговый кодекс после долгого обсуждения.",
        "Компания сообщила, что вложит средства в новое оборудование в ближайшие три года.",
        "Синоптики ожидают дождь и сильный ветер в северных регионах.",
        "Экспортеры зерна и металлов сообщили о росте объемов по сравнению с прошлым годом.",
        "Делегация также посетила технопарк и кампус университета.",
    ],
    "kk": [
        "Министрлік дүйсенбі күні тоқсандық статистиканы жариялады.",
        "Шенеуніктер журналистердің бағалар, жалақы және өнім туралы сұрақтарына жауап берді.",
        "Ұлттық банк инфляцияның баяулауын алға тартып, базалық мөлшерлемені өзгертпеді.",
        "Парламент ұзақ талқылаудан кейін салық кодексіне түзетулерді мақұлдады.",
        "Компания алдағы үш жылда жаңа жабдыққа инвестиция салатынын айтты.",
        "Синоптиктер солтүстік өңірлерде жаңбыр мен қатты жел болатынын болжады.",
        "Астық пен металл экспорттаушылары көлемнің өткен жылмен салыстырғанда өскенін хабарлады.",
        "Делегация сондай-ақ технопарк пен университет кампусына барды.",
    ],
    "uz-Cyrl": [
        "Вазирлик душанба куни чораклик статистикани эълон қилди.",
        "Мансабдорлар журналистларнинг нархлар, иш ҳақи ва ҳосил ҳақидаги саволларига жавоб берди.",
        "Марказий банк инфляция секинлашаётганини айтиб, асосий ставкани ўзгартирмади.",
        "Парламент узоқ муҳокамадан сўнг солиқ кодексига ўзгартишларни маъқуллади.",
        "Компания келгуси уч йилда янги ускуналарга сармоя киритишини маълум қилди.",
        "Синоптиклар шимолий ҳудудларда ёмғир ва кучли шамол кутмоқда.",
        "Делегация шунингдек технопарк ва университет кампусига ташриф буюрди.",
    ],
    "uz-Latn": [
        "Vazirlik dushanba kuni choraklik statistikani eʼlon qildi.",
        "Mansabdorlar jurnalistlarning narx, ish haqi va hosil haqidagi savollariga javob berdi.",
        "Markaziy bank inflyatsiya sekinlashayotganini aytib, asosiy stavkani oʻzgartirmadi.",
        "Parlament uzoq muhokamadan soʻng soliq kodeksiga oʻzgartishlarni maʼqulladi.",
        "Kompaniya kelgusi uch yilda yangi uskunalarga sarmoya kiritishini maʼlum qildi.",
        "Sinoptiklar shimoliy hududlarda yomgʻir va kuchli shamol kutmoqda.",
        "Delegatsiya shuningdek texnopark va universitet kampusiga tashrif buyurdi.",
    ],
    "tr": [
        "Bakanlık pazartesi günü çeyrek dönem istatistiklerini yayımladı.",
        "Yetkililer gazetecilerin fiyatlar, ücretler ve hasat hakkındaki sorularını yanıtladı.",
        "Merkez bankası enflasyonun yavaşladığını belirterek politika faizini sabit tuttu.",
        "Meclis uzun bir tartışmanın ardından vergi kanunundaki değişiklikleri onayladı.",
        "Şirket önümüzdeki üç yıl içinde yeni ekipmana yatırım yapacağını açıkladı.",
        "Meteoroloji kuzey bölgelerde yağmur ve kuvvetli rüzgar bekliyor.",
        "Heyet ayrıca bir teknoloji parkını ve üniversite kampüsünü ziyaret etti.",
    ],
    "zh": [
        "该部周一公布了季度统计数据。",
        "官员们回答了记者关于物价、工资和收成的问题。",
        "央行以通胀放缓为由维持基准利率不变。",
        "议会经过长时间辩论后批准了税法修正案。",
        "该公司表示将在未来三年内投资新设备。",
        "气象部门预计北部地区将有降雨和大风。",
        "代表团还参观了一个科技园和一所大学校园。",
    ],
    "ur": [
        "وزارت نے پیر کو سہ ماہی اعداد و شمار جاری کیے۔",
        "حکام نے قیمتوں، اجرتوں اور فصل کے بارے میں صحافیوں کے سوالات کے جواب دیے۔",
        "مرکزی بینک نے مہنگائی میں کمی کا حوالہ دیتے ہوئے شرح سود برقرار رکھی۔",
        "پارلیمنٹ نے طویل بحث کے بعد ٹیکس قوانین میں ترامیم کی منظوری دی۔",
        "کمپنی نے کہا کہ وہ اگلے تین سال میں نئے آلات میں سرمایہ کاری کرے گی۔",
        "محکمہ موسمیات نے شمالی علاقوں میں بارش اور تیز ہوا کی پیش گوئی کی ہے۔",
        "وفد نے ایک ٹیکنالوجی پارک اور یونیورسٹی کیمپس کا بھی دورہ کیا۔",
    ],
}

# Real mentions, as the sources inflect them.
MENTIONS = {
    "en": ["Kazakhstan", "Pakistan's", "Islamabad", "Tokayev", "Gwadar port", "Astana"],
    "ru": ["Казахстана", "с Пакистаном", "в Исламабаде", "Токаев", "порт Гвадар", "в Астане"],
    "kk": ["Қазақстанның", "Пәкістанмен", "Исламабадта", "Тоқаев", "Гвадар порты", "Астанада"],
    "uz-Cyrl": ["Қозоғистон", "Покистонга", "Исломободда", "Тоқаев", "Гвадар порти", "Астанада"],
    "uz-Latn": ["Qozogʻiston", "Pokistonga", "Islomobodda", "Toqayev", "Gvadar porti", "Astanada"],
    "tr": ["Kazakistan", "Pakistan'ın", "İslamabad'da", "Tokayev", "Gwadar Limanı", "Astana'da"],
    "zh": ["哈萨克斯坦", "巴基斯坦", "伊斯兰堡", "托卡耶夫", "瓜达尔港", "阿斯塔纳"],
    "ur": ["قازقستان", "پاکستان", "اسلام آباد", "توکایف", "گوادر", "آستانہ"],
}
DENSE = {
    "en": "Kazakhstan and Pakistan discussed trade and transport links in Islamabad.",
    "ru": "Казахстан и Пакистан обсудили развитие торговли и транспорта.",
    "kk": "Қазақстан мен Пәкістан сауда және көлік байланыстарын талқылады.",
    "uz-Cyrl": "Қозоғистон ва Покистон савдо ва транспорт алоқаларини муҳокама қилди.",
    "uz-Latn": "Qozogʻiston va Pokiston savdo va transport aloqalarini muhokama qildi.",
    "tr": "Kazakistan ve Pakistan ticaret ve ulaştırma bağlantılarını görüştü.",
    "zh": "哈萨克斯坦和巴基斯坦讨论了贸易与交通合作。",
    "ur": "قازقستان اور پاکستان نے تجارت اور نقل و حمل کے روابط پر بات چیت کی۔",
}
_SCRIPT_OF = {"en": "en", "tr": "tr", "uz-Latn": "en", "ru": "ru", "kk": "kk", "uz-Cyrl": "ru"}


def make_items(
    rng: random.Random,
    count: int,
    chars: int,
    generated: Sequence[dict[str, list[str]]],
    dense: bool = False,
) -> list[Item]:
    """Items of about `chars` characters, cycling through the eight languages. Typical
    density: 3-5 mentions of real entities and 2-6 generated names per item, in random
    sentences, and a real name in half the titles. Dense: every sentence names Kazakhstan
    and Pakistan."""
    languages = list(NEUTRAL)
    items = []
    for number in range(count):
        language = languages[number % len(languages)]
        name_language = _SCRIPT_OF.get(language, language)
        pool = NEUTRAL[language]
        joiner = "" if language == "zh" else " "
        sentences: list[str] = []
        total = 0
        while total < chars:
            sentences.append(DENSE[language] if dense else rng.choice(pool))
            total += len(sentences[-1]) + len(joiner)
        if not dense:
            names = [rng.choice(MENTIONS[language]) for _ in range(rng.randint(3, 5))]
            names += [
                rng.choice(rng.choice(generated)[name_language]) for _ in range(rng.randint(2, 6))
            ]
            for name in names:
                at = rng.randrange(len(sentences))
                sentences[at] = f"{name}{joiner}{sentences[at]}"
        title = rng.choice(pool).rstrip(".。۔")
        if rng.random() < 0.5:
            title = f"{rng.choice(MENTIONS[language])}{joiner}{title}"
        items.append(
            Item(
                id=f"bench-{number}",
                url=None,
                source="bench",
                title=title,
                text=joiner.join(sentences),
            )
        )
    return items


def timed(label: str, items: Sequence[Item], run: Callable[[Item], object], repeats: int) -> float:
    """CPU time of one pass over `items`: the best of `repeats` passes, as timeit reports,
    since other processes on the machine only ever slow a pass down. The worst is shown too."""
    for it in items[:50]:  # warm up: first-use tables and caches
        run(it)
    passes = []
    for _ in range(repeats):
        started = time.process_time()
        for it in items:
            run(it)
        passes.append(time.process_time() - started)
    best, worst = min(passes), max(passes)
    rate = len(items) / best
    print(
        f"{label:<34} {rate:>9,.0f} items/s  ({1000 * best / len(items):.3f} ms/item; "
        f"slowest of {repeats} passes {len(items) / worst:,.0f}/s)"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--aliases", type=int, default=30_000)
    parser.add_argument("--items", type=int, default=4_000)
    parser.add_argument("--chars", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="passes over the items")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the N costliest functions"
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    try:
        generated = write_watchlists(work / "watchlists", args.aliases, rng)
        started = time.perf_counter()
        watchlists = load_watchlists(work / "watchlists")
        loaded = time.perf_counter()
        matcher = Matcher.compile(watchlists)
        compiled = time.perf_counter()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    aliases = sum(len(entity.aliases) for entity in watchlists.entities.values())
    items = make_items(rng, args.items, args.chars, generated)
    dense = make_items(rng, max(1, args.items // 4), args.chars, generated, dense=True)
    matched = sum(1 for it in items if matcher.match(it))
    mean_chars = sum(len(it.title) + len(it.text) for it in items) / len(items)

    print(f"aliases:                           {aliases:,} ({len(watchlists.entities):,} entities)")
    print(f"watchlists:                        {len(watchlists)}")
    print(
        f"load + compile:                    {compiled - started:.2f} s "
        f"(load {loaded - started:.2f} s, compile {compiled - loaded:.2f} s; target < 2 s)"
    )
    print(f"items:                             {len(items):,}, mean {mean_chars:,.0f} characters")
    print(f"items matching a watchlist:        {matched:,}")
    timed("match, typical density:", items, matcher.match, args.repeats)
    timed("match, dense (every sentence):", dense, matcher.match, args.repeats)
    timed(
        "detect_language (title + body):",
        items,
        lambda it: detect_language(f"{it.title}\n{it.text[:3000]}"),
        args.repeats,
    )
    print("target: >= 5,000 items/s (0.2 ms/item) for match at typical density")
    if args.profile:
        profile(matcher.match, items, args.profile)


def profile(run: Callable[[Item], object], items: Sequence[Item], top: int) -> None:
    """One pass under cProfile (which slows it down several times): where the time goes."""
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [run(it) for it in items])
    print(f"\nprofile of one pass at typical density, {top} costliest functions (own time):")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main()
