from __future__ import annotations

import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.sources.decode import decode, document_charset
from monitor.sources.extract import MIN_BODY_CHARS, extract_article, html_to_text, squeezed

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
PLUS5 = timezone(timedelta(hours=5))


# --- html_to_text --------------------------------------------------------------------------


def test_blocks_become_lines_and_paragraphs_blank_lines() -> None:
    html = (
        "<h2>Title</h2><p>First <b>bold</b>\n  paragraph.</p><p>Second.</p>"
        "<div>line one</div><div>line two</div>a<br>b<br><br>c"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>x</td><td>y</td></tr></table>"
    )
    assert html_to_text(html) == (
        "Title\n\nFirst bold paragraph.\n\nSecond.\n\nline one\nline two\na\nb\n\nc\n\n"
        "one\ntwo\n\nx y"
    )


def test_scripts_styles_and_handlers_are_dropped() -> None:
    html = (
        '<p onclick="steal()">Safe <a href="javascript:alert(1)">text</a></p>'
        "<script>alert('x')</script><style>p{color:red}</style><noscript>no</noscript>"
        '<iframe src="https://evil.example/"></iframe><svg><text>svg</text></svg>'
        "<object>obj</object><p>end</p>"
    )
    assert html_to_text(html) == "Safe text\n\nend"


def test_entities_are_decoded_and_escaped_markup_cannot_become_a_tag() -> None:
    assert html_to_text("AT&amp;T &ndash; 5&nbsp;km &#1055;&#x0430;") == "AT&T – 5 km Па"
    # "&lt;script&gt;" is text about a tag; it stays text, with a "<" that opens nothing.
    text = html_to_text("<p>Use &lt;script&gt; carefully; 3 &lt; 4</p>")
    assert text == "Use \u2039script> carefully; 3 < 4"
    assert "<script" not in text


@pytest.mark.parametrize("fragment", ["", "   ", "<p> </p>", "<!-- only a comment -->"])
def test_empty_fragments(fragment: str) -> None:
    assert html_to_text(fragment) == ""


def test_preformatted_text_keeps_its_lines_and_control_characters_go() -> None:
    assert html_to_text("<pre>a\n b</pre>") == "a\nb"
    assert html_to_text("x\x00y <b>z</b>\x1f") == "xy z"


def test_whitespace_is_squeezed_as_splitting_on_it_does() -> None:
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert len(spaces) > 20
    other = ["a", "Ж", "中", "\u200b", "\u00ad", "\x00", "\ufeff", "é", "\u0301", "𝔸"]
    rng = random.Random(5)
    for length in [0, 1, 2, 3, 10, 60] * 300:
        text = "".join(rng.choice(spaces if rng.random() < 0.3 else other) for _ in range(length))
        assert squeezed(text) == " ".join(text.split()), repr(text)


def test_every_character_xml_forbids_goes_and_nothing_else() -> None:
    forbidden = [chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]
    forbidden += ["\ufffe", "\uffff"]
    kept = "\t\r\n é Ж 中 \ufffd \U0001f600 \u00a0"
    for char in forbidden:
        assert html_to_text(f"<p>a{char}b</p><p>{char}{kept}{char}</p>") == html_to_text(
            f"<p>ab</p><p>{kept}</p>"
        ), repr(char)
    assert html_to_text(f"<p>{''.join(forbidden)}</p>") == ""
    assert "\U0001f600" in html_to_text(f"<p>{kept}</p>")


# --- decode --------------------------------------------------------------------------------


def _without_meta(content: bytes) -> bytes:
    return re.sub(rb"<meta[^>]*>", b"", content)


@pytest.mark.parametrize(
    ("name", "codec"), [("page_cp1251.html", "cp1251"), ("page_gb18030.html", "gb18030")]
)
@pytest.mark.parametrize(
    "declared",
    [None, "iso-8859-1", "utf-8", "windows-1252"],  # no HTTP label, and three wrong ones
)
@pytest.mark.parametrize("strip_meta", [False, True])
def test_legacy_pages_decode_right_even_when_mislabelled(
    name: str, codec: str, declared: str | None, strip_meta: bool
) -> None:
    content = (FIXTURES / name).read_bytes()
    if strip_meta:
        content = _without_meta(content)
    assert decode(content, declared, html=True) == content.decode(codec)


def test_gb2312_label_reads_gb18030_only_characters() -> None:
    # The page declares gb2312; 𠮷 exists only in GB18030, as browsers read that label.
    text = decode((FIXTURES / "page_gb18030.html").read_bytes(), "gb2312", html=True)
    assert "𠮷字与镕字" in text


def test_utf8_page_labelled_windows_1251_is_read_as_utf8() -> None:
    content = "<p>Қазақстан мен Пәкістан</p>".encode()
    assert decode(content, "windows-1251", html=True) == "<p>Қазақстан мен Пәкістан</p>"


def test_kazakh_windows_1251_variant_kz1048() -> None:
    text = "<p>Мемлекет басшысы Пәкістан премьер-министрімен кездесті, көлік және сауда</p>"
    assert decode(text.encode("kz1048"), "windows-1251", html=True) == text
    assert decode(text.encode("kz1048"), None, html=True) == text


def test_uzbek_cyrillic_windows_1251_is_not_taken_for_kazakh() -> None:
    text = "<p>Ўзбекистон ва Покистон транзит бўйича келишди. Тошкентда учрашув бўлди.</p>"
    assert decode(text.encode("cp1251"), "windows-1251", html=True) == text
    assert decode(text.encode("cp1251"), None, html=True) == text


def test_turkish_windows_1254_without_label() -> None:
    text = (
        "<p>Kazakistan ve Pakistan ulaştırma bağlantılarını görüştü. Şubat ayında İslamabad'da.</p>"
    )
    assert decode(text.encode("cp1254"), None, html=True) == text


def test_bom_wins_over_labels() -> None:
    text = "<?xml version='1.0' encoding='windows-1251'?><rss>Ысык</rss>"
    assert decode(b"\xef\xbb\xbf" + text.encode(), "iso-8859-1", html=False) == text
    assert decode(text.encode("utf-16"), None, html=False) == text


def test_document_charset() -> None:
    assert document_charset(b'<?xml version="1.0" encoding="windows-1251"?>', html=False) == (
        "windows-1251"
    )
    assert document_charset(b'<html><meta charset="GB2312">', html=True) == "gb2312"
    meta = b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
    assert document_charset(meta, html=True) == "koi8-r"
    assert document_charset(b'<meta charset="utf-16">', html=True) == "utf-8"  # cannot be
    assert document_charset(b"<html>", html=True) is None


# --- articles ------------------------------------------------------------------------------


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_site_selector_wins() -> None:
    article = extract_article(
        read("article_kazinform.html"),
        url="https://oz.wire-kz.example/news/transit-a1b2c3/",
        selector="div.article__content",
    )
    assert article.text == (
        "АСТАНА. Тест ахборот – Қозоғистон ва Покистон ташқи ишлар вазирлари транзит йўлаги "
        "бўйича келишувга эришди.\n\n"
        "Томонлар Термиз – Мозори Шариф – Кобул – Пешовар темир йўли лойиҳасини муҳокама қилди."
        "\n\nКейинги учрашув апрель ойида Исломободда бўлиб ўтади."
    )
    assert article.title == "Қозоғистон ва Покистон транзит бўйича келишди"
    assert article.published == datetime(2026, 8, 18, 21, 38, tzinfo=PLUS5)
    assert article.language == "uz"


def test_selector_that_matches_nothing_falls_back_to_extraction() -> None:
    article = extract_article(
        read("article_kazinform.html"),
        url="https://oz.wire-kz.example/news/transit-a1b2c3/",
        selector="div.does-not-exist",
    )
    assert "Мозори Шариф" in article.text
    assert "showAd" not in article.text
    assert "Ўхшаш янгиликлар" not in article.text  # the related-news box is not the article


def test_json_ld_article_body() -> None:
    article = extract_article(read("article_jsonld.html"), url="https://tengri-test.example/n/")
    assert article.text.startswith("Казахстан и Пакистан договорились о строительстве")
    assert article.text.endswith("Стороны планируют подписать соглашение до конца года.")
    assert article.text.count("\n\n") == 2
    assert "Подписаться" not in article.text  # the page's teaser and paywall link are not used
    assert article.title == "Казахстан и Пакистан построят железную дорогу через Афганистан"
    assert article.published == datetime(2026, 8, 18, 14, 5, tzinfo=PLUS5)
    assert article.language == "ru-ru"


def test_generic_extraction_with_metadata() -> None:
    article = extract_article(read("article_generic.html"), url="https://haber.example/a/1")
    assert "Termez'den başlayarak Mezar-ı Şerif" in article.text
    assert "İslamabad'da yapılacak" in article.text
    assert "Bu yorum metne girmemeli" not in article.text  # comments excluded
    assert "Tüm hakları saklıdır" not in article.text  # footer excluded
    assert article.title == "Kazakistan ile Pakistan demir yolu hattında anlaştı"
    assert article.published == datetime(2026, 2, 4, 18, 27, tzinfo=timezone(timedelta(hours=3)))
    assert article.language == "tr"


def test_short_json_ld_body_is_a_teaser_when_the_page_has_more() -> None:
    teaser = "Казахстан и Пакистан договорились."
    assert len(teaser) < MIN_BODY_CHARS
    page = read("article_generic.html").replace(
        b"</head>",
        b'<script type="application/ld+json">{"@type": "NewsArticle", "articleBody": "'
        + teaser.encode()
        + b'"}</script></head>',
    )
    article = extract_article(page, url="https://haber.example/a/1")
    assert "Termez'den" in article.text


def test_legacy_encoded_article() -> None:
    article = extract_article(
        _without_meta(read("page_cp1251.html")), url="https://x.example/ru/1", encoding=None
    )
    assert "железной дороги через Афганистан" in article.text
    assert "Мемлекет басшысы Астанада" in article.text


@pytest.mark.parametrize(
    "page",
    [b"", b"<html><body></body></html>", b"<html><body><script>x()</script></body></html>"],
)
def test_page_without_text_is_a_parse_error(page: bytes) -> None:
    with pytest.raises(ParseError):
        extract_article(page, url="https://x.example/empty")
