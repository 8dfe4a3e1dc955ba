"""The lean connection pool (monitor/sources/pool.py) against a real loopback server: it
keeps connections alive, never sends on a connection the server closed, queues beyond its
limit, and keeps no more idle connections than allowed, as httpcore's own pool does."""

from __future__ import annotations

import asyncio
import threading

import httpcore
import pytest

from monitor.config import HttpSettings
from monitor.models import Validators
from monitor.sources.fetch import Fetcher
from monitor.sources.pool import LeanConnectionPool, LeanTransport
from tests.localserver import LocalServer, Request, Response

ETAG = '"v1"'


def _fetch_in_turn(settings: HttpSettings, urls: list[str], validators: Validators) -> None:
    async def go() -> None:
        async with Fetcher(settings) as fetcher:
            for url in urls:
                await fetcher.fetch(url, source="s", validators=validators)

    asyncio.run(go())


def test_the_fetcher_uses_the_lean_pool_for_direct_connections() -> None:
    transport = LeanTransport()
    assert type(transport._pool) is LeanConnectionPool


@pytest.mark.parametrize("validators", [Validators(), Validators(etag=ETAG)], ids=["200", "304"])
def test_requests_in_turn_share_one_kept_alive_connection(
    server: LocalServer, validators: Validators
) -> None:
    url = server.route("/feed", "<rss/>", etag=ETAG)

    _fetch_in_turn(HttpSettings(), [url] * 5, validators)

    seen = server.requests_to("/feed")
    assert len(seen) == 5
    assert len({r.peer for r in seen}) == 1


def test_a_connection_the_server_hung_up_is_not_reused(server: LocalServer) -> None:
    answers = iter([Response(200, b"first", hang_up=True)])

    def handler(request: Request) -> Response:
        return next(answers, Response(200, b"later"))

    url = server.route("/feed", handler=handler)

    async def go() -> list[bytes]:
        async with Fetcher(HttpSettings(retries=0)) as fetcher:
            first = await fetcher.fetch(url, source="s")
            # Let the server's close reach us, as it would between two polls.
            await asyncio.sleep(0.05)
            second = await fetcher.fetch(url, source="s")
            return [first.content, second.content]

    assert asyncio.run(go()) == [b"first", b"later"]
    seen = server.requests_to("/feed")
    assert len(seen) == 2  # no failed attempt on the dead connection
    assert seen[0].peer != seen[1].peer


class Gate:
    """Holds each request until `release`; counts how many were held at once."""

    def __init__(self) -> None:
        self.held = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.open = threading.Event()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.held += 1
            self.peak = max(self.peak, self.held)
        self.open.wait(timeout=5)
        with self.lock:
            self.held -= 1
        return Response(200, b"ok")


@pytest.mark.parametrize("pool_class", [httpcore.AsyncConnectionPool, LeanConnectionPool])
def test_requests_beyond_the_limit_queue_and_idle_connections_are_capped(
    server: LocalServer, pool_class: type[httpcore.AsyncConnectionPool]
) -> None:
    gate = Gate()
    url = server.route("/slow", handler=gate)

    async def go() -> tuple[list[int], int]:
        async with pool_class(max_connections=3, max_keepalive_connections=2) as pool:

            async def one() -> int:
                response = await pool.request("GET", url)
                return response.status

            tasks = [asyncio.create_task(one()) for _ in range(8)]
            while gate.held < 3:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # a fourth connection would have arrived by now
            gate.open.set()
            statuses = await asyncio.gather(*tasks)
            return statuses, len(pool.connections)

    statuses, kept = asyncio.run(go())
    assert statuses == [200] * 8
    assert gate.peak == 3
    assert kept == 2
    if pool_class is LeanConnectionPool:
        # httpcore's pool closes a connection that a waiting request could have used
        # (encode/httpcore#1035) and opens a fourth; this one reuses the three.
        assert len({r.peer for r in server.requests_to("/slow")}) == 3
