"""The platform's alert loop on one machine, from real parts: the model server -> Prometheus (the
repository's own alert rules) -> Alertmanager (the repository's own routing) -> the alert bridge ->
GitHub (a wire-level fake: GitHub cannot be reached from here).

    with ClosedLoop(tmp / "loop", model_source, github) as loop:
        loop.predict(rows, latency=0.8)              # slow predictions (sandbox.latency_server)
        loop.predict(rows * 1.6)                     # shifted traffic
        loop.watch.first_firing("ModelFeatureDrift")

Two documented transformations make the loop fast enough to watch, and nothing else changes:
:func:`fast_rules` rewrites every rule's ``for:`` to a few seconds (range windows stay as written),
and :func:`fast_alertmanager_config` shortens the route's group_wait / group_interval. Both return
the list of what they changed, which the callers print. Used by tests/e2e and scripts/demo_loop.py.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from sandbox.model_server import MODEL_SRC, ModelServerProcess

from .bridge import REPOSITORY, BridgeProcess, GitHubWithOutage
from .gitops import alertmanager_config_from_gitops, prometheus_rules_from_gitops
from .paths import REPO, tool_env
from .prometheus import Alertmanager, Prometheus, prometheus_config

__all__ = ["REPOSITORY", "AlertWatch", "ClosedLoop", "LatencyModelServer", "fast_alertmanager_config", "fast_rules"]

LATENCY_HEADER = "x-inject-latency-seconds"


def fast_rules(for_seconds: int = 5) -> tuple[dict[str, Any], list[str]]:
    """The repository's rule groups with every ``for:`` set to ``for_seconds``; and what changed."""
    rules = prometheus_rules_from_gitops()
    changes = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                changes.append("%s for: %s -> %ds" % (rule["alert"], rule["for"], for_seconds))
                rule["for"] = "%ds" % for_seconds
    return rules, changes


def fast_alertmanager_config(bridge_url: str, token_file: Path) -> tuple[dict[str, Any], list[str]]:
    """The repository's Alertmanager routing pointed at a local bridge, with short grouping timers."""
    config = alertmanager_config_from_gitops(bridge_url, token_file)
    route = config["route"]
    fast = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}
    changes = ["route %s: %s -> %s" % (k, route.get(k), v) for k, v in fast.items()]
    route.update(fast)
    return config, changes


class LatencyModelServer(ModelServerProcess):
    """The real model server started through sandbox.latency_server (a test-only slow-request header)."""

    def __init__(self, workdir: Path, model: str, env: dict[str, str] | None = None, extra: list[str] | None = None):
        super().__init__(workdir, model, extra=extra)
        self.env = tool_env({"PYTHONPATH": os.pathsep.join([str(REPO), str(MODEL_SRC)]), **(env or {})})

    def _argv(self, port: int) -> list[str]:
        argv = super()._argv(port)
        return [sys.executable, "-m", "sandbox.latency_server", *argv[3:]]

    @property
    def target(self) -> str:
        return "127.0.0.1:%d" % self.port


class AlertWatch:
    """Polls Prometheus's alerts in a thread; remembers when each alert was first seen pending and firing."""

    def __init__(self, prometheus: Prometheus, interval: float = 0.25):
        self.prometheus = prometheus
        self.interval = interval
        self.first: dict[tuple[str, str], float] = {}  # (alertname, state) -> time.monotonic()
        self.labels: dict[str, dict[str, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-watch", daemon=True)
        self.errors: list[str] = []

    def start(self) -> AlertWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                alerts = self.prometheus.alerts()
            except Exception as e:  # recorded, shown by the caller; the watch keeps polling
                self.errors.append(str(e))
                alerts = []
            now = time.monotonic()
            for a in alerts:
                key = (a["labels"]["alertname"], a["state"])
                if key not in self.first:
                    self.first[key] = now
                    self.labels.setdefault(key[0], a["labels"])
            self._stop.wait(self.interval)

    def first_firing(self, name: str) -> float | None:
        return self.first.get((name, "firing"))

    def firing(self) -> list[str]:
        return sorted(n for n, s in self.first if s == "firing")


class ClosedLoop:
    """Starts (and stops) model server, Prometheus, the bridge and Alertmanager, wired together."""

    def __init__(
        self,
        workdir: Path,
        model_source: str,
        github: GitHubWithOutage,
        repository: str = REPOSITORY,
        bridge_env: dict[str, str] | None = None,
        model_env: dict[str, str] | None = None,
        model_labels: dict[str, str] | None = None,
        for_seconds: int = 5,
        model_options: list[str] | None = None,
    ):
        self.workdir = Path(workdir)
        self.github = github
        self.repository = repository
        self.model = LatencyModelServer(self.workdir / "model", model_source, env=model_env, extra=model_options)
        self.rules, self.rule_changes = fast_rules(for_seconds)
        self.model_labels = {"namespace": "models", **(model_labels or {})}
        self.bridge_env = dict(bridge_env or {})
        self.prometheus: Prometheus | None = None
        self.bridge: BridgeProcess | None = None
        self.alertmanager: Alertmanager | None = None
        self.alertmanager_changes: list[str] = []
        self.watch: AlertWatch | None = None
        self._started: list[Any] = []

    def _scrape_config(self) -> dict[str, Any]:
        jobs = {"model": [self.model.target]}
        if self.bridge is not None:
            jobs["bridge"] = [self.bridge.target]
        config = prometheus_config(jobs, alertmanagers=[self.alertmanager] if self.alertmanager else [])
        # What Kubernetes service discovery would attach to the predictor's series.
        config["scrape_configs"][0]["static_configs"][0]["labels"] = dict(self.model_labels)
        return config

    def start(self, progress=lambda _msg: None) -> ClosedLoop:
        try:
            self.model.start()
            self._started.append(self.model)
            progress("model server %s (serving %s)" % (self.model.url, self.model.model))
            self.prometheus = Prometheus(self.workdir / "prometheus", self._scrape_config(), {"model": self.rules})
            self.prometheus.start()
            self._started.append(self.prometheus)
            progress("Prometheus %s (the repository's rules, `for:` shortened)" % self.prometheus.url)
            self.bridge = BridgeProcess(
                self.workdir / "bridge",
                self.github.url,
                self.repository,
                self.github.token,
                env={"BRIDGE_PROMETHEUS_URL": self.prometheus.url, **self.bridge_env},
            )
            self.bridge.start()
            self._started.append(self.bridge)
            progress("alert bridge %s (dispatching to the GitHub fake %s)" % (self.bridge.url, self.github.url))
            config, self.alertmanager_changes = fast_alertmanager_config(self.bridge.url, self.bridge.token_file)
            self.alertmanager = Alertmanager(self.workdir / "alertmanager", config)
            self.alertmanager.start()
            self._started.append(self.alertmanager)
            progress("Alertmanager %s (the repository's routing, short group timers)" % self.alertmanager.url)
            self.prometheus.reload(self._scrape_config())
            self.prometheus.wait_for_targets_up(timeout=30)
            self.watch = AlertWatch(self.prometheus).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.watch is not None:
            self.watch.stop()
        errors = []
        for service in reversed(self._started):
            try:
                service.stop()
            except Exception as e:  # stop the others, then report
                errors.append("%s: %s" % (service.name, e))
        self._started.clear()
        if errors:
            raise RuntimeError("could not stop: %s" % "; ".join(errors))

    def __enter__(self) -> ClosedLoop:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def pids(self) -> dict[str, int]:
        return {s.name: s.pid for s in self._started if s.pid}

    # -- traffic ---------------------------------------------------------------------------------
    def predict(self, rows, latency: float | None = None, batch: int = 50) -> int:
        """Send ``rows`` to the V1 endpoint in batches (each slowed by ``latency`` seconds); returns requests sent."""
        headers = {LATENCY_HEADER: "%g" % latency} if latency else {}
        sent = 0
        for start in range(0, len(rows), batch):
            chunk = [list(map(float, r)) for r in rows[start : start + batch]]
            r = requests.post(self.model.v1(), json={"instances": chunk}, headers=headers, timeout=30)
            r.raise_for_status()
            sent += 1
        return sent

    def dispatches(self) -> list:
        """The repository_dispatch requests the GitHub fake accepted, as recorded (with ``.at``)."""
        return [
            c for c in self.github.calls("POST", r"/dispatches$") if c.body in self.github.dispatches(self.repository)
        ]
