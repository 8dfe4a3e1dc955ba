"""The one way untrusted XML is parsed: no DTD, no entity expansion, no network, no huge
trees. Feeds and sitemaps both use it. Holds no business logic."""

from __future__ import annotations

import threading

from lxml import etree

# lxml parsers must not be shared between threads; each thread gets its own.
_per_thread = threading.local()


def safe_parser(*, recover: bool = False) -> etree.XMLParser:
    """A parser for text already decoded and re-encoded as UTF-8 (the declaration is ignored)."""
    name = "lenient" if recover else "strict"
    parser = getattr(_per_thread, name, None)
    if parser is None:
        parser = etree.XMLParser(
            encoding="utf-8",
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
            recover=recover,
        )
        setattr(_per_thread, name, parser)
    return parser
