"""The outbox part of the storage contract, on SQLite and PostgreSQL: claims that keep workers
apart, folding alerts into one digest exactly once, receipts, and finding a reply's parent.
(The fixtures, `store` on both backends and `another` for a second worker, live in
conftest.py.)"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from monitor.leases import local_worker
from monitor.models import Priority
from monitor.store.base import AlertIntent, Store
from tests.alerting import intent
from tests.conftest import another, in_threads

SOON = timedelta(seconds=1)


def now() -> datetime:
    """A moment after rows queued "now" (the store stamps them with the real clock)."""
    return datetime.now(UTC) + SOON


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
    early = store.due_folds(now(), owner="w1")
    assert [a.id for a in early] == [early_a, early_b]  # by channel, then id
    assert all(a.fold for a in early)
    store.release_alerts([early_a, early_b], "w1")
    assert [a.id for a in store.due_folds(later, limit=1, owner="w2")] == [early_a]
    assert [a.id for a in store.due_folds(later, owner="w3")] == [late, early_b]


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

    try:
        in_threads(fold, *[(s, n) for n, s in enumerate(stores)], timeout=30)
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


# --- claims: several workers on one outbox -----------------------------------------------------


def test_workers_claiming_at_once_get_disjoint_rows(store: Store, db_url: str) -> None:
    plain = store.enqueue_alerts([intent(f"p{n}") for n in range(60)])
    folds = store.enqueue_alerts([intent(f"f{n}", fold=True) for n in range(40)])
    workers = [another(db_url) for _ in range(4)]
    start = threading.Barrier(len(workers))
    taken: dict[str, list[int]] = {}
    moment = now()

    def claim(worker: Store, name: str) -> None:
        got: list[int] = []
        start.wait()
        for _ in range(len(plain) + len(folds)):  # small batches, so that claims interleave
            batch = worker.due_alerts(moment, 7, owner=name) + worker.due_folds(
                moment, 5, owner=name
            )
            if not batch:
                break
            got.extend(a.id for a in batch)
        taken[name] = got

    try:
        in_threads(claim, *[(w, f"worker-{n}") for n, w in enumerate(workers)])
    finally:
        for worker in workers:
            worker.close()
    everything = [i for got in taken.values() for i in got]
    assert len(taken) == 4
    assert sorted(everything) == sorted(plain + folds)  # each row once, none left out
    assert store.due_alerts(moment, owner="late") == []
    assert store.due_folds(moment, owner="late") == []


def test_a_claim_holds_until_it_expires_even_for_its_own_worker(store: Store) -> None:
    first, second = store.enqueue_alerts([intent("1"), intent("2")])
    moment = now()
    expiry = moment + timedelta(minutes=1)
    assert [a.id for a in store.due_alerts(moment, 1, owner="a", until=expiry)] == [first]
    assert [a.id for a in store.due_alerts(moment, owner="b", until=expiry)] == [second]
    halfway = moment + timedelta(seconds=30)
    assert store.due_alerts(halfway, owner="b") == []
    assert store.due_alerts(halfway, owner="a") == []  # its round still works on them
    again = store.due_alerts(expiry, owner="c")
    assert [a.id for a in again] == [first, second]


def test_marking_or_releasing_ends_a_claim(store: Store) -> None:
    failed, released, kept, sent = store.enqueue_alerts([intent(k) for k in "abcd"])
    moment = now()
    assert len(store.due_alerts(moment, owner="a")) == 4
    store.release_alerts([released, kept], "b")  # not b's claims: nothing changes
    assert store.due_alerts(moment, owner="b") == []
    store.mark_alert_failed(failed, "HTTP 500", moment)  # due again at once
    store.release_alerts([released], "a")
    store.mark_alert_sent(sent, moment)
    assert [a.id for a in store.due_alerts(moment, owner="b")] == [failed, released]
    assert {a.id for a in store.list_alerts() if a.sent_at == moment} == {sent}


def dead_worker() -> str:
    """The name (`host:pid`) of a process of this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return f"{socket.gethostname()}:{child.pid}"


def test_claims_of_a_killed_local_process_are_taken_over_at_once(store: Store) -> None:
    of_living, of_remote, of_dead = store.enqueue_alerts([intent(k) for k in ("l", "r", "d")])
    [dead_fold] = store.enqueue_alerts([intent("df", fold=True)])
    moment = now()
    far = moment + timedelta(hours=1)

    def claim(owner: str) -> list[int]:
        return [a.id for a in store.due_alerts(moment, 1, owner=owner, until=far)]

    # This very process lives; another host's worker cannot be checked, so it is trusted.
    assert claim(local_worker()) == [of_living]
    assert claim("elsewhere:1") == [of_remote]
    gone = dead_worker()
    assert claim(gone) == [of_dead]
    assert [a.id for a in store.due_folds(moment, owner=gone, until=far)] == [dead_fold]

    later = far + timedelta(hours=1)
    assert [a.id for a in store.due_alerts(moment, owner="heir", until=later)] == [of_dead]
    assert [a.id for a in store.due_folds(moment, owner="heir", until=later)] == [dead_fold]
    # The others' claims hold until they expire.
    assert [a.id for a in store.due_alerts(far, owner="late")] == [of_living, of_remote]


def test_a_member_claimed_by_another_worker_is_not_folded(store: Store) -> None:
    ids = store.enqueue_alerts([intent(k, fold=True) for k in ("s1", "s2")])
    moment = now()
    assert [a.id for a in store.due_folds(moment, owner="a")] == ids
    assert store.due_folds(moment, owner="b") == []
    before = store.list_alerts()
    assert store.fold_alerts(ids, digest("team", "digest:b"), moment, owner="b") is None
    assert store.fold_alerts(ids, digest("team", "digest:none"), moment) is None
    assert store.list_alerts() == before

    made = store.fold_alerts(ids, digest("team", "digest:a"), moment, owner="a")
    assert made is not None
    # The digest is queued unclaimed: whichever worker claims it first delivers it.
    assert [a.id for a in store.due_alerts(moment, owner="b")] == [made]
    assert store.due_alerts(moment, owner="a") == []
