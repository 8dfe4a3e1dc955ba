"""Whether a new item joins a story: pure functions over evidence, times and settings.

An item joins the story, among those whose first report is within `window` of the item's
time, that shares the most of its evidence, provided they share at least `min_shared` keys
(entities, figures, dates) and the shared keys are at least `min_overlap` of the smaller
side's keys. Otherwise it starts a story. The window keeps a visit months later, between the
same parties, a new story; the overlap keeps two different events of one week apart when
their reports name different people, places and figures.

Deliberately simple and explainable: no translation, no model. What it cannot tell apart (two
events of the same days with the same actors and no figure to tell them by) it joins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from monitor.config import StorySettings
from monitor.models import Evidence

ENTITY = "e:"
FIGURE = "n:"
MAX_KEYS = 80  # a story's evidence grows with its reports; this bounds it


@dataclass(frozen=True)
class Candidate:
    """A story an item might join, as the store reads it."""

    story_id: str
    first_at: datetime
    evidence: Evidence
    last_at: datetime | None = None


@dataclass(frozen=True)
class Report:
    """One item of a story, as the alert policy sees it."""

    item_id: str
    source: str
    outlet: str
    language: str
    dated_at: datetime
    title: str


@dataclass(frozen=True)
class StoryFacts:
    """What the store knows of an item's story when the item is saved."""

    story_id: str
    started: bool  # this item started the story
    republished: bool  # the same text is already stored (another URL, same words)
    first_at: datetime
    title: str
    alerted: frozenset[str]  # watchlists this story has already been alerted for
    met: frozenset[tuple[str, str]]  # (watchlist, development) met by its earlier reports
    reports: tuple[Report, ...]  # its first reports (at most 40) and this item, oldest first


def keys(evidence: Evidence) -> list[str]:
    return sorted(
        [ENTITY + entity for entity in evidence.entities]
        + [FIGURE + number for number in evidence.numbers]
    )


def joinable(evidence: Evidence, settings: StorySettings) -> bool:
    """Enough evidence to join (or be joined): fewer keys than `min_shared` never could."""
    return len(evidence.entities) + len(evidence.numbers) >= settings.min_shared


def in_window(at: datetime, first_at: datetime, settings: StorySettings) -> bool:
    return abs((at - first_at).total_seconds()) <= settings.window


def similarity(item: Evidence, story: Evidence) -> tuple[int, float, int]:
    """(shared keys, overlap with the smaller side, shared title/lead entities)."""
    shared = len(item.entities & story.entities) + len(item.numbers & story.numbers)
    smaller = min(len(item.entities) + len(item.numbers), len(story.entities) + len(story.numbers))
    overlap = shared / smaller if smaller else 0.0
    return shared, overlap, len(item.lead_entities & story.lead_entities)


def choose(
    item: Evidence, at: datetime, candidates: Iterable[Candidate], settings: StorySettings
) -> Candidate | None:
    """The story the item joins, or None (it starts one). Ties go to the story closest in
    time, then to the older id, so the choice does not depend on the order of candidates."""
    best: tuple[tuple[float, int, int, float], Candidate] | None = None
    for candidate in candidates:
        if not in_window(at, candidate.first_at, settings):
            continue
        shared, overlap, lead = similarity(item, candidate.evidence)
        if shared < settings.min_shared or overlap < settings.min_overlap:
            continue
        distance = abs((at - candidate.first_at).total_seconds())
        rank = (overlap, shared, lead, -distance)
        if (
            best is None
            or rank > best[0]
            or (rank == best[0] and candidate.story_id < best[1].story_id)
        ):
            best = (rank, candidate)
    return best[1] if best else None


def merged(story: Evidence, item: Evidence) -> Evidence:
    """A story's evidence after the item joined: the union, bounded (first come first kept)."""
    entities = list(story.entities) + sorted(item.entities - story.entities)
    numbers = list(story.numbers) + sorted(item.numbers - story.numbers)
    room = max(MAX_KEYS - len(entities), 0)
    return Evidence(
        entities=frozenset(entities[:MAX_KEYS]),
        lead_entities=(story.lead_entities | item.lead_entities) & frozenset(entities[:MAX_KEYS]),
        numbers=frozenset(numbers[:room]),
    )


def outlet(url: str | None, source: str) -> str:
    """Who published a report: the site's host without `www.`, else the source name.
    Kazinform in Kazakh and in Chinese is one outlet; Kazinform and Xinhua are two."""
    host = urlsplit(url).hostname if url else None
    if not host:
        return source
    return host.removeprefix("www.")


def spread(
    reports: Sequence[Report], first_at: datetime, settings: StorySettings
) -> tuple[int, int]:
    """Outlets and languages that reported the story within `breaking_within` of its first
    report."""
    early = [
        r
        for r in reports
        if 0 <= (r.dated_at - first_at).total_seconds() <= settings.breaking_within
    ]
    return len({r.outlet for r in early}), len({r.language for r in early})


def evidence_json(evidence: Evidence) -> dict[str, list[str]]:
    return {
        "entities": sorted(evidence.entities),
        "lead": sorted(evidence.lead_entities),
        "numbers": sorted(evidence.numbers),
    }


def evidence_from_json(raw: object) -> Evidence:
    data = raw if isinstance(raw, dict) else {}
    return Evidence(
        entities=frozenset(data.get("entities", ())),
        lead_entities=frozenset(data.get("lead", ())),
        numbers=frozenset(data.get("numbers", ())),
    )
