"""The HTTP retrieval layer, against a real loopback server (tests/localserver.py)."""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import ssl
import threading
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import trustme

from monitor.config import HttpSettings
from monitor.errors import FetchError, TooLargeError, TransientFetchError
from monitor.models import FetchResult, Validators
from monitor.sources.fetch import Fetcher, parse_retry_after
from tests.localserver import LocalServer, Request, Response

SOURCE = "kazinform-ru"


class SleepRecorder:
    """Stands in for asyncio.sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Ceiling(random.Random):
    """Jitter that always picks the top of its range, so the backoff ceiling is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def fetch(
    settings: HttpSettings,
    url: str,
    sleep: SleepRecorder | None = None,
    rng: random.Random | None = None,
    **kwargs: Any,
) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings, sleep=sleep or SleepRecorder(), rng=rng) as fetcher:
            return await fetcher.fetch(url, source=SOURCE, **kwargs)

    return asyncio.run(go())


def sequence(*responses: Response) -> Callable[[Request], Response]:
    """A handler answering with `responses` in turn, then repeating the last."""
    queue = list(responses)
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


FEED = "<rss><channel><title>Қазақстан – Пәкістан</title></channel></rss>"
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 21 Oct 2025 07:28:00 GMT"


# --- success and conditional requests ------------------------------------------------------


def test_200_returns_body_validators_and_lower_cased_headers(server: LocalServer) -> None:
    url = server.route(
        "/feed.xml",
        FEED,
        content_type="application/rss+xml; charset=utf-8",
        etag=ETAG,
        last_modified=LAST_MODIFIED,
        headers={"X-Custom-Header": "yes"},
    )

    result = fetch(HttpSettings(), url)

    assert result.status == 200
    assert result.content == FEED.encode("utf-8")
    assert result.url == url
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)
    assert result.not_modified is False
    assert result.headers["x-custom-header"] == "yes"
    assert all(name == name.lower() for name in result.headers)


def test_request_with_validators_gets_304_as_a_success(server: LocalServer) -> None:
    url = server.route("/feed.xml", FEED, etag=ETAG, last_modified=LAST_MODIFIED)
    first = fetch(HttpSettings(), url)

    second = fetch(HttpSettings(), url, validators=Validators(first.etag, first.last_modified))

    assert second.not_modified is True
    assert second.status == 304
    assert second.content == b""
    assert (second.etag, second.last_modified) == (ETAG, LAST_MODIFIED)
    sent = server.requests_to("/feed.xml")[1].headers
    assert sent["if-none-match"] == ETAG
    assert sent["if-modified-since"] == LAST_MODIFIED
    assert "if-none-match" not in server.requests_to("/feed.xml")[0].headers


def test_304_without_validators_keeps_the_ones_sent(server: LocalServer) -> None:
    url = server.route("/bare", handler=lambda request: Response(304))

    result = fetch(HttpSettings(), url, validators=Validators('"abc"', LAST_MODIFIED))

    assert result.not_modified is True
    assert (result.etag, result.last_modified) == ('"abc"', LAST_MODIFIED)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=windows-1251", "windows-1251"),
        ('application/xml; charset="UTF-8"', "utf-8"),
        ("application/json", None),
    ],
)
def test_charset_from_content_type_is_the_encoding(
    server: LocalServer, content_type: str, expected: str | None
) -> None:
    url = server.route("/page", "<p>x</p>", content_type=content_type)

    assert fetch(HttpSettings(), url).encoding == expected


def test_user_agent_and_accept_encoding_are_sent(server: LocalServer) -> None:
    url = server.route("/feed.xml", FEED)
    settings = HttpSettings(user_agent="monitor-test/9 (+https://example.invalid)")

    fetch(settings, url, headers={"Accept-Language": "kk"})

    sent = server.requests_to("/feed.xml")[0].headers
    assert sent["user-agent"] == "monitor-test/9 (+https://example.invalid)"
    assert "gzip" in sent["accept-encoding"]
    assert sent["accept-language"] == "kk"


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),  # raw deflate, as some servers send under this name
        ("gzip", lambda data: gzip.compress(data[:1000]) + gzip.compress(data[1000:])),
    ],
)
def test_compressed_bodies_are_inflated(
    server: LocalServer, coding: str, compress: Callable[[bytes], bytes]
) -> None:
    # Random text compresses poorly, so the body spans many network chunks.
    rng = random.Random(7)
    body = "".join(rng.choice("абвгдеёжзқңөүұһі ") for _ in range(300_000)).encode("utf-8")
    url = server.route(
        "/big", handler=lambda r: Response(200, compress(body), {"Content-Encoding": coding})
    )

    assert fetch(HttpSettings(), url).content == body


# --- retries -------------------------------------------------------------------------------


def test_503_then_200_is_retried_after_a_jittered_backoff(server: LocalServer) -> None:
    url = server.route("/flaky", handler=sequence(Response(503), Response(200, b"ok")))
    sleep = SleepRecorder()

    result = fetch(HttpSettings(retries=2, backoff_base=0.5), url, sleep=sleep)

    assert result.content == b"ok"
    assert len(server.requests_to("/flaky")) == 2
    assert len(sleep.delays) == 1
    assert 0.0 <= sleep.delays[0] <= 0.5


def test_backoff_doubles_then_is_capped_and_the_last_error_is_raised(
    server: LocalServer,
) -> None:
    url = server.route("/down", handler=lambda r: Response(502))
    sleep = SleepRecorder()
    settings = HttpSettings(retries=3, backoff_base=1, backoff_max=3)

    with pytest.raises(TransientFetchError) as caught:
        fetch(settings, url, sleep=sleep, rng=Ceiling())

    assert sleep.delays == [1.0, 2.0, 3.0]
    assert caught.value.status == 502
    assert len(server.requests_to("/down")) == 4


def test_429_retry_after_seconds_is_honoured(server: LocalServer) -> None:
    url = server.route(
        "/limited",
        handler=sequence(Response(429, headers={"Retry-After": "2"}), Response(200, b"ok")),
    )
    sleep = SleepRecorder()
    settings = HttpSettings(backoff_base=0.1, backoff_max=30)

    result = fetch(settings, url, sleep=sleep)

    assert result.content == b"ok"
    assert sleep.delays == [2.0]
    assert 2.0 <= sleep.delays[0] <= settings.backoff_max


def test_retry_after_beyond_backoff_max_defers_without_waiting(server: LocalServer) -> None:
    url = server.route("/limited", handler=lambda r: Response(429, headers={"Retry-After": "120"}))
    sleep = SleepRecorder()

    with pytest.raises(TransientFetchError) as caught:
        fetch(HttpSettings(backoff_max=30), url, sleep=sleep)

    assert caught.value.retry_after == 120.0
    assert caught.value.status == 429
    assert sleep.delays == []
    assert len(server.requests_to("/limited")) == 1


def test_404_is_permanent_and_not_retried(server: LocalServer) -> None:
    url = server.url("/missing")
    sleep = SleepRecorder()

    with pytest.raises(FetchError) as caught:
        fetch(HttpSettings(retries=3), url, sleep=sleep)

    assert not isinstance(caught.value, TransientFetchError)
    assert caught.value.status == 404
    assert caught.value.source == SOURCE
    assert url in str(caught.value)
    assert sleep.delays == []
    assert len(server.requests_to("/missing")) == 1


def test_connection_refused_is_transient_and_names_the_source() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed.xml"
    sleep = SleepRecorder()

    with pytest.raises(TransientFetchError) as caught:
        fetch(HttpSettings(retries=1), url, sleep=sleep)

    assert caught.value.source == SOURCE
    assert SOURCE in str(caught.value)
    assert url in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)
    assert len(sleep.delays) == 1


def test_an_untrusted_certificate_is_permanent_unless_the_source_accepts_it() -> None:
    """A certificate the trust store does not know fails the same way on every retry: a
    permanent error that says so, sent once; `verify_tls = false` accepts it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = LocalServer(tls=context).start()
    try:
        url = server.route("/feed.xml", FEED, content_type="application/rss+xml")
        assert url.startswith("https://")
        sleep = SleepRecorder()
        with pytest.raises(FetchError) as caught:
            fetch(HttpSettings(retries=3), url, sleep=sleep)
        assert not isinstance(caught.value, TransientFetchError)
        assert "certificate not trusted" in str(caught.value) and url in str(caught.value)
        assert sleep.delays == []  # not retried
        assert server.requests_to("/feed.xml") == []  # no request got past the handshake

        accepted = fetch(HttpSettings(retries=3), url, verify_tls=False)
        assert accepted.status == 200 and accepted.content == FEED.encode("utf-8")
    finally:
        server.stop()


def test_a_stalled_response_times_out_as_transient(server: LocalServer) -> None:
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(timeout=10)
        return Response(200, b"late")

    url = server.route("/slow", handler=stall)
    try:
        with pytest.raises(TransientFetchError) as caught:
            fetch(HttpSettings(timeout=0.2, retries=0), url)
    finally:
        release.set()

    assert url in str(caught.value)


# --- limits --------------------------------------------------------------------------------


def test_gzip_bomb_stops_at_the_cap_without_inflating_it_all(server: LocalServer) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    megabyte = bytes(1 << 20)
    bomb = b"".join(packer.compress(megabyte) for _ in range(50)) + packer.flush()
    del megabyte
    assert len(bomb) < 1 << 20  # under the cap on the wire: only decompression can catch it
    url = server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})

    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError) as caught:
            fetch(HttpSettings(max_bytes=1 << 20), url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MB: the bomb was inflated"
    assert caught.value.source == SOURCE
    assert url in str(caught.value)
    assert len(server.requests_to("/bomb")) == 1


def test_content_length_over_the_cap_is_rejected_before_reading(server: LocalServer) -> None:
    url = server.route("/huge", b"x" * 5000)

    with pytest.raises(TooLargeError) as caught:
        fetch(HttpSettings(max_bytes=1000), url)

    assert "Content-Length 5000" in str(caught.value)


def test_body_exactly_at_the_cap_is_accepted(server: LocalServer) -> None:
    url = server.route("/edge", b"x" * 1000, gzip=True)

    assert fetch(HttpSettings(max_bytes=1000), url).content == b"x" * 1000


def test_redirects_are_followed_to_the_final_url(server: LocalServer) -> None:
    server.route("/old", handler=lambda r: Response(301, headers={"Location": "/mid"}))
    server.route("/mid", handler=lambda r: Response(302, headers={"Location": "/new"}))
    final = server.route("/new", FEED)

    result = fetch(HttpSettings(max_redirects=2), server.url("/old"))

    assert result.url == final
    assert result.content == FEED.encode("utf-8")


def test_redirect_loop_stops_after_max_redirects(server: LocalServer) -> None:
    url = server.route("/loop", handler=lambda r: Response(302, headers={"Location": "/loop"}))

    with pytest.raises(FetchError) as caught:
        fetch(HttpSettings(max_redirects=3), url)

    assert not isinstance(caught.value, TransientFetchError)
    assert SOURCE in str(caught.value)
    assert url in str(caught.value)
    assert len(server.requests_to("/loop")) == 4  # the first request and three redirects


class InFlight:
    """A handler that records the most requests it served at once.

    Each request stays open for WINDOW seconds, or ends at once when one too many arrive: a
    correct limiter pays the window, a leaking one is caught as soon as it leaks.
    """

    WINDOW = 0.25

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.now = 0
        self.peak = 0
        self.cond = threading.Condition()

    def __call__(self, request: Request) -> Response:
        with self.cond:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.now > self.limit, timeout=self.WINDOW)
            self.now -= 1
        return Response(200, b"ok")


def _fetch_many(settings: HttpSettings, urls: list[str]) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with Fetcher(settings, sleep=SleepRecorder()) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, source=SOURCE) for u in urls))

    return asyncio.run(go())


def test_per_host_limit_bounds_concurrency(server: LocalServer) -> None:
    counter = InFlight(limit=2)
    server.route("/item", handler=counter)

    results = _fetch_many(
        HttpSettings(per_host=2, concurrency=10), [server.url(f"/item?n={n}") for n in range(4)]
    )

    assert [r.content for r in results] == [b"ok"] * 4
    assert counter.peak == 2


def test_global_limit_bounds_concurrency(server: LocalServer) -> None:
    counter = InFlight(limit=1)
    server.route("/item", handler=counter)

    _fetch_many(
        HttpSettings(per_host=5, concurrency=1), [server.url(f"/item?n={n}") for n in range(3)]
    )

    assert counter.peak == 1


# --- Retry-After parsing (pure) ------------------------------------------------------------

NOW = datetime(2025, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 2 ", 2.0),
        ("1.5", 1.5),
        ("-5", None),
        ("soon", None),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_reads_a_naive_now_as_utc() -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)

    assert parse_retry_after(later, NOW.replace(tzinfo=None)) == 30.0


def test_cookies_are_neither_kept_nor_sent(server: LocalServer) -> None:
    """A cookie one source sets is not sent back, to it or to any other source."""
    server.route("/set", "ok", headers={"Set-Cookie": "session=abc; Path=/"})
    server.route("/next", "ok")

    async def go() -> None:
        async with Fetcher(HttpSettings(), sleep=SleepRecorder()) as fetcher:
            await fetcher.fetch(server.url("/set"), source=SOURCE)
            await fetcher.fetch(server.url("/next"), source=SOURCE)
            await fetcher.fetch(server.url("/set"), source=SOURCE)

    asyncio.run(go())
    assert [r.path for r in server.requests] == ["/set", "/next", "/set"]
    assert all("cookie" not in r.headers for r in server.requests)
