"""The one storage interface. SQLite and PostgreSQL both serve it (see `sql.py`), and every
backend passes the same contract tests (`tests/test_store_contract.py`).

The store is also the schedule: each source row carries its next due time, validators and
failure count, and workers *claim* due sources with a lease, so several processes can share one
PostgreSQL database without polling a source twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from monitor.models import (
    CorpusEntry,
    Evidence,
    Item,
    Match,
    OutboxAlert,
    Priority,
    SaveResult,
    SourceState,
)


@dataclass(frozen=True)
class StoredItem:
    """An item as read back, with the watchlists it matched."""

    item: Item
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class AlertIntent:
    """An alert to queue in the outbox, in the same transaction as the item that causes it."""

    channel: str
    kind: str  # story | update | breaking | development | digest | test
    key: str  # idempotency key, unique per (channel, key)
    payload: dict[str, Any]
    priority: Priority = Priority.NORMAL
    thread_key: str | None = None  # reply in the thread of this alert (same channel)
    not_before: datetime | None = None  # first attempt (digest time, end of quiet hours)
    fold: bool = False  # deliver inside the channel's next digest


@dataclass(frozen=True)
class ItemWrite:
    """One item to save, with its matches and the alerts it causes."""

    item: Item
    matches: tuple[Match, ...] = ()
    alerts: tuple[AlertIntent, ...] = ()
    evidence: Evidence = Evidence()
    alert: bool = False  # may this item alert (fresh, asked for, recent enough)?


class Store(Protocol):
    # --- lifecycle ---
    def migrate(self) -> None:
        """Bring the schema to the newest version (Alembic); safe to call on every start."""

    def close(self) -> None: ...

    # --- sources: the poll schedule ---
    def sync_sources(self, names: Iterable[str]) -> None:
        """Make a state row for each configured source that has none (due now)."""

    def claim_due(
        self, now: datetime, limit: int, owner: str, lease_until: datetime
    ) -> list[SourceState]:
        """Atomically lease up to `limit` enabled sources due at `now` and not leased by another
        worker (or whose lease has expired). PostgreSQL uses FOR UPDATE SKIP LOCKED."""

    def claim(
        self, name: str, owner: str, lease_until: datetime, now: datetime | None = None
    ) -> SourceState | None:
        """Lease one source whatever its due time (for `poll --source`), unless another
        worker holds an unexpired lease (unexpired at `now`, default the wall clock); None
        then, and None when there is no such source."""

    def claim_named(
        self, names: Sequence[str], owner: str, lease_until: datetime, now: datetime | None = None
    ) -> list[SourceState]:
        """`claim` for many sources in one statement: those claimed, in the order named."""

    def get_source(self, name: str) -> SourceState | None: ...

    def list_sources(self) -> list[SourceState]: ...

    def save_source(self, state: SourceState) -> None:
        """Write the poll outcome and release the lease."""

    def save_sources(self, states: Sequence[SourceState]) -> None:
        """`save_source` for many, in one transaction."""

    # --- items ---
    def known(self, ids: Sequence[str], urls: Sequence[str]) -> dict[str, str]:
        """For the given ids and canonical URLs, which are stored: maps each id or URL that is
        stored to the stored item's `entry_hash` (Item.entry_hash: a hash of what the source said,
        so the pipeline can tell an updated feed entry without refetching its page). One query
        per call (batched). The items table therefore has an entry_hash column too."""

    def find_item(self, id_or_url: str) -> StoredItem | None: ...

    def save_item(
        self,
        item: Item,
        matches: Sequence[Match],
        alerts: Sequence[AlertIntent] = (),
    ) -> SaveResult:
        """In one transaction: insert the item or update it (same id or same canonical URL);
        record its matches; allocate the next corpus sequence number per newly matched
        watchlist; queue `alerts` in the outbox (ignoring a key already queued). Returns
        "unchanged" (and writes nothing) when the stored content hash is the same."""

    def save_items(self, batch: Sequence[ItemWrite]) -> list[SaveResult]:
        """`save_item` for many items in ONE transaction (a page of a feed): the results in
        order. Fewer commits is most of the difference on the first poll of many feeds."""

    def set_matches(
        self, item_id: str, found: Sequence[Match], watchlists: Sequence[str]
    ) -> list[CorpusEntry]:
        """Re-matching: replace the stored matches of `item_id` for `watchlists` (only those)
        with `found`, and allocate a corpus entry for each watchlist newly matched (one that
        never had this item in its corpus). A corpus file, once written, stays."""

    def iter_items(
        self,
        watchlist: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredItem]:
        """Items oldest first by publication time (fetch time when undated)."""

    def count_items(self) -> int: ...

    # --- corpus files (the DB is the truth; files are written after commit) ---
    def unwritten_corpus(self, limit: int = 1000) -> list[CorpusEntry]:
        """Corpus entries whose file has not been confirmed written."""

    def mark_corpus_written(self, entries: Sequence[CorpusEntry]) -> None: ...

    # --- alert outbox ---
    def enqueue_alerts(self, alerts: Sequence[AlertIntent]) -> list[int]:
        """Queue alerts outside an item transaction (digests, tests). Returns new ids; a key
        already queued for the channel is not queued again."""

    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutboxAlert]:
        """Unsent, not dead alerts whose next attempt is due."""

    def mark_alert_sent(self, alert_id: int, now: datetime) -> None: ...

    def mark_alert_failed(self, alert_id: int, error: str, next_attempt: datetime | None) -> None:
        """Record a failed attempt; `next_attempt=None` marks the alert dead (permanent)."""

    def list_alerts(self) -> list[OutboxAlert]: ...

    # --- backfill checkpoints ---
    def get_cursor(self, key: str) -> str | None: ...

    def set_cursor(self, key: str, value: str | None) -> None: ...
