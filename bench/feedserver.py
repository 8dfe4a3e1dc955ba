"""A static file server with ETag / Last-Modified and 304s, run as its own process so that
serving does not compete with the measured process for the GIL.

    python -m bench.feedserver DIR PORT
"""

from __future__ import annotations

import hashlib
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    etags: ClassVar[dict[str, str]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path.split("?")[0]))
        if not path.is_file():
            self.send_error(404)
            return
        etag = self.etags.get(str(path))
        if etag is None:
            etag = '"' + hashlib.sha1(path.read_bytes()).hexdigest()[:16] + '"'
            self.etags[str(path)] = etag
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    directory, port = sys.argv[1], int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(Handler, directory=directory))
    server.daemon_threads = True
    server.request_queue_size = 256
    server.serve_forever()


if __name__ == "__main__":
    main()
