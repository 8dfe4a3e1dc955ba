"""HTTP retrieval: conditional GETs with limits, retries and a size cap; the one httpx user.

    fetch(url) -> FetchResult                      200 (body) or 304 (`not_modified`, a success)
               -> TransientFetchError              timeouts, connection errors, 408, 429, 5xx
                                                   (after `retries`), or a Retry-After too long
                                                   to wait here: the scheduler defers the source
               -> TooLargeError                    the decompressed body passed `max_bytes`
               -> FetchError                       other 4xx, redirect limit, bad URL,
                                                   an untrusted TLS certificate

Every httpx exception is mapped here (`raise ... from exc`), so callers never import httpx.
Bodies are read raw and inflated by this module, a bounded amount at a time, because httpx's own
decoders inflate each network chunk whole: 64 KB of gzip can hold 60 MB of zeros.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.cookiejar
import importlib.util
import logging
import math
import random
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from monitor.config import HttpSettings
from monitor.errors import FetchError, TooLargeError, TransientFetchError
from monitor.models import FetchResult, Validators, utcnow
from monitor.sources.pool import LeanTransport

__all__ = ["Fetcher", "parse_retry_after"]

log = logging.getLogger(__name__)

# Only encodings this module inflates under the cap. Brotli and zstd are left out: they are not
# installed, and advertising an encoding we cannot bound would reopen the decompression bomb.
ACCEPT_ENCODING = "gzip, deflate"

_TRANSIENT_STATUS = frozenset({408, 429})
_DISCARD_LIMIT = 64 * 1024


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); None if unreadable.

    A date in the past means "now" (0.0). Naive datetimes are read as UTC.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """Retrieves URLs for sources. Use as `async with Fetcher(settings) as fetcher:`.

    `sleep`, `clock` and `rng` are the seams for tests (backoff waits, Retry-After dates, jitter);
    `transport` replaces the network for every client this fetcher makes.
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._transport = transport
        self._clock = clock
        self._rng = rng or random.Random()
        # httpx refuses http2=True without h2; fall back to HTTP/1.1 rather than fail at start-up.
        self._http2 = settings.http2 and importlib.util.find_spec("h2") is not None
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._global = asyncio.Semaphore(max(1, settings.concurrency))
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        # The usual client now, with its TLS context (CA bundle loaded: ~20 ms): start-up
        # work, not the first poll's.
        self._client(verify=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        source: str,
        validators: Validators | None = None,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
    ) -> FetchResult:
        """GET `url` for `source`, following redirects and retrying transient failures."""
        validators = validators or Validators()
        request_headers = dict(headers or {})
        if validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified
        settings = self._settings
        attempt = 0
        while True:
            try:
                return await self._attempt(url, source, request_headers, validators, verify_tls)
            except TransientFetchError as exc:
                if exc.retry_after is not None and exc.retry_after > settings.backoff_max:
                    raise  # too long to hold a worker: the scheduler defers the source instead
                if attempt >= settings.retries:
                    raise
                delay = self._delay(attempt, exc.retry_after)
                log.debug("%s: retry %d in %.2fs after: %s", source, attempt + 1, delay, exc)
                await self._sleep(delay)
                attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        # Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads the
        # retries of many sources that failed together instead of bunching them.
        ceiling = min(self._settings.backoff_max, self._settings.backoff_base * 2**attempt)
        return self._rng.uniform(0.0, ceiling)

    async def _attempt(
        self,
        url: str,
        source: str,
        headers: dict[str, str],
        validators: Validators,
        verify_tls: bool,
    ) -> FetchResult:
        client = self._client(verify_tls)
        try:
            request = client.build_request("GET", url, headers=headers)
            redirects = 0
            while True:
                outcome = await self._hop(client, request, url, source, validators)
                if isinstance(outcome, FetchResult):
                    return outcome
                redirects += 1
                if redirects > self._settings.max_redirects:
                    raise FetchError(
                        source,
                        f"GET {url}: more than {self._settings.max_redirects} redirects "
                        f"(next was {outcome.url})",
                    )
                request = outcome
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _map_error(exc, source, url) from exc

    async def _hop(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        url: str,
        source: str,
        validators: Validators,
    ) -> FetchResult | httpx.Request:
        """One request: the result, or the request a redirect points to."""
        timeout = self._settings.timeout
        async with self._slot(request.url.host):
            # The total timeout starts once a slot is held, so queueing behind a busy host
            # does not count against the request.
            try:
                async with asyncio.timeout(timeout):
                    response = await client.send(request, stream=True)
                    try:
                        if response.next_request is not None:
                            await _discard(response)
                            return response.next_request
                        return await self._result(response, url, source, validators)
                    finally:
                        await response.aclose()
            except TimeoutError as exc:
                raise TransientFetchError(
                    source, f"GET {url}: no complete response within {timeout:g}s"
                ) from exc

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        # Host first, then global: a request waiting for a busy host must not hold a global slot.
        per_host = self._hosts.get(host)
        if per_host is None:
            per_host = self._hosts[host] = asyncio.Semaphore(max(1, self._settings.per_host))
        async with per_host, self._global:
            yield

    async def _result(
        self, response: httpx.Response, url: str, source: str, validators: Validators
    ) -> FetchResult:
        status = response.status_code
        headers = {name.lower(): value for name, value in response.headers.items()}
        retry_after = parse_retry_after(headers.get("retry-after"), self._clock())
        if status == 304:
            # A 304 has no body, but reading its end lets the connection be kept alive:
            # httpcore closes a connection whose response was not read to the end.
            async for _ in response.aiter_raw():
                break
            return FetchResult(
                url=str(response.url),
                status=status,
                content=b"",
                headers=headers,
                etag=headers.get("etag") or validators.etag,
                last_modified=headers.get("last-modified") or validators.last_modified,
                encoding=response.charset_encoding,
                not_modified=True,
                retry_after=retry_after,
            )
        if 200 <= status < 300:
            return FetchResult(
                url=str(response.url),
                status=status,
                content=await self._read(response, url, source),
                headers=headers,
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
                encoding=response.charset_encoding,
                retry_after=retry_after,
            )
        await _discard(response)
        reason = f"GET {url}: HTTP {status} {response.reason_phrase}".rstrip()
        if status in _TRANSIENT_STATUS or status >= 500:
            if retry_after is not None:
                reason += f" (Retry-After: {retry_after:g}s)"
            raise TransientFetchError(source, reason, status, retry_after)
        raise FetchError(source, reason, status)

    async def _read(self, response: httpx.Response, url: str, source: str) -> bytes:
        cap = self._settings.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise TooLargeError(
                source,
                f"GET {url}: Content-Length {length} is over the {cap}-byte cap",
                response.status_code,
            )
        decoder = _BodyDecoder(response.headers.get("content-encoding", ""), cap)
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += decoder.feed(chunk)
            body += decoder.flush()
        except _Overflow:
            raise TooLargeError(
                source,
                f"GET {url}: body is over the {cap}-byte cap (after decompression)",
                response.status_code,
            ) from None
        except zlib.error as exc:
            raise FetchError(
                source, f"GET {url}: body could not be decompressed ({exc})", response.status_code
            ) from exc
        return bytes(body)

    def _client(self, verify: bool) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            settings = self._settings
            limits = httpx.Limits(
                max_connections=max(1, settings.concurrency),
                max_keepalive_connections=min(20, max(1, settings.concurrency)),
            )
            transport = self._transport or LeanTransport(
                verify=verify, http2=self._http2, limits=limits
            )
            client = httpx.AsyncClient(
                headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
                timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
                limits=limits,
                http2=self._http2,
                verify=verify,
                transport=transport,
                follow_redirects=False,  # followed hop by hop, so each hop takes its host's slot
            )
            # No cookies kept or sent: a monitor has no session to keep, a cookie set by one
            # source must not follow it around, and urllib's cookie machinery costs ~50 µs a
            # response (a fifth of an unchanged poll).
            client.cookies = _NoCookies()
            self._clients[verify] = client
        return client


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        pass

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        pass


async def _discard(response: httpx.Response) -> None:
    """Read a small unwanted body (redirect, error page) so its connection can be reused.

    Closing a response with its body unread makes httpx drop the connection, and redirects
    (http -> https, old paths) are common enough on news sites for reuse to matter.
    """
    length = response.headers.get("content-length", "")
    if not (length.isdigit() and int(length) <= _DISCARD_LIMIT):
        return
    try:
        async for _ in response.aiter_raw():
            pass
    except httpx.HTTPError:
        pass  # best effort: the connection is simply not reused


def _map_error(exc: httpx.HTTPError | httpx.InvalidURL, source: str, url: str) -> FetchError:
    detail = str(exc) or "no detail"
    untrusted = _certificate_error(exc)
    if untrusted is not None:
        # Not transient: retrying gets the same certificate. The source backs off and is
        # reported; `verify_tls = false` in its configuration is the way to accept it.
        reason = untrusted.verify_message or untrusted.reason or str(untrusted)
        return FetchError(source, f"GET {url}: TLS certificate not trusted ({reason})")
    if isinstance(exc, httpx.TimeoutException):
        return TransientFetchError(source, f"GET {url}: timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.NetworkError | httpx.ProxyError | httpx.RemoteProtocolError):
        # Connection refused or reset, DNS failure, or the peer hung up mid-response.
        return TransientFetchError(source, f"GET {url}: {type(exc).__name__}: {detail}")
    return FetchError(source, f"GET {url}: {type(exc).__name__}: {detail}")


def _certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind an httpx error, if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class _Overflow(Exception):
    """The decoded body passed the cap."""


class _Inflater:
    """One zlib-based stage (gzip or deflate) that never holds more than `cap` + 1 new bytes.

    `decompress(data, max_length)` leaves unread input in `unconsumed_tail`, so output is
    produced a bounded piece at a time and the stage stops as soon as the cap is passed.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        self._gzip = encoding in {"gzip", "x-gzip"}
        self._cap = cap
        self._total = 0
        self._head = b""
        self._obj: zlib._Decompress | None = None
        if self._gzip:
            # 32 + MAX_WBITS also accepts a zlib stream mislabelled as gzip.
            self._obj = zlib.decompressobj(32 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if self._obj is None:
            # HTTP "deflate" should be zlib-wrapped, but servers also send raw deflate: decide
            # from the two-byte zlib header (RFC 1950 §2.2), as browsers do.
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            wbits = zlib.MAX_WBITS if _is_zlib_header(data) else -zlib.MAX_WBITS
            self._obj = zlib.decompressobj(wbits)
        out = bytearray()
        while data:
            piece = self._obj.decompress(data, self._cap - self._total + 1)
            self._total += len(piece)
            if self._total > self._cap:
                raise _Overflow
            out += piece
            if not self._obj.eof:
                data = self._obj.unconsumed_tail
                continue
            data = self._obj.unused_data
            if not (self._gzip and data.startswith(b"\x1f\x8b")):
                break  # trailing bytes after the stream are ignored, as httpx does
            self._obj = zlib.decompressobj(32 + zlib.MAX_WBITS)  # the next gzip member
        return bytes(out)

    def flush(self) -> bytes:
        if self._obj is None:
            return b""
        piece = self._obj.flush()
        self._total += len(piece)
        if self._total > self._cap:
            raise _Overflow
        return piece


def _is_zlib_header(head: bytes) -> bool:
    return head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


class _BodyDecoder:
    """Undoes Content-Encoding (last applied, first undone) with the cap on every stage.

    Unknown codings are passed through, as httpx does: servers send values like "UTF-8" here.
    The raw byte count is capped too, so a stream that inflates to nothing cannot run forever.
    """

    def __init__(self, content_encoding: str, cap: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        self._stages = [
            _Inflater(c, cap) for c in reversed(codings) if c in {"gzip", "x-gzip", "deflate"}
        ]
        self._cap = cap
        self._raw = 0

    def feed(self, chunk: bytes) -> bytes:
        self._raw += len(chunk)
        if self._raw > self._cap:
            raise _Overflow
        for stage in self._stages:
            chunk = stage.feed(chunk)
        return chunk

    def flush(self) -> bytes:
        data = b""
        for stage in self._stages:
            data = stage.feed(data) + stage.flush()
        return data
