"""In-process HTTP servers of the bench: a webhook receiver that records what it gets, and a tiny
Prometheus exporter whose metrics text a test sets.

Both bind 127.0.0.1 on a free port, run in a daemon thread, and stop with ``stop()`` or at the end
of a ``with`` block.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .procs import LOOPBACK, ServiceError

__all__ = ["MetricsExporter", "ReceivedRequest", "WebhookReceiver"]


class _QuietHandler(BaseHTTPRequestHandler):
    server: _BenchHTTPServer

    def log_message(self, format, *args):
        return


class _BenchHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler, owner):
        super().__init__((LOOPBACK, 0), handler)
        self.owner = owner


class _InProcessServer:
    handler: type[BaseHTTPRequestHandler]

    def __init__(self):
        self._server: _BenchHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise ServiceError("%s is not started" % type(self).__name__)
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return "http://%s:%d" % (LOOPBACK, self.port)

    def start(self):
        self._server = _BenchHTTPServer(self.handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


class _WebhookHandler(_QuietHandler):
    def _record(self):
        owner: WebhookReceiver = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = ReceivedRequest(self.command, self.path, dict(self.headers.items()), body)
        with owner.lock:
            owner.requests.append(req)
            owner.lock.notify_all()
        status = owner.status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        payload = json.dumps({"received": True} if status < 400 else {"error": "status %d set by the test" % status})
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload.encode())

    do_POST = _record
    do_PUT = _record


class WebhookReceiver(_InProcessServer):
    """Records every POST (path, headers, body); answers ``status`` (200, or what a test sets)."""

    handler = _WebhookHandler

    def __init__(self, status: int = 200):
        super().__init__()
        self.status = status
        self.requests: list[ReceivedRequest] = []
        self.lock = threading.Condition()

    def bodies(self) -> list[Any]:
        with self.lock:
            return [r.json() for r in self.requests]

    def wait_for(
        self, predicate: Callable[[ReceivedRequest], bool] | None = None, timeout: float = 30.0
    ) -> ReceivedRequest:
        """The first request (already received or still to come) for which ``predicate`` is true."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for req in self.requests:
                    if predicate is None or predicate(req):
                        return req
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(
                        "no matching request at %s within %.0fs; received %d: %s"
                        % (self.url, timeout, len(self.requests), [r.body[:300] for r in self.requests])
                    )
                self.lock.wait(left)


class _ExporterHandler(_QuietHandler):
    def do_GET(self):
        owner: MetricsExporter = self.server.owner
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        with owner.lock:
            owner.scrapes += 1
            text = owner.text
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class MetricsExporter(_InProcessServer):
    """Serves ``text`` (Prometheus exposition format) at ``/metrics``; ``set()`` changes it live."""

    handler = _ExporterHandler

    def __init__(self, text: str = ""):
        super().__init__()
        self.text = text
        self.scrapes = 0
        self.lock = threading.Lock()

    @property
    def target(self) -> str:
        """``host:port`` as a Prometheus static_config target."""
        return "%s:%d" % (LOOPBACK, self.port)

    def set(self, text: str) -> None:
        with self.lock:
            self.text = text

    def gauge(self, name: str, value: float, labels: dict[str, str] | None = None) -> None:
        """Serve a single gauge, e.g. ``gauge("model_accuracy", 0.8, {"model": "iris"})``."""
        lab = ",".join('%s="%s"' % kv for kv in sorted((labels or {}).items()))
        self.set("# TYPE %s gauge\n%s%s %s\n" % (name, name, "{%s}" % lab if lab else "", value))
