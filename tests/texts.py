"""Short news texts written for the tests, in the seven languages (not copies of the seeds).

KZ_PK mention Kazakhstan and Pakistan (inflected as the language does); OTHER match nothing.
"""

from __future__ import annotations

KZ_PK = {
    "en": (
        "Kazakhstan and Pakistan agree on a new transit corridor",
        "Kazakhstan and Pakistan agreed in Astana on Monday to open a new transit corridor for "
        "grain and metals. The Pakistani delegation said the route would cut delivery times. "
        "Officials of both countries will meet again next month to sign the documents.",
    ),
    "ru": (
        "Казахстан и Пакистан договорились о новом транзитном коридоре",
        "Казахстан и Пакистан в понедельник договорились в Астане открыть новый транзитный "
        "коридор для зерна и металлов. Делегация Пакистана заявила, что маршрут сократит сроки "
        "доставки. Сотрудничество с Пакистаном расширяется, отметили в министерстве.",
    ),
    "kk": (
        "Қазақстан мен Пәкістан жаңа транзиттік дәліз туралы келісті",
        "Қазақстан мен Пәкістан дүйсенбі күні Астанада астық пен металға арналған жаңа "
        "транзиттік дәліз ашуға келісті. Пәкістанның делегациясы бұл бағыт жеткізу мерзімін "
        "қысқартатынын айтты. Екі елдің өкілдері келесі айда құжаттарға қол қояды.",
    ),
    "uz": (
        "Қозоғистон ва Покистон янги транзит йўлаги бўйича келишди",
        "Қозоғистон ва Покистон душанба куни Остонада ғалла ва металлар учун янги транзит "
        "йўлагини очишга келишди. Покистоннинг делегацияси бу йўналиш етказиб бериш муддатини "
        "қисқартиришини айтди. Икки давлат вакиллари кейинги ойда ҳужжатларни имзолайди.",
    ),
    "uz-latn": (
        "Qozogʻiston va Pokiston yangi tranzit yoʻlagi boʻyicha kelishdi",
        "Qozogʻiston va Pokiston dushanba kuni Ostonada gʻalla va metallar uchun yangi tranzit "
        "yoʻlagini ochishga kelishdi. Pokistonning delegatsiyasi bu yoʻnalish yetkazib berish "
        "muddatini qisqartirishini aytdi. Ikki davlat vakillari keyingi oyda hujjatlarni imzolaydi.",
    ),
    "tr": (
        "Kazakistan ve Pakistan yeni transit koridorunda anlaştı",
        "Kazakistan ve Pakistan pazartesi günü Astana'da tahıl ve metaller için yeni bir transit "
        "koridor açma konusunda anlaştı. Pakistan'ın heyeti güzergahın teslimat sürelerini "
        "kısaltacağını söyledi. İki ülkenin yetkilileri belgeleri gelecek ay imzalayacak.",
    ),
    "zh": (
        "哈萨克斯坦与巴基斯坦就新的过境走廊达成一致",
        "哈萨克斯坦与巴基斯坦周一在阿斯塔纳商定开通一条运输粮食和金属的新过境走廊。巴基斯坦代表团"
        "表示，这条线路将缩短运输时间。两国官员将于下月再次会晤并签署相关文件。",
    ),
    "ur": (
        "قازقستان اور پاکستان کا نئی راہداری پر اتفاق",
        "قازقستان اور پاکستان نے پیر کو آستانہ میں اناج اور دھاتوں کے لیے نئی راہداری کھولنے پر اتفاق کیا۔ "
        "پاکستانی وفد نے کہا کہ اس راستے سے ترسیل کا وقت کم ہو جائے گا۔ دونوں ممالک کے حکام اگلے ماہ "
        "دستاویزات پر دستخط کریں گے۔",
    ),
}

OTHER = {
    "en": (
        "City council approves new bicycle lanes",
        "The city council approved a plan on Tuesday to build forty kilometres of bicycle lanes "
        "over the next three years. Residents welcomed the decision, while some shop owners "
        "worried about parking. Construction will begin in the spring.",
    ),
    "ru": (
        "В городе откроют новые велодорожки",
        "Городской совет во вторник одобрил план строительства сорока километров велодорожек в "
        "течение трёх лет. Жители приветствовали решение, а владельцы магазинов опасаются "
        "проблем с парковкой. Строительство начнётся весной.",
    ),
}


def long_html(text: str, repeat: int = 4) -> str:
    """An HTML body long enough to count as full text (the feed is not summary-only)."""
    return "".join(f"<p>{text}</p>" for _ in range(repeat))
