"""The alert policy: which alerts one saved item raises, given its story.

Per watchlist the item matched:

- the story had no alert for this watchlist yet: one alert, kind `story` (NORMAL), or, when
  the item meets one of the watchlist's awaited developments, kind `development` (its
  priority, URGENT by default) in its place; its key `story:<story>:<watchlist>` is what
  later alerts of the story thread under;
- the story was alerted already: the item is another report. It meets a development that no
  earlier report of the story met: a `development` alert. Otherwise an `update` (LOW): a
  reply in the thread of the first alert where the channel threads, a line in the next
  digest elsewhere;
- either way, when the story has now spread to `breaking_outlets` outlets or
  `breaking_languages` languages within `breaking_within` of its first report: one `breaking`
  alert (HIGH) per story, whatever the number of watchlists.

Nothing at all for an item that may not alert (import, backfill, too old, updated in place)
or that republishes a stored text under another URL. Each alert goes to every channel routed
to the watchlist, timed by the channel (`monitor.alerts.timing.plan`: minimum priority,
digest mode, quiet hours). Keys repeat nothing: the outbox keeps one row per channel and key,
so a development or a breaking alert is raised once per story however many reports meet it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.alerts.payloads import digest_payload, item_payload
from monitor.alerts.render import ItemPayload
from monitor.alerts.timing import plan
from monitor.config import Settings, StorySettings
from monitor.models import Item, Match, Priority, hex16
from monitor.store.base import AlertIntent, Decision, ItemWrite
from monitor.stories import cluster
from monitor.stories.cluster import StoryFacts
from monitor.watch.watchlists import Watchlists

REPORTED_BY_SHOWN = 12


def story_key(story_id: str, watchlist: str) -> str:
    """Key of a story's first alert for a watchlist: later alerts thread under it."""
    return f"story:{story_id}:{watchlist}"


class AlertPolicy:
    """`decide` for `Store.save_items`. Pure given its clock: no I/O."""

    def __init__(
        self,
        settings: Settings,
        watchlists: Watchlists,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.watchlists = watchlists
        self.clock = clock
        self._zone = ZoneInfo(settings.timezone)

    @property
    def stories(self) -> StorySettings:
        return self.settings.stories

    def decide(self, write: ItemWrite, facts: StoryFacts) -> Decision:
        if not write.alert or facts.republished:
            return Decision()
        item = write.item
        now = self.clock()
        intents: list[AlertIntent] = []
        alerted: list[str] = []
        first_keys: dict[str, str] = {}
        for match in _unique(write.matches):
            name = match.watchlist
            key = story_key(facts.story_id, name)
            first_keys[name] = key
            development = self._development(match, facts)
            if name not in facts.alerted:
                alerted.append(name)
                if development is not None:
                    dev_id, title, priority = development
                    headline = f"Awaited development: {title}"
                    intents += self._route(
                        "development", key, None, priority, item, match, facts, headline, now
                    )
                else:
                    intents += self._route(
                        "story", key, None, Priority.NORMAL, item, match, facts, None, now
                    )
                continue
            for dev_id, title, priority in self._developments(match, facts):
                dev_key = f"development:{facts.story_id}:{name}:{dev_id}"
                headline = f"Awaited development: {title}"
                intents += self._route(
                    "development", dev_key, key, priority, item, match, facts, headline, now
                )
            if development is None:
                headline = f"Also reported by {_report_label(item, facts)}"
                intents += self._route(
                    "update",
                    f"update:{item.id}:{name}",
                    key,
                    Priority.LOW,
                    item,
                    match,
                    facts,
                    headline,
                    now,
                )
        intents += self._breaking(write, facts, first_keys, now)
        return Decision(tuple(intents), tuple(alerted))

    def digest(
        self, title: str, stories: Mapping[tuple[str, str], Sequence[tuple[Item, Match]]]
    ) -> list[AlertIntent]:
        """One digest per channel listing new stories (by (story, watchlist): its reports,
        the first first), for import, backfill and rematch with `--alert`."""
        if not stories:
            return []
        key = "digest:" + hex16("|".join(f"{s}:{w}" for s, w in sorted(stories)))
        lines = {pair: self._story_line(pair[0], reports) for pair, reports in stories.items()}
        intents = []
        for name, channel in self.settings.alerts.channels.items():
            routed = [
                line
                for (_, watchlist), line in lines.items()
                if not channel.watchlists or watchlist in channel.watchlists
            ]
            if routed:
                payload = dict(digest_payload(title, routed))
                intents.append(AlertIntent(channel=name, kind="digest", key=key, payload=payload))
        return intents

    def _story_line(self, story_id: str, reports: Sequence[tuple[Item, Match]]) -> ItemPayload:
        """A story in a digest: its first report, and who else reported it."""
        item, match = reports[0]
        line = item_payload(item, match, self.watchlists.title(match.watchlist))
        line["outlet"] = cluster.outlet(item.url, item.source)
        line["story_id"] = story_id
        line["reported_by"] = list(
            dict.fromkeys(
                report_label(cluster.outlet(other.url, other.source), other.language)
                for other, _ in reports[1:]
            )
        )
        line["languages"] = sorted({other.language for other, _ in reports})
        return line

    # --- pieces ---

    def _developments(self, match: Match, facts: StoryFacts) -> list[tuple[str, str, Priority]]:
        """(id, title, priority) of each development the match meets and no earlier report
        of the story met (it is raised once per story), in file order."""
        if not match.developments:
            return []
        known = {d.id: d for d in self.watchlists[match.watchlist].developments}
        return [
            (d, known[d].title, known[d].priority)
            for d in match.developments
            if d in known and (match.watchlist, d) not in facts.met
        ]

    def _development(self, match: Match, facts: StoryFacts) -> tuple[str, str, Priority] | None:
        """The highest-priority development newly met (the first of those), if any."""
        met = self._developments(match, facts)
        return max(met, key=lambda d: d[2]) if met else None

    def _breaking(
        self, write: ItemWrite, facts: StoryFacts, first_keys: dict[str, str], now: datetime
    ) -> list[AlertIntent]:
        settings = self.stories
        if facts.started or not first_keys:
            return []
        outlets, languages = cluster.spread(facts.reports, facts.first_at, settings)
        fast = (settings.breaking_outlets and outlets >= settings.breaking_outlets) or (
            settings.breaking_languages and languages >= settings.breaking_languages
        )
        if not fast:
            return []
        minutes = round(settings.breaking_within / 60)
        headline = (
            f"Spreading: {outlets} outlets in {languages} languages "
            f"within {minutes} minutes of the first report"
        )
        match = _unique(write.matches)[0]
        key = f"breaking:{facts.story_id}"
        return self._route(
            "breaking",
            key,
            first_keys[match.watchlist],
            Priority.HIGH,
            write.item,
            match,
            facts,
            headline,
            now,
            watchlists=tuple(first_keys),
        )

    def _route(
        self,
        kind: str,
        key: str,
        thread_key: str | None,
        priority: Priority,
        item: Item,
        match: Match,
        facts: StoryFacts,
        headline: str | None,
        now: datetime,
        watchlists: tuple[str, ...] = (),
    ) -> list[AlertIntent]:
        """One intent per channel routed to the watchlist(s), timed by the channel."""
        wanted = set(watchlists or (match.watchlist,))
        payload = self._payload(item, match, facts, priority, headline)
        intents = []
        for name, channel in self.settings.alerts.channels.items():
            if channel.watchlists and wanted.isdisjoint(channel.watchlists):
                continue
            timing = plan(channel, kind, priority, now, self._zone)
            if timing is None:
                continue
            intents.append(
                AlertIntent(
                    channel=name,
                    kind=kind,
                    key=key,
                    payload=dict(payload),
                    priority=priority,
                    thread_key=thread_key,
                    not_before=timing.not_before,
                    fold=timing.fold,
                )
            )
        return intents

    def _payload(
        self,
        item: Item,
        match: Match,
        facts: StoryFacts,
        priority: Priority,
        headline: str | None,
    ) -> dict[str, object]:
        payload: dict[str, object] = dict(
            item_payload(item, match, self.watchlists.title(match.watchlist))
        )
        others = [r for r in facts.reports if r.item_id != item.id]
        payload.update(
            outlet=_outlet(item, facts),
            story_id=facts.story_id,
            priority=priority.label,
            reported_by=_labels(others)[:REPORTED_BY_SHOWN],
            languages=sorted({r.language for r in facts.reports}),
        )
        if headline:
            payload["headline"] = headline
        return payload


def _unique(matches: tuple[Match, ...]) -> list[Match]:
    seen: dict[str, Match] = {}
    for match in matches:
        seen.setdefault(match.watchlist, match)
    return list(seen.values())


def report_label(outlet: str, language: str) -> str:
    """How alerts name a report: "qazinform.kz (kk)"."""
    return f"{outlet} ({language})"


def _labels(reports: list[cluster.Report]) -> list[str]:
    """One label per outlet and language, in order of publication."""
    return list(dict.fromkeys(report_label(r.outlet, r.language) for r in reports))


def _outlet(item: Item, facts: StoryFacts) -> str:
    own = next((r for r in facts.reports if r.item_id == item.id), None)
    return own.outlet if own else cluster.outlet(item.url, item.source)


def _report_label(item: Item, facts: StoryFacts) -> str:
    return report_label(_outlet(item, facts), item.language)
