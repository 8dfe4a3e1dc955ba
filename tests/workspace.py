"""Build a throw-away monitor installation for a test: settings file, sources, data dir.

The watchlists are the real ones from the repository's `watchlists/`, so tests exercise what
ships. Feeds are written by the tests themselves (helpers below), never copied from the seeds.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
WATCHLISTS = REPO / "watchlists"


def source_toml(name: str, url: str, kind: str = "rss", **extra: object) -> str:
    lines = ["[[source]]", f'name = "{name}"', f'kind = "{kind}"', f'url = "{url}"']
    tables = {k: v for k, v in extra.items() if isinstance(v, dict)}
    for key, value in extra.items():
        if key in tables:
            continue
        lines.append(f"{key} = {_toml(value)}")
    for key, table in tables.items():
        lines.append(f"[source.{key}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def workspace(
    root: Path,
    sources: list[str],
    *,
    settings: str = "",
    watchlists: Path = WATCHLISTS,
) -> Path:
    """Write monitor.toml + sources.toml under `root`; returns the settings file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sources.toml").write_text("\n".join(sources), encoding="utf-8")
    config = root / "monitor.toml"
    config.write_text(
        f'data_dir = "{root / "data"}"\n'
        f'sources_file = "{root / "sources.toml"}"\n'
        f'watchlists_dir = "{watchlists}"\n'
        "[http]\nretries = 0\ntimeout = 10\nper_host = 8\n"
        "[schedule]\nmin_interval = 1\n" + settings,
        encoding="utf-8",
    )
    return config


def rss(items: list[dict[str, str]], *, title: str = "Test feed", language: str = "") -> str:
    """An RSS 2.0 document. Each item: title, link, and optionally guid, description, content,
    published (a datetime or an RFC 822 string)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{escape(title)}</title><link>http://example.invalid/</link>",
    ]
    if language:
        parts.append(f"<language>{language}</language>")
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item['title'])}</title>")
        parts.append(f"<link>{escape(item['link'])}</link>")
        if "guid" in item:
            parts.append(f"<guid>{escape(item['guid'])}</guid>")
        if "description" in item:
            parts.append(f"<description>{escape(item['description'])}</description>")
        if "content" in item:
            parts.append(f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>")
        published = item.get("published")
        if isinstance(published, datetime):
            published = format_datetime(published)
        if published:
            parts.append(f"<pubDate>{published}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)
