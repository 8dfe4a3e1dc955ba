"""Channel settings (routing, priority, digests, quiet hours, Slack modes): validated with the
file and key named, shown in the example settings, documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from monitor.config import (
    AlertSettings,
    AppriseChannel,
    ChannelBase,
    EmailChannel,
    SlackChannel,
    load_settings,
)
from monitor.errors import ConfigError
from monitor.models import Priority

REPO = Path(__file__).resolve().parent.parent
CHANNELS: list[type[BaseModel]] = [ChannelBase, SlackChannel, EmailChannel, AppriseChannel]


def keys() -> list[str]:
    return sorted({name for model in CHANNELS for name in model.model_fields})


def example_channels() -> str:
    """The example file's channel tables, uncommented."""
    text = (REPO / "config" / "monitor.example.toml").read_text(encoding="utf-8")
    part = text[text.index("[alerts]") :]
    lines = [line.removeprefix("# ") for line in part.splitlines() if line.startswith("# ")]
    return "\n".join(line for line in lines if line.startswith("[") or " = " in line)


def test_every_channel_key_is_in_the_example_and_the_readme() -> None:
    example = example_channels()
    assert [k for k in keys() if not re.search(rf"^{k} = ", example, re.MULTILINE)] == []
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert [k for k in keys() if f"`{k}`" not in readme] == []


def test_the_example_channels_are_valid_settings(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text("[alerts]\n" + example_channels(), encoding="utf-8")
    channels = load_settings(config).alerts.channels
    assert {n: c.type for n, c in channels.items()} == {
        "team": "slack",
        "desk-slack": "slack",
        "desk": "email",
        "phone": "apprise",
    }
    assert channels["desk-slack"].threads and not channels["team"].threads
    assert channels["phone"].min_priority == Priority.HIGH


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ('type = "slack"', "alerts.channels.team.slack", "set either webhook_url"),
        (
            'type = "slack"\nwebhook_url = "https://h.example/x"\nbot_token = "xoxb-1"\n'
            'channel = "C1"',
            "alerts.channels.team.slack",
            "not both",
        ),
        ('type = "slack"\nbot_token = "xoxb-1"', "alerts.channels.team.slack", "needs channel"),
        (
            'type = "slack"\nwebhook_url = "https://h.example/x"\nchannel = "C1"',
            "alerts.channels.team.slack",
            "channel goes with bot_token",
        ),
        (
            'type = "apprise"\nurl = "json://x"\ndigest_at = "7am"',
            "alerts.channels.team.apprise.digest_at",
            "use HH:MM",
        ),
        (
            'type = "apprise"\nurl = "json://x"\ndigest_at = "24:00"',
            "alerts.channels.team.apprise.digest_at",
            "00:00 to 23:59",
        ),
        (
            'type = "apprise"\nurl = "json://x"\nquiet_hours = "22:00"',
            "alerts.channels.team.apprise.quiet_hours",
            "HH:MM-HH:MM",
        ),
        (
            'type = "apprise"\nurl = "json://x"\nquiet_hours = "07:00-07:00"',
            "alerts.channels.team.apprise.quiet_hours",
            "same time",
        ),
        (
            'type = "apprise"\nurl = "json://x"\ndigest_every = "7m"',
            "alerts.channels.team.apprise.digest_every",
            "must divide a day",
        ),
        (
            'type = "apprise"\nurl = "json://x"\ndigest_every = "2d"',
            "alerts.channels.team.apprise.digest_every",
            "from 1m to 1d",
        ),
        (
            'type = "apprise"\nurl = "json://x"\nmin_priority = "critical"',
            "alerts.channels.team.apprise.min_priority",
            "one of low, normal, high, urgent",
        ),
        (
            'type = "apprise"\nurl = "json://x"\nmode = "hourly"',
            "alerts.channels.team.apprise.mode",
            "instant",
        ),
        (
            'type = "apprise"\nurl = "json://x"\ntimezone = "Mars/Olympus"',
            "alerts.channels.team.apprise.timezone",
            "unknown time zone",
        ),
        (
            'type = "slack"\nbot_token = "xoxb-1"\nchannel = "C1"\napi_url = "slack.com/api"',
            "alerts.channels.team.slack.api_url",
            "not an http(s) URL",
        ),
    ],
)
def test_a_wrong_channel_setting_names_file_key_and_fix(
    tmp_path: Path, table: str, key: str, message: str
) -> None:
    config = tmp_path / "m.toml"
    config.write_text(f"[alerts.channels.team]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    text = str(caught.value)
    assert str(config) in text and key in text and message in text


def test_settings_are_normalised_and_blank_secrets_are_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "m.toml"
    config.write_text(
        '[alerts.channels.team]\ntype = "slack"\nbot_token = "xoxb-1"\nchannel = "C1"\n'
        'api_url = "http://127.0.0.1:9/api/"\nquiet_hours = " 22:00 - 7:00 "\ndigest_at = "8:05"\n'
        'min_priority = "NORMAL"\nimmediate_priority = 2\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MONITOR_ALERTS__CHANNELS__TEAM__WEBHOOK_URL", "")
    team = load_settings(config).alerts.channels["team"]
    assert isinstance(team, SlackChannel)
    assert team.webhook_url is None and team.threads
    assert team.api_url == "http://127.0.0.1:9/api"
    assert (team.quiet_hours, team.digest_at) == ("22:00-07:00", "08:05")
    assert (team.min_priority, team.immediate_priority) == (Priority.NORMAL, Priority.HIGH)


def test_alert_settings_accept_every_channel_type() -> None:
    settings = AlertSettings.model_validate(
        {
            "channels": {
                "a": {"type": "slack", "webhook_url": "https://h.example/x", "mode": "digest"},
                "b": {"type": "email", "host": "h", "sender": "s@x", "recipients": ["r@x"]},
                "c": {"type": "apprise", "url": "json://h", "quiet_hours": "23:30-06:00"},
            }
        }
    )
    assert [c.mode for c in settings.channels.values()] == ["digest", "instant", "instant"]
