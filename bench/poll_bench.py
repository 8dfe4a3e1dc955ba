"""Poll benchmark: monitor versus lemon24/reader over the same generated feeds.

Serves N generated multilingual feeds x M items (full content in the feed) from a local server
in its own process, then, each in a fresh process:
  1. `monitor poll` on a fresh store (items per second, peak memory);
  2. `monitor poll` again with nothing changed (every feed must answer 304 or be skipped by
     content hash; CPU milliseconds per feed);
  3. reader's `update_feeds` on a fresh database (entries per second, peak memory).

    python bench/poll_bench.py [--feeds 200] [--items 50] [--workers 16] [--match-share 0.05]

--match-share is the share of items that name Kazakhstan and Pakistan (and so are matched,
filed in the corpus and alerted); 1.0 is the worst case.

Targets (issue 2): first poll >= 3x reader's entries per second; unchanged re-poll < 1 ms CPU
per feed, answered entirely by 304s or content-hash skips.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.feedgen import generate  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("feed server did not start")


def run_json(args: list[str], env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--workers", type=int, default=16, help="parallel fetches, both tools")
    parser.add_argument(
        "--cpu-workers",
        type=int,
        default=max((os.cpu_count() or 1) - 1, 0),
        help="monitor's enrichment processes (default: cores - 1)",
    )
    parser.add_argument(
        "--match-share", type=float, default=0.05, help="share of items naming a watched pair"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    paths = generate(work / "feeds", args.feeds, args.items, base, args.match_share)
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.feedserver", str(work / "feeds"), str(port)], cwd=ROOT
    )
    try:
        wait_for(port)
        sources = "\n".join(
            f'[[source]]\nname = "bench-{i}"\nkind = "rss"\nurl = "{base}{p}"\n'
            'full_text = "never"\n'
            for i, p in enumerate(paths)
        )
        (work / "sources.toml").write_text(sources, encoding="utf-8")
        (work / "urls.txt").write_text("\n".join(base + p for p in paths), encoding="utf-8")
        config = work / "monitor.toml"
        config.write_text(
            f'data_dir = "{work / "data"}"\nsources_file = "{work / "sources.toml"}"\n'
            f'watchlists_dir = "{ROOT / "watchlists"}"\n'
            f"cpu_workers = {args.cpu_workers}\n"
            f"[http]\nper_host = {args.workers}\nconcurrency = {args.workers}\n",
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        first = run_json([sys.executable, "-m", "bench.run_monitor", str(config)], env)
        second = run_json([sys.executable, "-m", "bench.run_monitor", str(config)], env)
        warm = run_json([sys.executable, "-m", "bench.run_monitor", str(config), "2"], env)
        other = run_json(
            [
                sys.executable,
                "-m",
                "bench.run_reader",
                str(work / "reader.sqlite"),
                str(work / "urls.txt"),
                str(args.workers),
            ],
            env,
        )
    finally:
        server.terminate()
        server.wait()

    ours = first["stored"] / first["wall_s"]
    theirs = other["stored"] / other["wall_s"]
    unchanged = second.get("status_not_modified", 0) + second.get("status_unchanged", 0)
    per_feed = 1000 * second["cpu_s"] / second["feeds"]
    warm_per_feed = 1000 * warm["cpu_s"] / warm["feeds"]
    rows = [
        (
            "feeds x items",
            f"{args.feeds} x {args.items}, {args.match_share:.0%} matching, "
            f"{args.cpu_workers} enrichment processes",
        ),
        (
            "monitor first poll",
            f"{first['stored']} items in {first['wall_s']:.2f} s = {ours:,.0f} items/s "
            f"(CPU {first['cpu_s']:.2f} s, workers {first.get('workers_cpu_s', 0):.2f} s), "
            f"peak RSS {first['peak_rss_mb']:.0f} MB",
        ),
        (
            "reader update_feeds",
            f"{other['stored']} entries in {other['wall_s']:.2f} s = {theirs:,.0f} entries/s "
            f"(CPU {other['cpu_s']:.2f} s), peak RSS {other['peak_rss_mb']:.0f} MB",
        ),
        ("speed-up over reader", f"{ours / theirs:.2f}x (target >= 3x)"),
        (
            "unchanged re-poll",
            f"{unchanged}/{second['feeds']} feeds by 304 or hash skip, {second['stored']} "
            f"stored, CPU {per_feed:.3f} ms/feed in a new process (monitor poll), "
            f"{warm_per_feed:.3f} ms/feed on a daemon's later tick (target < 1 ms)",
        ),
    ]
    for label, text in rows:
        print(f"{label + ':':<24}{text}")


if __name__ == "__main__":
    main()
