"""A real HTTP server on loopback for tests: feeds, pages, sitemaps and webhook receivers.

    server.route("/feed.xml", body, content_type="application/rss+xml", etag='"v1"')
    server.route("/hook", handler=lambda req: Response(429, headers={"Retry-After": "1"}))
    url = server.url("/feed.xml")

Routes with an `etag` or `last_modified` answer conditional requests with 304. Every request is
recorded in `server.requests` (method, path, headers, body), so tests assert what was sent.
"""

from __future__ import annotations

import gzip
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    path: str  # with query string
    headers: dict[str, str]
    body: bytes
    peer: int = 0  # the client's port: one per connection


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False  # close the connection after answering, without saying so


Handler = Callable[[Request], Response]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # Tests hang up early on purpose (timeouts, size caps); that is not a server fault.
        pass


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    handler: Handler | None = None


class LocalServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: serve HTTPS with this server context (e.g. a trustme certificate)."""
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._make_handler())
        self._scheme = "https" if tls else "http"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
        gzip: bool = False,
        handler: Handler | None = None,
    ) -> str:
        """Serve `body` at `path` (exact path, query string included if given). Returns the URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(
            data, status, content_type, etag, last_modified, dict(headers or {}), gzip, handler
        )
        return self.url(path)

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path or urlsplit(r.path).path == path]

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _lookup(self, path: str) -> Route | None:
        return self.routes.get(path) or self.routes.get(urlsplit(path).path)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    int(self.client_address[1]),
                )
                with server._lock:
                    server.requests.append(request)
                route = server._lookup(self.path)
                if route is None:
                    self._send(Response(404, b"not found"))
                    return
                if route.handler is not None:
                    self._send(route.handler(request))
                    return
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                inm = request.headers.get("if-none-match")
                ims = request.headers.get("if-modified-since")
                if (route.etag and inm == route.etag) or (
                    route.last_modified and not route.etag and ims == route.last_modified
                ):
                    self._send(Response(304, b"", headers))
                    return
                data = route.body
                if route.gzip:
                    data = gzip.compress(data)
                    headers["Content-Encoding"] = "gzip"
                self._send(Response(route.status, data, headers))

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                headers = dict(response.headers)
                for name, value in headers.items():
                    self.send_header(name, value)
                if response.status != 304:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if response.status != 304 and self.command != "HEAD":
                    self.wfile.write(response.body)
                if response.hang_up:
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = _serve

        return _Handler
