"""Stories on SQL: joining an item to a story inside the transaction that saves it, the facts
the alert policy reads, and the listing of `monitor stories`.

Runs on the caller's connection (SQLite or PostgreSQL). On PostgreSQL the transaction first
takes the advisory lock `stories`, so two workers saving two reports of one event take turns
and the second finds the story the first started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from monitor.config import StorySettings
from monitor.models import Evidence, Item, Match
from monitor.store.schema import items, matches, stories, story_keys, story_watchlists
from monitor.stories import cluster
from monitor.stories.cluster import Candidate, Report, StoryFacts

CANDIDATES = 20  # stories read per item: those sharing the most keys within the window
REPORTS_READ = 40  # a story's first reports given to the policy (see `facts`)


# --- statements of the hot path, built once (building one costs more than running it) ---------

_SAME_TEXT = (
    sa.select(items.c.story_id)
    .where(items.c.content_hash == sa.bindparam("b_hash"), items.c.story_id.is_not(None))
    .limit(1)
)
_SHARED = sa.func.count().label("shared")
_RANKED = (
    sa.select(story_keys.c.story_id, _SHARED)
    .where(
        story_keys.c.key.in_(sa.bindparam("b_keys", expanding=True)),
        story_keys.c.first_at >= sa.bindparam("b_from"),
        story_keys.c.first_at <= sa.bindparam("b_to"),
    )
    .group_by(story_keys.c.story_id)
    .having(sa.bindparam("b_min") <= _SHARED)
    .order_by(_SHARED.desc(), story_keys.c.story_id)
    .limit(CANDIDATES)
    .subquery()
)
_CANDIDATES = sa.select(
    stories.c.id, stories.c.first_at, stories.c.last_at, stories.c.evidence
).join_from(stories, _RANKED, _RANKED.c.story_id == stories.c.id)
_STORY = sa.select(stories.c.first_at, stories.c.last_at, stories.c.evidence).where(
    stories.c.id == sa.bindparam("b_story")
)
_GROW = (
    sa.update(stories)
    .where(stories.c.id == sa.bindparam("b_story"))
    .values(
        size=stories.c.size + 1,
        first_at=sa.bindparam("b_first"),
        last_at=sa.bindparam("b_last"),
        evidence=sa.bindparam("b_evidence", type_=stories.c.evidence.type),
    )
)
# A story that gained an earlier report: its keys are found from its new first time.
_MOVE_KEYS = (
    sa.update(story_keys)
    .where(story_keys.c.story_id == sa.bindparam("b_story"))
    .values(first_at=sa.bindparam("b_first"))
)
_INSERT_STORY = sa.insert(stories)
_INSERT_KEYS = sa.insert(story_keys)
_SINGLETONS = sa.insert(stories).from_select(
    ["id", "first_at", "last_at", "created_at", "title", "size", "evidence"],
    sa.select(
        items.c.id,
        items.c.dated_at,
        items.c.dated_at,
        sa.bindparam("b_now", type_=stories.c.created_at.type),
        items.c.title,
        sa.literal(1),
        sa.literal_column("'{}'"),  # untyped: text in SQLite, json in PostgreSQL
    ).where(items.c.id.in_(sa.bindparam("b_ids", expanding=True))),
)
_ALERTED = sa.select(story_watchlists.c.watchlist).where(
    story_watchlists.c.story_id == sa.bindparam("b_story"),
    story_watchlists.c.alerted_at.is_not(None),
)
_HEAD = sa.select(stories.c.first_at, stories.c.title).where(
    stories.c.id == sa.bindparam("b_story")
)
_REPORT_COLUMNS = (
    items.c.id,
    items.c.source,
    items.c.url,
    items.c.language,
    items.c.dated_at,
    items.c.title,
)
_REPORTS = (
    sa.select(*_REPORT_COLUMNS)
    .where(items.c.story_id == sa.bindparam("b_story"))
    .order_by(items.c.dated_at, items.c.id)
    .limit(REPORTS_READ)
)
_REPORT = sa.select(*_REPORT_COLUMNS).where(items.c.id == sa.bindparam("b_item"))
# Developments the story's other reports met (compared as text: PostgreSQL's json type has
# no equality).
_MET = (
    sa.select(matches.c.watchlist, matches.c.developments)
    .join_from(matches, items, items.c.id == matches.c.item_id)
    .where(
        items.c.story_id == sa.bindparam("b_story"),
        items.c.id != sa.bindparam("b_item"),
        sa.cast(matches.c.developments, sa.Text) != "[]",
    )
)
# Recording that a story matched a watchlist: a second report finds the row there.
_RECORD = {
    "sqlite": sqlite.insert(story_watchlists).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(story_watchlists).on_conflict_do_nothing(),
}


@dataclass
class Assigned:
    story_id: str
    started: bool
    republished: bool


class StoryBook:
    """Story work of one transaction. `lock` takes the PostgreSQL advisory lock (a no-op on
    SQLite, whose write lock serialises writers already)."""

    def __init__(
        self,
        conn: sa.Connection,
        settings: StorySettings,
        lock: Callable[[str], None],
        now: datetime,
        values_in: Callable[[sa.ColumnElement[Any], Sequence[str]], Any],
    ) -> None:
        self.conn = conn
        self.settings = settings
        self._lock = lock
        self._locked = False
        self.now = now
        self._values_in = values_in
        self._by_content: dict[str, str] = {}  # content hash -> story, for this batch
        self.singletons: list[str] = []  # items alone in their story: rows made by `flush`
        self._outlets: dict[tuple[str | None, str], str] = {}  # (url, source) -> outlet
        self._heads: dict[str, tuple[Report, ...]] = {}  # story -> its first reports (`facts`)

    # --- joining ---

    def assign(self, item: Item, evidence: Evidence) -> Assigned:
        """The story `item` joins or starts. Call before the item row is inserted."""
        at = item.published or item.fetched_at
        if not cluster.joinable(evidence, self.settings):
            self.singletons.append(item.id)
            return Assigned(item.id, started=True, republished=False)
        if not self._locked:
            self._lock("stories")
            self._locked = True
        republished = self._same_text(item.content_hash)
        if republished is not None:
            self._joined(republished, at, evidence)
            return Assigned(republished, started=False, republished=True)
        chosen = cluster.choose(evidence, at, self._candidates(evidence, at), self.settings)
        if chosen is not None:
            self._joined(chosen.story_id, at, evidence, chosen)
            self._by_content[item.content_hash] = chosen.story_id
            return Assigned(chosen.story_id, started=False, republished=False)
        self.conn.execute(_INSERT_STORY, self._story_row(item, at, evidence))
        self._add_keys(item.id, evidence, at)
        self._by_content[item.content_hash] = item.id
        return Assigned(item.id, started=True, republished=False)

    def flush(self) -> None:
        """Make the stories of the items alone in theirs, from the item rows (call after they
        are inserted): one statement for the batch, no parameters per row."""
        if self.singletons:
            self.conn.execute(_SINGLETONS, {"b_ids": self.singletons, "b_now": self.now})
            self.singletons = []

    def _story_row(self, item: Item, at: datetime, evidence: Evidence) -> dict[str, Any]:
        return {
            "id": item.id,
            "first_at": at,
            "last_at": at,
            "created_at": self.now,
            "title": item.title,
            "size": 1,
            "evidence": cluster.evidence_json(evidence),
        }

    def _same_text(self, content_hash: str) -> str | None:
        if content_hash in self._by_content:
            return self._by_content[content_hash]
        found = self.conn.execute(_SAME_TEXT, {"b_hash": content_hash}).scalar()
        return None if found is None else str(found)

    def _candidates(self, evidence: Evidence, at: datetime) -> list[Candidate]:
        window = timedelta(seconds=self.settings.window)
        params = {
            "b_keys": cluster.keys(evidence),
            "b_from": at - window,
            "b_to": at + window,
            "b_min": self.settings.min_shared,
        }
        return [
            Candidate(row.id, row.first_at, cluster.evidence_from_json(row.evidence), row.last_at)
            for row in self.conn.execute(_CANDIDATES, params)
        ]

    def _joined(
        self,
        story_id: str,
        at: datetime,
        evidence: Evidence,
        candidate: Candidate | None = None,
    ) -> None:
        if candidate is None:
            row = self.conn.execute(_STORY, {"b_story": story_id}).one()
            candidate = Candidate(
                story_id, row.first_at, cluster.evidence_from_json(row.evidence), row.last_at
            )
        before = candidate.evidence
        after = cluster.merged(before, evidence)
        first_at = min(candidate.first_at, at)
        self.conn.execute(
            _GROW,
            {
                "b_story": story_id,
                "b_first": first_at,
                "b_last": max(candidate.last_at or at, at),
                "b_evidence": cluster.evidence_json(after),
            },
        )
        if first_at != candidate.first_at:
            self.conn.execute(_MOVE_KEYS, {"b_story": story_id, "b_first": first_at})
        new_keys = set(cluster.keys(after)) - set(cluster.keys(before))
        self._insert_keys(story_id, sorted(new_keys), first_at)

    def _add_keys(self, story_id: str, evidence: Evidence, first_at: datetime) -> None:
        self._insert_keys(story_id, cluster.keys(evidence), first_at)

    def _insert_keys(self, story_id: str, keys: Sequence[str], first_at: datetime) -> None:
        if keys:
            self.conn.execute(
                _INSERT_KEYS,
                [{"key": key, "story_id": story_id, "first_at": first_at} for key in keys],
            )

    # --- what the policy reads ---

    def facts(self, item: Item, assigned: Assigned, found: Sequence[Match]) -> StoryFacts:
        """The story's facts for the policy, after the item row was inserted and the story's
        watchlists recorded (`record_watchlists`)."""
        story_id = assigned.story_id
        alerted = frozenset(self.conn.execute(_ALERTED, {"b_story": story_id}).scalars())
        story = self.conn.execute(_HEAD, {"b_story": story_id}).one()
        # A story can grow to hundreds of reports; the policy needs the first few (who else
        # reported it, how fast it spread) and this item, not all of them. Read once per
        # story in a batch: its items were all inserted before the first call.
        reports = self._heads.get(story_id)
        if reports is None:
            rows = self.conn.execute(_REPORTS, {"b_story": story_id})
            reports = self._heads[story_id] = tuple(self._report(row) for row in rows)
        if all(report.item_id != item.id for report in reports):
            rows = self.conn.execute(_REPORT, {"b_item": item.id})
            reports += tuple(self._report(row) for row in rows)
        # What earlier reports met matters only to an item that meets a development itself.
        met = (
            frozenset(
                (row.watchlist, development)
                for row in self.conn.execute(_MET, {"b_story": story_id, "b_item": item.id})
                for development in row.developments or ()
            )
            if any(match.developments for match in found)
            else frozenset()
        )
        return StoryFacts(
            story_id=story_id,
            met=met,
            started=assigned.started,
            republished=assigned.republished,
            first_at=story.first_at,
            title=story.title,
            alerted=alerted,
            reports=reports,
        )

    def forget_reports(self) -> None:
        """Call before an item row changes after the batch's inserts: the stories' first
        reports are read again."""
        self._heads.clear()

    def _report(self, row: sa.Row[Any, Any, Any, Any, Any, Any]) -> Report:
        return Report(
            item_id=row.id,
            source=row.source,
            outlet=self._outlet(row.url, row.source),
            language=row.language,
            dated_at=row.dated_at,
            title=row.title,
        )

    def _outlet(self, url: str | None, source: str) -> str:
        key = (url, source)
        found = self._outlets.get(key)
        if found is None:
            found = self._outlets[key] = cluster.outlet(url, source)
        return found

    def record_watchlists(self, story_id: str, item_id: str, watchlists: Sequence[str]) -> None:
        if watchlists:
            self.conn.execute(
                _RECORD[self.conn.dialect.name],
                [
                    {
                        "story_id": story_id,
                        "watchlist": watchlist,
                        "first_item": item_id,
                        "first_at": self.now,
                        "alerted_at": None,
                    }
                    for watchlist in watchlists
                ],
            )

    def mark_alerted(self, story_id: str, watchlists: Sequence[str]) -> None:
        if watchlists:
            self.conn.execute(
                sa.update(story_watchlists)
                .where(
                    story_watchlists.c.story_id == story_id,
                    self._values_in(story_watchlists.c.watchlist, list(watchlists)),
                    story_watchlists.c.alerted_at.is_(None),
                )
                .values(alerted_at=self.now)
            )

    def claim_alerts(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Mark (story, watchlist) pairs alerted; returns those that were not already."""
        claimed = []
        for story_id, watchlist in pairs:
            done = self.conn.execute(
                sa.update(story_watchlists)
                .where(
                    story_watchlists.c.story_id == story_id,
                    story_watchlists.c.watchlist == watchlist,
                    story_watchlists.c.alerted_at.is_(None),
                )
                .values(alerted_at=self.now)
            )
            if done.rowcount:
                claimed.append((story_id, watchlist))
        return claimed

    # --- re-matching ---

    def rejoin(self, item_id: str, evidence: Evidence) -> str:
        """An item alone in its story (saved before it matched anything) joins the story its
        evidence points to, or keeps its own with that evidence. Returns its story."""
        row = self.conn.execute(
            sa.select(items, stories.c.size)
            .join(stories, stories.c.id == items.c.story_id)
            .where(items.c.id == item_id)
        ).first()
        if row is None or row.size != 1 or not cluster.joinable(evidence, self.settings):
            return str(row.story_id) if row is not None and row.story_id else item_id
        own = str(row.story_id)
        if not self._locked:
            self._lock("stories")
            self._locked = True
        at = row.dated_at
        others = [c for c in self._candidates(evidence, at) if c.story_id != own]
        chosen = cluster.choose(evidence, at, others, self.settings)
        if chosen is None:
            self.conn.execute(
                sa.update(stories)
                .where(stories.c.id == own)
                .values(evidence=cluster.evidence_json(evidence))
            )
            self.conn.execute(sa.delete(story_keys).where(story_keys.c.story_id == own))
            self._add_keys(own, evidence, at)
            return own
        self._joined(chosen.story_id, at, evidence, chosen)
        self.conn.execute(
            sa.update(items).where(items.c.id == item_id).values(story_id=chosen.story_id)
        )
        moved = self.conn.execute(
            sa.select(story_watchlists.c.watchlist).where(story_watchlists.c.story_id == own)
        ).scalars()
        self.record_watchlists(chosen.story_id, item_id, list(moved))
        self.conn.execute(sa.delete(story_keys).where(story_keys.c.story_id == own))
        self.conn.execute(sa.delete(story_watchlists).where(story_watchlists.c.story_id == own))
        self.conn.execute(sa.delete(stories).where(stories.c.id == own))
        return chosen.story_id
