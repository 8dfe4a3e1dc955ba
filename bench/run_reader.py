"""lemon24/reader's `update_feeds` over the same feeds, for comparison; prints a JSON line.

python -m bench.run_reader DB URLS_FILE WORKERS
"""

from __future__ import annotations

import json
import resource
import sys
import time

from reader import make_reader


def main() -> None:
    db, urls_file, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(urls_file, encoding="utf-8") as handle:
        urls = handle.read().split()
    reader = make_reader(db)
    for url in urls:
        reader.add_feed(url, exist_ok=True)
    before = reader.get_entry_counts().total or 0
    wall, cpu = time.perf_counter(), time.process_time()
    reader.update_feeds(workers=workers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stored = (reader.get_entry_counts().total or 0) - before
    reader.close()
    print(
        json.dumps(
            {
                "feeds": len(urls),
                "stored": stored,
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
