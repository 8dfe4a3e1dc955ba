"""Matching items against the shipped watchlists and small ones written here."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from monitor.models import Hit, Item
from monitor.watch.matcher import LEAD_CHARS, Explanation, Matcher, fields
from monitor.watch.watchlists import load_watchlists
from tests.rules import random_rule

WATCHLISTS = Path(__file__).resolve().parent.parent / "watchlists"

# seed number -> watchlists it must match (and so must not match the others)
SEED_MATCHES = {
    "000": {"kz-pk", "tap-railway", "gwadar"},  # zh
    "001": {"kz-pk", "tap-railway", "gwadar"},  # kk
    "002": {"kz-pk"},  # uz Cyrillic: no railway, no Gwadar
    "003": {"kz-pk", "tap-railway"},  # tr: no Gwadar
    "004": {"kz-pk", "tap-railway", "gwadar"},  # en
}

FILLER = (
    "The ministry published its quarterly statistics on Monday, and officials answered "
    "questions from reporters about prices, wages and the harvest outlook for the autumn. "
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(load_watchlists(WATCHLISTS))


def item(text: str = "", title: str = "", summary: str = "") -> Item:
    return Item(id="test", url=None, source="test", title=title, summary=summary, text=text)


def matched(matcher: Matcher, it: Item) -> set[str]:
    return {m.watchlist for m in matcher.match(it)}


def hits_of(matcher: Matcher, text: str, entity: str) -> list[Hit]:
    return [hit for hit in matcher.scan(text, "body") if hit.entity == entity]


def surfaces(matcher: Matcher, text: str, entity: str) -> list[str]:
    return [hit.surface for hit in hits_of(matcher, text, entity)]


# --- the seeds -------------------------------------------------------------------------------


def test_seeds(matcher: Matcher, seeds_dir: Path) -> None:
    seen = set()
    for path in sorted(seeds_dir.glob("*.txt")):
        number = path.name[:3]
        raw = path.read_text(encoding="utf-8")
        assert raw.startswith(" date "), path
        body = raw.split(" ", 3)[3]  # " date YYYY-MM-DD <text>"
        result = matched(matcher, item(body))
        assert result == SEED_MATCHES[number], (number, result)
        seen.add(number)
    assert seen == set(SEED_MATCHES)


def test_seed_hits_point_into_the_text(matcher: Matcher, seeds_dir: Path) -> None:
    for path in sorted(seeds_dir.glob("*.txt")):
        it = item(path.read_text(encoding="utf-8").split(" ", 3)[3])
        texts = fields(it)
        for match in matcher.match(it):
            assert match.hits, match
            for hit in match.hits:
                assert texts[hit.field][hit.start : hit.end] == hit.surface


# --- inflection, scripts, folding ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entity", "surface"),
    [
        ("Президент Пәкістанның премьер-министрімен кездесті.", "pakistan", "Пәкістанның"),
        ("Делегация Покистонга ташриф буюрди.", "pakistan", "Покистонга"),
        ("Tokayev, Pakistan'ın başkentinde.", "pakistan", "Pakistan'ın"),
        ("Tokayev Pakistan’a gitti.", "pakistan", "Pakistan’a"),
        ("Pakistanda yağmur.", "pakistan", "Pakistanda"),
        ("Сотрудничество с Пакистаном расширяется.", "pakistan", "Пакистаном"),
        ("The Pakistani delegation arrived.", "pakistan", "Pakistani"),
        ("Қазақстанның Пәкістандағы елшісі", "pakistan", "Пәкістандағы"),
        ("Qozog‘istonning Janubiy Osiyodagi hamkori", "kazakhstan", "Qozog‘istonning"),
        ("Qozogʻistonga tashrif", "kazakhstan", "Qozogʻistonga"),
        ("Президент Исламабадқа келді", "islamabad", "Исламабадқа"),
        ("ISLAMABAD. Kazinform – talks", "islamabad", "ISLAMABAD"),
        ("Tokayev İSLAMABAD'DA", "islamabad", "İSLAMABAD'DA"),
        ("Başkent İslamabad'ta törenle karşılandı", "islamabad", "İslamabad'ta"),
        ("ASTANА. Кazinform – Мемлекет басшысы", "astana", "ASTANА"),
        ("Переговоры прошли в Астане.", "astana", "Астане"),
        ("Президент Шахбаз Шарифпен кездесті", "shehbaz-sharif", "Шахбаз Шарифпен"),
        ("встреча с Шахбазом Шарифом", "shehbaz-sharif", "Шахбазом Шарифом"),
        ("夏巴兹 · 谢里夫总理", "shehbaz-sharif", "夏巴兹 · 谢里夫"),
        ("порт Гвадар и Карачи", "gwadar", "Гвадар"),
        ("瓜德尔港口", "gwadar", "瓜德尔"),
        ("پاکستانی وفد نے کہا", "pakistan", "پاکستانی"),
        ("Kassym-Jomart Tokayev’s visit", "tokayev", "Tokayev’s"),
        ("Termez – Mazar-i-Sharif – Kabul – Peshawar", "trans-afghan-railway", None),
    ],
)
def test_inflected_and_folded_forms(
    matcher: Matcher, text: str, entity: str, surface: str | None
) -> None:
    found = surfaces(matcher, text, entity)
    assert found == [surface or text], found


def test_chinese_without_spaces(matcher: Matcher) -> None:
    text = "哈萨克斯坦与巴基斯坦签署联合宣言，哈巴双方将共建瓜达尔港物流通道。"
    assert surfaces(matcher, text, "kazakhstan") == ["哈萨克斯坦"]
    assert surfaces(matcher, text, "pakistan") == ["巴基斯坦"]
    assert surfaces(matcher, text, "gwadar") == ["瓜达尔"]
    it = item(text * 2)
    assert {"kz-pk", "gwadar"} <= matched(matcher, it)


def test_chinese_title_only_matches(matcher: Matcher) -> None:
    it = item(title="托卡耶夫总统对巴基斯坦进行国事访问", text="双方签署了多项文件。")
    result = matcher.match(it)
    assert [m.watchlist for m in result] == ["kz-pk"]
    assert {h.field for h in result[0].hits} == {"title"}


def test_the_same_place_is_one_hit(matcher: Matcher) -> None:
    # "Kazakh" lies inside "Kazakhstan"; "Prime Minister Shehbaz" overlaps "Shehbaz Sharif".
    assert surfaces(matcher, "Kazakhstan’s exports", "kazakhstan") == ["Kazakhstan’s"]
    text = "Prime Minister Shehbaz Sharif said"
    assert surfaces(matcher, text, "shehbaz-sharif") == ["Prime Minister Shehbaz Sharif"]


# --- what must not match ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("В парке открыли новый фонтан.", "kazakhstan"),  # РК inside парк
        ("Программа РКИ для иностранцев", "kazakhstan"),  # РК is a whole word only
        ("The Antipakistanist pamphlet", "pakistan"),  # not at a word start
        ("Superpakistan Ltd", "pakistan"),
        ("Tap water is safe to drink", "tap-pipeline"),  # TAP is case-sensitive
        ("the TAPI pipeline", "tap-pipeline"),  # TAP is a whole word
        ("They installed a new railing", "railway"),  # short stem "rail": not any suffix
        ("Bayram ostonasida tabriklar", "astana"),  # ostona (threshold) is not Ostona
        ("Pakistán", "kazakhstan"),
    ],
)
def test_no_match_inside_unrelated_words(matcher: Matcher, text: str, entity: str) -> None:
    assert hits_of(matcher, text, entity) == []


@pytest.mark.parametrize(
    ("text", "entity", "surface"),
    [
        ("ҚР мен Пәкістан", "kazakhstan", "ҚР"),
        ("Президент РК встретился", "kazakhstan", "РК"),
        ("TAP'ın kapasitesi", "tap-pipeline", "TAP'ın"),
        ("new rails were laid", "railway", "rails"),
        ("Ostonada uchrashuv", "astana", "Ostonada"),
    ],
)
def test_short_and_exact_aliases_where_they_belong(
    matcher: Matcher, text: str, entity: str, surface: str
) -> None:
    assert surfaces(matcher, text, entity) == [surface]


def test_trans_adriatic_pipeline_is_not_the_railway(matcher: Matcher) -> None:
    it = item(
        title="TAP gas flows to Italy reach record",
        text="The Trans Adriatic Pipeline (TAP) delivered record volumes of Azerbaijani gas to "
        "Italy, Greece and Albania. TAP's shareholders approved an expansion. " + FILLER,
    )
    assert "tap-railway" not in matched(matcher, it)
    assert [e.matched for e in matcher.explain(it) if e.watchlist == "tap-railway"] == [False]


def test_tapi_gas_pipeline_is_not_the_railway(matcher: Matcher) -> None:
    it = item(
        title="Work on TAPI gas pipeline resumes in Herat",
        text="Turkmenistan resumed work on the Turkmenistan–Afghanistan–Pakistan–India (TAPI) "
        "gas pipeline, once known as the Trans-Afghan pipeline. The section from Serhetabat "
        "to Herat will carry gas towards Kandahar, Quetta and Multan, officials in Kabul "
        "and Islamabad said. Pakistan and Afghanistan called the pipeline a priority. " + FILLER,
    )
    assert "tap-railway" not in matched(matcher, it)


def test_tapi_story_naming_the_railway_still_matches(matcher: Matcher) -> None:
    it = item(
        text="Besides the TAPI gas pipeline, the ministers discussed the Trans-Afghan "
        "railway from Termez to Peshawar."
    )
    assert "tap-railway" in matched(matcher, it)


@pytest.mark.parametrize(
    "text",
    [
        "Construction of the Trans-Afghan railway will start next year.",
        "Строительство Трансафганской железной дороги начнется в следующем году.",
        "Строительство трансафганской ж/д обсудили в Ташкенте.",
        "Трансауған теміржолының құрылысы келесі жылы басталады.",
        "Трансафғон темир йўли қурилиши келгуси йилда бошланади.",
        "Transafgʻon temir yoʻli qurilishi kelgusi yilda boshlanadi.",
        "Trans-Afgan Demiryolu'nun inşaatı gelecek yıl başlayacak.",
        "跨阿富汗铁路明年开工。",
        "跨阿富汗货运铁路明年开工。",
        "乌兹别克斯坦—阿富汗—巴基斯坦铁路明年开工。",
        "The Uzbekistan–Afghanistan–Pakistan railway will start next year.",
        "ٹرانس افغان ریلوے منصوبے پر کام اگلے سال شروع ہوگا۔",
        "A railway linking Termez with Mazar-i-Sharif and Peshawar was discussed.",
    ],
)
def test_the_railway_in_every_language(matcher: Matcher, text: str) -> None:
    assert "tap-railway" in matched(matcher, item(text))


def test_trans_afghan_far_from_railway_is_not_enough(matcher: Matcher) -> None:
    it = item(
        text="The Trans-Afghan project, officials said, will be reviewed next year; the old "
        "railway station in Kabul needs repairs."
    )
    explanation = next(e for e in matcher.explain(it) if e.watchlist == "tap-railway")
    assert not explanation.matched
    assert any(
        reason.startswith("near(trans-afghan, railway") and "apart" in reason
        for reason in explanation.failed
    ), explanation.failed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The western route: two of its stations and a railway.
        ("Afghan Railways began surveying the Herat–Kandahar railway section.", True),
        ("Турғунди – Ҳирот темир йўли қурилиши бошланди.", True),
        # Stations of different routes: an east-west line is neither route.
        ("A railway from Mazar-i-Sharif to Herat is planned by Afghanistan.", False),
        # The gas pipeline passes the same towns.
        ("The TAPI gas pipeline and a parallel railway will reach Herat and Kandahar.", False),
        # "Trans-Afghan" next to a route word, unless a pipeline is named.
        ("The western Trans-Afghan corridor will open new markets.", True),
        ("Turkmenistan revised the Trans-Afghan pipeline route through Herat.", False),
    ],
)
def test_routes_and_stations(matcher: Matcher, text: str, expected: bool) -> None:
    assert ("tap-railway" in matched(matcher, item(text + " " + FILLER))) is expected


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "Heat wave in Central Asia",
            "Temperatures in Pakistan reached 48 degrees Celsius. In the north of Kazakhstan, "
            "forecasters expect relief by Friday, and Pakistan has closed schools.",
            False,
        ),
        (
            "Judo championship opens in Astana",
            "Teams from Pakistan and Iran joined the championship in Astana. Kazakhstan leads "
            "the medal table; Pakistan won a bronze medal on Monday.",
            False,
        ),
        (
            "Kazakhstan and Pakistan to share weather data",
            "The weather services of Kazakhstan and Pakistan will exchange temperature data.",
            True,
        ),
    ],
)
def test_weather_and_sports_reports_name_the_two_by_chance(
    matcher: Matcher, title: str, text: str, expected: bool
) -> None:
    assert ("kz-pk" in matched(matcher, item(text + " " + FILLER, title=title))) is expected


# --- prominence, lists, fields ---------------------------------------------------------------


def test_a_co_mention_in_a_long_list_is_not_enough(matcher: Matcher) -> None:
    text = (
        "Foreign ministers of Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan, "
        "Pakistan and India met in Geneva to discuss water sharing. " + FILLER * 3
    )
    it = item(title="Ministers discuss regional water sharing", text=text)
    assert "kz-pk" not in matched(matcher, it)
    explanation = next(e for e in matcher.explain(it) if e.watchlist == "kz-pk")
    assert any("in a list" in reason for reason in explanation.failed), explanation.failed
    # The same two countries named outside a list, once each in the lead, do match.
    plain = item(text="Kazakhstan and Pakistan agreed on a transit corridor. " + FILLER * 3)
    assert "kz-pk" in matched(matcher, plain)


@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("Ministers of Alpha, Beta, Gamma and Delta met.", {"alpha", "beta", "gamma", "delta"}),
        ("Alpha, Beta, Gamma, Delta: all four signed.", {"alpha", "beta", "gamma", "delta"}),
        ("阿尔法、贝塔、伽马和德尔塔的代表出席。", {"alpha", "beta", "gamma", "delta"}),
        # Both countries stand outside the enumeration of topics.
        ("Alpha and Beta signed deals on trade, energy, transport and culture.", set()),
        ("Alpha, which borders a large, dry, windy steppe, signed.", set()),
        ("Alpha and Beta met. Gamma, Delta.", set()),  # fewer than three separators
    ],
)
def test_what_counts_as_a_list(tmp_path: Path, text: str, listed: set[str]) -> None:
    entities = (
        "entities:\n"
        "  alpha: {aliases: {en: [Alpha], zh: [阿尔法]}}\n"
        "  beta: {aliases: {en: [Beta], zh: [贝塔]}}\n"
        "  gamma: {aliases: {en: [Gamma], zh: [伽马]}}\n"
        "  delta: {aliases: {en: [Delta], zh: [德尔塔]}}\n"
    )
    directory = tmp_path / "w"
    directory.mkdir()
    (directory / "entities.yaml").write_text(entities, encoding="utf-8")
    rule = "weights: {in_list: 0}\nrule: {any: [alpha, beta, gamma, delta]}\n"
    (directory / "t.yaml").write_text(f"name: t\ntitle: T\n{rule}", encoding="utf-8")
    matcher = Matcher.compile(load_watchlists(directory))
    (explanation,) = matcher.explain(item(text))
    mentioned = {hit.entity for hit in explanation.hits}
    counted = {hit.entity for hit in _collect_hits(explanation)}
    assert mentioned - counted == listed


def _collect_hits(explanation: Explanation) -> list[Hit]:
    found: list[Hit] = []
    stack = [explanation.outcome]
    while stack:
        outcome = stack.pop()
        if outcome.ok:
            found.extend(outcome.hits)
        stack.extend(outcome.children)
    return found


def test_a_passing_mention_in_the_body_is_not_enough(matcher: Matcher) -> None:
    text = FILLER * 3 + "Kazakhstan raised wheat exports. Kazakhstan also sold metals. "
    text += FILLER + "Some of the grain went to Pakistan. " + FILLER
    it = item(title="Wheat exports rise", text=text)
    assert "kz-pk" not in matched(matcher, it)
    explanation = next(e for e in matcher.explain(it) if e.watchlist == "kz-pk")
    assert any("score 1 < 2" in reason for reason in explanation.failed), explanation.failed
    # A second mention of Pakistan is enough.
    again = item(title="Wheat exports rise", text=text + "Pakistan will buy more next year.")
    assert "kz-pk" in matched(matcher, again)


def test_fields_title_lead_body(matcher: Matcher) -> None:
    body_text = FILLER * 4 + "Gwadar port handled the cargo."
    it = item(title="Kazakhstan and Pakistan", summary="Kazakhstan ships grain.", text=body_text)
    texts = fields(it)
    assert texts["body"].startswith("Kazakhstan ships grain.") and texts["body"].endswith("cargo.")
    assert texts["body"].startswith(texts["lead"]) and len(texts["lead"]) <= LEAD_CHARS + 40
    hits = {(h.entity, h.field) for m in matcher.match(it) for h in m.hits}
    assert ("kazakhstan", "title") in hits and ("kazakhstan", "lead") in hits
    assert ("gwadar", "body") in hits
    for match in matcher.match(it):
        for hit in match.hits:
            assert texts[hit.field][hit.start : hit.end] == hit.surface


def test_a_summary_repeated_in_the_text_counts_once(matcher: Matcher) -> None:
    summary = "Pakistan welcomed the Kazakh proposal."
    text = summary + " " + FILLER * 3
    assert fields(item(text, summary=summary))["body"] == text.strip()
    other = fields(item("Another text entirely. " + FILLER, summary=summary))["body"]
    assert other.startswith(summary) and other.endswith(FILLER.strip())


def test_match_records_rule_hits_and_score(matcher: Matcher) -> None:
    it = item(
        title="Tokayev meets Shehbaz Sharif in Islamabad",
        text="Kazakhstan and Pakistan signed a declaration. " + FILLER,
    )
    (match,) = [m for m in matcher.match(it) if m.watchlist == "kz-pk"]
    assert match.rule.startswith("all-of(any-of(")
    assert "pakistan" in match.rule and "tokayev" in match.rule and "astana" not in match.rule
    assert match.score >= 4
    assert {h.entity for h in match.hits} >= {"tokayev", "shehbaz-sharif", "islamabad"}
    assert match.aliases[0] == "Tokayev"


def test_explain_covers_every_watchlist(matcher: Matcher) -> None:
    it = item(title="Gwadar port expansion", text="Gwadar port will add two berths. " + FILLER)
    explanations = {e.watchlist: e for e in matcher.explain(it)}
    assert set(explanations) == {"gwadar", "kz-pk", "tap-railway"}
    gwadar = explanations["gwadar"]
    assert gwadar.matched and gwadar.fired == "gwadar" and gwadar.failed == ()
    assert [(h.field, h.start) for h in gwadar.hits] == [("title", 0), ("lead", 0)]
    kz_pk = explanations["kz-pk"]
    assert not kz_pk.matched and kz_pk.fired is None
    assert "kazakhstan: no mention" in kz_pk.failed
    rendered = kz_pk.render()
    assert rendered.startswith("kz-pk: no match") and "gwadar title[0:6]" in rendered
    # explain and match agree
    assert {e.watchlist for e in explanations.values() if e.matched} == matched(matcher, it)


# --- the rule language, on a small watchlist written here ------------------------------------


ENTITIES = """
entities:
  alpha: {aliases: {en: [Alpha]}}
  beta: {aliases: {en: [Beta]}}
  gamma: {aliases: {en: [Gamma]}}
"""


def rule_matcher(tmp_path: Path, rule: str, weights: str = "") -> Matcher:
    directory = tmp_path / "w"
    directory.mkdir()
    (directory / "entities.yaml").write_text(ENTITIES, encoding="utf-8")
    (directory / "t.yaml").write_text(f"name: t\ntitle: T\n{weights}rule:\n{rule}\n", "utf-8")
    return Matcher.compile(load_watchlists(directory))


@pytest.mark.parametrize(
    ("rule", "title", "text", "expected"),
    [
        ("  all: [alpha, beta]", "", "Alpha and Beta.", True),
        ("  all: [alpha, beta]", "", "Alpha alone.", False),
        ("  any: [alpha, beta]\n  at_least: 2", "", "Alpha and Gamma.", False),
        ("  any: [alpha, beta, gamma]\n  at_least: 2", "", "Alpha and Gamma.", True),
        ("  all: [alpha, {none: [gamma]}]", "", "Alpha and Gamma.", False),
        ("  all: [alpha, {none: [gamma]}]", "", "Alpha and Beta.", True),
        ("  {entity: alpha, where: title}", "News", "Alpha.", False),
        ("  {entity: alpha, where: title}", "Alpha news", "Nothing.", True),
        ("  {entity: alpha, where: lead}", "", "Alpha is in the lead.", True),
        ("  {entity: alpha, where: lead}", "", FILLER * 3 + "Alpha.", False),
        ("  {entity: alpha, min_score: 3}", "", FILLER * 3 + "Alpha. Alpha.", False),
        ("  {entity: alpha, min_score: 3}", "", FILLER * 3 + "Alpha. Alpha. Alpha.", True),
        ("  {entity: alpha, min_score: 3}", "Alpha", "", True),
        ("  {near: [alpha, beta], within: 2}", "", "Alpha met the Beta team.", True),
        ("  {near: [alpha, beta], within: 2}", "", "Alpha met with the local Beta.", False),
        ("  {near: [alpha, beta], within: 1}", "Alpha", "Beta", False),  # not one field
        ("  {near: [alpha, beta, gamma], within: 2}", "", "Alpha, Beta and Gamma.", True),
        ("  {all: [alpha, beta], min_score: 5}", "", "Alpha and Beta in the lead.", False),
        ("  {all: [alpha, beta], min_score: 4}", "", "Alpha and Beta in the lead.", True),
    ],
)
def test_rule_language(tmp_path: Path, rule: str, title: str, text: str, expected: bool) -> None:
    matcher = rule_matcher(tmp_path, rule)
    assert bool(matcher.match(item(text, title=title))) is expected


def test_near_counts_characters_in_chinese(tmp_path: Path) -> None:
    entities = "entities:\n  a: {aliases: {zh: [阿尔法]}}\n  b: {aliases: {zh: [贝塔]}}\n"
    directory = tmp_path / "zh"
    directory.mkdir()
    (directory / "entities.yaml").write_text(entities, encoding="utf-8")
    rule = "rule:\n  near: [a, b]\n  within: 1\n  within_chars: 4\n"
    (directory / "t.yaml").write_text(f"name: t\ntitle: T\n{rule}", encoding="utf-8")
    matcher = Matcher.compile(load_watchlists(directory))
    assert matcher.match(item("阿尔法与这个贝塔"))  # four characters between
    assert not matcher.match(item("阿尔法与那边的这个贝塔"))  # six


def test_list_weight_is_per_watchlist(tmp_path: Path) -> None:
    text = "Delegates of Alpha, Beta, Gamma, Delta and Epsilon met."
    counted = rule_matcher(tmp_path, "  alpha")
    assert counted.match(item(text))  # in_list defaults to 1: a listed mention counts
    (tmp_path / "w").rename(tmp_path / "old")
    ignored = rule_matcher(tmp_path, "  alpha", weights="weights: {in_list: 0}\n")
    assert not ignored.match(item(text))
    assert ignored.match(item("Alpha met Beta, Gamma, Delta and Epsilon in town."))


def test_no_watchlist_entities_no_hits(tmp_path: Path) -> None:
    matcher = rule_matcher(tmp_path, "  alpha")
    assert matcher.match(item("")) == []
    assert matcher.scan("", "body") == []


# --- the two passes agree ----------------------------------------------------------------------

NAMES = {"alpha": "Alpha", "beta": "Beta", "gamma": "Gamma", "delta": "Delta", "epsilon": "Epsilon"}


def _random_text(rng: random.Random, sentences: int) -> str:
    words = ["the", "minister", "said", "talks", "trade", "and", "of", "port", "rail"]
    out = []
    for _ in range(sentences):
        parts = []
        for _ in range(rng.randint(3, 14)):
            if rng.random() < 0.3:
                parts.append(rng.choice(list(NAMES.values())) + rng.choice(["", "'s", "n"]))
            else:
                parts.append(rng.choice(words))
            if rng.random() < 0.2:
                parts[-1] += ","
        out.append(" ".join(parts).capitalize() + ".")
    return " ".join(out)


def test_match_agrees_with_explain_on_random_rules(tmp_path: Path) -> None:
    """`match` settles most watchlists on counts and evaluates in full only those that may
    hold; `explain` evaluates everything. A first pass that wrongly rejected a watchlist
    would lose a match: on random rules and items the two must agree exactly (which
    watchlists, the score, the rule that fired, the hits)."""
    rng = random.Random(20260311)
    directory = tmp_path / "w"
    directory.mkdir()
    entities = {"entities": {e: {"aliases": {"en": [name]}} for e, name in NAMES.items()}}
    (directory / "entities.yaml").write_text(yaml.safe_dump(entities), encoding="utf-8")
    for number in range(60):
        weights = {
            "title": rng.choice([3, 2.5, 1]),
            "lead": rng.choice([2, 1, 0.5]),
            "body": rng.choice([1, 0.5, 0]),
            "in_list": rng.choice([0, 0.5, 1, 2]),
        }
        spec: dict[str, object] = {"name": f"w{number:02d}", "title": "W", "weights": weights}
        spec["rule"] = random_rule(rng, 3, sorted(NAMES))
        (directory / f"w{number:02d}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    matcher = Matcher.compile(load_watchlists(directory))
    matched_any = 0
    for _ in range(150):
        it = item(
            _random_text(rng, rng.randint(1, 12)),
            title=_random_text(rng, 1)[:60] if rng.random() < 0.7 else "",
        )
        matches = {m.watchlist: m for m in matcher.match(it)}
        explained = {e.watchlist: e for e in matcher.explain(it) if e.matched}
        assert set(matches) == set(explained), it.text
        for name, match in matches.items():
            explanation = explained[name]
            assert match.score == explanation.score
            assert match.rule == explanation.fired
            assert set(match.hits) <= set(explanation.hits)
        matched_any += bool(matches)
    assert matched_any > 30  # the rules are not all impossible
