"""Settings: defaults, file, environment; every setting documented; sources validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from monitor.config import Settings, load_settings, load_sources, parse_duration
from monitor.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def _names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_names(annotation, f"{prefix}{name}."))
        else:
            names.append(prefix + name)
    return names


def test_every_setting_is_documented_in_the_readme_and_the_example() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = (REPO / "config" / "monitor.example.toml").read_text(encoding="utf-8")
    names = _names(Settings)
    assert "http.timeout" in names and "alerts.channels" in names
    missing = [n for n in names if f"`{n}`" not in readme]
    assert missing == [], f"settings missing from README: {missing}"
    leaves = [n.split(".")[-1] for n in names if n != "alerts.channels"]
    assert [n for n in leaves if f"{n} =" not in example] == []


def test_file_then_environment_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "m.toml"
    config.write_text('data_dir = "x"\n[http]\ntimeout = 7\nretries = 4\n', encoding="utf-8")
    monkeypatch.setenv("MONITOR_HTTP__TIMEOUT", "3")
    monkeypatch.setenv("MONITOR_ALERTS__CHANNELS__TEAM__TYPE", "slack")
    monkeypatch.setenv("MONITOR_ALERTS__CHANNELS__TEAM__WEBHOOK_URL", "http://127.0.0.1/h")
    settings = load_settings(config)
    assert settings.http.timeout == 3.0  # environment beats the file
    assert settings.http.retries == 4  # the file beats the default
    assert settings.db_url == "sqlite:///x/monitor.db"
    assert settings.corpus_path == Path("x/corpus")
    assert settings.alerts.channels["team"].type == "slack"


def test_a_wrong_setting_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text('[http]\ntimeout = "soon"\n[schedul]\ntick = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert str(config) in message and "http.timeout" in message and "schedul" in message


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), (5, 5)]
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_shipped_sources_load_cleanly() -> None:
    sources, problems = load_sources(REPO / "config" / "sources.toml")
    assert problems == []
    names = {s.name for s in sources}
    assert {
        "akorda-ru",
        "akorda-kk",
        "akorda-en",
        "kazinform-kk",
        "aa-tr",
        "dawn-pakistan",
    } <= names
    kinds = {s.kind for s in sources}
    assert {"listing", "rss", "sitemap"} <= kinds


def test_a_broken_source_is_reported_and_the_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[[source]]\nname = "good"\nkind = "rss"\nurl = "https://a.example/f"\n'
        '[[source]]\nname = "bad"\nkind = "gopher"\nurl = "https://a.example/g"\n'
        '[[source]]\nname = "tz"\nkind = "rss"\nurl = "https://a.example/h"\n'
        'timezone = "Mars/Base"\n'
        '[[source]]\nname = "good"\nkind = "rss"\nurl = "https://a.example/i"\n',
        encoding="utf-8",
    )
    sources, problems = load_sources(path)
    assert [s.name for s in sources] == ["good"]
    text = "\n".join(str(p) for p in problems)
    assert f"{path}: bad.kind" in text
    assert f"{path}: tz.timezone" in text and "Mars/Base" in text
    assert "duplicate source name" in text
