"""Generate multilingual RSS feeds with full content for the benchmarks (deterministic).

The first sentence of each language names Kazakhstan and Pakistan (it matches `kz-pk`); the
others match nothing. `match_share` is the share of items written with it: real wires carry a
few percent of such items, 1.0 is the worst case (every item matched, filed and alerted).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

SENTENCES = {
    "en": [
        "Kazakhstan and Pakistan discussed trade and transport links in Islamabad.",
        "The ministry said the new railway corridor would open markets in South Asia.",
        "Officials met to review energy cooperation and investment projects.",
        "The parliament approved the budget after a long debate on Tuesday.",
    ],
    "ru": [
        "Казахстан и Пакистан обсудили развитие торговли и транспорта.",
        "Министерство сообщило о строительстве новой железной дороги.",
        "Стороны рассмотрели вопросы энергетического сотрудничества.",
        "Парламент одобрил бюджет после долгих обсуждений во вторник.",
    ],
    "kk": [
        "Қазақстан мен Пәкістан сауда және көлік байланыстарын талқылады.",
        "Министрлік жаңа теміржол дәлізі Оңтүстік Азия нарығын ашатынын айтты.",
        "Тараптар энергетика саласындағы ынтымақтастықты қарастырды.",
        "Парламент сейсенбі күні бюджетті мақұлдады.",
    ],
    "uz": [
        "Қозоғистон ва Покистон савдо ва транспорт алоқаларини муҳокама қилди.",
        "Vazirlik yangi temir yoʻl yoʻlagi Janubiy Osiyo bozorlarini ochishini aytdi.",
        "Томонлар энергетика соҳасидаги ҳамкорликни кўриб чиқди.",
        "Parlament seshanba kuni byudjetni maʼqulladi.",
    ],
    "tr": [
        "Kazakistan ve Pakistan ticaret ve ulaştırma bağlantılarını görüştü.",
        "Bakanlık yeni demiryolu koridorunun Güney Asya pazarlarını açacağını söyledi.",
        "Taraflar enerji alanındaki işbirliğini ele aldı.",
        "Meclis salı günü bütçeyi onayladı.",
    ],
    "zh": [
        "哈萨克斯坦和巴基斯坦讨论了贸易与交通合作。",
        "该部表示新的铁路走廊将打开南亚市场。",
        "双方审议了能源领域的合作问题。",
        "议会在周二批准了预算。",
    ],
    "ur": [
        "قازقستان اور پاکستان نے تجارت اور نقل و حمل کے روابط پر بات چیت کی۔",
        "وزارت نے کہا کہ نیا ریلوے راہداری جنوبی ایشیا کی منڈیاں کھولے گی۔",
        "فریقین نے توانائی کے شعبے میں تعاون کا جائزہ لیا۔",
        "پارلیمنٹ نے منگل کو بجٹ کی منظوری دی۔",
    ],
}


def article(
    rng: random.Random, language: str, matched: bool, paragraphs: int = 6
) -> tuple[str, str]:
    pool = SENTENCES[language] if matched else SENTENCES[language][1:]
    title = (pool[0] if matched else rng.choice(pool)).rstrip(".。۔")
    body = "".join(
        "<p>" + escape(" ".join(rng.choice(pool) for _ in range(4))) + "</p>"
        for _ in range(paragraphs)
    )
    return title, body


def feed(index: int, items: int, base: str, now: datetime, match_share: float) -> str:
    rng = random.Random(index)
    language = list(SENTENCES)[index % len(SENTENCES)]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>Bench feed {index}</title><link>{base}/</link>",
        f"<language>{language}</language>",
    ]
    for n in range(items):
        title, body = article(rng, language, rng.random() < match_share)
        link = f"{base}/news/{index}/{n}?utm_source=rss"
        date = format_datetime(now - timedelta(minutes=index * items + n))
        parts.append(
            f"<item><title>{escape(title)}</title><link>{link}</link>"
            f"<guid>{base}/news/{index}/{n}</guid><pubDate>{date}</pubDate>"
            f"<description>{escape(title)}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts)


def generate(
    directory: Path, feeds: int, items: int, base: str, match_share: float = 1.0
) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    paths = []
    for index in range(feeds):
        name = f"feed{index:05d}.xml"
        (directory / name).write_text(feed(index, items, base, now, match_share), encoding="utf-8")
        paths.append("/" + name)
    return paths
