"""httpx's connection pool without its quadratic bookkeeping.

httpcore 1.0's pool runs `_assign_requests_to_connections` twice per request. Each pass asks
every pooled connection whether the server closed it (a socket poll through anyio's extra
attributes), and counts connections once per idle connection: O(n²) in the pool's size.
With 16 keep-alive connections that bookkeeping was half the CPU of a poll answered by 304s
(encode/httpcore#1035, still open; the httpx2 fork fixed it the same way, pydantic/httpx2#974).

`LeanConnectionPool` makes the same decisions in linear time:
- a connection about to be reused is always checked (expired keep-alive, or closed by the
  server), so no request is sent on a dead connection;
- the other idle connections are swept for expiry at most once every `SWEEP_EVERY` seconds;
- surplus idle connections beyond `max_keepalive_connections` are closed, oldest first, once
  the queued requests had their pick (the original compared the number of *all* connections
  with that limit, and closed connections that a waiting request could have used);
- an idle HTTP/1.1 connection is handed to one queued request per pass, not to several that
  would then fail over to the retry loop.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore
import httpx
from httpcore import AsyncConnectionInterface

SWEEP_EVERY = 1.0  # seconds between expiry checks of connections not about to be reused


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    _swept = 0.0

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        closing: list[AsyncConnectionInterface] = []
        now = time.monotonic()
        sweep = now - self._swept >= SWEEP_EVERY
        if sweep:
            self._swept = now
        kept: list[AsyncConnectionInterface] = []
        for connection in self._connections:
            if connection.is_closed():
                continue
            if sweep and connection.has_expired():
                closing.append(connection)
                continue
            kept.append(connection)
        self._connections = kept

        taken: set[int] = set()  # idle connections given to a request in this pass
        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            chosen = self._reusable(origin, taken, closing) or self._new(origin, taken, closing)
            if chosen is None:
                continue  # stays queued until a connection is released
            if chosen.is_idle():
                taken.add(id(chosen))
            pool_request.assign_to_connection(chosen)
        # Idle connections beyond the keep-alive limit, oldest first; after the queued
        # requests had their pick, so none is closed while a request waits for one.
        idle = [c for c in self._connections if c.is_idle() and id(c) not in taken]
        for connection in idle[: max(0, len(idle) - self._max_keepalive_connections)]:
            self._connections.remove(connection)
            closing.append(connection)
        return closing

    def _new(
        self,
        origin: httpcore.Origin,
        taken: set[int],
        closing: list[AsyncConnectionInterface],
    ) -> AsyncConnectionInterface | None:
        """A new connection, closing an idle one to make room when the pool is full."""
        if len(self._connections) >= self._max_connections:
            spare = next((c for c in self._connections if c.is_idle() and id(c) not in taken), None)
            if spare is None:
                return None
            self._connections.remove(spare)
            closing.append(spare)
        connection = self.create_connection(origin)
        self._connections.append(connection)
        return connection

    def _reusable(
        self,
        origin: httpcore.Origin,
        taken: set[int],
        closing: list[AsyncConnectionInterface],
    ) -> AsyncConnectionInterface | None:
        for connection in list(self._connections):
            if id(connection) in taken:
                continue
            if not (connection.can_handle_request(origin) and connection.is_available()):
                continue
            if connection.is_idle() and connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None


class LeanTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` whose direct connections use `LeanConnectionPool` (the
    same pool state and settings; proxies keep httpcore's own pools)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if type(self._pool) is httpcore.AsyncConnectionPool:
            self._pool.__class__ = LeanConnectionPool
