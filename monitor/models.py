"""The records that flow through the pipeline.

Frozen dataclasses inside the pipeline; pydantic (`Item`) where a record crosses an edge
(storage, export, alerts) and must be validated. Nothing here does I/O.

    source --fetch--> FetchResult --parse--> ParsedPage(Entry...) --build--> Item
    Item --match--> Match(Hit...) --store--> SaveResult (+ corpus files, outbox alerts)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def hex16(text: str) -> str:
    """First 16 hex digits of SHA-256: the id form used by corpus file names."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- retrieval -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP retrieval gave. A 304 is a normal result (`not_modified`), not an error."""

    url: str  # the final URL, after redirects
    status: int
    content: bytes  # empty on 304
    headers: dict[str, str]  # lower-cased names
    etag: str | None = None
    last_modified: str | None = None
    encoding: str | None = None  # charset from Content-Type, if any
    not_modified: bool = False
    retry_after: float | None = None  # seconds, when the server asked for a pause


@dataclass(frozen=True)
class Validators:
    """Conditional-request validators kept per URL between polls."""

    etag: str | None = None
    last_modified: str | None = None


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """What a source said about one item, before enrichment.

    `published` is timezone-aware when the source gave a zone, naive when it did not (the
    pipeline then reads it in the source's configured zone), None when the source gave no date.
    `content` is plain text when the feed carried the full body; None when it carried only a
    summary (the pipeline then fetches the page).
    """

    url: str
    title: str = ""
    guid: str | None = None
    summary: str = ""
    content: str | None = None
    published: datetime | None = None
    language: str | None = None  # a hint from the feed (xml:lang, <language>)


@dataclass(frozen=True)
class ParsedPage:
    """One parsed document: its entries and where to go for older ones (backfill)."""

    entries: tuple[Entry, ...]
    next_pages: tuple[str, ...] = ()  # older pages, child sitemaps, paged-feed "next" links
    title: str = ""
    language: str | None = None
    warnings: tuple[str, ...] = ()  # e.g. "not well-formed (invalid token) at line 3"


@dataclass(frozen=True)
class Article:
    """The main text of an article page, from the extraction library."""

    text: str
    title: str = ""
    published: datetime | None = None
    language: str | None = None


# --- enrichment ----------------------------------------------------------------------------


class Item(BaseModel):
    """One news item as stored: validated at the storage, export and alert edges."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="stable id: hex16 of the guid, else of the canonical URL")
    url: str | None = Field(description="canonical URL (tracking parameters and fragment removed)")
    source: str
    guid: str | None = None
    title: str = ""
    summary: str = ""
    text: str = Field(default="", description="full body text")
    published: datetime | None = Field(default=None, description="aware, in the source's offset")
    language: str = "und"
    fetched_at: datetime = Field(default_factory=utcnow)
    entry_hash: str = Field(
        default="", description="hash of what the source said (feed entry); a change is an update"
    )

    @field_validator("published", "fetched_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("datetime must carry a UTC offset")
        return value

    @cached_property
    def content_hash(self) -> str:
        """Changes when what a reader sees changes; used to tell an update from a repeat.
        Kept once computed (the model is frozen), and pickled with the item: a worker
        computes it (see `monitor.enrich.enrich`) for the polling process, which needs it
        twice. `model_copy` drops it."""
        return hex16("\x1f".join((self.title, self.summary, self.text)))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Item:
        """A copy (with `update`), which computes its `content_hash` afresh."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("content_hash", None)
        return copy

    @property
    def corpus_id(self) -> str:
        """hex16 used in corpus file names: of the canonical URL, else the item id (imports)."""
        return hex16(self.url) if self.url else self.id

    @property
    def date_text(self) -> str:
        """Publication date as the source gives it (its own offset), YYYY-MM-DD."""
        stamp = self.published or self.fetched_at
        return stamp.date().isoformat()


# --- matching ------------------------------------------------------------------------------

FieldName = Literal["title", "lead", "body"]


@dataclass(frozen=True)
class Hit:
    """One alias found in one place of an item."""

    entity: str
    alias: str  # the alias as written in the entity file
    field: FieldName
    start: int  # character offset in that field of the item
    end: int
    surface: str  # the text as it stands in the item (e.g. an inflected form)


@dataclass(frozen=True)
class Match:
    """A watchlist that an item satisfies, and why."""

    watchlist: str
    hits: tuple[Hit, ...]
    rule: str  # which rule fired, readable ("all-of(kazakhstan, pakistan)")
    score: float = 1.0
    developments: tuple[str, ...] = ()  # ids of the watchlist's awaited developments it meets

    @property
    def aliases(self) -> list[str]:
        """Distinct matched surface forms, in order of first appearance."""
        seen: dict[str, None] = {}
        for hit in self.hits:
            seen.setdefault(hit.surface, None)
        return list(seen)


# --- stories and alerts ----------------------------------------------------------------------


class Priority(IntEnum):
    """How much an alert matters; channels filter on it (`min_priority`) and quiet hours let
    only the highest through."""

    LOW = 0  # another report of a story already alerted (thread reply, digest line)
    NORMAL = 1  # a new story on a watchlist
    HIGH = 2  # a story spreading fast (breaking)
    URGENT = 3  # an awaited development

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | Priority) -> Priority:
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(p.label for p in cls)
            raise ValueError(f"unknown priority {value!r} (one of {names})") from None


@dataclass(frozen=True)
class Evidence:
    """What an item says that does not depend on its language: the entities the dictionaries
    resolve (with where they stand), and the numbers it gives. Stories are built from it."""

    entities: frozenset[str] = frozenset()
    lead_entities: frozenset[str] = frozenset()  # in the title or the lead (datelines)
    numbers: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.entities and not self.numbers


# --- storage -------------------------------------------------------------------------------

SaveStatus = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class CorpusEntry:
    """One file of the corpus: `<corpus>/<watchlist>/<seq:03d>_<hex16>.txt`."""

    watchlist: str
    seq: int
    item_id: str
    corpus_id: str

    @property
    def filename(self) -> str:
        return f"{self.seq:03d}_{self.corpus_id}.txt"


@dataclass(frozen=True)
class SaveResult:
    status: SaveStatus
    item_id: str
    corpus: tuple[CorpusEntry, ...] = ()  # files to write (new matches only)
    alerts: tuple[int, ...] = ()  # outbox ids queued in the same transaction
    story_id: str | None = None


@dataclass
class SourceState:
    """Per-source poll state, kept in the store so several workers can share the schedule."""

    name: str
    next_due: datetime = field(default_factory=utcnow)
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None  # of the last body seen: a 200 with the same bytes is a skip
    failures: int = 0
    last_status: str = "never"  # ok | not_modified | unchanged | error | never
    last_success: datetime | None = None
    last_error: str | None = None
    last_polled: datetime | None = None
    items_total: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True)
class OutboxAlert:
    """One alert waiting in (or delivered from) the durable outbox."""

    id: int
    channel: str  # a configured channel name ("slack", "email", ...)
    kind: str  # story | update | breaking | development | digest | test (see alerts.render)
    key: str  # idempotency key: the same on every attempt
    payload: dict[str, Any]
    attempts: int = 0
    next_attempt: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    priority: Priority = Priority.NORMAL
    thread_key: str | None = None  # key of the alert (same channel) this one replies to
    fold: bool = False  # goes out inside the channel's next digest, not alone
    receipt: str | None = None  # what the channel answered (Slack message ts), for replies
    folded_into: int | None = None  # id of the digest alert that carried this one
