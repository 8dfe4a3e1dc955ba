"""The outbox part of the storage contract, on SQLite and PostgreSQL: folding alerts into one
digest exactly once, receipts, and finding a reply's parent. (The fixtures, `store` on both
backends and `another` for a second worker, live in conftest.py.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.models import Priority
from monitor.store.base import AlertIntent, Store
from tests.conftest import another

SOON = timedelta(seconds=1)


def now() -> datetime:
    """A moment after rows queued "now" (the store stamps them with the real clock)."""
    return datetime.now(UTC) + SOON


def intent(
    key: str,
    *,
    channel: str = "team",
    kind: str = "story",
    fold: bool = False,
    not_before: datetime | None = None,
    **extra: Any,
) -> AlertIntent:
    return AlertIntent(
        channel,
        kind,
        key,
        {"title": f"story {key}", "story_id": key},
        fold=fold,
        not_before=not_before,
        **extra,
    )


def digest(channel: str, key: str) -> AlertIntent:
    return AlertIntent(channel, "digest", key, {"title": "digest", "items": []}, Priority.HIGH)


def test_fold_alerts_wait_for_their_time_outside_due_alerts(store: Store) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    plain, early_b, early_a, late = store.enqueue_alerts(
        [
            intent("plain"),
            intent("b1", channel="b", fold=True),
            intent("a1", channel="a", fold=True),
            intent("a2", channel="a", fold=True, not_before=later),
        ]
    )
    assert [a.id for a in store.due_alerts(now())] == [plain]
    assert [a.id for a in store.due_folds(now())] == [early_a, early_b]  # by channel, then id
    assert [a.id for a in store.due_folds(later)] == [early_a, late, early_b]
    assert [a.id for a in store.due_folds(later, limit=1)] == [early_a]
    assert all(a.fold for a in store.due_folds(later))


def test_fold_makes_one_digest_and_marks_every_member(store: Store) -> None:
    ids = store.enqueue_alerts([intent(k, fold=True) for k in ("s1", "s2", "s3")])
    moment = now()
    digest_id = store.fold_alerts(ids, digest("team", "digest:x"), moment)
    assert digest_id is not None and digest_id not in ids

    alerts = {a.id: a for a in store.list_alerts()}
    for member in ids:
        assert alerts[member].sent_at == moment
        assert alerts[member].folded_into == digest_id
        assert alerts[member].next_attempt is None
        assert alerts[member].attempts == 0  # folded, not attempted
    made = alerts[digest_id]
    assert (made.kind, made.key, made.priority, made.fold) == (
        "digest",
        "digest:x",
        Priority.HIGH,
        False,
    )
    assert made.sent_at is None
    assert store.due_folds(moment) == []
    assert [a.id for a in store.due_alerts(moment)] == [digest_id]  # delivered like any other


def test_folding_the_same_members_again_writes_nothing(store: Store) -> None:
    ids = store.enqueue_alerts([intent(k, fold=True) for k in ("s1", "s2")])
    first = store.fold_alerts(ids, digest("team", "digest:1"), now())
    assert first is not None
    before = store.list_alerts()
    # The same digest again (a rerun), or another digest of the same members.
    assert store.fold_alerts(ids, digest("team", "digest:1"), now()) is None
    assert store.fold_alerts(ids, digest("team", "digest:other"), now()) is None
    assert store.list_alerts() == before


def test_a_fold_with_any_member_taken_is_rolled_back_whole(store: Store) -> None:
    one, two, three = store.enqueue_alerts([intent(k, fold=True) for k in ("s1", "s2", "s3")])
    assert store.fold_alerts([one], digest("team", "digest:one"), now()) is not None
    before = store.list_alerts()
    assert store.fold_alerts([one, two, three], digest("team", "digest:all"), now()) is None
    assert store.list_alerts() == before  # no digest row, two and three untouched
    assert store.find_alert("team", "digest:all") is None
    assert store.fold_alerts([two, three], digest("team", "digest:rest"), now()) is not None


def test_only_pending_fold_alerts_of_the_digests_channel_can_be_folded(store: Store) -> None:
    plain, other, dead, fold = store.enqueue_alerts(
        [
            intent("plain"),
            intent("other", channel="mail", fold=True),
            intent("dead", fold=True),
            intent("fold", fold=True),
        ]
    )
    store.mark_alert_failed(dead, "gave up", None)
    for wrong in (plain, other, dead):
        assert store.fold_alerts([wrong, fold], digest("team", f"digest:{wrong}"), now()) is None
    assert store.fold_alerts([], digest("team", "digest:none"), now()) is None
    assert len(store.list_alerts()) == 4
    assert store.fold_alerts([fold], digest("team", "digest:fold"), now()) is not None


def test_two_workers_folding_at_once_make_one_digest(store: Store, db_url: str) -> None:
    ids = store.enqueue_alerts([intent(f"s{n}", fold=True) for n in range(20)])
    stores = [another(db_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    results: list[int | None] = []
    lock = threading.Lock()

    def fold(worker: Store, number: int) -> None:
        start.wait()
        # Overlapping sets, as workers that read the due alerts at different moments hold.
        members = ids if number % 2 == 0 else ids[number:]
        made = worker.fold_alerts(members, digest("team", f"digest:{number}"), now())
        with lock:
            results.append(made)

    threads = [threading.Thread(target=fold, args=(s, n)) for n, s in enumerate(stores)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for worker in stores:
            worker.close()
    made = [r for r in results if r is not None]
    assert len(results) == 4 and len(made) == 1
    alerts = store.list_alerts()
    assert [a.id for a in alerts if a.kind == "digest"] == made
    folded = {a.folded_into for a in alerts if a.kind == "story" and a.folded_into is not None}
    assert folded == set(made)


def test_receipt_and_lookup_by_channel_and_key(store: Store) -> None:
    first, reply = store.enqueue_alerts(
        [intent("story:1"), intent("update:2", kind="update", thread_key="story:1")]
    )
    store.mark_alert_sent(first, now(), "1700000000.000100")
    found = store.find_alert("team", "story:1")
    assert found is not None and found.id == first
    assert found.receipt == "1700000000.000100" and found.sent_at is not None
    assert store.find_alert("mail", "story:1") is None
    assert store.find_alert("team", "story:nope") is None
    got = store.get_alert(reply)
    assert got is not None and (got.thread_key, got.kind) == ("story:1", "update")
    assert got.receipt is None
    assert store.get_alert(reply + 1000) is None
    store.mark_alert_sent(reply, now())
    sent = store.get_alert(reply)
    assert sent is not None and sent.receipt is None and sent.sent_at is not None
