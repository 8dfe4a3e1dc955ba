"""A kill in the middle of a poll leaves no partial corpus file, and the next poll completes
the work. The kill is real (SIGKILL, from inside the corpus write, so it lands mid-file)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli import REPO, corpus_dir, monitor, store_for
from tests.localserver import LocalServer
from tests.texts import KZ_PK, long_html
from tests.workspace import rss, source_toml, workspace

# Runs `monitor poll` with the corpus writer rigged to SIGKILL the process after writing half of
# the second file's bytes: the first item's file is complete, the second is mid-write.
KILLER = """
import os, signal, sys
from monitor.store import corpus
real = corpus.write_atomic
calls = []
def dying(path, text, **kwargs):
    calls.append(path)
    if len(calls) == 2:
        real_open = open
        tmp = path.parent / (".tmp-" + path.name)
        with real_open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text[: len(text) // 2])
            handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, text, **kwargs)
corpus.write_atomic = dying
from monitor.cli import app
app(["--config", sys.argv[1], "poll"], prog_name="monitor")
"""


def test_kill_during_poll_leaves_no_partial_file_and_next_poll_completes(
    server: LocalServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    items = [
        {
            "title": title,
            "link": server.url(f"/k/{lang}"),
            "content": long_html(body, 6),
            "published": now - timedelta(minutes=n),
        }
        for n, (lang, (title, body)) in enumerate(KZ_PK.items())
    ]
    server.route("/feed.xml", rss(items), content_type="application/rss+xml", etag='"k1"')
    config = workspace(tmp_path, [source_toml("wire", server.url("/feed.xml"))])

    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(config)],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    folder = corpus_dir(config) / "kz-pk"
    finished = [p for p in folder.iterdir() if not p.name.startswith(".")]
    assert len(finished) == 1  # the first file only; the second never reached its name
    # The page's items were committed before their files were written, and no file was
    # confirmed: the next run (re)writes them all from the store.
    store = store_for(config)
    assert store.count_items() == len(KZ_PK)
    assert len(store.unwritten_corpus()) == len(KZ_PK)

    result = monitor(config, "poll")
    assert result.exit_code == 0, result.output
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    assert len(files) == len(KZ_PK)
    stored = {s.item.corpus_id: s.item for s in store_for(config).iter_items()}
    for path in files:
        item = stored[path.name[4:20]]
        expected = f" date {item.date_text} {item.title}\n{item.text}"
        assert path.read_text(encoding="utf-8") == expected
    # The killed run never saved its validators, so the feed was fetched in full again.
    assert server.requests_to("/feed.xml")[-1].headers.get("if-none-match") is None
