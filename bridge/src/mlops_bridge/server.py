"""The bridge service: webhook in, spool, context, repository_dispatch out.

    mlops-bridge --spool-dir /var/spool/alert-bridge --token-file /run/secrets/token \\
                 --github-repository owner/name            # GITHUB_TOKEN from the environment

Endpoints: ``POST /alerts/operational`` and ``POST /alerts/drift`` (Alertmanager webhook v4, bearer
token), ``GET /healthz``, ``GET /metrics``. An accepted alert is on disk (fsync) before the 200
reply; one delivery thread sends the spooled alerts oldest first, gathering each one's context
before its first attempt, and backs off (exponentially, with jitter, honouring Retry-After) while
GitHub fails. SIGTERM stops accepting, lets the attempt in flight finish and exits; what is still
spooled is delivered after the next start.
"""

from __future__ import annotations

import hmac
import json
import logging
import random
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ansible_collections.mlops.hybrid.plugins.module_utils.retry import backoff_delay

from .config import EVENT_TYPES, ConfigError, Settings, parser, settings_from_args
from .context import ContextGatherer, redact_alert
from .dispatch import build_payload, connect, send
from .limits import Deduplicator, TokenBucket
from .metrics import BridgeMetrics
from .schema import Alert, InvalidPayload, Notification, parse_notification
from .spool import Spool, SpoolFull

__all__ = ["Bridge", "main"]

LOG = logging.getLogger("mlops_bridge")
MAX_RETRY_AFTER = 900.0


def new_record(route: str, note: Notification, alert: Alert, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """The spool record of one alert of ``note``: the alert and its group, redacted; context gathered later."""
    clean, _counts = redact_alert(alert.as_dict(), secrets)
    group, _counts = redact_alert(note.group(), secrets)
    return {
        "id": uuid.uuid4().hex,
        "route": route,
        "event_type": EVENT_TYPES[route],
        "receiver": note.receiver,
        "group_key": note.group_key,
        "group": group,
        "alert": clean,
        "received_at": time.time(),
        "attempts": 0,
        "context": None,
    }


class Bridge:
    """Everything but the HTTP plumbing: admission, the spool and the delivery thread."""

    def __init__(self, settings: Settings, gatherer: ContextGatherer | None = None):
        self.settings = settings
        self.spool = Spool(settings.spool_dir, settings.spool_max)
        self.dedup = Deduplicator(settings.dedup_window, settings.dedup_max_entries)
        self.bucket = TokenBucket(settings.rate_per_minute, settings.rate_burst)
        self.metrics = BridgeMetrics(lambda: len(self.spool))
        self.dispatcher = connect(settings)
        self.gatherer = gatherer or ContextGatherer(settings)
        self.secrets = (settings.token, settings.github_token)
        self._admit = threading.Lock()
        self._cond = threading.Condition()
        self._due: dict[str, float] = {}
        self._stop = threading.Event()
        self._failures = 0
        self._blocked_until = 0.0
        self.worker = threading.Thread(target=self._deliver_loop, name="delivery", daemon=True)
        recovered = self.spool.names()
        for name in recovered:
            self._due[name] = 0.0
            record = self.spool.load(name) or {}
            alert = record.get("alert") or {}
            if alert.get("fingerprint"):
                self.dedup.record((alert["fingerprint"], alert.get("status")))
        self.recovered = len(recovered)

    # -- admission --------------------------------------------------------------------------------
    def admit(self, route: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Validate a notification and spool what passes; returns (HTTP status, JSON answer)."""
        try:
            note = parse_notification(body, self.settings.max_alerts)
        except InvalidPayload as e:
            return 400, {"error": "not an Alertmanager v4 webhook notification: %s" % e}
        counts = {"accepted": 0, "deduplicated": 0, "rate_limited": 0, "skipped": 0}
        ids = []
        with self._admit:
            for alert in note.alerts:
                self.metrics.received.labels(route=route).inc()
                if alert.status == "resolved" and not self.settings.dispatch_resolved:
                    self.metrics.skipped.labels(route=route, reason="resolved").inc()
                    counts["skipped"] += 1
                    continue
                key = (alert.fingerprint, alert.status)
                if self.dedup.seen(key):
                    self.metrics.deduplicated.labels(route=route).inc()
                    counts["deduplicated"] += 1
                    continue
                if not self.bucket.take():
                    self.metrics.rate_limited.labels(route=route).inc()
                    counts["rate_limited"] += 1
                    LOG.warning("rate limit: %s %s not dispatched", alert.labels["alertname"], alert.fingerprint)
                    continue
                record = new_record(route, note, alert, self.secrets)
                try:
                    name = self.spool.put(record)
                except (SpoolFull, OSError) as e:
                    LOG.error("cannot spool %s: %s", alert.fingerprint, e)
                    return 503, {"error": "the bridge cannot take alerts now (%s); retry later" % e, **counts}
                self.dedup.record(key)
                counts["accepted"] += 1
                ids.append(record["id"])
                with self._cond:
                    self._due[name] = 0.0
                    self._cond.notify()
        LOG.info("%s notification from %s: %s", route, note.receiver, counts)
        return 200, {**counts, "ids": ids}

    # -- delivery ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.worker.start()

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self.worker.is_alive():
            self.worker.join(timeout)
        self.dispatcher.close()

    def _next(self) -> str | None:
        """The oldest due record, waiting for one (or for GitHub's backoff) until stopped."""
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._due and now >= self._blocked_until:
                    name = min(self._due, key=lambda n: (self._due[n], n))
                    if self._due[name] <= now:
                        return name
                    wait = self._due[name] - now
                elif self._due:
                    wait = self._blocked_until - now
                else:
                    wait = 5.0
                self._cond.wait(min(max(wait, 0.01), 5.0))
        return None

    def _deliver_loop(self) -> None:
        while True:
            name = self._next()
            if name is None:
                return
            try:
                self.deliver(name)
            except Exception:  # keep delivering the others; the record stays spooled
                LOG.exception("delivery of %s failed unexpectedly", name)
                with self._cond:
                    self._due[name] = time.monotonic() + self.settings.retry_max

    def deliver(self, name: str) -> None:
        record = self.spool.load(name)
        if record is None:
            with self._cond:
                self._due.pop(name, None)
            return
        alert = record["alert"]
        if record.get("context") is None:
            record["context"] = self.gatherer.gather(record["route"], alert["labels"])
            self.spool.update(name, record)
        try:
            payload = build_payload(record)
        except ValueError as e:
            self._refused(name, str(e))
            return
        result = send(self.dispatcher, record["event_type"], payload)
        if result.delivered:
            self.spool.remove(name)
            with self._cond:
                self._due.pop(name, None)
                self._failures = 0
            waited = time.time() - record["received_at"]
            self.metrics.dispatched.labels(event_type=record["event_type"]).inc()
            self.metrics.latency.observe(waited)
            LOG.info(
                "dispatched %s %s (%s, fingerprint %s) %.2fs after it arrived, attempt %d",
                record["event_type"], alert["labels"].get("alertname"), alert["status"], alert["fingerprint"],
                waited, record["attempts"] + 1,
            )  # fmt: skip
            return
        if not result.retry:
            self._refused(name, result.message)
            return
        record["attempts"] += 1
        record["last_error"] = result.message
        self.spool.update(name, record)
        self.metrics.failed.labels(reason="retry").inc()
        with self._cond:
            self._failures += 1
            delay = backoff_delay(self._failures, self.settings.retry_base, self.settings.retry_max, rng=random)
            if result.retry_after is not None:
                delay = max(delay, min(result.retry_after, MAX_RETRY_AFTER))
            self._blocked_until = time.monotonic() + delay
        LOG.warning("%s; %d spooled, next attempt in %.1fs", result.message, len(self.spool), delay)

    def _refused(self, name: str, reason: str) -> None:
        self.spool.dead(name, reason)
        with self._cond:
            self._due.pop(name, None)
        self.metrics.failed.labels(reason="refused").inc()
        LOG.error("dispatch refused for good, kept in %s: %s", self.spool.failed_dir, reason)


# -- HTTP ------------------------------------------------------------------------------------------

ROUTES = {"/alerts/%s" % route: route for route in EVENT_TYPES}


class Handler(BaseHTTPRequestHandler):
    server: BridgeHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "mlops-bridge/0.1"
    sys_version = ""

    def log_message(self, format, *args):
        LOG.debug("%s " + format, self.address_string(), *args)

    def _answer(self, status: int, payload: Any, content_type: str = "application/json", headers=None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)
        if self.path in ROUTES:
            self.server.bridge.metrics.requests.labels(code=str(status)).inc()

    def do_GET(self):
        bridge = self.server.bridge
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            alive = bridge.worker.is_alive()
            body = {
                "status": "ok" if alive else "delivery thread stopped",
                "spool_depth": len(bridge.spool),
                "dedup_entries": len(bridge.dedup),
            }
            self._answer(200 if alive else 503, body)
        elif path == "/metrics":
            self._answer(200, generate_latest(bridge.metrics.registry), CONTENT_TYPE_LATEST)
        else:
            self._answer(404, {"error": "no such endpoint: GET %s" % path})

    def do_POST(self):
        bridge = self.server.bridge
        route = ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self._answer(404, {"error": "no such endpoint: POST %s (use %s)" % (self.path, ", ".join(ROUTES))})
            return
        auth = self.headers.get("Authorization", "")
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), bridge.settings.token.encode()
        ):
            self._answer(401, {"error": "a valid bearer token is required"}, headers={"WWW-Authenticate": "Bearer"})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._answer(411, {"error": "Content-Length is required"})
            return
        limit = bridge.settings.max_body_bytes
        if int(length) > limit:
            self._answer(413, {"error": "the body of %s bytes is over the limit of %d bytes" % (length, limit)})
            return
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            self._answer(400, {"error": "the body is not valid JSON: %s" % e})
            return
        status, answer = bridge.admit(route, body)
        self._answer(status, answer, headers={"Retry-After": "30"} if status == 503 else None)

    def do_PUT(self):
        self._answer(405, {"error": "use POST"}, headers={"Allow": "POST"})

    do_DELETE = do_PATCH = do_PUT


class BridgeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, bridge: Bridge):
        self.bridge = bridge
        super().__init__((bridge.settings.host, bridge.settings.port), Handler)


def serve(settings: Settings) -> int:
    bridge = Bridge(settings)
    httpd = BridgeHTTPServer(bridge)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        if not stopping.is_set():
            stopping.set()
            LOG.info("signal %d: no new alerts; finishing the delivery in flight", signum)
            threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    bridge.start()
    host, port = httpd.server_address[:2]
    print(
        "mlops-bridge: http://%s:%d (POST %s), spool %s (%d recovered), dispatching to %s on %s"
        % (host, port, " ".join(ROUTES), settings.spool_dir, bridge.recovered, settings.github_repository,
           settings.github_api_url),
        flush=True,
    )  # fmt: skip
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        bridge.stop()
        LOG.info("stopped; %d alerts stay spooled for the next start", len(bridge.spool))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = settings_from_args(args)
    except ConfigError as e:
        print("mlops-bridge: %s" % e, file=sys.stderr)
        return 2
    try:
        return serve(settings)
    except OSError as e:
        print("mlops-bridge: cannot listen on %s:%d: %s" % (settings.host, settings.port, e.strerror), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
