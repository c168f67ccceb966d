"""A small recording HTTP server on 127.0.0.1 that the wire-level fakes build on.

A fake registers routes (method + path regex -> handler) and keeps its own state; the base records
every request (method, path, query, headers, raw and parsed body, time) so tests can assert what a
real client library actually sent. Handlers return ``(status, payload)`` or
``(status, payload, headers)``; a dict or list payload is sent as JSON, a str as text/plain.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Recorded", "RecordingServer"]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: str
    body: Any
    at: float = field(default_factory=time.monotonic)


Handler = Callable[..., tuple]


class RecordingServer:
    """Subclasses call ``self.add_route(method, regex, handler)``; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._delays: list[float] = []

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def start(self):
        fake = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                return

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PATCH(self):
                fake._handle(self, "PATCH")

            def do_PUT(self):
                fake._handle(self, "PUT")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- routing -------------------------------------------------------------------------------
    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile("^%s$" % pattern), handler))

    def not_found(self, method: str, path: str) -> tuple:
        return 404, {"message": "Not Found", "path": path, "method": method}

    def delay_next(self, seconds: float) -> None:
        """Hold the next answer back this long (a slow or hanging server), outside the state lock."""
        with self.lock:
            self._delays.append(seconds)

    def authorize(self, headers: dict[str, str], path: str) -> tuple | None:
        """Return an error response to refuse the request, or None to let it through."""
        return None

    # -- what tests read -----------------------------------------------------------------------
    def calls(self, method: str | None = None, path_regex: str | None = None) -> list[Recorded]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path_regex is None or re.search(path_regex, r.path))
            ]

    def wire_text(self) -> str:
        """Everything clients sent: paths, queries, header values and bodies, for leak checks."""
        with self.lock:
            return "\n".join(
                "%s %s %s\n%s\n%s" % (r.method, r.path, json.dumps(r.query), json.dumps(r.headers), r.raw)
                for r in self.requests
            )

    # -- internals -----------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        headers = {k.lower(): v for k, v in h.headers.items()}
        query = parse_qs(parts.query)
        with self.lock:
            self.requests.append(Recorded(method, parts.path, query, headers, raw, body))
            refused = self.authorize(headers, parts.path)
            if refused is not None:
                out = refused
            else:
                out = None
                for m, rx, handler in self._routes:
                    match = rx.match(parts.path)
                    if m == method and match:
                        out = handler(match, query, body, headers)
                        break
                if out is None:
                    out = self.not_found(method, parts.path)
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:
            time.sleep(delay)
        status, payload = out[0], out[1]
        extra = out[2] if len(out) > 2 else {}
        try:
            self._send(h, status, payload, extra)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (a timeout under test)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: Any, extra: dict[str, str]) -> None:
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
            ctype = "application/json; charset=utf-8"
        else:
            data = str(payload).encode()
            ctype = "text/plain; charset=utf-8"
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
