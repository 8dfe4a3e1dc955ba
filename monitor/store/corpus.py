"""The corpus: one text file per (watchlist, item) in the seeds format, the form analysts read.

    <root>/<watchlist>/<seq:03d>_<hex16>.txt

A file's text is a space, `date`, a space, the ISO date, a space, then the article: its title
line (title + "\\n") when it has one, then the body exactly as stored, with no newline added:

    " date 2026-02-04 Kazakhstan and Pakistan sign ...\\nISLAMABAD. Kazinform - ..."

The database is the truth; files are written after the commit that recorded them and are
confirmed afterwards (`Store.mark_corpus_written`). Writes are atomic: a kill at any moment
leaves either the whole file or none under its name; a leftover temporary file starts with
TMP_PREFIX (a dot, so directory listings and imports skip it).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

from monitor.errors import ImportFormatError
from monitor.models import CorpusEntry, Item

__all__ = [
    "FILE_NAME",
    "TMP_PREFIX",
    "CorpusEntry",
    "SeedDoc",
    "corpus_files",
    "parse_seed_file",
    "parse_seed_text",
    "remove_temp_files",
    "render",
    "split_title",
    "write_atomic",
    "write_entry",
]

TMP_PREFIX = ".tmp-"
FILE_NAME = re.compile(r"^(\d{3,})_([0-9a-f]{16})\.txt$")
HEADER = re.compile(r"^ date (\d{4}-\d{2}-\d{2}) ")

# A first line is a title only when it is short and does not read as a sentence: the seeds
# without a title (000 zh, 004 en) open with a long paragraph ending in "。" or ".", the ones
# with a title (001 kk, 002 uz, 003 tr) with a headline without final punctuation. A headline
# ending in "?" or "!" is therefore read as body: the text is still kept whole, only its split
# differs.
TITLE_MAX = 200
SENTENCE_END = frozenset(".。!?…！？؟۔．｡")
CLOSERS = "\"'»”’)]›」』）"


@dataclass(frozen=True)
class SeedDoc:
    """One seeds-format file, read back."""

    seq: int
    hex16: str
    date: str
    title: str
    body: str


def render(date: str, title: str, body: str) -> str:
    """The text of a corpus file. A line break inside the title would move the boundary
    between title and body, so it becomes a space."""
    title = " ".join(title.splitlines()) if title else ""
    if title:
        return f" date {date} {title}\n{body}"
    return f" date {date} {body}"


def is_title(line: str) -> bool:
    """Whether the first line of an article reads as a title (see TITLE_MAX, SENTENCE_END).
    A line with a carriage return or other control character is not a title: the split would
    then have to drop bytes, and the round trip must keep them."""
    if not line.strip() or len(line) > TITLE_MAX:
        return False
    if any(ch < " " for ch in line):
        return False
    last = line.rstrip().rstrip(CLOSERS).rstrip()
    return bool(last) and last[-1] not in SENTENCE_END


def split_title(article: str) -> tuple[str, str]:
    """(title, body) of an article as it stands after the date: `render` joins them back to
    exactly `article`."""
    first, newline, rest = article.partition("\n")
    if newline and is_title(first):
        return first, rest
    return "", article


def parse_seed_text(text: str, *, name: str) -> SeedDoc:
    """Read a seeds-format text; `name` is its file name or path (the name carries seq and
    hex16) and labels any ImportFormatError."""
    named = FILE_NAME.match(Path(name).name)
    if named is None:
        raise ImportFormatError(name, "not a seeds-format name (NNN_<16 lowercase hex>.txt)")
    header = HEADER.match(text)
    if header is None:
        raise ImportFormatError(name, 'does not start with " date YYYY-MM-DD "')
    try:
        Date.fromisoformat(header.group(1))
    except ValueError as exc:
        raise ImportFormatError(name, f"bad date {header.group(1)!r}") from exc
    title, body = split_title(text[header.end() :])
    return SeedDoc(
        seq=int(named.group(1)),
        hex16=named.group(2),
        date=header.group(1),
        title=title,
        body=body,
    )


def parse_seed_file(path: Path) -> SeedDoc:
    """Read one seeds-format file. Raises ImportFormatError naming the file when its name,
    encoding or header is wrong."""
    if FILE_NAME.match(path.name) is None:
        raise ImportFormatError(str(path), "not a seeds-format name (NNN_<16 lowercase hex>.txt)")
    try:
        # Bytes, not read_text: newline translation would change the text.
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(str(path), f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ImportFormatError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return parse_seed_text(text, name=str(path))


def write_atomic(path: Path, text: str, *, sync_dir: bool = True) -> None:
    """Write `text` (UTF-8) to `path` so that a reader, or a crash, never sees part of it: a
    temporary file in the same directory is written, flushed and fsynced, then renamed over
    `path`, and the directory is fsynced so that the rename itself survives a power loss
    (`sync_dir=False` leaves that to the caller, who syncs each directory once per batch)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{secrets.token_hex(4)}")
    data = text.encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows, where a directory cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def entry_path(root: Path, entry: CorpusEntry) -> Path:
    """Where a corpus entry's file lives. A watchlist name is one path component."""
    name = entry.watchlist
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"watchlist name {name!r} cannot be a corpus directory")
    return root / name / entry.filename


def write_entry(root: Path, entry: CorpusEntry, item: Item) -> Path:
    """Write the file of one corpus entry; returns its path."""
    path = entry_path(root, entry)
    write_atomic(path, render(item.date_text, item.title, item.text))
    return path


def write_entries(root: Path, pairs: Sequence[tuple[CorpusEntry, Item]]) -> list[Path]:
    """Write many corpus files; each directory is fsynced once, after all its renames."""
    paths = []
    for entry, item in pairs:
        path = entry_path(root, entry)
        write_atomic(path, render(item.date_text, item.title, item.text), sync_dir=False)
        paths.append(path)
    for directory in {p.parent for p in paths}:
        _fsync_dir(directory)
    return paths


def corpus_files(directory: Path) -> list[Path]:
    """The corpus files of one watchlist directory, in sequence order (temporary files and
    anything else not named like a corpus file are left out)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if FILE_NAME.match(p.name) and p.is_file()]
    return sorted(found, key=lambda p: (int(p.name.partition("_")[0]), p.name))


def remove_temp_files(root: Path) -> int:
    """Delete temporary files left under `root` by writes that were killed; returns how many.
    Only for when no writer is running (at start-up)."""
    removed = 0
    for path in root.glob(f"*/{TMP_PREFIX}*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
