"""Story fixtures written for the tests (not the seeds): one event told by several outlets in
several languages, a different event between the same countries weeks later, and the
outlets' hosts. Each text matches `kz-pk` and gives the figures a real report would.

Event A (2026-05-12): in Astana, Tokayev receives a Pakistani delegation; 12 documents worth
1.25 billion dollars are signed, and freight is to reach 320,000 tonnes.
Event B (2026-06-20): a Kazakhstan–Pakistan business forum in Karachi, 45 companies, a
150 million dollar textile deal: same two countries, another event.
"""

from __future__ import annotations

# language -> (outlet host, title, body)
EVENT_A: dict[str, tuple[str, str, str]] = {
    "en": (
        "kazinform.example",
        "Kazakhstan and Pakistan sign agreements worth $1.25 billion in Astana",
        "ASTANA. President Kassym-Jomart Tokayev received the Pakistani delegation in Astana on "
        "Tuesday. Kazakhstan and Pakistan signed 12 documents worth $1.25 billion, covering "
        "transit, energy and agriculture. Freight between Kazakhstan and Pakistan is to reach "
        "320,000 tonnes a year, Tokayev said after the talks.",
    ),
    "ru": (
        "tass.example",
        "Казахстан и Пакистан подписали соглашения на 1,25 млрд долларов",
        "АСТАНА. Президент Касым-Жомарт Токаев принял во вторник в Астане делегацию Пакистана. "
        "Казахстан и Пакистан подписали 12 документов на сумму 1,25 млрд долларов в сферах "
        "транзита, энергетики и сельского хозяйства. Грузооборот между Казахстаном и "
        "Пакистаном должен достичь 320 000 тонн в год, заявил Токаев.",
    ),
    "kk": (
        "qazinform.example",
        "Қазақстан мен Пәкістан 1,25 млрд долларлық келісімдерге қол қойды",
        "АСТАНА. Президент Қасым-Жомарт Тоқаев сейсенбі күні Астанада Пәкістан делегациясын "
        "қабылдады. Қазақстан мен Пәкістан транзит, энергетика және ауыл шаруашылығы "
        "салаларында жалпы құны 1,25 млрд доллар болатын 12 құжатқа қол қойды. Тоқаевтың "
        "айтуынша, Қазақстан мен Пәкістан арасындағы жүк айналымы жылына 320 000 тоннаға жетеді.",
    ),
    "zh": (
        "xinhua.example",
        "哈萨克斯坦与巴基斯坦在阿斯塔纳签署价值12.5亿美元的协议",
        "新华社阿斯塔纳5月12日电 哈萨克斯坦总统托卡耶夫12日在阿斯塔纳会见巴基斯坦代表团。"
        "哈萨克斯坦与巴基斯坦签署了12份文件，总价值1.25 billion美元，涵盖过境运输、能源和农业。"
        "托卡耶夫表示，哈萨克斯坦与巴基斯坦之间的货运量将达到每年320,000吨。",
    ),
    "tr": (
        "aa.example",
        "Kazakistan ile Pakistan Astana'da 1,25 milyar dolarlık anlaşma imzaladı",
        "ASTANA. Kazakistan Cumhurbaşkanı Kasım Cömert Tokayev, salı günü Astana'da Pakistan "
        "heyetini kabul etti. Kazakistan ile Pakistan transit, enerji ve tarım alanlarında "
        "toplam 1,25 milyar dolar değerinde 12 belge imzaladı. Tokayev, Kazakistan ile "
        "Pakistan arasındaki yük taşımacılığının yılda 320.000 tona ulaşacağını söyledi.",
    ),
}

EVENT_B: dict[str, tuple[str, str, str]] = {
    "en": (
        "dawn.example",
        "Kazakhstan-Pakistan business forum opens in Karachi",
        "KARACHI. A Kazakhstan-Pakistan business forum opened in Karachi on Saturday with 45 "
        "companies from both countries. A Pakistani textile group and a Kazakh cotton producer "
        "signed a $150 million supply deal. Pakistan's commerce ministry said Kazakhstan was "
        "a growing market for Pakistani exporters.",
    ),
    "ru": (
        "tass.example",
        "В Карачи открылся казахстанско-пакистанский бизнес-форум",
        "КАРАЧИ. В субботу в Карачи открылся бизнес-форум Казахстана и Пакистана, в котором "
        "участвуют 45 компаний двух стран. Текстильная группа Пакистана и производитель хлопка "
        "из Казахстана подписали договор поставок на 150 млн долларов.",
    ),
}

OUTLET_PATH = "/story/{lang}/{n}"
