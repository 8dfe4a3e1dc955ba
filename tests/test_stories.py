"""Stories: evidence, joining, and the store's story records on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import StorySettings
from monitor.models import Evidence, Item, hex16
from monitor.store.base import AlertIntent, Decision, ItemWrite, Store
from monitor.stories import cluster
from monitor.stories.cluster import Candidate, StoryFacts
from monitor.stories.evidence import evidence_of, figures
from monitor.watch.matcher import Matcher
from monitor.watch.watchlists import load_watchlists
from tests.conftest import another
from tests.story_texts import EVENT_A, EVENT_B
from tests.workspace import WATCHLISTS

T0 = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)
SETTINGS = StorySettings()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.compile(load_watchlists(WATCHLISTS))


def report(
    matcher: Matcher,
    event: dict[str, tuple[str, str, str]],
    lang: str,
    at: datetime,
    path: str = "",
) -> ItemWrite:
    host, title, body = event[lang]
    url = f"https://{host}/{path or lang}/{hex16(title)[:6]}"
    item = Item(
        id=hex16(url),
        url=url,
        source=f"{host}-{lang}",
        title=title,
        text=body,
        published=at,
        language=lang,
        fetched_at=at + timedelta(minutes=5),
    )
    matches = tuple(matcher.match(item))
    assert matches, f"fixture {lang} must match a watchlist"
    return ItemWrite(item, matches, evidence=evidence_of(item, matcher), alert=True)


class Recorder:
    """A policy that records the facts it is given and alerts once per story."""

    def __init__(self) -> None:
        self.facts: list[StoryFacts] = []

    @property
    def stories(self) -> StorySettings:
        return SETTINGS

    def decide(self, write: ItemWrite, facts: StoryFacts) -> Decision:
        self.facts.append(facts)
        names = [m.watchlist for m in write.matches if m.watchlist not in facts.alerted]
        intents = tuple(
            AlertIntent("team", "story", f"story:{facts.story_id}:{n}", {"n": n}) for n in names
        )
        return Decision(intents, tuple(names))


# --- evidence (pure) -------------------------------------------------------------------------


def test_figures_normalise_separators_and_leave_out_years_and_small_numbers() -> None:
    assert figures("1,25 млрд долларов, 320 000 тонн") == {"1.25", "320000"}
    assert figures("320.000 tona, 1.000.000 kişi") == {"320000", "1000000"}
    assert figures("$1.25 billion and 320,000 tonnes") == {"1.25", "320000"}
    assert figures("in 2026, 12 documents, 45 firms") == set()
    assert figures("04.02.2026 18:27") == {"2026-02-04"}
    assert figures("on 2026-05-12 at 150 sites") == {"2026-05-12", "150"}


def test_one_event_gives_the_same_evidence_in_five_languages(matcher: Matcher) -> None:
    found = {lang: report(matcher, EVENT_A, lang, T0).evidence for lang in EVENT_A}
    entities = {lang: e.entities for lang, e in found.items()}
    assert all(e == entities["en"] for e in entities.values()), entities
    assert {"tokayev", "astana", "kazakhstan", "pakistan"} <= entities["en"]
    assert all({"1.25", "320000"} <= e.numbers for e in found.values())


# --- joining (pure) --------------------------------------------------------------------------


def candidate(story_id: str, evidence: Evidence, at: datetime = T0) -> Candidate:
    return Candidate(story_id, at, evidence)


def test_choose_needs_shared_keys_overlap_and_the_window() -> None:
    story = Evidence(
        frozenset({"kazakhstan", "pakistan", "tokayev", "astana"}), numbers=frozenset({"1.25"})
    )
    close = Evidence(frozenset({"kazakhstan", "pakistan", "tokayev"}), numbers=frozenset({"1.25"}))
    other = Evidence(frozenset({"kazakhstan", "pakistan", "karachi"}), numbers=frozenset({"150"}))
    assert cluster.choose(close, T0, [candidate("a", story)], SETTINGS) is not None
    assert cluster.choose(other, T0, [candidate("a", story)], SETTINGS) is None  # overlap 0.5
    later = T0 + timedelta(days=30)
    assert cluster.choose(close, later, [candidate("a", story)], SETTINGS) is None
    lonely = Evidence(frozenset({"kazakhstan"}))
    assert not cluster.joinable(lonely, SETTINGS)
    assert cluster.choose(lonely, T0, [candidate("a", story)], SETTINGS) is None


def test_choose_prefers_the_closer_story_and_does_not_depend_on_order() -> None:
    evidence = Evidence(frozenset({"kazakhstan", "pakistan", "tokayev"}))
    near = candidate("z", evidence, T0 + timedelta(hours=1))
    far = candidate("a", evidence, T0 - timedelta(days=2))
    assert cluster.choose(evidence, T0, [near, far], SETTINGS) == near
    assert cluster.choose(evidence, T0, [far, near], SETTINGS) == near


def test_spread_counts_outlets_and_languages_within_the_breaking_window() -> None:
    reports = tuple(
        cluster.Report(str(n), "s", outlet, lang, T0 + timedelta(minutes=minutes), "t")
        for n, (outlet, lang, minutes) in enumerate(
            [
                ("a.example", "en", 0),
                ("a.example", "kk", 10),
                ("b.example", "zh", 30),
                ("c.example", "tr", 90),
            ]
        )
    )
    assert cluster.spread(reports, T0, SETTINGS) == (2, 3)


def test_outlet_is_the_host_without_www() -> None:
    assert cluster.outlet("https://www.kazinform.kz/en/x", "kazinform-en") == "kazinform.kz"
    assert cluster.outlet(None, "import:seeds") == "import:seeds"


# --- the store (SQLite and PostgreSQL) -------------------------------------------------------


def test_five_languages_of_one_event_are_one_story_and_a_later_event_another(
    store: Store, matcher: Matcher
) -> None:
    policy = Recorder()
    results = []
    for n, lang in enumerate(EVENT_A):  # one transaction per outlet, as polls are
        write = report(matcher, EVENT_A, lang, T0 + timedelta(minutes=10 * n))
        results += store.save_items([write], policy)
    stories = {r.story_id for r in results}
    assert len(stories) == 1
    assert [f.started for f in policy.facts] == [True, False, False, False, False]
    assert [sorted(f.alerted) for f in policy.facts] == [[]] + [["kz-pk"]] * 4
    assert len(policy.facts[-1].reports) == 5

    # The same two countries, another event within the window: another story.
    forum = store.save_items([report(matcher, EVENT_B, "en", T0 + timedelta(days=1))], policy)
    # Like words six weeks later (a visit months later, a new text): another story too.
    later = report(matcher, EVENT_A, "en", T0 + timedelta(days=42), path="later")
    text = later.item.text + " It was the second such visit this year."
    again = store.save_items(
        [
            ItemWrite(
                later.item.model_copy(update={"text": text}),
                later.matches,
                evidence=later.evidence,
                alert=True,
            )
        ],
        policy,
    )
    assert len({forum[0].story_id, again[0].story_id} | stories) == 3
    assert policy.facts[-1].started and policy.facts[-2].started

    listed = list(store.iter_stories())
    assert [s.size for s in listed] == [5, 1, 1]
    first = listed[0]
    assert set(first.languages) == set(EVENT_A)
    assert len(first.outlets) == 5 and first.watchlists == ("kz-pk",)
    assert first.alerted == ("kz-pk",)
    assert list(store.iter_stories(watchlist="gwadar")) == []
    assert [s.id for s in store.iter_stories(since=T0 + timedelta(days=40))] == [again[0].story_id]


def test_a_batch_joins_its_own_earlier_items_and_items_without_evidence_stand_alone(
    store: Store, matcher: Matcher
) -> None:
    batch = [report(matcher, EVENT_A, lang, T0) for lang in ("ru", "kk", "zh")]
    plain = Item(id="f" * 16, url="https://x.example/weather", source="x", title="Weather")
    results = store.save_items([*batch, ItemWrite(plain)], Recorder())
    assert len({r.story_id for r in results[:3]}) == 1
    assert results[3].story_id == plain.id
    assert [s.size for s in store.iter_stories(matched_only=False)] == [3, 1]
    stored = store.find_item(batch[1].item.id)
    assert stored is not None and stored.story_id == results[0].story_id


def test_facts_in_one_batch_see_every_report_and_an_update_between_them(
    store: Store, matcher: Matcher
) -> None:
    """A story's first reports are read once per batch (all its items are inserted before
    the first `facts`); an item updated in the same batch, between two `facts`, is seen
    changed by the later one."""
    policy = Recorder()
    old = report(matcher, EVENT_A, "en", T0)
    store.save_items([old], policy)
    retitled = ItemWrite(
        old.item.model_copy(update={"title": "Tokayev and Sharif sign a transit deal"}),
        old.matches,
        evidence=old.evidence,
        alert=True,
    )
    later = [
        report(matcher, EVENT_A, "ru", T0 + timedelta(minutes=1)),
        report(matcher, EVENT_A, "kk", T0 + timedelta(minutes=2)),
    ]
    last = report(matcher, EVENT_A, "zh", T0 + timedelta(minutes=3))
    del policy.facts[:]
    results = store.save_items([*later, retitled, last], policy)
    assert [r.status for r in results] == ["new", "new", "updated", "new"]
    assert {r.story_id for r in results if r.status == "new"} == {old.item.id}
    ids = [old.item.id, *(w.item.id for w in later), last.item.id]
    for facts in policy.facts:  # each sees the whole story, oldest first
        assert [r.item_id for r in facts.reports] == ids
    titles = [{r.item_id: r.title for r in f.reports}[old.item.id] for f in policy.facts]
    assert titles == [old.item.title] * 2 + [retitled.item.title]


def test_a_republished_text_under_a_new_url_joins_its_story_marked_republished(
    store: Store, matcher: Matcher
) -> None:
    policy = Recorder()
    first = report(matcher, EVENT_A, "en", T0)
    store.save_items([first], policy)
    url = "https://mirror.example/copy/1"
    copy = ItemWrite(
        first.item.model_copy(update={"id": hex16(url), "url": url}),
        first.matches,
        evidence=first.evidence,
        alert=True,
    )
    (saved,) = store.save_items([copy], policy)
    assert saved.status == "new" and saved.story_id == first.item.id
    assert policy.facts[-1].republished


def test_alert_stories_marks_each_story_once(store: Store, matcher: Matcher) -> None:
    (saved,) = store.save_items([report(matcher, EVENT_A, "en", T0)])  # no policy: quiet
    pair = (saved.story_id or "", "kz-pk")
    built: list[list[tuple[str, str]]] = []

    def build(new: object) -> list[AlertIntent]:
        built.append(list(new))  # type: ignore[call-overload]
        return (
            [AlertIntent("team", "digest", "digest:1", {"title": "t", "items": []})] if new else []
        )

    assert store.alert_stories([pair], build) == 1
    assert store.alert_stories([pair], build) == 0
    assert built == [[pair], []]
    (story,) = store.iter_stories()
    assert story.alerted == ("kz-pk",)


def test_rematching_moves_a_lone_item_into_the_story_its_evidence_points_to(
    store: Store, matcher: Matcher
) -> None:
    store.save_items([report(matcher, EVENT_A, "en", T0)], Recorder())
    late = report(matcher, EVENT_A, "tr", T0 + timedelta(hours=2))
    (alone,) = store.save_items([ItemWrite(late.item)])  # saved before it matched anything
    assert alone.story_id == late.item.id
    store.set_matches(
        late.item.id, late.matches, ["kz-pk"], evidence=late.evidence, stories=SETTINGS
    )
    stored = store.find_item(late.item.id)
    assert stored is not None and stored.story_id == report(matcher, EVENT_A, "en", T0).item.id
    assert [s.size for s in store.iter_stories(matched_only=False)] == [2]


def test_two_workers_saving_one_event_at_once_make_one_story(
    db_url: str, store: Store, matcher: Matcher
) -> None:
    writes = [report(matcher, EVENT_A, lang, T0) for lang in EVENT_A]
    results: list[str | None] = []
    barrier = threading.Barrier(2)

    def work(target: Store, part: list[ItemWrite]) -> None:
        barrier.wait()
        for write in part:
            results.extend(r.story_id for r in target.save_items([write], Recorder()))

    second = another(db_url)
    threads = [
        threading.Thread(target=work, args=(store, writes[::2])),
        threading.Thread(target=work, args=(second, writes[1::2])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.close()
    assert len(results) == 5 and len(set(results)) == 1


def test_the_seeds_are_one_story(store: Store, matcher: Matcher) -> None:
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"the seeds are not at {seeds}")
    from monitor.store.corpus import parse_seed_file

    stories = set()
    for path in sorted(seeds.glob("*.txt")):
        doc = parse_seed_file(path)
        item = Item(
            id=doc.hex16,
            url=None,
            source="import:seeds",
            title=doc.title,
            text=doc.body,
            published=datetime.fromisoformat(doc.date).replace(tzinfo=UTC),
        )
        matches = tuple(matcher.match(item))
        write = ItemWrite(item, matches, evidence=evidence_of(item, matcher))
        stories |= {r.story_id for r in store.save_items([write], Recorder())}
    assert len(stories) == 1
