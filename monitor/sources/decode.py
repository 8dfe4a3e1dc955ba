"""Bytes to text for fetched documents, right even when the charset label lies.

A utility module: no business logic. Order of evidence:

1. a byte-order mark;
2. the HTTP charset, then the document's own declaration (`<?xml encoding=...?>`, and for
   HTML `<meta charset>`), each accepted only when the bytes agree with it;
3. a detector (charset_normalizer, limited to the encodings of the region we watch).

"Agree" means: the bytes decode without error, and text that is valid UTF-8 is read as UTF-8
whatever the label says (legacy-encoded Cyrillic or Chinese is essentially never valid UTF-8,
while servers labelling UTF-8 pages "windows-1251" or ISO-8859-1 are common), and a Western
single-byte label whose result is mostly accented Latin letters is taken for the mislabelled
Cyrillic or Chinese page it usually is. Labels are read the way browsers read them (WHATWG):
ISO-8859-1/ASCII mean windows-1252 and GB2312/GBK mean GB18030.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG Encoding Standard labels that differ from Python's codec of the same name.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "cp819": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "tis-620": "cp874",
    "x-sjis": "shift_jis",
}
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
# Single-byte codecs whose upper half is Latin letters: a page of Cyrillic or Chinese bytes
# read through one of them comes out as runs of accented letters.
_LATIN = frozenset(
    {"cp1252", "latin-1", "iso8859-15", "cp1254", "iso8859-9", "cp1250", "iso8859-2", "cp1257"}
)
# What the detector may choose from: the region's legacy encodings. windows-1252 is left out
# on purpose: Turkish windows-1254 text differs from it in six letters and the detector
# cannot tell them apart on short pages; 1254 reads Western text almost the same.
_DETECTABLE = [
    "utf_8",
    "cp1251",
    "kz1048",
    "koi8_r",
    "gb18030",
    "big5",
    "cp1254",
    "cp1256",
]

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:+-]{1,40})""")
_META = re.compile(
    rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:+-]{1,40})""", re.IGNORECASE
)
_PRESCAN = 4096
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)

# kz1048 is windows-1251 with Kazakh letters where 1251 has Serbian, Macedonian and Ukrainian
# ones; a page with those bytes is Kazakh here far more often than anything else. Ў/ў (A1/A2)
# do not count: Uzbek Cyrillic in windows-1251 writes them ("Ўзбекистон").
_KZ1048_ONLY = frozenset(
    byte
    for byte in range(0x80, 0x100)
    if bytes([byte]).decode("cp1251", "replace") != bytes([byte]).decode("kz1048", "replace")
) - {0xA1, 0xA2}


def decode(content: bytes, declared: str | None, *, html: bool) -> str:
    """`content` as text. `declared` is the HTTP charset; `html` says to look for `<meta>`."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(codec, errors="replace")
    for label in (declared, document_charset(content, html=html)):
        chosen = _codec(label)
        if chosen is not None:
            text = _try(content, chosen)
            if text is not None:
                return text
    return _detect(content)


def document_charset(content: bytes, *, html: bool) -> str | None:
    """The charset the document declares about itself, if any."""
    head = content[:_PRESCAN]
    match = _XML_DECL.match(head)
    if html:
        match = _META.search(head) or match
    if match is None:
        return None
    label = match.group(1).decode("ascii").lower()
    # A declaration we could read as ASCII cannot be true if it says UTF-16/32 (WHATWG).
    return "utf-8" if label.startswith(("utf-16", "utf-32", "ucs-2", "unicode")) else label


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try(content: bytes, codec: str) -> str | None:
    if codec in _WIDE:
        try:
            return content.decode(codec)
        except UnicodeDecodeError:
            return None
    if content.isascii():
        return content.decode("ascii")
    utf8 = _utf8(content)
    if utf8 is not None:
        return utf8
    if codec == "utf-8":
        return None
    try:
        text = content.decode(codec)
    except UnicodeDecodeError:
        return None
    if codec in _LATIN and _looks_misread(text):
        return None
    if codec == "cp1251":
        return _maybe_kazakh(content, text)
    return text


def _detect(content: bytes) -> str:
    utf8 = _utf8(content)
    if utf8 is not None:
        return utf8
    best = charset_normalizer.from_bytes(content, cp_isolation=_DETECTABLE).best()
    if best is None or best.encoding is None:
        return content.decode("utf-8", errors="replace")
    codec = codecs.lookup(best.encoding).name
    text = content.decode(codec, errors="replace")
    return _maybe_kazakh(content, text) if codec == "cp1251" else text


def _utf8(content: bytes) -> str | None:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_misread(text: str) -> bool:
    """Mostly non-ASCII letters from a Latin codec: Cyrillic or CJK bytes read as Latin-1."""
    ascii_letters = other_letters = 0
    # Tag and attribute names are ASCII whatever the text is; count the text only.
    for char in _MARKUP.sub(" ", text):
        if char.isalpha():
            if char.isascii():
                ascii_letters += 1
            else:
                other_letters += 1
    return other_letters >= 8 and other_letters > ascii_letters


def _maybe_kazakh(content: bytes, text: str) -> str:
    if _KZ1048_ONLY.isdisjoint(content):
        return text
    return content.decode("kz1048", errors="replace")
