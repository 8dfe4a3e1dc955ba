"""The `Store` on SQL: SQLite and PostgreSQL (psycopg 3) through SQLAlchemy Core.

SQLAlchemy and Alembic are imported only under `monitor.store`; their exceptions become
`StoreError` here, so callers never import them to catch.

Concurrency, per backend:
- SQLite serialises writers. Every write transaction starts with BEGIN IMMEDIATE, taking the
  write lock up front: a deferred transaction that reads and then writes fails at once with
  SQLITE_BUSY (no busy wait) when another writer committed in between.
- PostgreSQL runs at READ COMMITTED. Sources are claimed with FOR UPDATE SKIP LOCKED; corpus
  sequence numbers are allocated under a transaction-scoped advisory lock per watchlist; a
  unique violation from a concurrent insert of the same item retries the transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url

from monitor.config import StorySettings
from monitor.errors import StoreError
from monitor.models import (
    CorpusEntry,
    Evidence,
    Hit,
    Item,
    Match,
    SaveResult,
    SaveStatus,
    SourceState,
    hex16,
    utcnow,
)
from monitor.store.base import AlertIntent, ItemWrite, Policy, StoredItem, StorySummary
from monitor.store.outbox import OutboxMixin
from monitor.store.schema import (
    corpus,
    cursors,
    items,
    matches,
    metadata,
    sources,
    stories,
    story_watchlists,
)
from monitor.store.sqlutil import BulkInsert
from monitor.store.sqlutil import describe as _describe
from monitor.store.sqlutil import mapped as _mapped
from monitor.store.stories_sql import StoryBook
from monitor.stories.cluster import outlet

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# pg_advisory_xact_lock(namespace, key): the namespace keeps our locks apart from other users
# of the same database.
LOCK_NAMESPACE = 0x6D6F6E  # "mon"
SQLITE_BUSY_MS = 15_000
PAGE = 500  # rows per round trip in iter_items
SAVE_ATTEMPTS = 3

_BEGIN = "monitor_sqlite_begin"  # execution option: how the SQLite transaction begins


def engine_url(url: str) -> str:
    """The SQLAlchemy URL for a monitor database URL. `postgresql://` (and `postgres://`) use
    psycopg 3; SQLite and PostgreSQL are the backends served."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif not (backend == "sqlite" and driver in ("", "pysqlite")):
        raise StoreError(
            f"unsupported database URL {parsed.render_as_string()!r}: "
            "use sqlite:///path/to/file.db or postgresql://user@host/db"
        )
    return parsed.render_as_string(hide_password=False)


# --- engines --------------------------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Turn off the sqlite3 module's own transaction handling: it begins late (at the first
    # write) and always DEFERRED; `_sqlite_on_begin` emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; fine with WAL
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def create_engine(url: str) -> sa.Engine:
    parsed: URL = make_url(engine_url(url))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {folder}: {exc.strerror or exc}") from exc
        engine = sa.create_engine(parsed, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(
        parsed,
        json_serializer=_json_dumps,
        pool_pre_ping=True,  # survive a server restart under a long-running daemon
        # No server-side prepared statements: psycopg prepares a query after 5 runs, and a
        # generic plan made while `items` was empty kept scanning the whole table (measured:
        # 10,000 new items took 21 s with them, 14 s without; an unchanged one 1.4 ms vs 0.36).
        connect_args={"prepare_threshold": None},
    )


# --- row <-> record ---------------------------------------------------------------------------


def _offset_minutes(value: datetime) -> int:
    offset = value.utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _item_row(item: Item, story_id: str | None) -> tuple[Any, ...]:
    """An item's values in the order of the `items` columns (see `_INSERT_ITEMS`)."""
    published = item.published
    return (
        item.id,
        item.url,
        item.source,
        item.guid,
        item.title,
        item.summary,
        item.text,
        published,
        None if published is None else _offset_minutes(published),
        item.language,
        item.fetched_at,
        published or item.fetched_at,  # dated_at
        item.content_hash,
        item.entry_hash,
        story_id,
    )


def _item_values(item: Item) -> dict[str, Any]:
    """An item's values by column, without `story_id` (which only an insert sets)."""
    values = dict(zip(_INSERT_ITEMS.columns, _item_row(item, None), strict=True))
    del values["story_id"]
    return values


def _item_from_row(row: sa.Row[Any]) -> Item:
    published = row.published
    if published is not None:
        zone = timezone(timedelta(minutes=row.published_offset or 0))
        published = published.astimezone(zone)
    return Item(
        id=row.id,
        url=row.url,
        source=row.source,
        guid=row.guid,
        title=row.title,
        summary=row.summary,
        text=row.text,
        published=published,
        language=row.language,
        fetched_at=row.fetched_at,
        entry_hash=row.entry_hash,
    )


def _match_values(item_id: str, match: Match) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "watchlist": match.watchlist,
        "rule": match.rule,
        "score": match.score,
        "developments": list(match.developments),
        # Built by hand: dataclasses.asdict deep-copies and was a third of save time.
        "hits": [
            {
                "entity": h.entity,
                "alias": h.alias,
                "field": h.field,
                "start": h.start,
                "end": h.end,
                "surface": h.surface,
            }
            for h in match.hits
        ],
    }


def _match_from_row(row: sa.Row[Any]) -> Match:
    return Match(
        watchlist=row.watchlist,
        hits=tuple(Hit(**hit) for hit in row.hits),
        rule=row.rule,
        score=row.score,
        developments=tuple(row.developments or ()),
    )


SOURCE_FIELDS = tuple(f.name for f in dataclasses.fields(SourceState))


def _source_from_row(row: sa.Row[Any]) -> SourceState:
    return SourceState(**{name: getattr(row, name) for name in SOURCE_FIELDS})


def _corpus_from_row(row: sa.Row[Any]) -> CorpusEntry:
    return CorpusEntry(
        watchlist=row.watchlist, seq=row.seq, item_id=row.item_id, corpus_id=row.corpus_id
    )


# --- statements of the hot path, built once (building one costs more than running it) ---------

_LOOKUP = sa.select(items.c.id, items.c.url, items.c.content_hash, items.c.entry_hash).where(
    sa.or_(items.c.id == sa.bindparam("b_id"), items.c.url == sa.bindparam("b_url"))
)
_INSERT_ITEMS = BulkInsert(items)  # new items: every insert into `items` goes through it
_UPDATE_ITEM = sa.update(items).where(items.c.id == sa.bindparam("b_id"))
_DELETE_MATCHES = sa.delete(matches).where(matches.c.item_id == sa.bindparam("b_id"))
_CORPUS_OF = sa.select(corpus.c.watchlist).where(corpus.c.item_id == sa.bindparam("b_id"))
_INSERT_MATCHES = sa.insert(matches)
_ALLOCATE = (
    sa.insert(corpus)
    .from_select(
        ["watchlist", "seq", "item_id", "corpus_id", "written"],
        sa.select(
            sa.bindparam("b_watchlist", type_=sa.Text),
            sa.func.coalesce(sa.func.max(corpus.c.seq), -1) + 1,
            sa.bindparam("b_item", type_=sa.Text),
            sa.bindparam("b_corpus", type_=sa.Text),
            sa.false(),
        ).where(corpus.c.watchlist == sa.bindparam("b_watchlist")),
    )
    .returning(corpus.c.seq)
)
_ADVISORY_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(LOCK_NAMESPACE, sa.func.hashtext(sa.bindparam("b_key")))
)


# --- the store ---------------------------------------------------------------------------------


def _unique_matches_by_watchlist(found: Sequence[Match]) -> dict[str, Match]:
    """One match per watchlist (the first), as the matches table holds."""
    unique: dict[str, Match] = {}
    for match in found:
        unique.setdefault(match.watchlist, match)
    return unique


def _unique_matches(found: Sequence[Match]) -> list[Match]:
    return list(_unique_matches_by_watchlist(found).values())


class SqlStore(OutboxMixin):
    """One database, SQLite or PostgreSQL. Thread-safe: each call takes its own pooled
    connection and transaction."""

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        self._engine = create_engine(self.url)
        self._sqlite = self._engine.dialect.name == "sqlite"
        # Statements of the hot path, built once (building one costs more than running it).
        by_id_or_url = sa.or_(
            self._in_param(items.c.id, "b_ids"), self._in_param(items.c.url, "b_urls")
        )
        self._known = sa.select(items.c.id, items.c.url, items.c.entry_hash).where(by_id_or_url)
        self._taken = sa.select(items.c.id, items.c.url).where(by_id_or_url)

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string()!r})"

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn:
            if write and self._sqlite:
                conn.execution_options(**{_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def _insert(self, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
        return sqlite.insert(table) if self._sqlite else postgresql.insert(table)

    def _lock(self, conn: sa.Connection, key: str) -> None:
        """A PostgreSQL advisory lock held until the transaction ends (SQLite's write lock
        already serialises writers)."""
        if not self._sqlite:
            conn.execute(_ADVISORY_LOCK, {"b_key": key})

    def _values_in(self, column: sa.ColumnElement[Any], values: Sequence[str]) -> Any:
        """`column IN values` with one bound parameter however many values there are (SQLite
        caps the number of parameters; PostgreSQL plans `= ANY(array)` once)."""
        return self._in_bound(column, self._parameter(None, self._in_value(values)))

    def _in_param(self, column: sa.ColumnElement[Any], name: str) -> Any:
        """`_values_in` with the values left for execution: pass `_in_value(values)` as
        `name` (for statements built once)."""
        return self._in_bound(column, self._parameter(name))

    def _parameter(self, name: str | None, *value: Any) -> sa.BindParameter[Any]:
        """The values parameter of `_in_bound`: named and given at execution, or carrying
        its value."""
        kind: Any = sa.Text() if self._sqlite else postgresql.ARRAY(sa.Text)
        if value:
            return sa.bindparam(name, value[0], type_=kind)
        return sa.bindparam(name, type_=kind)

    def _in_bound(self, column: sa.ColumnElement[Any], values: sa.BindParameter[Any]) -> Any:
        if self._sqlite:
            each = sa.func.json_each(values).table_valued("value")
            return column.in_(sa.select(each.c.value))
        return column == sa.any_(values)

    def _in_value(self, values: Sequence[str]) -> Any:
        return json.dumps(list(values)) if self._sqlite else list(values)

    # --- lifecycle ---

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        try:
            with self._transaction() as conn:
                # Two workers starting together: one migrates, the other waits and finds
                # nothing left to do.
                self._lock(conn, "migrate")
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store.migrate: {_describe(exc)}") from exc
        except CommandError as exc:
            raise StoreError(f"store.migrate: {exc}") from exc

    @_mapped
    def schema_differences(self) -> list[str]:
        """How the database differs from `schema.metadata` (empty when the migrations and the
        table definitions agree). For tests and diagnostics."""
        with self._transaction(write=False) as conn:
            context = MigrationContext.configure(conn)
            return [repr(diff) for diff in compare_metadata(context, metadata)]

    def close(self) -> None:
        self._engine.dispose()

    # --- sources ---

    @_mapped
    def sync_sources(self, names: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(names))
        now = utcnow()
        with self._transaction() as conn:
            if wanted:
                rows = [{**_new_source(name, now)} for name in wanted]
                conn.execute(
                    self._insert(sources).on_conflict_do_nothing(index_elements=["name"]), rows
                )
            listed = self._values_in(sources.c.name, wanted)
            conn.execute(
                sa.update(sources).where(sources.c.active, sa.not_(listed)).values(active=False)
            )
            conn.execute(
                sa.update(sources).where(sa.not_(sources.c.active), listed).values(active=True)
            )

    @staticmethod
    def _unleased(now: datetime) -> sa.ColumnElement[bool]:
        return sa.or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now)

    @_mapped
    def claim_due(
        self, now: datetime, limit: int, owner: str, lease_until: datetime
    ) -> list[SourceState]:
        """See `Store.claim_due`. A source under any unexpired lease is skipped, this worker's
        own included: a tick that comes while the last poll still runs must not start another."""
        if limit <= 0:
            return []
        due = (
            sa.select(sources.c.name)
            # Not even this worker's own unexpired leases: it is polling those right now.
            .where(sources.c.active, sources.c.next_due <= now, self._unleased(now))
            .order_by(sources.c.next_due, sources.c.name)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming right now are skipped, not waited
            # for; SQLite ignores this and relies on its write lock.
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(sources)
            .where(sources.c.name.in_(due))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*sources.c)
        )
        with self._transaction() as conn:
            claimed = [_source_from_row(row) for row in conn.execute(stmt)]
        return sorted(claimed, key=lambda s: (s.next_due, s.name))

    @_mapped
    def claim(
        self, name: str, owner: str, lease_until: datetime, now: datetime | None = None
    ) -> SourceState | None:
        """See `Store.claim`. `now` (default: the wall clock) decides whether another worker's
        lease has expired. None also when there is no such source (see `sync_sources`)."""
        stmt = (
            sa.update(sources)
            .where(
                sources.c.name == name,
                sa.or_(self._unleased(now or utcnow()), sources.c.lease_owner == owner),
            )
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*sources.c)
        )
        with self._transaction() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else _source_from_row(row)

    @_mapped
    def get_source(self, name: str) -> SourceState | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(sa.select(sources).where(sources.c.name == name)).first()
        return None if row is None else _source_from_row(row)

    @_mapped
    def list_sources(self) -> list[SourceState]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(sa.select(sources).order_by(sources.c.name)).all()
        return [_source_from_row(row) for row in rows]

    @_mapped
    def claim_named(
        self, names: Sequence[str], owner: str, lease_until: datetime, now: datetime | None = None
    ) -> list[SourceState]:
        """See `Store.claim_named`: `claim` for many sources in one statement."""
        if not names:
            return []
        stmt = (
            sa.update(sources)
            .where(
                self._values_in(sources.c.name, list(names)),
                sa.or_(self._unleased(now or utcnow()), sources.c.lease_owner == owner),
            )
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*sources.c)
        )
        with self._transaction() as conn:
            claimed = {row.name: _source_from_row(row) for row in conn.execute(stmt)}
        return [claimed[name] for name in names if name in claimed]

    def save_source(self, state: SourceState) -> None:
        """Write the state and release the lease (also on the `state` object given)."""
        self.save_sources([state])

    @_mapped
    def save_sources(self, states: Sequence[SourceState]) -> None:
        """See `Store.save_sources`: one transaction, one cached statement."""
        if not states:
            return
        rows = [
            {name: getattr(s, name) for name in SOURCE_FIELDS}
            | {"lease_owner": None, "lease_until": None, "active": True}
            for s in states
        ]
        with self._transaction() as conn:
            conn.execute(self._save_source_stmt, rows)
        for state in states:
            state.lease_owner = None
            state.lease_until = None

    @functools.cached_property
    def _save_source_stmt(self) -> Any:
        stmt = self._insert(sources)
        return stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={name: stmt.excluded[name] for name in SOURCE_FIELDS if name != "name"},
        )

    # --- items ---

    @_mapped
    def known(self, ids: Sequence[str], urls: Sequence[str]) -> dict[str, str]:
        wanted_ids, wanted_urls = set(ids), {u for u in urls if u}
        if not wanted_ids and not wanted_urls:
            return {}
        params = {
            "b_ids": self._in_value(sorted(wanted_ids)),
            "b_urls": self._in_value(sorted(wanted_urls)),
        }
        with self._transaction(write=False) as conn:
            rows = conn.execute(self._known, params).all()
        found: dict[str, str] = {}
        for row in rows:
            if row.id in wanted_ids:
                found[row.id] = row.entry_hash
            if row.url in wanted_urls:
                found[row.url] = row.entry_hash
        return found

    @_mapped
    def find_item(self, id_or_url: str) -> StoredItem | None:
        stmt = sa.select(items).where(sa.or_(items.c.id == id_or_url, items.c.url == id_or_url))
        with self._transaction(write=False) as conn:
            rows = conn.execute(stmt).all()
            if not rows:
                return None
            row = next((r for r in rows if r.id == id_or_url), rows[0])
            found = self._matches_of(conn, [row.id])
        return StoredItem(_item_from_row(row), tuple(found.get(row.id, ())), row.story_id)

    def _matches_of(self, conn: sa.Connection, item_ids: Sequence[str]) -> dict[str, list[Match]]:
        if not item_ids:
            return {}
        stmt = (
            sa.select(matches)
            .where(self._values_in(matches.c.item_id, item_ids))
            .order_by(matches.c.item_id, matches.c.watchlist)
        )
        found: dict[str, list[Match]] = {}
        for row in conn.execute(stmt):
            found.setdefault(row.item_id, []).append(_match_from_row(row))
        return found

    def save_item(
        self,
        item: Item,
        matches: Sequence[Match],
        alerts: Sequence[AlertIntent] = (),
    ) -> SaveResult:
        return self.save_items([ItemWrite(item, tuple(matches), tuple(alerts))])[0]

    @_mapped
    def save_items(
        self, batch: Sequence[ItemWrite], policy: Policy | None = None
    ) -> list[SaveResult]:
        """See `Store.save_items`: one transaction for the whole batch."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                with self._transaction() as conn:
                    return self._save_batch(conn, batch, policy)
            except sa.exc.IntegrityError:
                # PostgreSQL: another worker inserted the same item (or gave it this corpus
                # entry) after we looked. Run again: it is now found and compared.
                if attempt == SAVE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _book(self, conn: sa.Connection, settings: StorySettings | None) -> StoryBook:
        return StoryBook(
            conn,
            settings or StorySettings(),
            lambda key: self._lock(conn, key),
            utcnow(),
            self._values_in,
        )

    def _save_batch(
        self, conn: sa.Connection, batch: Sequence[ItemWrite], policy: Policy | None
    ) -> list[SaveResult]:
        """Items that are new (the common case on a first poll) are inserted with one
        executemany; the others go one by one through `_save_item`. Each new item joins its
        story first (in batch order, so a later item can join an earlier one's story); corpus
        numbers are given in batch order."""
        ids = [w.item.id for w in batch]
        urls = [w.item.url for w in batch if w.item.url]
        taken: set[str] = set()
        params = {"b_ids": self._in_value(ids), "b_urls": self._in_value(urls)}
        for row in conn.execute(self._taken, params):
            taken.add(row.id)
            if row.url:
                taken.add(row.url)
        fresh: list[ItemWrite] = []
        for write in batch:
            keys = {write.item.id} | ({write.item.url} if write.item.url else set())
            if not keys & taken:
                fresh.append(write)
            taken |= keys  # a second write of the same item in this batch is not fresh
        book = self._book(conn, policy.stories if policy else None)
        assigned = {id(w): book.assign(w.item, w.evidence) for w in fresh}
        if fresh:
            _INSERT_ITEMS(conn, [_item_row(w.item, assigned[id(w)].story_id) for w in fresh])
            book.flush()
            values = [
                _match_values(w.item.id, m) for w in fresh for m in _unique_matches(w.matches)
            ]
            if values:
                conn.execute(_INSERT_MATCHES, values)
        results = []
        for write in batch:
            story = assigned.get(id(write))
            if story is None:
                book.forget_reports()  # the item may change a report of a story read
                results.append(self._save_item(conn, write.item, write.matches, write.alerts))
                continue
            item = write.item
            unique = _unique_matches_by_watchlist(write.matches)
            entries = [
                self._allocate(conn, watchlist, item.id, item.corpus_id)
                for watchlist in sorted(unique)
            ]
            alerts = list(write.alerts)
            if unique:
                book.record_watchlists(story.story_id, item.id, sorted(unique))
            # The story is read for the policy only for a write that may alert (not for an
            # import, a backfill or an old item).
            if unique and policy is not None and write.alert:
                decision = policy.decide(write, book.facts(item, story, write.matches))
                alerts.extend(decision.alerts)
                book.mark_alerted(story.story_id, decision.alerted)
            alert_ids = self._enqueue(conn, alerts) if alerts else []
            results.append(
                SaveResult("new", item.id, tuple(entries), tuple(alert_ids), story.story_id)
            )
        return results

    def _save_item(
        self,
        conn: sa.Connection,
        item: Item,
        found_matches: Sequence[Match],
        alerts: Sequence[AlertIntent],
    ) -> SaveResult:
        values = _item_values(item)
        # No FOR UPDATE: locking would make every "unchanged" look-up a write that waits for a
        # WAL flush at commit. Concurrent updates of one item still queue on its row lock in
        # the UPDATE below, and read the corpus afterwards, at READ COMMITTED.
        rows = conn.execute(_LOOKUP, {"b_id": item.id, "b_url": item.url}).all()
        stored = next((r for r in rows if r.id == item.id), rows[0] if rows else None)

        status: SaveStatus
        previous: set[str] = set()  # watchlists that already have this item in their corpus
        if stored is None:  # only when a concurrent writer removed it between two looks
            book = self._book(conn, None)
            book.assign(item, Evidence())
            _INSERT_ITEMS(conn, [_item_row(item, item.id)])
            book.flush()
            status, item_id, url = "new", item.id, item.url
        elif stored.content_hash == values["content_hash"]:
            if item.entry_hash and stored.entry_hash != item.entry_hash:
                # The feed entry changed but not what a reader sees: remember the new entry
                # hash, or `known` would send the pipeline to refetch the page on every poll.
                conn.execute(_UPDATE_ITEM, {"b_id": stored.id, "entry_hash": item.entry_hash})
            return SaveResult("unchanged", stored.id)
        else:
            item_id = stored.id  # found by URL under another id: the stored id stays
            del values["id"]
            if any(r.id != stored.id for r in rows):  # the URL belongs to another item
                values["url"] = stored.url
            url = values["url"]
            conn.execute(_UPDATE_ITEM, {**values, "b_id": item_id})
            conn.execute(_DELETE_MATCHES, {"b_id": item_id})
            previous = set(conn.execute(_CORPUS_OF, {"b_id": item_id}).scalars())
            status = "updated"

        unique = _unique_matches_by_watchlist(found_matches)
        if unique:
            conn.execute(_INSERT_MATCHES, [_match_values(item_id, m) for m in unique.values()])
        corpus_id = hex16(url) if url else item_id
        # Sorted, so that PostgreSQL writers take the per-watchlist locks in one order and
        # never deadlock.
        entries = [
            self._allocate(conn, watchlist, item_id, corpus_id)
            for watchlist in sorted(unique.keys() - previous)
        ]
        alert_ids = self._enqueue(conn, alerts)
        return SaveResult(status, item_id, tuple(entries), tuple(alert_ids))

    @_mapped
    def set_matches(
        self,
        item_id: str,
        found: Sequence[Match],
        watchlists: Sequence[str],
        evidence: Evidence | None = None,
        stories: StorySettings | None = None,
    ) -> list[CorpusEntry]:
        """See `Store.set_matches`."""
        chosen = set(watchlists)
        unique = {w: m for w, m in _unique_matches_by_watchlist(found).items() if w in chosen}
        with self._transaction() as conn:
            row = conn.execute(
                sa.select(items.c.id, items.c.url, items.c.story_id).where(items.c.id == item_id)
            ).first()
            if row is None:
                raise StoreError(f"store.set_matches: no item {item_id!r}")
            if unique:
                # Story lock before corpus locks, as in save_items.
                book = self._book(conn, stories)
                story_id = row.story_id or item_id
                if evidence is not None:
                    story_id = book.rejoin(item_id, evidence)
                book.record_watchlists(story_id, item_id, sorted(unique))
            conn.execute(
                sa.delete(matches).where(
                    matches.c.item_id == item_id,
                    self._values_in(matches.c.watchlist, sorted(chosen)),
                )
            )
            if unique:
                conn.execute(_INSERT_MATCHES, [_match_values(item_id, m) for m in unique.values()])
            previous = set(conn.execute(_CORPUS_OF, {"b_id": item_id}).scalars())
            corpus_id = hex16(row.url) if row.url else item_id
            return [
                self._allocate(conn, watchlist, item_id, corpus_id)
                for watchlist in sorted(unique.keys() - previous)
            ]

    def _allocate(
        self, conn: sa.Connection, watchlist: str, item_id: str, corpus_id: str
    ) -> CorpusEntry:
        """The next sequence number of `watchlist` (0 for the first). On PostgreSQL the
        advisory lock makes concurrent writers take turns; the INSERT runs as a new statement
        after the lock is held, so it sees the rows of the writer that held it before."""
        self._lock(conn, "corpus:" + watchlist)
        params = {"b_watchlist": watchlist, "b_item": item_id, "b_corpus": corpus_id}
        seq = conn.execute(_ALLOCATE, params).scalar_one()
        return CorpusEntry(watchlist=watchlist, seq=seq, item_id=item_id, corpus_id=corpus_id)

    def iter_items(
        self,
        watchlist: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredItem]:
        """See `Store.iter_items`: `since` is inclusive, `until` exclusive. Read in pages, so a
        long export holds no connection between pages."""
        after: tuple[datetime, str] | None = None
        while True:
            page = self._items_page(watchlist, since, until, after)
            for _, stored in page:
                yield stored
            if len(page) < PAGE:
                return
            after = (page[-1][0], page[-1][1].item.id)

    @_mapped
    def _items_page(
        self,
        watchlist: str | None,
        since: datetime | None,
        until: datetime | None,
        after: tuple[datetime, str] | None,
    ) -> list[tuple[datetime, StoredItem]]:
        stmt = sa.select(items).order_by(items.c.dated_at, items.c.id).limit(PAGE)
        if watchlist is not None:
            stmt = stmt.where(
                sa.exists().where(matches.c.item_id == items.c.id, matches.c.watchlist == watchlist)
            )
        if since is not None:
            stmt = stmt.where(items.c.dated_at >= since)
        if until is not None:
            stmt = stmt.where(items.c.dated_at < until)
        if after is not None:
            stmt = stmt.where(_after(items.c.dated_at, items.c.id, after))
        with self._transaction(write=False) as conn:
            rows = conn.execute(stmt).all()
            found = self._matches_of(conn, [row.id for row in rows])
        return [
            (
                row.dated_at,
                StoredItem(_item_from_row(row), tuple(found.get(row.id, ())), row.story_id),
            )
            for row in rows
        ]

    @_mapped
    def count_items(self) -> int:
        with self._transaction(write=False) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one())

    # --- stories ---

    @_mapped
    def alert_stories(
        self,
        pairs: Sequence[tuple[str, str]],
        build: Callable[[Sequence[tuple[str, str]]], Sequence[AlertIntent]],
    ) -> int:
        """See `Store.alert_stories`."""
        with self._transaction() as conn:
            new = self._book(conn, None).claim_alerts(pairs)
            return len(self._enqueue(conn, build(new)))

    def iter_stories(
        self,
        watchlist: str | None = None,
        since: datetime | None = None,
        matched_only: bool = True,
    ) -> Iterator[StorySummary]:
        """See `Store.iter_stories`. Read in pages, like `iter_items`."""
        after: tuple[datetime, str] | None = None
        while True:
            page = self._stories_page(watchlist, since, matched_only, after)
            yield from page
            if len(page) < PAGE:
                return
            after = (page[-1].first_at, page[-1].id)

    @_mapped
    def _stories_page(
        self,
        watchlist: str | None,
        since: datetime | None,
        matched_only: bool,
        after: tuple[datetime, str] | None,
    ) -> list[StorySummary]:
        stmt = sa.select(stories).order_by(stories.c.first_at, stories.c.id).limit(PAGE)
        on_list = sa.exists().where(story_watchlists.c.story_id == stories.c.id)
        if watchlist is not None:
            stmt = stmt.where(on_list.where(story_watchlists.c.watchlist == watchlist))
        elif matched_only:
            stmt = stmt.where(on_list)
        if since is not None:
            stmt = stmt.where(stories.c.first_at >= since)
        if after is not None:
            stmt = stmt.where(_after(stories.c.first_at, stories.c.id, after))
        with self._transaction(write=False) as conn:
            rows = conn.execute(stmt).all()
            ids = [row.id for row in rows]
            reports: dict[str, list[Any]] = {}
            if ids:
                for item in conn.execute(
                    sa.select(items.c.story_id, items.c.source, items.c.url, items.c.language)
                    .where(self._values_in(items.c.story_id, ids))
                    .order_by(items.c.dated_at, items.c.id)
                ):
                    reports.setdefault(item.story_id, []).append(item)
            lists: dict[str, list[Any]] = {}
            if ids:
                for entry in conn.execute(
                    sa.select(story_watchlists)
                    .where(self._values_in(story_watchlists.c.story_id, ids))
                    .order_by(story_watchlists.c.watchlist)
                ):
                    lists.setdefault(entry.story_id, []).append(entry)
        return [_story_summary(row, reports.get(row.id, []), lists.get(row.id, [])) for row in rows]

    # --- corpus ---

    @_mapped
    def unwritten_corpus(self, limit: int = 1000) -> list[CorpusEntry]:
        stmt = (
            sa.select(corpus)
            .where(corpus.c.written == sa.false())
            .order_by(corpus.c.watchlist, corpus.c.seq)
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            return [_corpus_from_row(row) for row in conn.execute(stmt)]

    @_mapped
    def mark_corpus_written(self, entries: Sequence[CorpusEntry]) -> None:
        if not entries:
            return
        stmt = (
            sa.update(corpus)
            .where(
                corpus.c.watchlist == sa.bindparam("b_watchlist"),
                corpus.c.seq == sa.bindparam("b_seq"),
            )
            .values(written=True)
        )
        with self._transaction() as conn:
            conn.execute(stmt, [{"b_watchlist": e.watchlist, "b_seq": e.seq} for e in entries])

    # --- outbox: see outbox.py (OutboxMixin) ---

    # --- cursors ---

    @_mapped
    def get_cursor(self, key: str) -> str | None:
        with self._transaction(write=False) as conn:
            value = conn.execute(sa.select(cursors.c.value).where(cursors.c.key == key)).scalar()
        return cast(str | None, value)

    @_mapped
    def set_cursor(self, key: str, value: str | None) -> None:
        with self._transaction() as conn:
            if value is None:
                conn.execute(sa.delete(cursors).where(cursors.c.key == key))
                return
            stmt = self._insert(cursors).values(key=key, value=value)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["key"], set_={"value": stmt.excluded.value}
                )
            )


def _story_summary(row: sa.Row[Any], reports: list[Any], lists: list[Any]) -> StorySummary:
    return StorySummary(
        id=row.id,
        title=row.title,
        first_at=row.first_at,
        created_at=row.created_at,
        size=len(reports) or row.size,
        languages=tuple(dict.fromkeys(r.language for r in reports)),
        outlets=tuple(dict.fromkeys(outlet(r.url, r.source) for r in reports)),
        sources=tuple(dict.fromkeys(r.source for r in reports)),
        watchlists=tuple(e.watchlist for e in lists),
        alerted=tuple(e.watchlist for e in lists if e.alerted_at is not None),
    )


def _after(
    at: sa.ColumnElement[datetime], key: sa.ColumnElement[str], after: tuple[datetime, str]
) -> sa.ColumnElement[bool]:
    """Rows past `after` in (time, id) order: the next page of a keyset-paged listing."""
    stamp, last = after
    return sa.or_(at > stamp, sa.and_(at == stamp, key > last))


def _new_source(name: str, now: datetime) -> dict[str, Any]:
    state = SourceState(name=name, next_due=now)
    return {field: getattr(state, field) for field in SOURCE_FIELDS} | {"active": True}
