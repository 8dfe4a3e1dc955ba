"""The storage contract: every backend (SQLite, PostgreSQL) passes the same tests.

PostgreSQL cases need the server at 127.0.0.1:5432 (trust auth): the session creates a fresh
database there and drops it at the end; each test gets its own schema in it. They are marked
`postgres` and skipped, with the reason, when the server cannot be reached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from monitor.errors import StoreError
from monitor.models import Hit, Item, Match, SaveResult, SourceState, hex16
from monitor.store import open_store, schema
from monitor.store import sql as sql_store
from monitor.store.base import AlertIntent, Store
from monitor.store.sql import SqlStore
from monitor.store.sqlutil import BulkInsert
from tests.conftest import another

T0 = datetime(2026, 2, 4, 12, 0, tzinfo=UTC)

T = TypeVar("T")


# --- records -----------------------------------------------------------------------------------


def make_item(n: int, **fields: Any) -> Item:
    url = fields.pop("url", f"https://example.org/news/{n}")
    values: dict[str, Any] = {
        "id": hex16(url) if url else f"{n:016x}",
        "url": url,
        "source": "wire",
        "guid": None,
        "title": f"Kazakhstan and Pakistan, story {n}",
        "summary": "Transit deal.",
        "text": f"Body of story {n}: Tokayev met Sharif in Islamabad.",
        "published": T0 + timedelta(hours=n),
        "language": "en",
        "fetched_at": T0 + timedelta(days=1),
        "entry_hash": f"entry-{n}",
    }
    values.update(fields)
    return Item(**values)


def match(watchlist: str, *surfaces: str) -> Match:
    hits = tuple(
        Hit(entity=s.lower(), alias=s, field="body", start=i * 10, end=i * 10 + len(s), surface=s)
        for i, s in enumerate(surfaces or ("Pakistan",))
    )
    return Match(watchlist=watchlist, hits=hits, rule=f"any-of({watchlist})", score=0.5)


def intent(key: str, channel: str = "team") -> AlertIntent:
    return AlertIntent(channel=channel, kind="item", key=key, payload={"key": key, "title": "é"})


# --- lifecycle -------------------------------------------------------------------------------


def test_migrate_twice_is_a_noop_and_keeps_data(store: Store, db_url: str) -> None:
    store.save_item(make_item(1), [match("kz-pk")])
    store.migrate()
    again = open_store(db_url)
    try:
        again.migrate()
        assert isinstance(again, SqlStore)
        assert again.schema_differences() == []  # the migration builds what schema.py says
        assert again.count_items() == 1
    finally:
        again.close()


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "monitor.db"
    opened = open_store(f"sqlite:///{target}")
    try:
        opened.migrate()
    finally:
        opened.close()
    assert target.is_file()


def test_driver_errors_become_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported database URL"):
        open_store("mysql://root@localhost/monitor")
    blocked = tmp_path / "file"
    blocked.write_text("not a directory", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot create"):
        open_store(f"sqlite:///{blocked / 'monitor.db'}")
    refused = open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(StoreError, match=r"store\.(migrate|count_items)"):
            refused.migrate()
        with pytest.raises(StoreError, match=r"store\.count_items"):
            refused.count_items()
    finally:
        refused.close()


# --- items -------------------------------------------------------------------------------------


def test_new_then_unchanged_then_updated_by_id(store: Store) -> None:
    item = make_item(1)
    first = store.save_item(item, [match("kz-pk")])
    assert (first.status, first.item_id) == ("new", item.id)

    # Same content, fetched again later: nothing is written, not even the fetch time.
    repeat = item.model_copy(update={"fetched_at": T0 + timedelta(days=9)})
    again = store.save_item(repeat, [match("kz-pk"), match("gwadar")], [intent("k1")])
    assert (again.status, again.corpus, again.alerts) == ("unchanged", (), ())
    stored = store.find_item(item.id)
    assert stored is not None
    assert stored.item.fetched_at == item.fetched_at
    assert [m.watchlist for m in stored.matches] == ["kz-pk"]
    assert store.list_alerts() == []

    changed = item.model_copy(update={"text": item.text + " Updated.", "entry_hash": "entry-1b"})
    updated = store.save_item(changed, [match("kz-pk")])
    assert (updated.status, updated.item_id) == ("updated", item.id)
    stored = store.find_item(item.id)
    assert stored is not None and stored.item.text.endswith(" Updated.")
    assert store.count_items() == 1


def test_an_item_found_by_url_keeps_its_stored_id(store: Store) -> None:
    item = make_item(2)
    store.save_item(item, [])
    same_url = item.model_copy(update={"id": "f" * 16})
    assert store.save_item(same_url, []).status == "unchanged"
    renamed = item.model_copy(update={"id": "e" * 16, "title": "A new headline"})
    result = store.save_item(renamed, [match("kz-pk")])
    assert (result.status, result.item_id) == ("updated", item.id)
    assert store.find_item("e" * 16) is None
    by_url = store.find_item(item.url or "")
    assert by_url is not None
    assert (by_url.item.id, by_url.item.title) == (item.id, "A new headline")
    assert [e.item_id for e in result.corpus] == [item.id]
    assert store.count_items() == 1


def test_an_unchanged_item_with_a_new_entry_hash_updates_the_entry_hash_only(store: Store) -> None:
    item = make_item(3)
    store.save_item(item, [])
    moved = item.model_copy(update={"entry_hash": "entry-3b", "fetched_at": T0 + timedelta(9)})
    assert store.save_item(moved, []).status == "unchanged"
    assert store.known([item.id], []) == {item.id: "entry-3b"}
    stored = store.find_item(item.id)
    assert stored is not None and stored.item.fetched_at == item.fetched_at


def test_published_keeps_its_offset_and_other_times_come_back_in_utc(store: Store) -> None:
    plus5 = timezone(timedelta(hours=5))
    minus330 = timezone(-timedelta(hours=3, minutes=30))
    # 01:30 on the 5th in Almaty is still the 4th in UTC: the offset decides the file's date.
    almaty = make_item(1, published=datetime(2026, 2, 5, 1, 30, tzinfo=plus5))
    western = make_item(
        2,
        published=datetime(2026, 2, 4, 22, 0, tzinfo=minus330),
        fetched_at=datetime(2026, 2, 5, 9, 0, tzinfo=plus5),
    )
    undated = make_item(3, published=None)
    for item in (almaty, western, undated):
        store.save_item(item, [])

    got = {i.id: store.find_item(i.id) for i in (almaty, western, undated)}
    one, two, three = (got[i.id] for i in (almaty, western, undated))
    assert one is not None and one.item.published is not None
    assert one.item.published.isoformat() == "2026-02-05T01:30:00+05:00"
    assert one.item.date_text == "2026-02-05"
    assert two is not None and two.item.published is not None
    assert two.item.published.isoformat() == "2026-02-04T22:00:00-03:30"
    assert two.item.fetched_at.isoformat() == "2026-02-05T04:00:00+00:00"
    assert three is not None and three.item.published is None
    assert three.item.fetched_at.utcoffset() == timedelta(0)


def test_known_maps_stored_ids_and_urls_to_entry_hashes(store: Store) -> None:
    a, b = make_item(1), make_item(2)
    store.save_item(a, [])
    store.save_item(b, [])
    assert store.known([], []) == {}
    found = store.known([a.id, "0" * 16], [b.url or "", "https://example.org/none"])
    assert found == {a.id: "entry-1", b.url: "entry-2"}
    # One bound parameter per list, however long: more than SQLite's parameter limit.
    many = [f"{n:016x}" for n in range(40_000)]
    assert store.known([*many, b.id], many) == {b.id: "entry-2"}


def test_text_with_nul_characters_is_stored_without_them(store: Store) -> None:
    item = make_item(4, title="Gwadar\x00 port", text="a\x00b")
    assert store.save_item(item, []).status == "new"
    stored = store.find_item(item.id)
    assert stored is not None
    assert (stored.item.title, stored.item.text) == ("Gwadar port", "ab")
    assert store.save_item(item, []).status == "unchanged"


def test_a_bulk_insert_stores_what_sqlalchemy_would(db_url: str) -> None:
    """`BulkInsert` hands rows to the driver itself: each column's bind processing (UTC
    times, NUL-free text) must still apply, exactly as through `conn.execute`."""
    engine = sql_store.create_engine(db_url)
    schema.metadata.create_all(engine)
    plus5 = timezone(timedelta(hours=5))
    row = {
        "id": "a",
        "url": None,
        "source": "wire",
        "guid": "g\x00uid",
        "title": "Gwadar\x00 port",
        "summary": "",
        "text": "a\x00b",
        "published": datetime(2026, 2, 5, 1, 30, 15, 250, tzinfo=plus5),
        "published_offset": 300,
        "language": "kk",
        "fetched_at": T0,
        "dated_at": datetime(2026, 2, 5, 1, 30, 15, 250, tzinfo=plus5),
        "content_hash": "c",
        "entry_hash": "e",
        "story_id": None,
    }
    bulk = BulkInsert(schema.items)
    assert bulk.columns == tuple(row)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(schema.items), [row])
            bulk(conn, [tuple({**row, "id": "b", "url": "https://x.org/b"}.values())])
            bulk(conn, [])  # nothing to insert is not an error
        with engine.connect() as conn:
            # Raw, as the driver stored them: both rows alike but for id and url.
            raw = conn.exec_driver_sql("SELECT * FROM items ORDER BY id").all()
    finally:
        engine.dispose()
    assert len(raw) == 2
    assert raw[0][2:] == raw[1][2:]
    assert raw[1][:2] == ("b", "https://x.org/b")
    assert "\x00" not in raw[1][4]


# --- corpus sequence numbers -----------------------------------------------------------------


def test_corpus_sequence_numbers_per_watchlist(store: Store) -> None:
    a, b, c = make_item(1), make_item(2), make_item(3)
    ra = store.save_item(a, [match("kz-pk"), match("gwadar")])
    rb = store.save_item(b, [match("kz-pk")])
    rc = store.save_item(c, [match("kz-pk"), match("gwadar")])
    seqs = [(e.watchlist, e.seq, e.item_id) for r in (ra, rb, rc) for e in r.corpus]
    assert seqs == [
        ("gwadar", 0, a.id),
        ("kz-pk", 0, a.id),
        ("kz-pk", 1, b.id),
        ("gwadar", 1, c.id),
        ("kz-pk", 2, c.id),
    ]
    assert ra.corpus[1].filename == f"000_{hex16(a.url or '')}.txt"

    # An update that keeps its watchlist gets no new number; one that adds a watchlist gets
    # a number there only.
    changed = b.model_copy(update={"text": "Rewritten body about Gwadar."})
    again = store.save_item(changed, [match("kz-pk"), match("gwadar")])
    assert again.status == "updated"
    assert [(e.watchlist, e.seq) for e in again.corpus] == [("gwadar", 2)]
    # Losing a watchlist and finding it again does not number the item twice.
    store.save_item(changed.model_copy(update={"title": "x"}), [match("gwadar")])
    back = store.save_item(changed.model_copy(update={"title": "y"}), [match("kz-pk")])
    assert back.corpus == ()

    pending = store.unwritten_corpus()
    assert [(e.watchlist, e.seq) for e in pending] == [
        ("gwadar", 0),
        ("gwadar", 1),
        ("gwadar", 2),
        ("kz-pk", 0),
        ("kz-pk", 1),
        ("kz-pk", 2),
    ]
    store.mark_corpus_written(pending[:4])
    assert store.unwritten_corpus(limit=1) == [pending[4]]
    store.mark_corpus_written(pending[4:])
    assert store.unwritten_corpus() == []


def test_an_imported_item_without_url_is_filed_under_its_id(store: Store) -> None:
    item = make_item(5, url=None, id="a33cb9294d5c8809")
    result = store.save_item(item, [match("kz-pk")])
    assert [e.filename for e in result.corpus] == ["000_a33cb9294d5c8809.txt"]


# --- matches and reading back --------------------------------------------------------------------


def test_iter_items_filters_and_restores_matches(store: Store) -> None:
    late = make_item(1, published=T0 + timedelta(days=2))
    early = make_item(2, published=T0 - timedelta(days=2))
    undated = make_item(3, published=None, fetched_at=T0)  # ordered by fetch time
    store.save_item(late, [match("kz-pk", "Pakistan", "Пәкістан"), match("gwadar", "Gwadar")])
    store.save_item(early, [match("kz-pk")])
    store.save_item(undated, [])

    assert [s.item.id for s in store.iter_items()] == [early.id, undated.id, late.id]
    assert [s.item.id for s in store.iter_items(watchlist="gwadar")] == [late.id]
    assert [s.item.id for s in store.iter_items(watchlist="kz-pk")] == [early.id, late.id]
    assert [s.item.id for s in store.iter_items(since=T0)] == [undated.id, late.id]
    assert [s.item.id for s in store.iter_items(until=T0)] == [early.id]
    assert [
        s.item.id for s in store.iter_items("kz-pk", T0 - timedelta(days=1), T0 + timedelta(days=3))
    ] == [late.id]
    assert list(store.iter_items(watchlist="none")) == []

    stored = next(s for s in store.iter_items() if s.item.id == late.id)
    assert stored.item == late
    by_name = {m.watchlist: m for m in stored.matches}
    assert by_name["kz-pk"] == match("kz-pk", "Pakistan", "Пәкістан")
    assert by_name["kz-pk"].aliases == ["Pakistan", "Пәкістан"]
    assert all(isinstance(h, Hit) for m in stored.matches for h in m.hits)


def test_iter_items_reads_page_after_page(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_store, "PAGE", 2)
    same_time = [make_item(n, published=T0) for n in range(5)]  # pages split ties by id
    for item in same_time:
        store.save_item(item, [match("kz-pk")])
    got = [s.item.id for s in store.iter_items()]
    assert got == sorted(i.id for i in same_time)
    assert all(len(s.matches) == 1 for s in store.iter_items(watchlist="kz-pk"))


def test_matches_are_replaced_on_update(store: Store) -> None:
    item = make_item(1)
    store.save_item(item, [match("kz-pk"), match("gwadar")])
    store.save_item(item.model_copy(update={"title": "Only Gwadar now"}), [match("gwadar")])
    stored = store.find_item(item.id)
    assert stored is not None and [m.watchlist for m in stored.matches] == ["gwadar"]


# --- alert outbox ------------------------------------------------------------------------------


def test_outbox_enqueue_is_idempotent_per_channel_and_key(store: Store) -> None:
    ids = store.enqueue_alerts([intent("a"), intent("b"), intent("a", channel="mail")])
    assert len(ids) == 3 and len(set(ids)) == 3
    assert store.enqueue_alerts([intent("a"), intent("c"), intent("c")]) == [
        max(a.id for a in store.list_alerts())
    ]
    assert [(a.channel, a.key) for a in store.list_alerts()] == [
        ("team", "a"),
        ("team", "b"),
        ("mail", "a"),
        ("team", "c"),
    ]
    assert store.list_alerts()[0].payload == {"key": "a", "title": "é"}

    # Alerts queued with an item, in its transaction; a repeat of the key is ignored.
    saved = store.save_item(make_item(1), [match("kz-pk")], [intent("item-1"), intent("a")])
    assert len(saved.alerts) == 1
    assert [a.key for a in store.list_alerts() if a.id in saved.alerts] == ["item-1"]


def test_outbox_due_sent_failed_dead(store: Store) -> None:
    first, second, third = store.enqueue_alerts([intent("1"), intent("2"), intent("3")])
    now = datetime.now(UTC) + timedelta(seconds=1)  # the store stamps alerts with the real clock
    assert [a.id for a in store.due_alerts(now - timedelta(hours=1))] == []
    assert [a.id for a in store.due_alerts(now, limit=2)] == [first, second]
    assert [a.id for a in store.due_alerts(now)] == [third]  # the first two are claimed

    store.mark_alert_sent(first, now)
    store.mark_alert_failed(second, "HTTP 500", now + timedelta(seconds=30))
    store.mark_alert_failed(third, "HTTP 400 invalid_payload", None)
    assert store.due_alerts(now) == []
    assert [a.id for a in store.due_alerts(now + timedelta(seconds=30))] == [second]

    alerts = {a.id: a for a in store.list_alerts()}
    assert alerts[first].sent_at == now and alerts[first].attempts == 1
    assert alerts[second].attempts == 1 and alerts[second].last_error == "HTTP 500"
    assert alerts[second].next_attempt == now + timedelta(seconds=30)
    assert alerts[third].next_attempt is None and alerts[third].sent_at is None
    assert store.due_alerts(now + timedelta(days=365)) == [alerts[second]]

    store.mark_alert_failed(second, "HTTP 503", now + timedelta(seconds=90))
    again = {a.id: a for a in store.list_alerts()}[second]
    assert (again.attempts, again.last_error) == (2, "HTTP 503")


# --- sources: the schedule -------------------------------------------------------------------


def set_due(store: Store, name: str, when: datetime) -> None:
    state = store.get_source(name)
    assert state is not None
    state.next_due = when
    store.save_source(state)


def test_sync_sources_and_save_source_round_trip(store: Store) -> None:
    before = datetime.now(UTC)
    store.sync_sources(["b", "a"])
    assert [s.name for s in store.list_sources()] == ["a", "b"]
    fresh = store.get_source("a")
    assert fresh is not None
    assert fresh.last_status == "never" and fresh.failures == 0
    assert before <= fresh.next_due <= datetime.now(UTC)
    assert store.get_source("zzz") is None

    state = SourceState(
        name="a",
        next_due=T0 + timedelta(minutes=5),
        etag='"v1"',
        last_modified="Wed, 04 Feb 2026 12:00:00 GMT",
        content_hash="0123456789abcdef",
        failures=2,
        last_status="error",
        last_success=T0 - timedelta(hours=1),
        last_error="HTTP 503",
        last_polled=T0,
        items_total=7,
        lease_owner="w1",
        lease_until=T0 + timedelta(minutes=10),
    )
    store.save_source(state)
    assert state.lease_owner is None and state.lease_until is None  # the lease is released
    assert store.get_source("a") == state
    store.sync_sources(["a", "b"])  # an existing row is left as it is
    assert store.get_source("a") == state


def test_claim_due_respects_next_due_and_leases(store: Store) -> None:
    now = datetime.now(UTC) + timedelta(seconds=1)
    store.sync_sources(["a", "b", "c", "d"])
    set_due(store, "b", now + timedelta(minutes=5))
    set_due(store, "d", now - timedelta(minutes=5))
    lease = now + timedelta(days=1)

    first = store.claim_due(now, 2, "w1", lease)
    assert [s.name for s in first] == ["d", "a"]  # the longest overdue first
    assert all(s.lease_owner == "w1" and s.lease_until == lease for s in first)
    second = store.claim_due(now, 10, "w2", lease)
    assert [s.name for s in second] == ["c"]
    assert store.claim_due(now, 10, "w3", lease) == []
    assert store.claim_due(now, 0, "w3", lease) == []

    # The poll outcome releases the lease; the next due time then decides.
    done = second[0]
    done.next_due = now + timedelta(hours=1)
    store.save_source(done)
    assert store.claim_due(now, 10, "w3", lease) == []
    longer = lease + timedelta(days=1)
    assert [s.name for s in store.claim_due(now + timedelta(hours=2), 10, "w3", longer)] == [
        "b",
        "c",
    ]

    # w1 died: once its lease expires, another worker takes its sources.
    later = lease + timedelta(seconds=1)
    taken = store.claim_due(later, 10, "w4", later + timedelta(minutes=10))
    assert [s.name for s in taken] == ["d", "a"]
    assert all(s.lease_owner == "w4" for s in taken)


def test_claim_by_name_whatever_the_due_time(store: Store) -> None:
    now = datetime.now(UTC)
    store.sync_sources(["a"])
    set_due(store, "a", now + timedelta(days=1))
    lease = now + timedelta(minutes=10)
    claimed = store.claim("a", "w1", lease, now=now)
    assert claimed is not None and claimed.lease_owner == "w1"
    assert store.claim("a", "w2", lease, now=now) is None
    assert store.claim("nope", "w2", lease, now=now) is None
    taken = store.claim("a", "w2", lease + timedelta(minutes=10), now=lease)
    assert taken is not None and taken.lease_owner == "w2"


def test_claim_named_and_save_sources_in_batches(store: Store) -> None:
    now = datetime.now(UTC)
    store.sync_sources(["a", "b", "c"])
    lease = now + timedelta(minutes=10)
    assert store.claim("b", "w2", lease, now=now) is not None
    claimed = store.claim_named(["c", "b", "a", "nope"], "w1", lease, now=now)
    assert [s.name for s in claimed] == ["c", "a"]  # b is w2's; order as named
    for state in claimed:
        state.failures = 3 if state.name == "a" else 0
        state.last_status = "error" if state.name == "a" else "ok"
    store.save_sources(claimed)
    assert all(s.lease_owner is None for s in claimed)
    saved = {s.name: s for s in store.list_sources()}
    assert saved["a"].failures == 3 and saved["a"].last_status == "error"
    assert saved["c"].last_status == "ok" and saved["c"].lease_owner is None
    assert saved["b"].lease_owner == "w2"
    # Released: another worker may take them now.
    assert [s.name for s in store.claim_named(["a", "c"], "w3", lease, now=now)] == ["a", "c"]


def test_save_items_stores_a_batch_in_order(store: Store) -> None:
    from monitor.store.base import ItemWrite

    first = store.save_items(
        [ItemWrite(make_item(1), (match("kz-pk"),)), ItemWrite(make_item(2), (match("kz-pk"),))]
    )
    assert [r.status for r in first] == ["new", "new"]
    assert [e.seq for r in first for e in r.corpus] == [0, 1]
    again = store.save_items([ItemWrite(make_item(2)), ItemWrite(make_item(3))])
    assert [r.status for r in again] == ["unchanged", "new"]
    assert store.count_items() == 3
    # The same item twice in one batch: inserted, then updated, never stored twice.
    twice = store.save_items(
        [
            ItemWrite(make_item(4), (match("gwadar"),)),
            ItemWrite(make_item(4, title="Changed"), (match("gwadar"), match("kz-pk"))),
        ]
    )
    assert [r.status for r in twice] == ["new", "updated"]
    assert [e.watchlist for e in twice[1].corpus] == ["kz-pk"]
    assert store.count_items() == 4
    stored = store.find_item(make_item(4).id)
    assert stored is not None and stored.item.title == "Changed"


def test_set_matches_replaces_only_the_named_watchlists(store: Store) -> None:
    item = make_item(7)
    store.save_item(item, [match("kz-pk")])
    entries = store.set_matches(item.id, [match("gwadar"), match("tap-railway")], ["gwadar"])
    assert [e.watchlist for e in entries] == ["gwadar"]  # tap-railway was not asked for
    stored = store.find_item(item.id)
    assert stored is not None
    assert sorted(m.watchlist for m in stored.matches) == ["gwadar", "kz-pk"]
    assert store.set_matches(item.id, [], ["kz-pk"]) == []
    stored = store.find_item(item.id)
    assert stored is not None and [m.watchlist for m in stored.matches] == ["gwadar"]
    # Matching again a watchlist that already filed the item files it no second time.
    assert store.set_matches(item.id, [match("kz-pk")], ["kz-pk"]) == []


def test_a_source_gone_from_the_configuration_is_not_claimed(store: Store) -> None:
    now = datetime.now(UTC) + timedelta(seconds=1)
    store.sync_sources(["a", "b"])
    store.sync_sources(["a"])
    assert [s.name for s in store.claim_due(now, 10, "w1", now)] == ["a"]
    assert {s.name for s in store.list_sources()} == {"a", "b"}  # its history is kept
    store.sync_sources(["a", "b"])
    assert [s.name for s in store.claim_due(now, 10, "w2", now + timedelta(minutes=1))] == [
        "a",
        "b",
    ]


# --- cursors -----------------------------------------------------------------------------------


def test_cursors(store: Store) -> None:
    assert store.get_cursor("backfill:akorda") is None
    store.set_cursor("backfill:akorda", "page=2")
    store.set_cursor("backfill:akorda", "page=3")
    store.set_cursor("backfill:other", "x")
    assert store.get_cursor("backfill:akorda") == "page=3"
    store.set_cursor("backfill:akorda", None)
    assert store.get_cursor("backfill:akorda") is None
    store.set_cursor("backfill:akorda", None)  # clearing twice is fine
    assert store.get_cursor("backfill:other") == "x"


# --- several workers (PostgreSQL) --------------------------------------------------------------


def run_together(workers: list[Callable[[], T]]) -> list[T]:
    """Run the callables on threads released at the same moment; re-raise their errors."""
    start = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)
    errors: list[BaseException] = []

    def run(index: int, work: Callable[[], T]) -> None:
        try:
            start.wait(timeout=10)
            results[index] = work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", [pytest.param("postgresql")], indirect=True)
def test_concurrent_claims_never_hand_a_source_to_two_workers(store: Store, db_url: str) -> None:
    names = [f"s{n:03d}" for n in range(60)]
    store.sync_sources(names)
    now = datetime.now(UTC) + timedelta(seconds=1)
    lease = now + timedelta(minutes=10)
    workers = [another(db_url) for _ in range(3)]

    def claim_all(worker: Store, owner: str) -> Callable[[], list[str]]:
        def work() -> list[str]:
            got: list[str] = []
            while batch := worker.claim_due(now, 4, owner, lease):
                got.extend(s.name for s in batch)
            return got

        return work

    try:
        results = run_together([claim_all(w, f"w{i}") for i, w in enumerate(workers)])
    finally:
        for worker in workers:
            worker.close()
    claimed = [name for got in results for name in got]
    assert sorted(claimed) == names  # every source once, none twice
    owners = {s.name: s.lease_owner for s in store.list_sources()}
    for index, got in enumerate(results):
        assert all(owners[name] == f"w{index}" for name in got)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", [pytest.param("postgresql")], indirect=True)
def test_concurrent_saves_in_one_watchlist_get_distinct_sequence_numbers(
    store: Store, db_url: str
) -> None:
    workers = [another(db_url) for _ in range(4)]

    def save_batch(worker: Store, offset: int) -> Callable[[], list[int]]:
        def work() -> list[int]:
            seqs: list[int] = []
            for n in range(offset, offset + 8):
                result = worker.save_item(make_item(n), [match("kz-pk")])
                seqs.extend(e.seq for e in result.corpus)
            return seqs

        return work

    def save_same(worker: Store) -> Callable[[], SaveResult]:
        return lambda: worker.save_item(make_item(999), [match("tap")])

    try:
        results = run_together([save_batch(w, i * 100) for i, w in enumerate(workers)])
        # The same new item from two workers at once: stored once, numbered once.
        same = run_together([save_same(w) for w in workers])
    finally:
        for worker in workers:
            worker.close()
    seqs = sorted(s for got in results for s in got)
    assert seqs == list(range(32))
    assert sorted(r.status for r in same) == ["new", "unchanged", "unchanged", "unchanged"]
    assert [e.seq for r in same for e in r.corpus] == [0]
