"""One exception hierarchy for the monitor.

    MonitorError
    ├── ConfigError            a setting, source or watchlist is wrong (names file and key)
    ├── SourceError            one source failed; recorded on the source, never stops the batch
    │   ├── FetchError         network, HTTP status, size or redirect limits
    │   │   ├── TransientFetchError   worth retrying: timeouts, 429, 5xx, connection resets
    │   │   └── TooLargeError         the response passed the size cap
    │   └── ParseError         the document could not be read as its kind
    ├── ImportFormatError      a seeds-format file is malformed (names the file)
    ├── StoreError             the database refused or is unreachable
    └── ChannelError           an alert channel failed (retried from the outbox)
        └── RateLimited        the channel said 429; carries Retry-After

Third-party exceptions are mapped to these at the module that imports the library
(`raise FetchError(...) from exc`), so callers never import httpx or SQLAlchemy to catch.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """Configuration is wrong. `where` names file and key (`config/sources.toml: akorda-ru.url`)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class SourceError(MonitorError):
    """A single source failed."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"source {source!r}: {message}")


class FetchError(SourceError):
    """Retrieval failed. `status` is the HTTP status when there was one."""

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(source, message)


class TransientFetchError(FetchError):
    """A failure worth retrying (timeout, reset, 429, 5xx)."""

    def __init__(
        self,
        source: str,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(source, message, status)


class TooLargeError(FetchError):
    """The (decompressed) response passed the configured size cap."""


class ParseError(SourceError):
    """The document could not be read as the source's kind."""

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:
        # Rebuilt from its fields when it comes back from a worker process (parsing runs
        # there); the default would call ParseError(formatted message) and fail.
        return (type(self), (self.source, self.message))


class ImportFormatError(MonitorError):
    """A seeds-format file is malformed."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class StoreError(MonitorError):
    """The store failed."""


class ChannelError(MonitorError):
    """An alert channel refused or failed; the outbox retries."""

    def __init__(self, channel: str, message: str, permanent: bool = False) -> None:
        self.channel = channel
        self.permanent = permanent
        super().__init__(f"channel {channel!r}: {message}")


class RateLimited(ChannelError):
    """The channel asked us to slow down (HTTP 429)."""

    def __init__(self, channel: str, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(channel, f"rate limited (Retry-After: {retry_after})")
