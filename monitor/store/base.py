"""The one storage interface. SQLite and PostgreSQL both serve it (see `sql.py`), and every
backend passes the same contract tests (`tests/test_store_contract.py`).

The store is also the schedule: each source row carries its next due time, validators and
failure count, and workers *claim* due sources with a lease, so several processes can share one
PostgreSQL database without polling a source twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitor.config import StorySettings
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
from monitor.stories.cluster import StoryFacts


@dataclass(frozen=True)
class StoredItem:
    """An item as read back, with the watchlists it matched and its story."""

    item: Item
    matches: tuple[Match, ...]
    story_id: str | None = None


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
    evidence: Evidence = field(default_factory=Evidence)
    alert: bool = False  # may this item alert (fresh, asked for, recent enough)?


@dataclass(frozen=True)
class Decision:
    """What the alert policy decided for one saved item."""

    alerts: tuple[AlertIntent, ...] = ()
    alerted: tuple[str, ...] = ()  # watchlists the story now counts as alerted for


class Policy(Protocol):
    """The alert policy, called by `save_items` inside the transaction, once per new matched
    item, after the item joined its story (see `monitor.stories.policy`)."""

    @property
    def stories(self) -> StorySettings: ...

    def decide(self, write: ItemWrite, facts: StoryFacts) -> Decision: ...


@dataclass(frozen=True)
class StorySummary:
    """One story as `monitor stories` lists it."""

    id: str
    title: str
    first_at: datetime  # publication time of its first report
    created_at: datetime  # when the monitor first saw it
    size: int
    languages: tuple[str, ...]
    outlets: tuple[str, ...]
    sources: tuple[str, ...]
    watchlists: tuple[str, ...]
    alerted: tuple[str, ...]


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

    def save_items(
        self, batch: Sequence[ItemWrite], policy: Policy | None = None
    ) -> list[SaveResult]:
        """`save_item` for many items in ONE transaction (a page of a feed): the results in
        order. Fewer commits is most of the difference on the first poll of many feeds.

        Every new item joins a story or starts one (`monitor.stories.cluster`, with the
        policy's story settings, defaults without a policy); an item without enough evidence
        (`ItemWrite.evidence`) starts its own. For each new matched item `policy.decide` is
        given the story's facts and its alerts are queued with the item's own."""

    def set_matches(
        self,
        item_id: str,
        found: Sequence[Match],
        watchlists: Sequence[str],
        evidence: Evidence | None = None,
        stories: StorySettings | None = None,
    ) -> list[CorpusEntry]:
        """Re-matching: replace the stored matches of `item_id` for `watchlists` (only those)
        with `found`, and allocate a corpus entry for each watchlist newly matched (one that
        never had this item in its corpus). A corpus file, once written, stays. With
        `evidence`, an item alone in its story may join another one (found as on save); the
        story records the watchlists it now matches (never as alerted)."""

    # --- stories ---
    def alert_stories(
        self,
        pairs: Sequence[tuple[str, str]],
        build: Callable[[Sequence[tuple[str, str]]], Sequence[AlertIntent]],
    ) -> int:
        """For (story, watchlist) pairs: in one transaction, mark as alerted those not yet
        alerted, and queue the alerts `build` makes for them (a digest). Returns the number
        of outbox rows queued."""

    def iter_stories(
        self,
        watchlist: str | None = None,
        since: datetime | None = None,
        matched_only: bool = True,
    ) -> Iterator[StorySummary]:
        """Stories oldest first by first report; `since` on the first report's time. By
        default only stories that matched a watchlist (`watchlist`: that one)."""

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

    # --- alert outbox (implemented in outbox.py) ---
    def enqueue_alerts(self, alerts: Sequence[AlertIntent]) -> list[int]:
        """Queue alerts outside an item transaction (digests, tests). Returns new ids; a key
        already queued for the channel is not queued again."""

    def due_alerts(
        self,
        now: datetime,
        limit: int = 100,
        *,
        owner: str | None = None,
        until: datetime | None = None,
    ) -> list[OutboxAlert]:
        """Claim for `owner` until `until`, and return, up to `limit` unsent, not dead alerts
        whose next attempt is due and that no live worker holds, oldest first (see "claims"
        in `outbox.py`). Alerts waiting to be folded into a digest (`fold`) are not among
        them: see `due_folds`. `owner` defaults to this process (`host:pid`), `until` to
        `now` plus `config.CLAIM_SECONDS`. Another call, by any worker (this one included),
        does not get these rows again until they are marked, released, or the claim expires;
        on PostgreSQL concurrent calls skip each other's rows (FOR UPDATE SKIP LOCKED)."""

    def due_folds(
        self,
        now: datetime,
        limit: int = 1000,
        *,
        owner: str | None = None,
        until: datetime | None = None,
    ) -> list[OutboxAlert]:
        """`due_alerts` for the `fold` alerts whose time (next attempt) has come: claimed
        the same way, by channel, then oldest first."""

    def release_alerts(self, alert_ids: Sequence[int], owner: str) -> None:
        """Drop `owner`'s claims on these alerts (those a round took and did not finish), so
        any worker may take them now. A claim another worker holds is left alone."""

    def fold_alerts(
        self,
        members: Sequence[int],
        digest: AlertIntent,
        now: datetime,
        *,
        owner: str | None = None,
    ) -> int | None:
        """In ONE transaction: queue `digest` (its key derived from the members, so a second
        fold of the same members finds it taken) and mark every member sent at `now`, folded
        into it and unclaimed. Returns the digest's id; None, with nothing written, when any
        member is not a pending fold alert of the digest's channel any more (another worker
        folded it first), or another worker than `owner` holds an unexpired claim on it. The
        digest is queued unclaimed, and is claimed by `due_alerts` like any other alert. A
        kill before the commit leaves the members as they were."""

    def mark_alert_sent(self, alert_id: int, now: datetime, receipt: str | None = None) -> None:
        """Record delivery, and what the channel answered (a Slack message ts) when it
        matters for replies; drops the alert's claim."""

    def mark_alert_failed(self, alert_id: int, error: str, next_attempt: datetime | None) -> None:
        """Record a failed attempt and drop the alert's claim; `next_attempt=None` marks the
        alert dead (permanent)."""

    def find_alert(self, channel: str, key: str) -> OutboxAlert | None:
        """The alert queued on `channel` under `key` (the parent of a thread reply)."""

    def get_alert(self, alert_id: int) -> OutboxAlert | None: ...

    def list_alerts(self) -> list[OutboxAlert]: ...

    # --- backfill checkpoints ---
    def get_cursor(self, key: str) -> str | None: ...

    def set_cursor(self, key: str, value: str | None) -> None: ...
