"""The seeds format: reading, rendering (byte for byte) and atomic writing of corpus files."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ImportFormatError
from monitor.models import CorpusEntry, Item
from monitor.store import corpus
from monitor.store.corpus import (
    TMP_PREFIX,
    corpus_files,
    parse_seed_file,
    parse_seed_text,
    remove_temp_files,
    render,
    split_title,
    write_atomic,
    write_entry,
)

REPO = Path(__file__).resolve().parent.parent
NAME = "007_0123456789abcdef.txt"


# --- the real seeds ------------------------------------------------------------------------------


def test_every_seed_round_trips_byte_for_byte(seeds_dir: Path) -> None:
    seeds = sorted(seeds_dir.glob("*.txt"))
    assert [p.name[:3] for p in seeds] == ["000", "001", "002", "003", "004"]
    titled = []
    for path in seeds:
        doc = parse_seed_file(path)
        assert (doc.seq, doc.hex16) == (int(path.name[:3]), path.name[4:20])
        assert doc.date == "2026-02-04"
        assert render(doc.date, doc.title, doc.body).encode("utf-8") == path.read_bytes()
        assert "\n" not in doc.title
        if doc.title:
            titled.append(path.name[:3])
    assert titled == ["001", "002", "003"]


def test_seed_titles_are_the_headlines(seeds_dir: Path) -> None:
    docs = {p.name[:3]: parse_seed_file(p) for p in sorted(seeds_dir.glob("*.txt"))}
    assert docs["003"].title == "Kazakistan ve Pakistan Stratejik Ortaklık Kurdu - Son Dakika"
    assert docs["001"].title.startswith("Қазақстан мен Пәкістан")
    assert docs["002"].body.startswith("ISLAMABAD. Kazinform")
    assert docs["000"].body.startswith("托卡耶夫总统")  # a first paragraph, not a title
    assert docs["004"].body.startswith("President Kassym-Jomart Tokayev expressed")


# --- the title/body split -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("article", "title"),
    [
        ("Gwadar port opens\nThe port opened today.", "Gwadar port opens"),
        ("Gwadar port opens\n", "Gwadar port opens"),  # a title and an empty body
        ("Gwadar port opens", ""),  # no following line: all body
        ("", ""),
        ("\nBody after a blank line.", ""),
        ("   \nBody after a blank line.", ""),
        ("The port opened today.\nMore.", ""),  # a sentence, not a title
        ("港口今天开放。\n更多。", ""),
        ("He said: «We are ready.»\nMore.", ""),  # final punctuation inside closing quotes
        ('He said "we are ready."\nMore.', ""),
        ("Will the railway be built?\nMore.", ""),
        ("Tokayev visits «Gwadar»\nMore.", "Tokayev visits «Gwadar»"),
        ("Президент: Покистон — муҳим ҳамкор\nISLAMABAD.", "Президент: Покистон — муҳим ҳамкор"),
        ("x" * 200 + "\nbody", "x" * 200),
        ("x" * 201 + "\nbody", ""),  # too long for a title
        ("Title\r\nBody\r\nMore\r\n", ""),  # CRLF: splitting would drop the \r
        ("Title\twith tab\nBody", ""),
        ("Body ends with newlines\n\n\n", "Body ends with newlines"),
    ],
)
def test_split_title_and_render_round_trip(article: str, title: str) -> None:
    found_title, body = split_title(article)
    assert found_title == title
    text = f" date 2026-02-04 {article}"
    doc = parse_seed_text(text, name=NAME)
    assert (doc.title, doc.body) == (found_title, body)
    assert render(doc.date, doc.title, doc.body) == text


def test_render_shapes() -> None:
    assert render("2026-02-04", "Title", "Body\n") == " date 2026-02-04 Title\nBody\n"
    assert render("2026-02-04", "", "Body") == " date 2026-02-04 Body"
    assert render("2026-02-04", "", "") == " date 2026-02-04 "
    # A line break in a title would move the title/body boundary.
    assert render("2026-02-04", "Two\nlines\r\nhere", "B") == " date 2026-02-04 Two lines here\nB"


# --- malformed files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("01_0123456789abcdef.txt", b" date 2026-02-04 x", "name"),
        ("001_0123456789ABCDEF.txt", b" date 2026-02-04 x", "name"),
        ("001_0123456789abcdef.md", b" date 2026-02-04 x", "name"),
        (NAME, b"date 2026-02-04 x", "date YYYY-MM-DD"),
        (NAME, b" date 04.02.2026 x", "date YYYY-MM-DD"),
        (NAME, b" date 2026-02-04", "date YYYY-MM-DD"),  # no space after the date
        (NAME, b" date 2026-13-40 x", "bad date"),
        (NAME, b" date 2026-02-04 \xff\xfe", "not UTF-8"),
        (NAME, b"\xef\xbb\xbf date 2026-02-04 x", "date YYYY-MM-DD"),  # a BOM
    ],
)
def test_a_malformed_file_is_refused_by_name(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFormatError, match=reason) as caught:
        parse_seed_file(path)
    assert caught.value.path == str(path)
    assert name in str(caught.value)


def test_parse_keeps_bytes_as_they_are(tmp_path: Path) -> None:
    text = " date 2026-02-04 Title\nline one\r\nline two\u2028three\n\n"
    path = tmp_path / NAME
    path.write_bytes(text.encode("utf-8"))
    doc = parse_seed_file(path)
    assert (doc.seq, doc.hex16, doc.title) == (7, "0123456789abcdef", "Title")
    assert doc.body == "line one\r\nline two\u2028three\n\n"


# --- writing -------------------------------------------------------------------------------------


def make_item(**fields: Any) -> Item:
    values: dict[str, Any] = {
        "id": "a33cb9294d5c8809",
        "url": None,
        "source": "wire",
        "title": "Қазақстан мен Пәкістан",
        "text": "Бірінші абзац.\n\nЕкінші абзац.\n",
        # 01:30 in Almaty is still the previous day in UTC: the file takes the source's day.
        "published": datetime(2026, 2, 4, 1, 30, tzinfo=timezone(timedelta(hours=5))),
        "fetched_at": datetime(2026, 2, 5, tzinfo=UTC),
    }
    values.update(fields)
    return Item(**values)


def test_write_entry_writes_the_seeds_format(tmp_path: Path) -> None:
    item = make_item()
    entry = CorpusEntry(watchlist="kz-pk", seq=3, item_id=item.id, corpus_id=item.corpus_id)
    path = write_entry(tmp_path, entry, item)
    assert path == tmp_path / "kz-pk" / "003_a33cb9294d5c8809.txt"
    expected = " date 2026-02-04 Қазақстан мен Пәкістан\nБірінші абзац.\n\nЕкінші абзац.\n"
    assert path.read_bytes() == expected.encode("utf-8")
    assert parse_seed_file(path).title == item.title

    untitled = make_item(title="", text="Body only.")
    path = write_entry(tmp_path, entry, untitled)
    assert path.read_bytes() == b" date 2026-02-04 Body only."
    assert [p.name for p in (tmp_path / "kz-pk").iterdir()] == [path.name]  # no temp left


@pytest.mark.parametrize("watchlist", ["", "../up", "a/b", ".hidden"])
def test_write_entry_refuses_a_watchlist_that_is_not_one_directory(
    tmp_path: Path, watchlist: str
) -> None:
    entry = CorpusEntry(watchlist=watchlist, seq=0, item_id="x", corpus_id="0123456789abcdef")
    with pytest.raises(ValueError, match="cannot be a corpus directory"):
        write_entry(tmp_path, entry, make_item())


def test_a_failed_rename_leaves_no_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "kz-pk" / NAME
    write_atomic(target, "old complete text")

    def crash(src: object, dst: object) -> None:
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        write_atomic(target, "new text " * 1000)
    with pytest.raises(OSError, match="simulated crash"):
        write_atomic(tmp_path / "kz-pk" / "008_0123456789abcdef.txt", "never visible")
    assert target.read_text(encoding="utf-8") == "old complete text"
    assert [p.name for p in target.parent.iterdir()] == [NAME]


# Writes a large file through write_atomic and SIGKILLs itself at the given point: after half
# the bytes were written, or after the whole temp file was written and fsynced, before the rename.
KILLER = """
import os, signal, sys
from pathlib import Path
from monitor.store import corpus

where, target = sys.argv[1], Path(sys.argv[2])
real_fdopen = os.fdopen

class Dying:
    def __init__(self, handle):
        self.handle = handle
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)
    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    def __getattr__(self, name):
        return getattr(self.handle, name)

def dying_fsync(fd):
    os.kill(os.getpid(), signal.SIGKILL)

if where == "write":
    os.fdopen = lambda fd, mode: Dying(real_fdopen(fd, mode))
elif where == "fsync":
    os.fsync = dying_fsync
corpus.write_atomic(target, "Гвадар " * 200_000)
"""


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_a_kill_mid_write_leaves_no_partial_file_under_the_final_name(
    tmp_path: Path, where: str
) -> None:
    folder = tmp_path / "corpus" / "kz-pk"
    target = folder / NAME
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, where, str(target)],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert not target.exists()
    leftovers = list(folder.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(TMP_PREFIX)
    assert leftovers[0].stat().st_size > 0  # the kill did land mid-way
    assert corpus_files(folder) == []  # a temp file never counts as a corpus file
    assert remove_temp_files(tmp_path / "corpus") == 1
    assert list(folder.iterdir()) == []


def test_corpus_files_lists_only_corpus_files_in_sequence_order(tmp_path: Path) -> None:
    for name in ("1000_0123456789abcdef.txt", "002_0123456789abcdef.txt", "010_aa.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / f"{TMP_PREFIX}003_0123456789abcdef.txt.1a2b").write_text("x", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert [p.name for p in corpus_files(tmp_path)] == [
        "002_0123456789abcdef.txt",
        "1000_0123456789abcdef.txt",
    ]
    assert corpus_files(tmp_path / "absent") == []


def test_the_module_reexports_corpus_entry() -> None:
    assert corpus.CorpusEntry is CorpusEntry
