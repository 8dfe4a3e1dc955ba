"""The alert outbox on SQL: a mixin of `SqlStore` (the "alert outbox" part of `Store`).

A row's life:

    queued (next_attempt = not_before or now)
      -- fold = false --> due_alerts (claimed) --> sent (sent_at, receipt) | retried | dead
      -- fold = true  --> due_folds (claimed)  --> fold_alerts: sent, folded_into = a new digest
                                                  row, which then goes the first way

Claims: several workers (processes, hosts) share one outbox. `due_alerts` and `due_folds` do
not just read the due rows: they claim them for one worker (`claim_owner`) until a time
(`claim_until`), in the statement that selects them, so two workers never take the same row.
A row is free when it was never claimed, its claim has expired, or its claimer was a process
of this host that is gone (`monitor.leases.lease_is_dead`: a killed worker's rows are taken
over at once; another host's wait for the expiry). A worker's own unexpired claims are not
free for it either: they belong to the round that took them. Marking a row sent, failed or
folded drops its claim; `release_alerts` drops the claims of rows a round took and did not
finish.

Delivery is at least once: a row is marked sent only after the channel accepted it, so a kill
between the two sends it again, under the same key. Folding is exactly once: the digest row and
the marks on its members are written in one transaction, and the digest's key comes from its
members, so two workers (or a rerun) can never make two digests of one alert.

Concurrency: SQLite takes its write lock at BEGIN (see sql.py), so a claim reads and writes
alone. PostgreSQL claims with `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`:
rows another worker is claiming right now are skipped, not waited for, and a row claimed and
committed meanwhile is re-checked under its lock and left out. A second fold of the same
alerts waits on the first's row locks (or its uncommitted digest key), then finds them folded
and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from monitor.config import CLAIM_SECONDS
from monitor.leases import lease_is_dead, local_worker
from monitor.models import OutboxAlert, Priority, utcnow
from monitor.store.base import AlertIntent
from monitor.store.schema import outbox
from monitor.store.sqlutil import mapped


def _alert_from_row(row: sa.Row[Any]) -> OutboxAlert:
    return OutboxAlert(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        key=row.key,
        payload=row.payload,
        attempts=row.attempts,
        next_attempt=row.next_attempt,
        sent_at=row.sent_at,
        last_error=row.last_error,
        priority=Priority(row.priority),
        thread_key=row.thread_key,
        fold=row.fold,
        receipt=row.receipt,
        folded_into=row.folded_into,
    )


def _pending(now: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        outbox.c.sent_at.is_(None),
        outbox.c.dead == sa.false(),
        outbox.c.next_attempt <= now,
    ]


def _free(now: datetime, gone: Sequence[str] = ()) -> sa.ColumnElement[bool]:
    """Rows no live worker holds: never claimed, claim expired, or claimed by one of `gone`."""
    free = sa.or_(outbox.c.claim_until.is_(None), outbox.c.claim_until <= now)
    return sa.or_(free, outbox.c.claim_owner.in_(gone)) if gone else free


_UNCLAIMED = {"claim_owner": None, "claim_until": None}

# Ids per statement when releasing (SQLite caps bound parameters).
_RELEASE_CHUNK = 500


class _Taken(Exception):
    """Rolls a fold back: one of its members is no longer pending, or another worker holds it."""


class OutboxMixin:
    if TYPE_CHECKING:  # provided by SqlStore

        def _transaction(self, *, write: bool = True) -> AbstractContextManager[sa.Connection]: ...

        def _insert(self, table: sa.Table) -> sqlite.Insert | postgresql.Insert: ...

        def _lock(self, conn: sa.Connection, key: str) -> None: ...

    def _enqueue(self, conn: sa.Connection, alerts: Sequence[AlertIntent]) -> list[int]:
        now = utcnow()
        stmt = (
            self._insert(outbox)
            .on_conflict_do_nothing(index_elements=["channel", "key"])
            .returning(outbox.c.id)
        )
        new: list[int] = []
        for alert in alerts:
            row = {
                "channel": alert.channel,
                "kind": alert.kind,
                "key": alert.key,
                "payload": alert.payload,
                "attempts": 0,
                "next_attempt": alert.not_before or now,
                "dead": False,
                "created_at": now,
                "priority": int(alert.priority),
                "thread_key": alert.thread_key,
                "fold": alert.fold,
            }
            alert_id = conn.execute(stmt, row).scalar_one_or_none()
            if alert_id is not None:
                new.append(alert_id)
        return new

    @mapped
    def enqueue_alerts(self, alerts: Sequence[AlertIntent]) -> list[int]:
        if not alerts:
            return []
        with self._transaction() as conn:
            return self._enqueue(conn, alerts)

    @mapped
    def due_alerts(
        self,
        now: datetime,
        limit: int = 100,
        *,
        owner: str | None = None,
        until: datetime | None = None,
    ) -> list[OutboxAlert]:
        with self._transaction() as conn:
            rows = self._claim(conn, now, limit, owner, until, fold=False)
        return sorted(rows, key=lambda a: a.id)

    @mapped
    def due_folds(
        self,
        now: datetime,
        limit: int = 1000,
        *,
        owner: str | None = None,
        until: datetime | None = None,
    ) -> list[OutboxAlert]:
        with self._transaction() as conn:
            rows = self._claim(conn, now, limit, owner, until, fold=True)
        return sorted(rows, key=lambda a: (a.channel, a.id))

    def _claim(
        self,
        conn: sa.Connection,
        now: datetime,
        limit: int,
        owner: str | None,
        until: datetime | None,
        *,
        fold: bool,
    ) -> list[OutboxAlert]:
        """Claim up to `limit` free due rows (`fold` ones or the others) for `owner` (default:
        this process) until `until` (default: `now` + `CLAIM_SECONDS`), in one statement."""
        if limit <= 0:
            return []
        kind = outbox.c.fold == (sa.true() if fold else sa.false())
        order = [outbox.c.channel, outbox.c.id] if fold else [outbox.c.id]
        chosen = (
            sa.select(outbox.c.id)
            .where(*_pending(now), kind, _free(now, self._gone(conn, now)))
            .order_by(*order)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming right now are skipped, not waited
            # for; SQLite ignores this and relies on its write lock.
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(outbox)
            .where(outbox.c.id.in_(chosen))
            .values(
                claim_owner=owner or local_worker(),
                claim_until=until or now + timedelta(seconds=CLAIM_SECONDS),
            )
            .returning(*outbox.c)
        )
        return [_alert_from_row(row) for row in conn.execute(stmt)]

    @staticmethod
    def _gone(conn: sa.Connection, now: datetime) -> list[str]:
        """The holders of unexpired claims that are processes of this host no longer alive."""
        holders = (
            sa.select(outbox.c.claim_owner)
            .distinct()
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.dead == sa.false(),
                outbox.c.claim_until > now,
            )
        )
        return [owner for owner in conn.execute(holders).scalars() if lease_is_dead(owner)]

    @mapped
    def release_alerts(self, alert_ids: Sequence[int], owner: str) -> None:
        wanted = sorted(set(alert_ids))
        if not wanted:
            return
        with self._transaction() as conn:
            for start in range(0, len(wanted), _RELEASE_CHUNK):
                chunk = wanted[start : start + _RELEASE_CHUNK]
                conn.execute(
                    sa.update(outbox)
                    .where(outbox.c.id.in_(chunk), outbox.c.claim_owner == owner)
                    .values(**_UNCLAIMED)
                )

    @mapped
    def fold_alerts(
        self,
        members: Sequence[int],
        digest: AlertIntent,
        now: datetime,
        *,
        owner: str | None = None,
    ) -> int | None:
        wanted = sorted(set(members))
        if not wanted:
            return None
        # A member another worker holds is not ours to fold (it folds it itself).
        ours = _free(now) if owner is None else sa.or_(_free(now), outbox.c.claim_owner == owner)
        try:
            with self._transaction() as conn:
                # One fold at a time per channel (PostgreSQL; SQLite's write lock already
                # serialises): two workers marking overlapping sets row by row could deadlock.
                self._lock(conn, "outbox-fold:" + digest.channel)
                created = self._enqueue(conn, [digest])
                if not created:  # this very digest exists: its members are folded
                    raise _Taken
                mark = (
                    sa.update(outbox)
                    .where(
                        outbox.c.id.in_(wanted),
                        outbox.c.channel == digest.channel,
                        outbox.c.fold == sa.true(),
                        outbox.c.sent_at.is_(None),
                        outbox.c.dead == sa.false(),
                        ours,
                    )
                    .values(sent_at=now, next_attempt=None, folded_into=created[0], **_UNCLAIMED)
                )
                if conn.execute(mark).rowcount != len(wanted):
                    raise _Taken
                return created[0]
        except _Taken:
            return None

    @mapped
    def mark_alert_sent(self, alert_id: int, now: datetime, receipt: str | None = None) -> None:
        stmt = (
            sa.update(outbox)
            .where(outbox.c.id == alert_id)
            .values(
                sent_at=now,
                next_attempt=None,
                attempts=outbox.c.attempts + 1,
                receipt=receipt,
                **_UNCLAIMED,
            )
        )
        with self._transaction() as conn:
            conn.execute(stmt)

    @mapped
    def mark_alert_failed(self, alert_id: int, error: str, next_attempt: datetime | None) -> None:
        stmt = (
            sa.update(outbox)
            .where(outbox.c.id == alert_id)
            .values(
                attempts=outbox.c.attempts + 1,
                last_error=error,
                next_attempt=next_attempt,
                dead=next_attempt is None,
                **_UNCLAIMED,
            )
        )
        with self._transaction() as conn:
            conn.execute(stmt)

    @mapped
    def find_alert(self, channel: str, key: str) -> OutboxAlert | None:
        stmt = sa.select(outbox).where(outbox.c.channel == channel, outbox.c.key == key)
        with self._transaction(write=False) as conn:
            row = conn.execute(stmt).first()
        return _alert_from_row(row) if row is not None else None

    @mapped
    def get_alert(self, alert_id: int) -> OutboxAlert | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(sa.select(outbox).where(outbox.c.id == alert_id)).first()
        return _alert_from_row(row) if row is not None else None

    @mapped
    def list_alerts(self) -> list[OutboxAlert]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()
        return [_alert_from_row(row) for row in rows]
