"""The cyclic garbage collector, set for a process that has loaded what it works with.

What a process loads at start-up (modules, the language model, the compiled watchlists)
lives as long as the process, yet every full collection walked all of it again; and a poll
allocates containers by the hundred thousand (parsed entries, items, rows), so collections
ran hundreds of times per poll. Measured on a first poll of 10,000 items: 0.25 s of the
polling process's CPU and 0.1 s of a worker's went to the collector, 0.01-0.02 s after
`settle`. Reference counting frees almost everything either way; the collector is only for
cycles, which now wait a little longer.
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between two young-generation collections; Python's default is
# 700. The older generations keep their default ratios.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Call once start-up is done: collect what it left behind, then keep the rest out of
    every later collection (`gc.freeze`) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
