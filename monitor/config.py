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
from datetime import timedelta
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


class ChannelBase(_Strict):
    watchlists: list[str] = Field(
        default_factory=list, description="watchlists routed here; empty means all"
    )


class SlackChannel(ChannelBase):
    type: Literal["slack"] = "slack"
    webhook_url: SecretStr = Field(description="Slack incoming-webhook URL")


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
    worker_id: str = Field("", description="name of this worker for leases; empty means host:pid")
    cpu_workers: int = Field(
        -1,
        ge=-1,
        description=(
            "processes for extraction, language and matching; 0 runs them in-process; "
            "-1: one per core beyond the first for `run`, in-process for one-shot commands"
        ),
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

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
