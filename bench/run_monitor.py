"""One measured `monitor poll` pass in this process; prints a JSON line of figures.

python -m bench.run_monitor CONFIG [PASSES]

With PASSES > 1 the pass is repeated in the same process and the figures are those of the
last one: a daemon's later tick, with warm caches and open connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

from monitor import app as assembly
from monitor import logs
from monitor.pipeline import run_due


def children_cpu() -> float:
    """CPU seconds of this process's living children (the enrichment workers); 0 where
    /proc is not there."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0.0
    me = str(os.getpid())
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


async def measure(config: Path, passes: int) -> dict[str, float]:
    loaded = assembly.load(config)
    async with assembly.open_context(loaded) as ctx:
        for _ in range(passes):
            before = ctx.store.count_items()
            wall, cpu, workers = time.perf_counter(), time.process_time(), children_cpu()
            reports = await run_due(ctx, force=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            workers = children_cpu() - workers
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
        "workers_cpu_s": workers,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **{f"status_{k}": v for k, v in statuses.items()},
    }


if __name__ == "__main__":
    logs.configure("WARNING")
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(json.dumps(asyncio.run(measure(Path(sys.argv[1]), passes))))
