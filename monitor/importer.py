"""`monitor import DIR`: load seeds-format files as items, through the same save path as polling.

An imported item keeps its file's hex16 as its id (and so its corpus file name), gets its
language identified and is matched against the watchlists like any other. Files are taken in
name order, so the sequence numbers of the corpus follow the order of the directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from loguru import logger

from monitor.errors import ImportFormatError
from monitor.models import Item, hex16
from monitor.pipeline import Context, Counts, Found, queue_digest, save
from monitor.store.corpus import parse_seed_file
from monitor.text.language import detect_language


@dataclass
class ImportReport:
    counts: Counts = field(default_factory=Counts)
    errors: list[str] = field(default_factory=list)
    digests: int = 0


def seed_item(path: Path, *, source: str, zone: ZoneInfo) -> Item:
    doc = parse_seed_file(path)
    try:
        day = date.fromisoformat(doc.date)
    except ValueError as exc:
        raise ImportFormatError(str(path), f"bad date {doc.date!r}") from exc
    sample = f"{doc.title}\n{doc.body[:3000]}"
    return Item(
        id=doc.hex16,
        url=None,
        source=source,
        title=doc.title,
        text=doc.body,
        published=datetime.combine(day, time(0, 0), tzinfo=zone),
        language=detect_language(sample),
        entry_hash=hex16(f"{doc.date}\x1f{doc.title}\x1f{doc.body}"),
    )


def import_dir(ctx: Context, directory: Path, *, alert: bool = False) -> ImportReport:
    """Import every seeds-format file in `directory`. A bad file is reported by name and
    skipped; the others are imported."""
    report = ImportReport()
    if not directory.is_dir():
        raise ImportFormatError(str(directory), "not a directory")
    zone = ZoneInfo(ctx.settings.timezone)
    source = f"import:{directory.resolve().name}"
    found: list[Found] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:  # parse_seed_file checks the name too, and names the file when it is wrong
            item = seed_item(path, source=source, zone=zone)
        except ImportFormatError as exc:
            report.errors.append(str(exc))
            continue
        report.counts.entries += 1
        saved = save(ctx, item, alert=False)
        report.counts.add(saved.counts)
        if saved.status == "new":
            found.extend(saved.found(item))
    for error in report.errors:
        logger.error("import: {}", error)
    if alert:
        report.digests = queue_digest(ctx, f"Imported from {directory.name}", found)
    return report
