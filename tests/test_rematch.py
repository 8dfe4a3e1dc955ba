"""`monitor rematch`: a watchlist added after the items were stored is applied to history."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli import corpus_dir, monitor, store_for
from tests.workspace import WATCHLISTS, workspace


def test_a_new_watchlist_is_applied_to_stored_items(seeds_dir: Path, tmp_path: Path) -> None:
    lists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, lists)
    (lists / "gwadar.yaml").unlink()
    config = workspace(tmp_path / "ws", [], watchlists=lists)
    assert monitor(config, "import", str(seeds_dir)).exit_code == 0
    assert not (corpus_dir(config) / "gwadar").exists()

    shutil.copy(WATCHLISTS / "gwadar.yaml", lists / "gwadar.yaml")
    result = monitor(config, "rematch")
    assert result.exit_code == 0, result.output
    assert "gwadar: 3 newly matched" in result.output
    files = sorted(p.name for p in (corpus_dir(config) / "gwadar").iterdir())
    seeds = {p.name[4:] for p in seeds_dir.glob("*.txt") if p.name[:3] in ("000", "001", "004")}
    assert {f[4:] for f in files} == seeds
    assert [f[:3] for f in files] == ["000", "001", "002"]
    stored = {s.item.id: {m.watchlist for m in s.matches} for s in store_for(config).iter_items()}
    assert sum("gwadar" in w for w in stored.values()) == 3
    assert store_for(config).list_alerts() == []  # history never alerts unless asked

    again = monitor(config, "rematch", "--watchlist", "gwadar")
    assert again.exit_code == 0 and "0 changed" in again.output
    unknown = monitor(config, "rematch", "--watchlist", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output
