"""Short reports about Shehbaz Sharif's awaited visit to Kazakhstan, written for the tests
of the `sharif-visit-kazakhstan` development in the seven languages (Uzbek in both scripts):
not copies of the seeds, nor of any real report (none exists yet).

Each text is (title, body). Every one of them matches the kz-pk watchlist: ARRIVAL,
ON_THE_VISIT, ANNOUNCED and ANNOUNCED_EN must fire the development, INVITATION and
HARD_NEGATIVES must not, BORDERLINE pins the decisions and the known limits that the README
section documents (True: fires).
"""

from __future__ import annotations

Text = tuple[str, str]

# He is there: arriving, welcomed, holding talks in Astana. The titles do not name him, so
# the body's sentences are what fires.
ARRIVAL: dict[str, Text] = {
    "en": (
        "Pakistan's prime minister begins Kazakhstan trip",
        "Prime Minister Shehbaz Sharif arrived in Astana on Tuesday for a two-day state visit. "
        "Kazakh officials greeted the Pakistani delegation at the airport, and the talks with "
        "President Tokayev are planned for Wednesday.",
    ),
    "ru": (
        "Премьер-министр Пакистана прибыл в Казахстан",
        "В Астану с государственным визитом прибыл премьер-министр Пакистана Шахбаз Шариф. "
        "В аэропорту гостя встретил премьер-министр Казахстана Олжас Бектенов. Переговоры с "
        "Касым-Жомартом Токаевым пройдут в среду.",
    ),
    "kk": (
        "Пәкістан премьер-министрі Астанаға келді",
        "Пәкістан премьер-министрі Шахбаз Шариф мемлекеттік сапармен Астанаға келді. "
        "Әуежайда оны Қазақстан Премьер-министрі Олжас Бектенов қарсы алды. Мемлекет басшысы "
        "Қасым-Жомарт Тоқаевпен келіссөздер сәрсенбі күні өтеді.",
    ),
    "uz": (
        "Покистон Бош вазири Остонага келди",
        "Покистон Бош вазири Шаҳбоз Шариф давлат ташрифи билан Остонага етиб келди. "
        "Аэропортда уни Қозоғистон Бош вазири Олжас Бектенов кутиб олди. Қасим-Жомарт "
        "Тоқаев билан музокаралар чоршанба куни бўлиб ўтади.",
    ),
    "uz-latn": (
        "Pokiston Bosh vaziri Ostonaga keldi",
        "Pokiston Bosh vaziri Shahboz Sharif davlat tashrifi bilan Ostonaga yetib keldi. "
        "Aeroportda uni Qozogʻiston Bosh vaziri Olzhas Bektenov kutib oldi. Qosim-Joʻmart "
        "Toqayev bilan muzokaralar chorshanba kuni boʻlib oʻtadi.",
    ),
    "tr": (
        "Pakistan Başbakanı Kazakistan'da",
        "Pakistan Başbakanı Şahbaz Şerif, resmi ziyaret için Astana'ya geldi. Havalimanında "
        "Kazakistan Başbakanı Olcas Bektenov tarafından karşılanan Şerif, çarşamba günü "
        "Cumhurbaşkanı Tokayev ile bir araya gelecek.",
    ),
    "zh": (
        "巴基斯坦总理抵达阿斯塔纳",
        "巴基斯坦总理夏巴兹·谢里夫5日抵达阿斯塔纳，开始对哈萨克斯坦进行国事访问。哈萨克斯坦总理"
        "别克捷诺夫在机场迎接。托卡耶夫总统将于6日同谢里夫总理举行会谈。",
    ),
    "ur": (
        "وزیراعظم آستانہ پہنچ گئے",
        "وزیراعظم شہباز شریف قازقستان کے سرکاری دورے پر آستانہ پہنچ گئے۔ ہوائی اڈے پر قازقستان کے "
        "وزیراعظم نے ان کا استقبال کیا۔ پاکستان اور قازقستان کے درمیان مذاکرات بدھ کو ہوں گے۔",
    ),
}

# Setting off, welcomed there, holding talks there, as agencies and the Akorda write it.
ON_THE_VISIT: dict[str, Text] = {
    "en": (
        "Kazakhstan and Pakistan sign transit deals",
        "President Tokayev welcomed Prime Minister Shehbaz Sharif at Akorda on Wednesday. "
        "Shehbaz Sharif held talks with the Kazakh leader in Astana on trade and transit.",
    ),
    "ru": (
        "Казахстан и Пакистан подписали соглашения о транзите",
        "Касым-Жомарт Токаев и Шахбаз Шариф провели переговоры в Акорде. Стороны подписали "
        "соглашения о транзите через Пакистан.",
    ),
    "tr": (
        "Kazakistan ve Pakistan transit anlaşmaları imzaladı",
        "Kazakistan Cumhurbaşkanı Tokayev, Pakistan Başbakanı Şahbaz Şerif ile Astana'da "
        "görüştü. Taraflar transit anlaşmaları imzaladı.",
    ),
    "en departure": (
        "PM leaves for Kazakhstan",
        "ISLAMABAD: Prime Minister Shehbaz Sharif emplaned for Astana on Monday morning. "
        "Pakistan and Kazakhstan are expected to sign a dozen agreements.",
    ),
    "ur departure": (
        "وزیراعظم قازقستان روانہ",
        "وزیراعظم شہباز شریف دو روزہ سرکاری دورے پر قازقستان روانہ ہو گئے۔ پاکستان اور "
        "قازقستان متعدد معاہدوں پر دستخط کریں گے۔",
    ),
    "ru akorda talks": (
        "Касым-Жомарт Токаев провел переговоры с премьер-министром Пакистана",
        "В Акорде состоялись переговоры Главы государства Касым-Жомарта Токаева с "
        "премьер-министром Пакистана Шахбазом Шарифом. Стороны обсудили торговлю.",
    ),
    "kk akorda welcome": (
        "Мемлекет басшысы Пәкістан премьер-министрін қарсы алды",
        "Ақордада Мемлекет басшысы Қасым-Жомарт Тоқаев Пәкістан премьер-министрі Шахбаз "
        "Шарифті ресми түрде қарсы алды. Екі ел басшылары келіссөздер жүргізді.",
    ),
    "zh xinhua talks": (
        "托卡耶夫同巴基斯坦总理会谈",
        "新华社阿斯塔纳3月5日电 哈萨克斯坦总统托卡耶夫5日在阿斯塔纳同来访的巴基斯坦总理"
        "夏巴兹·谢里夫举行会谈。",
    ),
    "uz-latn talks": (
        "Toqayev va Shahboz Sharif muzokara oʻtkazdi",
        "Qosim-Joʻmart Toqayev Oqoʻrdada Pokiston Bosh vaziri Shahboz Sharif bilan "
        "muzokaralar oʻtkazdi. Qozogʻiston va Pokiston hujjatlar imzoladi.",
    ),
}

# His visit is announced: dated, "next week", "is expected to", "scheduled".
ANNOUNCED: dict[str, Text] = {
    "en": (
        "Pakistan PM's Kazakhstan visit confirmed",
        "Prime Minister Shehbaz Sharif will pay a state visit to Kazakhstan on March 5-6, the "
        "Foreign Office said on Friday. President Tokayev will host the talks in Astana.",
    ),
    "ru": (
        "Премьер Пакистана посетит Казахстан",
        "Премьер-министр Пакистана Шахбаз Шариф на следующей неделе посетит Казахстан с "
        "государственным визитом, сообщили в МИД Казахстана. Переговоры с Касым-Жомартом "
        "Токаевым пройдут в Астане.",
    ),
    "kk": (
        "Пәкістан премьер-министрі Қазақстанға келеді",
        "Пәкістан премьер-министрі Шахбаз Шариф келесі аптада Қазақстанға мемлекеттік "
        "сапармен келеді. Бұл туралы Қазақстан Сыртқы істер министрлігі хабарлады.",
    ),
    "uz": (
        "Покистон Бош вазири Қозоғистонга ташриф буюради",
        "Покистон Бош вазири Шаҳбоз Шариф кейинги ҳафта Қозоғистонга давлат ташрифи билан "
        "келади. Бу ҳақда Қозоғистон Ташқи ишлар вазирлиги хабар берди.",
    ),
    "uz-latn": (
        "Pokiston Bosh vaziri Qozogʻistonga tashrif buyuradi",
        "Pokiston Bosh vaziri Shahboz Sharif keyingi hafta Qozogʻistonga davlat tashrifi "
        "bilan keladi. Bu haqda Qozogʻiston Tashqi ishlar vazirligi xabar berdi.",
    ),
    "tr": (
        "Pakistan Başbakanı Kazakistan'ı ziyaret edecek",
        "Pakistan Başbakanı Şahbaz Şerif'in gelecek hafta Kazakistan'a resmi ziyaret "
        "gerçekleştirmesi bekleniyor. Ziyarette Kazakistan Cumhurbaşkanı Tokayev ile "
        "görüşmesi planlanıyor.",
    ),
    "zh": (
        "巴基斯坦总理将访问哈萨克斯坦",
        "应哈萨克斯坦总统托卡耶夫邀请，巴基斯坦总理夏巴兹·谢里夫将于3月5日至6日对哈萨克斯坦进行国事"
        "访问。外交部发言人在例行记者会上宣布了这一消息。",
    ),
    "ur": (
        "وزیراعظم قازقستان کا دورہ کریں گے",
        "وزیراعظم شہباز شریف آئندہ ہفتے قازقستان کا سرکاری دورہ کریں گے۔ دفتر خارجہ کے مطابق وہ "
        "آستانہ میں صدر توکایف سے ملاقات کریں گے۔",
    ),
}

# Other ways of announcing it, in English.
ANNOUNCED_EN: dict[str, Text] = {
    "expected": (
        "Kazakhstan and Pakistan prepare new agreements",
        "Prime Minister Shehbaz Sharif is expected to pay a state visit to Kazakhstan, "
        "officials in Islamabad said. Kazakhstan and Pakistan are preparing a dozen agreements.",
    ),
    "scheduled": (
        "Kazakhstan and Pakistan prepare new agreements",
        "The visit of Prime Minister Shehbaz Sharif to Kazakhstan is scheduled for March, "
        "officials in Islamabad said. Kazakhstan and Pakistan are preparing a dozen agreements.",
    ),
    "next week": (
        "Kazakhstan and Pakistan prepare new agreements",
        "Shehbaz Sharif travels to Astana next week, the Foreign Office said. Kazakhstan and "
        "Pakistan are preparing a dozen agreements.",
    ),
    "headline": (
        "PM Shehbaz to visit Kazakhstan",
        "The Prime Minister will lead a delegation of ministers and business leaders. "
        "Kazakhstan and Pakistan upgraded their ties to a strategic partnership in February.",
    ),
}

# The invitation alone, in every language: invited, accepted, looked forward to.
INVITATION: dict[str, Text] = {
    "en": (
        "Tokayev invites Shehbaz Sharif to Kazakhstan",
        "President Kassym-Jomart Tokayev invited Prime Minister Shehbaz Sharif to visit "
        "Kazakhstan at a convenient time. The invitation was accepted with gratitude, the "
        "Prime Minister's Office said in Islamabad.",
    ),
    "ru": (
        "Токаев пригласил премьера Пакистана в Казахстан",
        "Касым-Жомарт Токаев пригласил Шахбаза Шарифа посетить Казахстан с государственным "
        "визитом. Приглашение было принято с благодарностью, сообщили в Исламабаде.",
    ),
    "kk": (
        "Тоқаев Пәкістан премьер-министрін Қазақстанға шақырды",
        "Қасым-Жомарт Тоқаев Шахбаз Шарифті Қазақстанға мемлекеттік сапармен келуге шақырды. "
        "Шақыру алғыспен қабыл алынды, деп хабарлады Исламабадта.",
    ),
    "uz": (
        "Тоқаев Покистон Бош вазирини Қозоғистонга таклиф қилди",
        "Қасим-Жомарт Тоқаев Шаҳбоз Шарифни Қозоғистонга давлат ташрифи билан келишга таклиф "
        "қилди. Таклиф миннатдорлик билан қабул қилинди.",
    ),
    "uz-latn": (
        "Toqayev Pokiston Bosh vazirini Qozogʻistonga taklif qildi",
        "Qosim-Joʻmart Toqayev Shahboz Sharifni Qozogʻistonga davlat tashrifi bilan kelishga "
        "taklif qildi. Taklif minnatdorlik bilan qabul qilindi.",
    ),
    "tr": (
        "Tokayev, Şahbaz Şerif'i Kazakistan'a davet etti",
        "Kazakistan Cumhurbaşkanı Tokayev, Pakistan Başbakanı Şahbaz Şerif'i Kazakistan'ı "
        "ziyaret etmeye davet etti. Davet memnuniyetle kabul edildi.",
    ),
    "zh": (
        "托卡耶夫邀请巴基斯坦总理访哈",
        "哈萨克斯坦总统托卡耶夫邀请巴基斯坦总理夏巴兹·谢里夫在双方方便的时候对哈萨克斯坦进行国事访问。"
        "谢里夫总理愉快地接受了邀请。",
    ),
    "ur": (
        "صدر توکایف کی وزیراعظم کو قازقستان آنے کی دعوت",
        "قازقستان کے صدر توکایف نے وزیراعظم شہباز شریف کو قازقستان کے دورے کی دعوت دی۔ وزیراعظم نے "
        "دعوت شکریے کے ساتھ قبول کر لی۔ پاکستان اور قازقستان نے تعاون بڑھانے پر اتفاق کیا۔",
    ),
}

# Everything else the development must not take for his visit.
HARD_NEGATIVES: dict[str, Text] = {
    # A wish, even in the future tense.
    "hope": (
        "Tokayev looks forward to Shehbaz Sharif's visit",
        "President Tokayev expressed hope that Prime Minister Shehbaz Sharif will visit "
        "Kazakhstan soon. Kazakhstan and Pakistan signed eighteen agreements in Islamabad.",
    ),
    # The invitation accepted: "посетить" folds as "посетит" (will visit) does.
    "invitation accepted (ru)": (
        "Шахбаз Шариф принял приглашение Токаева",
        "Премьер-министр Пакистана Шахбаз Шариф с благодарностью принял приглашение посетить "
        "Казахстан с государственным визитом. Казахстан и Пакистан подписали соглашения.",
    ),
    # Tokayev, or Kazakh ministers, in Pakistan.
    "tokayev in islamabad": (
        "Tokayev arrives in Islamabad",
        "Kazakh President Kassym-Jomart Tokayev arrived in Islamabad on Tuesday and was "
        "welcomed by Prime Minister Shehbaz Sharif at Nur Khan airbase. After talks with "
        "Shehbaz Sharif in Islamabad, Tokayev returned to Astana on Thursday.",
    ),
    "kazakh minister in islamabad": (
        "Министр иностранных дел Казахстана прибыл в Исламабад",
        "Министр иностранных дел Казахстана прибыл в Исламабад, где встретился с "
        "премьер-министром Пакистана Шахбазом Шарифом. Стороны обсудили визит Токаева.",
    ),
    "tokayev welcomed in islamabad (kk)": (
        "Тоқаев Исламабадқа келді",
        "Қасым-Жомарт Тоқаев мемлекеттік сапармен Исламабадқа келді. Әуежайда Мемлекет "
        "басшысын Пәкістан премьер-министрі Шахбаз Шариф қарсы алды.",
    ),
    "tokayev goes home": (
        "Tokayev ends Pakistan visit",
        "Tokayev, who held talks with Shehbaz Sharif in Islamabad, will return to Astana "
        "next week. Kazakhstan and Pakistan signed eighteen agreements.",
    ),
    # Sharif on his way elsewhere.
    "sharif in tashkent": (
        "Shehbaz Sharif arrives in Tashkent",
        "Prime Minister Shehbaz Sharif arrived in Tashkent on Monday for talks with President "
        "Shavkat Mirziyoyev, a week after hosting Kazakh President Tokayev in Islamabad.",
    ),
    "sharif to turkey and china": (
        "Kazakhstan and Pakistan upgrade their ties",
        "President Tokayev invited Prime Minister Shehbaz Sharif to visit Kazakhstan. Shehbaz "
        "Sharif will visit Turkey next week and China in April, officials in Islamabad said.",
    ),
    "sharif to turkmenistan (tr)": (
        "Şahbaz Şerif Türkmenistan'a gidecek",
        "Pakistan Başbakanı Şahbaz Şerif gelecek hafta Türkmenistan'a resmi ziyaret "
        "gerçekleştirecek. Şerif, geçen hafta Kazakistan Cumhurbaşkanı Tokayev'i İslamabad'da "
        "ağırlamıştı.",
    ),
    "sharif to china (zh)": (
        "巴基斯坦总理将访华",
        "巴基斯坦总理夏巴兹·谢里夫将于下周访问中国。此前，哈萨克斯坦总统托卡耶夫对巴基斯坦进行了国事访问。",
    ),
    "sharif to uzbekistan (ru)": (
        "Шахбаз Шариф посетит Узбекистан",
        "Шахбаз Шариф на следующей неделе посетит Узбекистан. Накануне он принимал в "
        "Исламабаде президента Казахстана Касым-Жомарта Токаева.",
    ),
    # His brother and his niece.
    "maryam nawaz in astana": (
        "Maryam Nawaz arrives in Astana",
        "Punjab Chief Minister Maryam Nawaz Sharif arrived in Astana on Monday, the office of "
        "Prime Minister Shehbaz Sharif said. She will meet Kazakh ministers on agriculture.",
    ),
    "nawaz sharif to kazakhstan (ru)": (
        "Наваз Шариф посетит Казахстан",
        "Бывший премьер-министр Пакистана Наваз Шариф в следующем месяце посетит Казахстан, "
        "сообщил его брат, премьер-министр Шахбаз Шариф.",
    ),
    # A Pakistani minister, not Sharif, in Astana.
    "dar in astana": (
        "Pakistan's foreign minister in Astana",
        "Foreign Minister Ishaq Dar arrived in Astana on Monday and conveyed the greetings of "
        "Prime Minister Shehbaz Sharif to President Tokayev.",
    ),
    "dar in astana (ru)": (
        "Глава МИД Пакистана прибыл в Астану",
        "Министр иностранных дел Пакистана Исхак Дар прибыл в Астану. Он передал Президенту "
        "Казахстана Токаеву приветствие от премьер-министра Шахбаза Шарифа.",
    ),
    # Sharif and a Kazakh diplomat in Islamabad.
    "kazakh ambassador": (
        "Shehbaz Sharif meets Kazakh ambassador",
        "Prime Minister Shehbaz Sharif met the Kazakh ambassador in Islamabad on Thursday and "
        "discussed the results of President Tokayev's visit to Pakistan.",
    ),
    "ambassador to kazakhstan": (
        "Kazakhstan and Pakistan to boost trade",
        "Prime Minister Shehbaz Sharif met Pakistan's ambassador to Kazakhstan in Islamabad "
        "on Thursday. Kazakhstan and Pakistan want to double their trade.",
    ),
    # A recollection of an earlier meeting.
    "recollection": (
        "Tokayev in Islamabad",
        "Shehbaz Sharif welcomed Tokayev in Islamabad, a year after the two met in Astana. "
        "Kazakhstan and Pakistan signed eighteen agreements.",
    ),
    # Neighbouring sentences are not one statement.
    "two sentences": (
        "Kazakhstan and Pakistan upgrade their ties",
        "Foreign Minister Ishaq Dar is a close aide of Prime Minister Shehbaz Sharif. He "
        "arrived in Astana on Monday for talks on Kazakhstan and Pakistan transit routes.",
    ),
}

# Decisions on cases between the two (see /tmp/h/readme_developments.md): True fires.
BORDERLINE: dict[str, tuple[Text, bool]] = {
    # An announcement that recalls the invitation in another sentence still fires.
    "announcement recalling the invitation": (
        (
            "Kazakhstan and Pakistan prepare new agreements",
            "Prime Minister Shehbaz Sharif will pay a state visit to Kazakhstan next week. "
            "President Tokayev invited him during his visit to Islamabad in February.",
        ),
        True,
    ),
    # A visit being prepared is taken as announced.
    "preparations": (
        (
            "Kazakhstan and Pakistan prepare new agreements",
            "Prime Minister Shehbaz Sharif met the Kazakh ambassador and discussed "
            "preparations for his visit to Kazakhstan. Pakistan wants more trade.",
        ),
        True,
    ),
    # He is in Astana, for whatever reason (a summit, not the state visit).
    "summit in astana": (
        (
            "Kazakhstan and Pakistan leaders meet at summit",
            "Shehbaz Sharif arrived in Astana for the summit of the Shanghai Cooperation "
            "Organisation and met President Tokayev.",
        ),
        True,
    ),
    # The office alone, without his name, is not enough.
    "office only": (
        (
            "Kazakhstan and Pakistan prepare new agreements",
            "Pakistan's Prime Minister arrived in Astana on Monday. Kazakhstan and Pakistan "
            "signed agreements, said Shehbaz Sharif's office.",
        ),
        False,
    ),
    # Known limits of reading by proximity, not grammar: Tokayev is the one arriving, and
    # the earlier meeting has no word that dates it in the past. Both fire.
    "tokayev arriving home": (
        (
            "Kazakhstan and Pakistan sign agreements",
            "President Tokayev arrived in Astana after talks with Shehbaz Sharif. Kazakhstan "
            "and Pakistan signed agreements.",
        ),
        True,
    ),
    "undated recollection": (
        (
            "Kazakhstan and Pakistan sign agreements",
            "Shehbaz Sharif, who met Tokayev in Astana in July 2024, welcomed him in "
            "Islamabad. Kazakhstan and Pakistan signed agreements.",
        ),
        True,
    ),
    # His brother in the same sentence takes the statement from him.
    "brother in the sentence": (
        (
            "Kazakhstan and Pakistan prepare new agreements",
            "Shehbaz Sharif, the brother of Nawaz Sharif, arrived in Astana on Monday. "
            "Kazakhstan and Pakistan signed agreements.",
        ),
        False,
    ),
}
