"""`monitor rematch`: run changed or new watchlists over stored history.

Every stored item is kept (matched or not) precisely so that this works: a watchlist added or
changed today is applied to what was seen last month. Newly matched items are written to the
corpus like any other; nothing alerts unless asked, and then as one digest per channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.errors import ConfigError
from monitor.models import Match
from monitor.pipeline import Context, Found, queue_digest, write_corpus
from monitor.stories.evidence import evidence_of

# progress(items_done): called after every item
Progress = Callable[[int], None]


@dataclass
class RematchReport:
    items: int = 0
    changed: int = 0
    newly_matched: dict[str, int] = field(default_factory=dict)  # watchlist -> items
    unmatched: dict[str, int] = field(default_factory=dict)  # watchlist -> items
    digests: int = 0


def rematch(
    ctx: Context,
    watchlist: str | None = None,
    since: datetime | None = None,
    *,
    alert: bool = False,
    progress: Progress | None = None,
) -> RematchReport:
    names = list(ctx.watchlists.names)
    if watchlist is not None:
        if watchlist not in names:
            raise ConfigError("--watchlist", f"unknown watchlist {watchlist!r} (known: {names})")
        names = [watchlist]
    chosen = set(names)
    report = RematchReport()
    found: list[Found] = []
    for stored in ctx.store.iter_items(since=since):
        report.items += 1
        item = stored.item
        fresh = [m for m in ctx.enricher.matcher.match(item) if m.watchlist in chosen]
        old = {m.watchlist: m for m in stored.matches if m.watchlist in chosen}
        new = {m.watchlist: m for m in fresh}
        if _same(old, new):
            if progress:
                progress(report.items)
            continue
        report.changed += 1
        evidence = evidence_of(item, ctx.enricher.matcher) if fresh else None
        entries = ctx.store.set_matches(
            item.id, fresh, names, evidence=evidence, stories=ctx.settings.stories
        )
        write_corpus(ctx, entries, {item.id: item})
        gained = new.keys() - old.keys()
        story_id = stored.story_id or item.id
        if gained:  # joining a story is what set_matches may have done
            again = ctx.store.find_item(item.id)
            story_id = (again.story_id if again else None) or story_id
        for name in sorted(gained):
            report.newly_matched[name] = report.newly_matched.get(name, 0) + 1
            found.append(Found(item, new[name], story_id))
        for name in old.keys() - new.keys():
            report.unmatched[name] = report.unmatched.get(name, 0) + 1
        if progress:
            progress(report.items)
    if alert:
        report.digests = queue_digest(ctx, "Re-matching: newly matched items", found)
    return report


def _same(old: dict[str, Match], new: dict[str, Match]) -> bool:
    """Same watchlists, same rule, same hits: nothing to write."""
    if old.keys() != new.keys():
        return False
    return all(old[w].rule == new[w].rule and old[w].hits == new[w].hits for w in old)
