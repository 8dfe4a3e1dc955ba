"""Settings and source definitions: one typed, documented table; file + environment; fails fast.

Precedence, highest first: keyword arguments, environment (`MONITOR_<NAME>`, nested with `__`,
e.g. `MONITOR_HTTP__TIMEOUT=5`), the TOML file (`--config`, `MONITOR_CONFIG`, else
`config/monitor.toml` when present), then the defaults below. Every field's `description` is its
documentation; `tests/test_config.py` fails when a setting is missing from the README.

Sources live in their own TOML file (`sources_file`), one `[[source]]` table each. A wrong global
setting stops start-up (`ConfigError`); a wrong source is reported by name and skipped.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from monitor.errors import ConfigError
from monitor.models import Priority

DEFAULT_CONFIG = Path("config/monitor.toml")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like `90`, `15m`, `2h`, `1d`."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use seconds or 15m, 2h, 1d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


Seconds = Annotated[float, BeforeValidator(parse_duration)]


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


Zone = Annotated[str, BeforeValidator(_check_zone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- global settings -----------------------------------------------------------------------


class HttpSettings(_Strict):
    user_agent: str = Field(
        "monitor/0.1 (news monitoring; +https://example.invalid/monitor)",
        description="User-Agent sent with every request",
    )
    timeout: Seconds = Field(20.0, description="total timeout for one request")
    connect_timeout: Seconds = Field(10.0, description="timeout for opening a connection")
    max_bytes: int = Field(10_000_000, description="cap on a decompressed response body, bytes")
    max_redirects: int = Field(5, description="redirects followed before giving up")
    per_host: int = Field(2, description="concurrent requests to one host")
    concurrency: int = Field(64, description="concurrent requests in all")
    retries: int = Field(2, description="retries on network errors, 429 and 5xx")
    backoff_base: Seconds = Field(0.5, description="first retry delay; doubles, with jitter")
    backoff_max: Seconds = Field(30.0, description="longest single retry delay")
    http2: bool = Field(True, description="offer HTTP/2")


class ScheduleSettings(_Strict):
    default_interval: Seconds = Field(900.0, description="poll interval of a source without one")
    min_interval: Seconds = Field(60.0, description="no source is polled more often")
    max_interval: Seconds = Field(86400.0, description="no source waits longer (HTTP hints clamp)")
    failure_backoff_max: Seconds = Field(6 * 3600.0, description="longest wait after failures")
    tick: Seconds = Field(10.0, description="how often the daemon looks for due sources")
    batch: int = Field(100, description="sources claimed per tick")
    lease: Seconds = Field(600.0, description="how long a worker holds a claimed source")


_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
DAY = 86400.0


def _clock(value: str) -> time:
    """A local time of day from "HH:MM" (00:00 to 23:59)."""
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"not a time of day: {value!r} (use HH:MM, 00:00 to 23:59)")
    return time(int(match.group(1)), int(match.group(2)))


PriorityName = Annotated[Priority, BeforeValidator(Priority.parse)]


class ChannelBase(_Strict):
    """Routing and timing, common to every channel type (see `monitor.alerts.timing`)."""

    watchlists: list[str] = Field(
        default_factory=list, description="watchlists routed here; empty means all"
    )
    min_priority: PriorityName = Field(
        Priority.LOW,
        description="alerts below this are not queued here: low, normal, high, urgent",
    )
    mode: Literal["instant", "digest"] = Field(
        "instant", description="instant: each alert on its own; digest: one summary per period"
    )
    digest_every: Seconds = Field(
        3600.0,
        description="digest period; it divides a day (15m, 1h, 6h, 1d). Also collects further "
        "reports on a channel that cannot thread",
    )
    digest_at: str = Field("00:00", description="HH:MM, local: digest periods count from it")
    timezone: str = Field(
        "", description="IANA zone of digest_at and quiet_hours; empty: the global timezone"
    )
    quiet_hours: str = Field(
        "", description="HH:MM-HH:MM, local, may cross midnight: alerts wait and come as a digest"
    )
    immediate_priority: PriorityName = Field(
        Priority.URGENT,
        description="alerts at or above this go out at once, despite digest mode and quiet hours",
    )

    @field_validator("digest_at")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        return _clock(value).strftime("%H:%M")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if not value.strip():
            return ""
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError(f"not a span of hours: {value!r} (use HH:MM-HH:MM, e.g. 22:00-07:00)")
        first, last = _clock(start), _clock(end)
        if first == last:
            raise ValueError(f"quiet_hours {value!r} start and end at the same time")
        return f"{first:%H:%M}-{last:%H:%M}"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _check_zone(value.strip()) if value.strip() else ""

    @field_validator("digest_every")
    @classmethod
    def _digest_every(cls, value: float) -> float:
        # Periods that divide a day give the same boundaries every day (see alerts.timing).
        if not (60 <= value <= DAY and value == int(value) and DAY % value == 0):
            raise ValueError(
                f"digest_every must divide a day, from 1m to 1d (15m, 1h, 6h, 1d), not {value:g}s"
            )
        return value

    @property
    def threads(self) -> bool:
        """Does a further report go out at once as a reply in its story's thread? Only where
        replies are quiet (Slack threads); elsewhere (email, Apprise) it waits for a digest,
        or every report of a spreading story would be a message of its own. (A breaking or
        development alert that replies still goes out at once, and by email it carries
        In-Reply-To.)"""
        return False

    @property
    def digest_anchor(self) -> time:
        return _clock(self.digest_at)

    @property
    def quiet(self) -> tuple[time, time] | None:
        """Start and end of the quiet hours (end < start: they cross midnight), or None."""
        if not self.quiet_hours:
            return None
        start, _, end = self.quiet_hours.partition("-")
        return _clock(start), _clock(end)


class SlackChannel(ChannelBase):
    """An incoming webhook (`webhook_url`), or the Web API's chat.postMessage (`bot_token` +
    `channel`), which answers the message's ts, so further reports go into its thread."""

    type: Literal["slack"] = "slack"
    webhook_url: SecretStr | None = Field(
        None, description="Slack incoming-webhook URL (cannot thread)"
    )
    bot_token: SecretStr | None = Field(
        None, description="bot token (xoxb-...) for chat.postMessage: threads further reports"
    )
    channel: str = Field("", description="with bot_token: the Slack channel ID (C0123...)")
    api_url: str = Field("https://slack.com/api", description="Slack Web API base URL")

    @field_validator("webhook_url", "bot_token")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty environment variable means "not set", not an empty secret.
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_mode(self) -> SlackChannel:
        if (self.webhook_url is None) == (self.bot_token is None):
            raise ValueError(
                "set either webhook_url (an incoming webhook) or bot_token and channel "
                "(the Web API, which threads), not both and not neither"
            )
        if self.bot_token is not None and not self.channel.strip():
            raise ValueError("bot_token needs channel (the Slack channel ID to post to)")
        if self.webhook_url is not None and self.channel:
            raise ValueError("channel goes with bot_token; a webhook posts to its own channel")
        return self

    @property
    def threads(self) -> bool:
        return self.bot_token is not None


class EmailChannel(ChannelBase):
    type: Literal["email"] = "email"
    host: str = Field(description="SMTP server")
    port: int = Field(587, description="SMTP port")
    security: Literal["starttls", "tls", "none"] = Field("starttls", description="transport")
    username: str | None = Field(None, description="SMTP login")
    password: SecretStr | None = Field(None, description="SMTP password")
    sender: str = Field(description="From address")
    recipients: list[str] = Field(description="To addresses")
    timeout: Seconds = Field(30.0, description="SMTP timeout")


class AppriseChannel(ChannelBase):
    type: Literal["apprise"] = "apprise"
    url: SecretStr = Field(description="an Apprise service URL")


Channel = Annotated[SlackChannel | EmailChannel | AppriseChannel, Field(discriminator="type")]


# How long a delivery round holds the outbox rows it claimed (`alerts.claim`; the store's
# default too, for callers without settings).
CLAIM_SECONDS = 300.0


class AlertSettings(_Strict):
    max_age: Seconds = Field(
        48 * 3600.0, description="items published longer ago than this never alert"
    )
    channels: dict[str, Channel] = Field(
        default_factory=dict, description="alert channels by name (slack, email, apprise)"
    )
    retry_base: Seconds = Field(30.0, description="first outbox retry delay; doubles")
    retry_max: Seconds = Field(3600.0, description="longest outbox retry delay")
    max_attempts: int = Field(20, description="attempts before an alert is marked dead")
    claim: Seconds = Field(
        CLAIM_SECONDS,
        gt=0,
        description="how long a worker holds the outbox rows it took before another may take "
        "them; it starts no send after half of it",
    )


class StorySettings(_Strict):
    window: Seconds = Field(
        3 * 86400.0,
        description="reports up to this far from a story's first report can join it",
    )
    min_shared: int = Field(
        2, ge=1, description="entities (or figures) an item must share with a story to join"
    )
    min_overlap: float = Field(
        0.6,
        ge=0,
        le=1,
        description="share of the smaller side's evidence both must have in common to join",
    )
    breaking_outlets: int = Field(
        3, ge=0, description="outlets reporting a story within breaking_within: breaking; 0 off"
    )
    breaking_languages: int = Field(
        3, ge=0, description="languages of a story within breaking_within: breaking; 0 off"
    )
    breaking_within: Seconds = Field(
        3600.0, description="how soon after a story's first report the spread is counted"
    )


class Settings(BaseSettings):
    """Every setting of the monitor (see README, "Configuration")."""

    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(Path("data"), description="where the database and corpus live")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at <data_dir>/monitor.db"
    )
    corpus_dir: Path | None = Field(
        None, description="seeds-format corpus; empty means <data_dir>/corpus"
    )
    sources_file: Path = Field(Path("config/sources.toml"), description="the source list")
    watchlists_dir: Path = Field(Path("watchlists"), description="watchlist and entity files")
    timezone: Zone = Field("UTC", description="zone for naive dates when a source names none")
    full_text_min_chars: int = Field(
        600, description="feed text shorter than this counts as a summary (page is fetched)"
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR")
    log_json: bool = Field(False, description="one JSON object per log line")
    worker_id: str = Field(
        "", description="name of this worker in leases and outbox claims; empty means host:pid"
    )
    cpu_workers: int = Field(
        -1,
        ge=-1,
        description=(
            "processes for parsing, extraction, language and matching; 0: in-process; "
            "-1: one per core beyond the first for `run`, in-process for one-shot commands"
        ),
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    stories: StorySettings = Field(default_factory=StorySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.config_file))
        return tuple(sources)

    # The TOML file this class reads; load_settings() makes a subclass that sets it.
    config_file: ClassVar[Path | None] = None

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'monitor.db'}"

    @property
    def corpus_path(self) -> Path:
        return self.corpus_dir or self.data_dir / "corpus"


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from `path` (else MONITOR_CONFIG, else config/monitor.toml if present) + env."""
    chosen = Path(path) if path else None
    if chosen is None and os.environ.get("MONITOR_CONFIG"):
        chosen = Path(os.environ["MONITOR_CONFIG"])
    if chosen is None and DEFAULT_CONFIG.exists():
        chosen = DEFAULT_CONFIG
    if chosen is not None and not chosen.is_file():
        raise ConfigError(str(chosen), "config file not found")
    reader = type("FileSettings", (Settings,), {"config_file": chosen})
    try:
        return reader(**overrides)
    except ValidationError as exc:
        raise ConfigError(str(chosen or "environment"), _explain(exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(chosen), f"not valid TOML: {exc}") from exc


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        parts.append(f"{key}: {err['msg']}")
    return "; ".join(parts)


# --- sources -------------------------------------------------------------------------------

SourceKind = Literal["feed", "rss", "atom", "rdf", "jsonfeed", "listing", "sitemap"]
FEED_KINDS = frozenset({"feed", "rss", "atom", "rdf", "jsonfeed"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class ListingSelectors(_Strict):
    """How to read an HTML listing page: CSS selectors, relative to each item element."""

    item: str = Field(description="selects each item card on the page")
    link: str = Field("a", description="the link to the article, inside the card")
    title: str | None = Field(None, description="the title inside the card; default: link text")
    date: str | None = Field(None, description="the date inside the card")
    date_attr: str | None = Field(None, description="read the date from this attribute")
    next_page: str | None = Field(None, description="the link to the next (older) page")
    page_url: str | None = Field(
        None, description="older pages by number, e.g. https://site/news?page={page}"
    )
    first_page: int = Field(1, description="number of the first page for page_url")


class SourceConfig(_Strict):
    name: str = Field(description="unique, lowercase: letters, digits, - _ .")
    kind: SourceKind = Field(description="feed (rss/atom/rdf/jsonfeed), listing or sitemap")
    url: str = Field(description="the feed, listing page or sitemap URL")
    language: str | None = Field(None, description="language hint (ISO 639-1)")
    interval: Seconds | None = Field(None, description="poll interval; default from settings")
    timezone: Zone | None = Field(None, description="zone of naive dates from this source")
    full_text: Literal["auto", "always", "never"] = Field(
        "auto",
        description="fetch the article page: when the feed has a summary only, always, never",
    )
    content_selector: str | None = Field(
        None, description="CSS selector of the article body, tried before generic extraction"
    )
    listing: ListingSelectors | None = None
    max_pages: int = Field(50, description="backfill: pages followed at most")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    verify_tls: bool = Field(True, description="verify the TLS certificate")
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lowercase letters, digits, '-', '_' or '.'")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @model_validator(mode="after")
    def _listing_needs_selectors(self) -> SourceConfig:
        if self.kind == "listing" and self.listing is None:
            raise ValueError("a listing source needs a [source.listing] table with selectors")
        return self

    @property
    def is_feed(self) -> bool:
        return self.kind in FEED_KINDS


def load_sources(path: Path) -> tuple[list[SourceConfig], list[ConfigError]]:
    """Parse the source file. A broken source is reported (file and key) and left out."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "source file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    unknown = set(data) - {"source"}
    if unknown:
        raise ConfigError(str(path), f"unknown top-level keys {sorted(unknown)}; use [[source]]")
    sources: list[SourceConfig] = []
    errors: list[ConfigError] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("source", [])):
        label = raw.get("name") or f"source[{index}]"
        try:
            source = SourceConfig.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"])
                errors.append(ConfigError(f"{path}: {label}.{key}", err["msg"]))
            continue
        if source.name in seen:
            errors.append(ConfigError(f"{path}: {label}.name", "duplicate source name"))
            continue
        seen.add(source.name)
        sources.append(source)
    return sources, errors
