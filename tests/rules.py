"""Random watchlist rules, for the property tests that hold the matcher's fast passes against
a full evaluation (`test_matcher`, `test_matcher_fast_paths`, `test_developments`). Each test
asks for the rule features its subject handles."""

from __future__ import annotations

import random
from collections.abc import Sequence


def random_rule(
    rng: random.Random,
    depth: int,
    names: Sequence[str],
    *,
    where: bool = True,
    any_in_near: bool = False,
    within_chars: bool = False,
    sentence: bool = False,
    at_least: bool = True,
) -> object:
    """A rule over the entities `names`, nested at most `depth` deep: entity terms (with a
    `where` and a `min_score`), `near` (with `any` terms and `within_chars` when asked),
    `sentence` when asked, and `none`, `all` and `any` nodes (`any` with `at_least`)."""

    def rule(depth: int) -> object:
        entity = rng.choice(names)
        roll = rng.random()
        if depth == 0 or roll < 0.3:
            if rng.random() < 0.5:
                return entity
            term: dict[str, object] = {"entity": entity}
            if where and rng.random() < 0.5:
                term["where"] = rng.choice(["title", "lead", "anywhere"])
            if rng.random() < 0.5:
                term["min_score"] = rng.choice([1, 2, 3, 4.5])
            return term
        if roll < 0.45:
            terms: list[object] = rng.sample(names, rng.randint(2, 3))
            if any_in_near and rng.random() < 0.3:
                terms[0] = {"any": rng.sample(names, 2)}
            near: dict[str, object] = {"near": terms, "within": rng.randint(1, 6)}
            if within_chars and rng.random() < 0.5:
                near["within_chars"] = rng.randint(1, 6)
            if rng.random() < 0.3:
                near["min_score"] = rng.choice([2, 4])
            return near
        if sentence and roll < 0.55:
            return {"sentence": rule(depth - 1)}
        children = [rule(depth - 1) for _ in range(rng.randint(1, 4))]
        if roll < 0.65:
            return {"none": children}
        node: dict[str, object] = {"all" if roll < 0.8 else "any": children}
        if rng.random() < 0.4:
            node["min_score"] = rng.choice([1, 2, 3, 5])
        if at_least and "any" in node and rng.random() < 0.4:
            node["at_least"] = rng.randint(1, len(children))
        return node

    return rule(depth)
