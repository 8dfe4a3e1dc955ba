"""Language identification: the seeds, and titles and short paragraphs written for these tests
in the seven languages (Uzbek in both scripts)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from monitor.text import language
from monitor.text.language import detect_language

TITLES = {
    "en": [
        "Kazakhstan and Pakistan sign strategic partnership declaration",
        "President Tokayev arrives in Islamabad for state visit",
        "Gwadar port expects first cargo from Central Asia",
        "Trans-Afghan railway project moves ahead",
        "Wheat prices fall as harvest beats forecasts",
        "Parliament approves new budget after long debate",
        "Heavy snow closes mountain roads in the north",
        "Central bank keeps interest rate unchanged",
    ],
    "ru": [
        "Казахстан и Пакистан подписали декларацию о стратегическом партнерстве",
        "Токаев прибыл в Исламабад с государственным визитом",
        "Порт Гвадар ждет первые грузы из Центральной Азии",
        "Проект Трансафганской железной дороги продвигается",
        "Цены на пшеницу снизились после хорошего урожая",
        "Парламент одобрил новый бюджет после долгих споров",
        "Сильный снегопад закрыл горные дороги на севере",
        "Нацбанк сохранил базовую ставку без изменений",
    ],
    "kk": [
        "Қазақстан мен Пәкістан стратегиялық серіктестік туралы декларацияға қол қойды",
        "Тоқаев мемлекеттік сапармен Исламабадқа келді",
        "Гвадар порты Орталық Азиядан алғашқы жүкті күтуде",
        "Трансауған теміржолы жобасы алға жылжып келеді",
        "Мол өнімнен кейін бидай бағасы төмендеді",
        "Парламент ұзақ талқылаудан кейін жаңа бюджетті мақұлдады",
        "Қалың қар солтүстіктегі тау жолдарын жауып тастады",
        "Ұлттық банк базалық мөлшерлемені өзгеріссіз қалдырды",
    ],
    "uz-cyrl": [
        "Қозоғистон ва Покистон стратегик шериклик тўғрисидаги декларацияни имзолади",
        "Тоқаев давлат ташрифи билан Исломободга келди",
        "Гвадар порти Марказий Осиёдан биринчи юкларни кутмоқда",
        "Трансафғон темир йўли лойиҳаси илгариламоқда",
        "Мўл ҳосилдан кейин буғдой нархи пасайди",
        "Парламент узоқ муҳокамадан сўнг янги бюджетни маъқуллади",
        "Кучли қор шимолдаги тоғ йўлларини ёпиб қўйди",
        "Марказий банк асосий ставкани ўзгаришсиз қолдирди",
    ],
    "uz-latn": [
        "Qozogʻiston va Pokiston strategik sheriklik toʻgʻrisidagi deklaratsiyani imzoladi",
        "Toqayev davlat tashrifi bilan Islomobodga keldi",
        "Gvadar porti Markaziy Osiyodan birinchi yuklarni kutmoqda",
        "Transafg‘on temir yo‘li loyihasi ilgarilamoqda",
        "Mo'l hosildan keyin bug'doy narxi pasaydi",
        "Parlament uzoq muhokamadan soʻng yangi byudjetni maʼqulladi",
        "Kuchli qor shimoldagi tog‘ yo‘llarini yopib qo‘ydi",
        "Markaziy bank asosiy stavkani o`zgarishsiz qoldirdi",
    ],
    "tr": [
        "Kazakistan ile Pakistan stratejik ortaklık bildirisi imzaladı",
        "Tokayev resmi ziyaret için İslamabad'a geldi",
        "Gwadar Limanı Orta Asya'dan ilk yükleri bekliyor",
        "Trans-Afgan Demiryolu projesinde yeni adım",
        "Bol hasat sonrası buğday fiyatları düştü",
        "Meclis uzun tartışmaların ardından yeni bütçeyi onayladı",
        "Yoğun kar kuzeydeki dağ yollarını kapattı",
        "Merkez Bankası politika faizini sabit tuttu",
    ],
    "zh": [
        "哈萨克斯坦与巴基斯坦签署战略伙伴关系联合宣言",
        "托卡耶夫总统抵达伊斯兰堡进行国事访问",
        "瓜达尔港期待迎来首批中亚货物",
        "跨阿富汗铁路项目取得新进展",
        "丰收之后小麦价格下跌",
        "议会经过长时间辩论通过新预算",
        "大雪导致北部山区道路封闭",
        "央行维持基准利率不变",
    ],
    "ur": [
        "قازقستان اور پاکستان کے درمیان اسٹریٹجک شراکت داری کا اعلامیہ",
        "صدر توکایف سرکاری دورے پر اسلام آباد پہنچ گئے",
        "گوادر بندرگاہ وسطی ایشیا سے پہلے سامان کی منتظر",
        "ٹرانس افغان ریلوے منصوبے میں پیش رفت",
        "اچھی فصل کے بعد گندم کی قیمتیں گر گئیں",
        "پارلیمنٹ نے طویل بحث کے بعد نیا بجٹ منظور کر لیا",
        "شدید برفباری سے شمال میں پہاڑی سڑکیں بند",
        "مرکزی بینک نے شرح سود برقرار رکھی",
    ],
}

PARAGRAPHS = {
    "en": [
        "The two leaders discussed trade, transport and energy cooperation during talks in the "
        "capital on Wednesday.",
        "Officials said the new rail link would cut delivery times for grain and metals by "
        "almost a week.",
        "The ministry reported that exports grew by twelve percent in the first half of the year.",
        "Thousands of people gathered in the main square to celebrate the national holiday.",
        "Engineers will inspect the bridge before it reopens to heavy trucks next month.",
        "The company plans to build a new factory that will employ about five hundred workers.",
        "Doctors urged residents to get vaccinated before the start of the flu season.",
        "The football team won its third match in a row and now leads the league.",
    ],
    "ru": [
        "Лидеры двух стран обсудили сотрудничество в сфере торговли, транспорта и энергетики.",
        "По словам чиновников, новая железная дорога сократит сроки доставки зерна почти на "
        "неделю.",
        "Министерство сообщило, что экспорт вырос на двенадцать процентов за первое полугодие.",
        "Тысячи людей собрались на главной площади, чтобы отметить национальный праздник.",
        "Инженеры проверят мост, прежде чем его снова откроют для грузовиков в следующем месяце.",
        "Компания планирует построить новый завод, на котором будут работать около пятисот "
        "человек.",
        "Врачи призвали жителей сделать прививку до начала сезона гриппа.",
        "Футбольная команда выиграла третий матч подряд и возглавила турнирную таблицу.",
    ],
    "kk": [
        "Екі ел басшылары сауда, көлік және энергетика салаларындағы ынтымақтастықты талқылады.",
        "Шенеуніктердің айтуынша, жаңа теміржол астық жеткізу мерзімін бір аптаға қысқартады.",
        "Министрліктің хабарлауынша, жылдың бірінші жартысында экспорт он екі пайызға өсті.",
        "Мыңдаған адам ұлттық мерекені тойлау үшін орталық алаңға жиналды.",
        "Инженерлер көпірді келесі айда жүк көліктері үшін ашпас бұрын тексереді.",
        "Компания бес жүзге жуық адам жұмыс істейтін жаңа зауыт салуды жоспарлап отыр.",
        "Дәрігерлер тұрғындарды тұмау маусымы басталғанға дейін екпе алуға шақырды.",
        "Футбол командасы қатарынан үшінші матчта жеңіске жетіп, кесте басына шықты.",
    ],
    "uz-cyrl": [
        "Икки давлат раҳбарлари савдо, транспорт ва энергетика соҳаларидаги ҳамкорликни "
        "муҳокама қилди.",
        "Расмийларнинг айтишича, янги темир йўл ғалла етказиб бериш муддатини бир ҳафтага "
        "қисқартиради.",
        "Вазирлик йилнинг биринчи ярмида экспорт ўн икки фоизга ўсганини маълум қилди.",
        "Минглаб одамлар миллий байрамни нишонлаш учун марказий майдонга йиғилди.",
        "Муҳандислар кўприкни кейинги ойда юк машиналари учун очишдан олдин текширади.",
        "Компания беш юзга яқин киши ишлайдиган янги завод қуришни режалаштирмоқда.",
        "Шифокорлар аҳолини грипп мавсуми бошланишидан олдин эмланишга чақирди.",
        "Футбол жамоаси кетма-кет учинчи ўйинда ғалаба қозониб, жадвал пешқадамига айланди.",
    ],
    "uz-latn": [
        "Ikki davlat rahbarlari savdo, transport va energetika sohalaridagi hamkorlikni "
        "muhokama qildi.",
        "Rasmiylarning aytishicha, yangi temir yoʻl gʻalla yetkazib berish muddatini bir "
        "haftaga qisqartiradi.",
        "Vazirlik yilning birinchi yarmida eksport oʻn ikki foizga oʻsganini ma’lum qildi.",
        "Minglab odamlar milliy bayramni nishonlash uchun markaziy maydonga yig‘ildi.",
        "Muhandislar ko'prikni keyingi oyda yuk mashinalari uchun ochishdan oldin tekshiradi.",
        "Kompaniya besh yuzga yaqin kishi ishlaydigan yangi zavod qurishni rejalashtirmoqda.",
        "Shifokorlar aholini gripp mavsumi boshlanishidan oldin emlanishga chaqirdi.",
        "Futbol jamoasi ketma-ket uchinchi o‘yinda g‘alaba qozonib, jadval peshqadamiga aylandi.",
    ],
    "tr": [
        "İki lider başkentteki görüşmede ticaret, ulaştırma ve enerji alanlarındaki işbirliğini "
        "ele aldı.",
        "Yetkililer, yeni demiryolu hattının tahıl teslimat süresini yaklaşık bir hafta "
        "kısaltacağını söyledi.",
        "Bakanlık, ihracatın yılın ilk yarısında yüzde on iki arttığını açıkladı.",
        "Binlerce kişi milli bayramı kutlamak için ana meydanda toplandı.",
        "Mühendisler köprüyü gelecek ay kamyonlara yeniden açmadan önce inceleyecek.",
        "Şirket, yaklaşık beş yüz kişinin çalışacağı yeni bir fabrika kurmayı planlıyor.",
        "Doktorlar vatandaşları grip mevsimi başlamadan önce aşı olmaya çağırdı.",
        "Futbol takımı üst üste üçüncü maçını kazanarak liderliğe yükseldi.",
    ],
    "zh": [
        "两国领导人在首都举行会谈，讨论了贸易、交通和能源领域的合作。",
        "官员表示，新铁路将使粮食运输时间缩短近一周。",
        "该部表示，今年上半年出口增长了百分之十二。",
        "数千人聚集在中心广场庆祝国庆节。",
        "工程师将在下个月桥梁重新向重型卡车开放之前对其进行检查。",
        "该公司计划新建一座工厂，预计将雇用约五百名工人。",
        "医生呼吁居民在流感季节开始前接种疫苗。",
        "这支足球队连续第三场比赛获胜，目前位居联赛榜首。",
    ],
    "ur": [
        "دونوں رہنماؤں نے دارالحکومت میں بات چیت کے دوران تجارت، نقل و حمل اور توانائی کے "
        "شعبوں میں تعاون پر تبادلہ خیال کیا۔",
        "حکام نے کہا کہ نئی ریلوے لائن سے اناج کی ترسیل کا وقت تقریباً ایک ہفتہ کم ہو جائے گا۔",
        "وزارت نے بتایا کہ سال کی پہلی ششماہی میں برآمدات میں بارہ فیصد اضافہ ہوا۔",
        "ہزاروں لوگ قومی تہوار منانے کے لیے مرکزی چوک میں جمع ہوئے۔",
        "انجینئر اگلے ماہ بھاری ٹرکوں کے لیے کھولنے سے پہلے پل کا معائنہ کریں گے۔",
        "کمپنی ایک نئی فیکٹری لگانے کا ارادہ رکھتی ہے جس میں تقریباً پانچ سو افراد کام کریں گے۔",
        "ڈاکٹروں نے شہریوں پر زور دیا کہ وہ فلو کا موسم شروع ہونے سے پہلے ویکسین لگوائیں۔",
        "فٹبال ٹیم نے مسلسل تیسرا میچ جیت کر لیگ میں پہلی پوزیشن حاصل کر لی۔",
    ],
}

EXPECTED = {"uz-cyrl": "uz", "uz-latn": "uz"}

SEED_LANGUAGES = {"000": "zh", "001": "kk", "002": "uz", "003": "tr", "004": "en"}


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(EXPECTED.get(key, key), text) for key, texts in table.items() for text in texts]


@pytest.mark.parametrize(("expected", "title"), _cases(TITLES))
def test_titles(expected: str, title: str) -> None:
    assert detect_language(title) == expected


@pytest.mark.parametrize(("expected", "paragraph"), _cases(PARAGRAPHS))
def test_paragraphs(expected: str, paragraph: str) -> None:
    assert detect_language(paragraph) == expected


def _seeds(seeds_dir: Path) -> dict[str, tuple[str, str]]:
    """Seed number -> (title line, whole text), the date prefix removed."""
    seeds = {}
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        title = first.strip().split(" ", 2)[2] if first.strip().startswith("date ") else first
        seeds[path.name[:3]] = (title, f"{title}\n{rest}")
    return seeds


def test_seeds_full_text_and_title(seeds_dir: Path) -> None:
    seeds = _seeds(seeds_dir)
    assert set(seeds) == set(SEED_LANGUAGES)
    for number, (title, text) in seeds.items():
        assert detect_language(text) == SEED_LANGUAGES[number], number
        assert detect_language(title) == SEED_LANGUAGES[number], (number, title)
        assert detect_language(title[:60]) == SEED_LANGUAGES[number], (number, title[:60])


def test_empty_and_letterless_text_is_undetermined() -> None:
    assert detect_language("") == "und"
    assert detect_language("   \n\t ") == "und"
    assert detect_language("2026-02-04 18:27 — 1 000 000 $") == "und"


def test_both_uzbek_scripts_are_uz() -> None:
    assert detect_language("Oʻzbekiston va Qozogʻiston hamkorligi") == "uz"
    assert detect_language("Ўзбекистон ва Қозоғистон ҳамкорлиги") == "uz"


def test_hint_breaks_ties_but_not_strong_evidence() -> None:
    # Kazakh letters (ә, ұ, і) outweigh a feed that says it is Russian.
    assert detect_language("Қазақстан мен Пәкістан ынтымақтастығы", hint="ru") == "kk"
    # Han text is Chinese whatever the feed declares.
    assert detect_language("哈萨克斯坦与巴基斯坦", hint="en") == "zh"
    # A bare name says little; the feed's language decides between candidates.
    assert detect_language("Astana", hint="tr") == "tr"
    assert detect_language("Astana", hint="en") == "en"
    assert detect_language("Ақорда", hint="kk") == "kk"
    assert detect_language("Ақорда", hint="uz") == "uz"


def test_hint_codes_are_normalised() -> None:
    assert detect_language("Astana", hint="EN-gb") == "en"
    assert detect_language("Astana", hint="uz_Latn") == "uz"
    assert detect_language("Ақорда", hint="kz") == "kk"  # Kazinform's code for Kazakh


def test_a_bare_name_is_read_as_a_region_language() -> None:
    assert detect_language("Gwadar") in {"en", "tr", "uz"}
    assert detect_language("Gwadar", hint="en") == "en"


def test_mixed_text_goes_by_the_majority() -> None:
    # A Chinese report with a Cyrillic photo credit and a Latin company name.
    text = "托卡耶夫总统表示，巴基斯坦是哈萨克斯坦的重要伙伴。Фото: Акорда。Fauji Foundation"
    assert detect_language(text) == "zh"
    # A Kazinform dateline mixing lookalike letters does not make a Kazakh text Latin.
    assert detect_language("ASTANА. Кazinform – Мемлекет басшысы Пәкістанға барды") == "kk"


def test_a_quoted_word_does_not_change_the_language() -> None:
    russian = (
        "Депутаты Мажилиса обсудили законопроект о дорогах. Как отметили в Мәжіліс, документ "
        "рассмотрят на следующей неделе вместе с поправками правительства и министерства."
    )
    assert detect_language(russian) == "ru"
    english = (
        "President Mirziyoyev said that Oʻzbekiston would expand rail freight through "
        "Afghanistan, adding that the first trains could run to Pakistan within three years."
    )
    assert detect_language(english) == "en"


@pytest.mark.parametrize(
    "title",
    [
        "Барселона победила Реал в матче чемпионата",
        "Мексика примет матчи чемпионата мира по футболу",
    ],
)
def test_a_short_russian_title_is_not_taken_for_bulgarian(title: str) -> None:
    # Alone, the model says Bulgarian for these; Bulgarian writes ъ and never ы or э.
    assert detect_language(title) == "ru"


@pytest.mark.parametrize(
    ("expected", "paragraph"),
    [
        (
            "bg",
            "България и Северна Македония подписаха споразумение за изграждане на нов "
            "железопътен коридор, съобщиха от правителството в София.",
        ),
        (
            "sr",
            "Србија и Северна Македонија потписале су споразум о изградњи нове железничке "
            "пруге, саопштила је влада у Београду.",
        ),
        (
            "uk",
            "Україна та Польща підписали угоду про будівництво нової залізниці, повідомили в "
            "уряді. Роботи почнуться навесні.",
        ),
    ],
)
def test_other_cyrillic_languages_keep_their_names(expected: str, paragraph: str) -> None:
    assert detect_language(paragraph) == expected


def _letters_one_by_one(sample: str) -> tuple[dict[str, int], dict[str, int]]:
    """Script and mark-group counts, a character at a time."""
    scripts = dict.fromkeys(language._SCRIPTS, 0)
    for char in sample:
        if ord(char) >= language._TABLE_SIZE:
            scripts["other"] += 1
        elif char.isalpha():
            named = [s for s, low, high in language._SCRIPT_RANGES if low <= ord(char) <= high]
            scripts[named[0] if named else "other"] += 1
    marks = {name: sum(sample.count(c) for c in chars) for name, chars in language._MARK_GROUPS}
    return scripts, marks


def test_letter_counts_are_those_of_one_character_at_a_time() -> None:
    rng = random.Random(20261124)
    pool = (
        "".join(chars for _, chars in language._MARK_GROUPS)
        + "abcXYZéñ абвЖЯ ءابت 汉字 かなカナ 한글 ٠١ 123 ,.!?\n🙂𝔸𠀀\u0301\uffff"
    )
    for length in [0, 1, 5, 80, 1000] * 40:
        sample = "".join(rng.choice(pool) for _ in range(length))
        letters = language._Letters(sample)
        scripts, marks = _letters_one_by_one(sample)
        assert (letters.script, letters.mark) == (scripts, marks), sample
        assert letters.any == any(scripts.values())


def test_english_function_words_are_counted_as_whole_words_in_any_case() -> None:
    reference = re.compile(r"\b(?:the|of|and|with|that|from)\b", re.IGNORECASE)
    rng = random.Random(11)
    pieces = ["the", "The", "THE", "of", "OF", "and", "with", "that", "from", "From", "them"]
    pieces += ["other", "often", "bathe", "soft", "sand", "withal", "afrom", "tof", "x", "é"]
    pieces += ["Жthe", "the1", "1the", "_the", "the_", "théâtre", "фrom", "ИЗ", "of-the"]
    glue = [" ", ", ", ".", "\n", "-", "'", "", "’", "\u00a0", "(", ")", "«", "»"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) + rng.choice(glue) for _ in range(rng.randrange(40)))
        expected = len(reference.findall(text))
        assert len(language._ENGLISH_WORDS.findall(text.lower())) == expected, text
