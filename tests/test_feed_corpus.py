"""Every document of feedparser's own test corpus through parse_feed: hostile, malformed,
mislabelled. A ParseError is a fine answer; any other exception is a bug, and so is script,
a `javascript:` URL or an event-handler attribute in any text an Entry carries."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.sources.feeds import parse_feed

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "feedparser-tests"
UNSAFE = re.compile(r"<\s*script|javascript:|\son[a-z]+\s*=\s*[\"'\w]", re.IGNORECASE)
# The corpus parses in well under a second on one core; this bound only catches a blow-up.
TIME_LIMIT = 20.0


@pytest.fixture(scope="module")
def corpus() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"the feedparser corpus is not at {CORPUS} (run beside ../shared)")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))
    assert len(files) > 1000, "the corpus looks truncated"
    return files


def test_every_document_parses_or_is_refused(corpus: list[Path]) -> None:
    crashes: list[str] = []
    unsafe: list[str] = []
    refused = entries = 0
    started = time.perf_counter()
    for path in corpus:
        name = path.relative_to(CORPUS).as_posix()
        try:
            page = parse_feed(path.read_bytes(), url="http://example.org/feed/", source="corpus")
        except ParseError:
            refused += 1
            continue
        except Exception as exc:
            crashes.append(f"{name}: {exc!r}")
            continue
        for entry in page.entries:
            entries += 1
            assert entry.published is None or isinstance(entry.published, datetime)
            assert entry.url == "" or entry.url.startswith(("http://", "https://")), name
            for field in ("title", "summary", "content"):
                text = getattr(entry, field) or ""
                if UNSAFE.search(text):
                    unsafe.append(f"{name}: {field}={text[:80]!r}")
    elapsed = time.perf_counter() - started
    assert crashes == []
    assert unsafe == []
    assert elapsed < TIME_LIMIT, f"{len(corpus)} documents took {elapsed:.1f} s"
    # Most of the corpus is feeds; refusing many would mean the reader lost its way.
    assert refused < len(corpus) * 0.05
    assert entries > 500


def test_sanitize_documents_keep_their_text(corpus: list[Path]) -> None:
    # The text around an injected <script> or <iframe> survives; only the injection goes.
    path = CORPUS / "wellformed" / "sanitize" / "entry_content_script.xml"
    if path not in corpus:
        pytest.skip(f"{path.name} is not in this copy of the corpus")
    page = parse_feed(path.read_bytes(), url="http://example.org/feed/", source="corpus")
    assert page.entries
    content = page.entries[0].content or ""
    assert "safe" in content
    assert "alert" not in content
