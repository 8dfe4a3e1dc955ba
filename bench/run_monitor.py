"""One measured `monitor poll` pass in this process; prints a JSON line of figures.

python -m bench.run_monitor CONFIG [PASSES]

With PASSES > 1 the pass is repeated in the same process and the figures are those of the
last one: a daemon's later tick, with warm caches and open connections.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from monitor import app as assembly
from monitor import logs
from monitor.pipeline import run_due


async def measure(config: Path, passes: int) -> dict[str, float]:
    loaded = assembly.load(config)
    async with assembly.open_context(loaded) as ctx:
        for _ in range(passes):
            before = ctx.store.count_items()
            wall, cpu = time.perf_counter(), time.process_time()
            reports = await run_due(ctx, force=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stored = ctx.store.count_items() - before
    statuses: dict[str, int] = {}
    for report in reports:
        statuses[report.status] = statuses.get(report.status, 0) + 1
    return {
        "feeds": len(reports),
        "stored": stored,
        "entries": sum(r.counts.entries for r in reports),
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **{f"status_{k}": v for k, v in statuses.items()},
    }


if __name__ == "__main__":
    logs.configure("WARNING")
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(json.dumps(asyncio.run(measure(Path(sys.argv[1]), passes))))
