"""The alert outbox on SQL: a mixin of `SqlStore` (the "alert outbox" part of `Store`).

A row's life:

    queued (next_attempt = not_before or now)
      -- fold = false --> due_alerts --> sent (sent_at, receipt) | retried | dead
      -- fold = true  --> due_folds  --> fold_alerts: sent, folded_into = a new digest row,
                                         which then goes the first way

Delivery is at least once: a row is marked sent only after the channel accepted it, so a kill
between the two sends it again, under the same key. Folding is exactly once: the digest row and
the marks on its members are written in one transaction, and the digest's key comes from its
members, so two workers (or a rerun) can never make two digests of one alert.

Concurrency: SQLite takes its write lock at BEGIN (see sql.py). On PostgreSQL a second fold of
the same alerts waits on the first's row locks (or its uncommitted digest key), then finds them
folded and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

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


class _Taken(Exception):
    """Rolls a fold back: one of its members is no longer pending."""


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
    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutboxAlert]:
        stmt = (
            sa.select(outbox)
            .where(*_pending(now), outbox.c.fold == sa.false())
            .order_by(outbox.c.id)
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            return [_alert_from_row(row) for row in conn.execute(stmt)]

    @mapped
    def due_folds(self, now: datetime, limit: int = 1000) -> list[OutboxAlert]:
        stmt = (
            sa.select(outbox)
            .where(*_pending(now), outbox.c.fold == sa.true())
            .order_by(outbox.c.channel, outbox.c.id)
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            return [_alert_from_row(row) for row in conn.execute(stmt)]

    @mapped
    def fold_alerts(self, members: Sequence[int], digest: AlertIntent, now: datetime) -> int | None:
        wanted = sorted(set(members))
        if not wanted:
            return None
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
                    )
                    .values(sent_at=now, next_attempt=None, folded_into=created[0])
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
            .values(sent_at=now, next_attempt=None, attempts=outbox.c.attempts + 1, receipt=receipt)
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
