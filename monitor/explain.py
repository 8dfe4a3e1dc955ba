"""Why an item did or did not match each watchlist, as readable text. Pure formatting: no
I/O; `monitor explain` finds the item and prints what `explain_text` returns.

    kz-pk: MATCH, score 9
      rule:   all-of(any-of(kazakhstan, astana, tokayev) score≥2, ...)
      fired:  all-of(any-of(kazakhstan) score≥2, any-of(pakistan) score≥2)
      found:
      * kazakhstan  title[0:10]   "Kazakhstan"  (alias Kazakhstan)  «Kazakhstan» and Pakistan sign…
        pakistan    body[812:820] "Pakistan"    (alias Pakistan)    …in a list: Iran, «Pakistan», …

A `*` marks a mention that counts in a part of the rule that held; the others were found but
count nowhere (a field the rule does not look at, a mention inside a list, a part of the rule
that failed, or a none-of that they made fail).

A watchlist's developments follow it, each in a paragraph of its own, met or not and why, in
the same form; one whose rule holds is still not met when the watchlist did not match:

      development sharif-visit-kazakhstan (urgent): MET: Shehbaz Sharif's return state visit…
        rule:   all-of(any-of(near(shehbaz-sharif, visit-arrival, any-of(in-kazakhstan, …
        fired:  near(shehbaz-sharif, visit-arrival, any-of(in-kazakhstan, to-kazakhstan); …)
        found:
        * shehbaz-sharif  title[0:14]  "Shehbaz Sharif"  (alias Shehbaz Sharif)  «Shehbaz…
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from monitor.models import FieldName, Hit, Item
from monitor.watch.matcher import DevelopmentExplanation, Explanation, Matcher, Outcome, fields
from monitor.watch.watchlists import NoneOf, Sentence

__all__ = [
    "counted_hits",
    "explain_text",
    "render_development",
    "render_explanation",
    "snippet",
]

_CONTEXT = 30  # characters of context either side of a mention


def counted_hits(outcome: Outcome) -> Iterator[Hit]:
    """The mentions that count in the parts of a rule that held, even when the whole did
    not (a none-of's mentions are what made it fail, so they are not among them; nor are
    those of a sentence node that no sentence satisfies, shown over the whole item)."""
    if isinstance(outcome.node, NoneOf) or (isinstance(outcome.node, Sentence) and not outcome.ok):
        return
    if outcome.ok:
        yield from outcome.hits
    for child in outcome.children:
        yield from counted_hits(child)


def snippet(text: str, start: int, end: int, context: int = _CONTEXT) -> str:
    """The mention in «», with up to `context` characters either side, on one line."""
    before = text[max(0, start - context) : start]
    after = text[end : end + context]
    head = "…" if start > context else ""
    tail = "…" if end + context < len(text) else ""
    line = f"{head}{before}«{text[start:end]}»{after}{tail}"
    return " ".join(line.split())


def render_explanation(
    explanation: Explanation, texts: Mapping[FieldName, str], context: int = _CONTEXT
) -> list[str]:
    """One watchlist's explanation, and its developments', as lines of text; `texts` are
    the item's `fields`."""
    head = f"MATCH, score {explanation.score:g}" if explanation.matched else "no match"
    lines = [f"{explanation.watchlist}: {head}", f"  rule:   {explanation.rule}"]
    lines += _details(explanation.fired, explanation.failed, "  ")
    lines += _found(explanation.hits, explanation.outcome, texts, context, "  ")
    for development in explanation.developments:
        lines += ["", *render_development(development, texts, context)]
    return lines


def render_development(
    development: DevelopmentExplanation, texts: Mapping[FieldName, str], context: int = _CONTEXT
) -> list[str]:
    """One development's explanation, indented under its watchlist's."""
    head = "MET" if development.met else "not met"
    lines = [
        f"  development {development.id} ({development.priority.label}): {head}: "
        f"{development.title}",
        f"    rule:   {development.rule}",
    ]
    lines += _details(development.fired, development.failed, "    ")
    lines += _found(development.hits, development.outcome, texts, context, "    ")
    return lines


def _details(fired: str | None, failed: Sequence[str], indent: str) -> list[str]:
    lines = [f"{indent}fired:  {fired}"] if fired else []
    return lines + [f"{indent}failed: {reason}" for reason in failed]


def _found(
    hits: Sequence[Hit],
    outcome: Outcome,
    texts: Mapping[FieldName, str],
    context: int,
    indent: str,
) -> list[str]:
    """The aliases found, one row each, those that count marked with `*`."""
    if not hits:
        return [f"{indent}found:  no alias of its entities"]
    counted = {(h.entity, h.field, h.start) for h in counted_hits(outcome)}
    rows = []
    for hit in hits:
        mark = "*" if (hit.entity, hit.field, hit.start) in counted else " "
        rows.append(
            (
                mark,
                hit.entity,
                f"{hit.field}[{hit.start}:{hit.end}]",
                f'"{hit.surface}"',
                f"(alias {hit.alias})",
                # A lead hit's offsets are the body's too: show the body's context.
                snippet(
                    texts["title" if hit.field == "title" else "body"], hit.start, hit.end, context
                ),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(1, 5)]
    lines = [f"{indent}found:"]
    for mark, *cells, text in rows:
        padded = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        lines.append(f"{indent}{mark} {padded}  {text}")
    return lines


def explain_text(
    matcher: Matcher,
    item: Item,
    watchlists: Sequence[str] | None = None,
    context: int = _CONTEXT,
) -> str:
    """Why `item` did or did not match each watchlist (or only those named), as text."""
    texts = fields(item)
    body = texts["body"]
    language = f", {item.language}" if item.language and item.language != "und" else ""
    lines = [
        f"item {item.id}{language}: {item.title or '(no title)'}",
        f"  title {len(item.title)} characters, body {len(body)} "
        f"(lead: the first {len(texts['lead'])})",
    ]
    for explanation in matcher.explain(item):
        if watchlists is not None and explanation.watchlist not in watchlists:
            continue
        lines.append("")
        lines += render_explanation(explanation, texts, context)
    return "\n".join(lines)
