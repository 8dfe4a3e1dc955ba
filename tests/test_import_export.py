"""`monitor import` of the seeds and `monitor export`: the seeds round trip byte for byte."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from monitor.watch.matcher import fields
from tests.cli import corpus_dir, monitor, store_for
from tests.workspace import workspace

EXPECTED = {
    "kz-pk": ["000", "001", "002", "003", "004"],
    "tap-railway": ["000", "001", "003", "004"],
    "gwadar": ["000", "001", "004"],
}
LANGUAGES = {"000": "zh", "001": "kk", "002": "uz", "003": "tr", "004": "en"}


def test_seeds_import_matches_and_round_trips(seeds_dir: Path, tmp_path: Path) -> None:
    config = workspace(tmp_path, [])
    result = monitor(config, "import", str(seeds_dir))
    assert result.exit_code == 0, result.output
    seeds = {p.name[:3]: p for p in sorted(seeds_dir.glob("*.txt"))}

    store = store_for(config)
    by_id = {s.item.id: s for s in store.iter_items()}
    for seq, path in seeds.items():
        stored = by_id[path.name[4:20]]  # the item keeps its file's hex16 as its id
        assert stored.item.language == LANGUAGES[seq]
        matched = {m.watchlist for m in stored.matches}
        for watchlist, seqs in EXPECTED.items():
            assert (watchlist in matched) == (seq in seqs), (seq, watchlist, matched)

    # kz-pk holds all five in order, byte for byte the seeds.
    for watchlist, seqs in EXPECTED.items():
        files = sorted((corpus_dir(config) / watchlist).iterdir())
        assert [f.name[4:] for f in files] == [seeds[s].name[4:] for s in seqs]
        assert [f.name[:3] for f in files] == [f"{n:03d}" for n in range(len(seqs))]
    for path in sorted((corpus_dir(config) / "kz-pk").iterdir()):
        assert path.read_bytes() == seeds[path.name[:3]].read_bytes()
    # Importing never alerts unless asked.
    assert store.list_alerts() == []

    # Export carries what matched.
    out = tmp_path / "out.jsonl"
    assert monitor(config, "export", "--format", "jsonl", "-o", str(out)).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    english = next(r for r in rows if r["language"] == "en")
    assert set(english["watchlists"]) == {"kz-pk", "tap-railway", "gwadar"}
    assert any("Pakistan" in alias for alias in english["aliases"]["kz-pk"])
    assert english["published"].startswith("2026-02-04")
    # Each hit says where it stands; the offsets point at the alias in that field.
    texts = fields(by_id[english["id"]].item)
    for watchlist, hits in english["hits"].items():
        assert hits, watchlist
        for hit in hits:
            assert texts[hit["field"]][hit["start"] : hit["end"]] == hit["surface"]

    # Importing again stores nothing and writes no new file.
    again = monitor(config, "import", str(seeds_dir))
    assert again.exit_code == 0, again.output
    assert store_for(config).count_items() == 5
    assert len(list((corpus_dir(config) / "kz-pk").iterdir())) == 5


def test_export_csv_filters_by_watchlist(seeds_dir: Path, tmp_path: Path) -> None:
    config = workspace(tmp_path, [])
    assert monitor(config, "import", str(seeds_dir)).exit_code == 0
    result = monitor(config, "export", "--format", "csv", "--watchlist", "gwadar")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["language"] for r in rows) == ["en", "kk", "zh"]
    assert all("gwadar" in r["watchlists"].split(";") for r in rows)


def test_import_reports_a_bad_file_by_name_and_imports_the_rest(
    seeds_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = sorted(seeds_dir.glob("*.txt"))[4]
    (folder / good.name).write_bytes(good.read_bytes())
    (folder / "005_0123456789abcdef.txt").write_text("no header here", encoding="utf-8")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    config = workspace(tmp_path / "ws", [])
    result = monitor(config, "import", str(folder))
    assert result.exit_code == 1
    assert "005_0123456789abcdef.txt" in result.output
    assert "notes.txt" in result.output
    assert store_for(config).count_items() == 1


def test_the_five_seeds_are_one_story_in_stories_and_in_export(
    seeds_dir: Path, tmp_path: Path
) -> None:
    config = workspace(tmp_path, [])
    assert monitor(config, "import", str(seeds_dir)).exit_code == 0

    listed = monitor(config, "stories", "--json")
    assert listed.exit_code == 0, listed.output
    stories = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    assert len(stories) == 1
    (story,) = stories
    assert story["size"] == 5
    assert sorted(story["languages"]) == sorted(LANGUAGES.values())
    assert story["first_at"].startswith("2026-02-04")
    assert set(story["watchlists"]) == {"kz-pk", "tap-railway", "gwadar"}
    assert story["alerted"] == []  # import is quiet

    table = monitor(config, "stories", "--watchlist", "gwadar")
    assert table.exit_code == 0 and story["id"] in table.stdout
    assert monitor(config, "stories", "--since", "2026-03-01", "--json").stdout.strip() == ""

    out = tmp_path / "out.csv"
    assert monitor(config, "export", "--format", "csv", "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 5 and {r["story"] for r in rows} == {story["id"]}
