"""Prometheus and Alertmanager as plain processes (Debian's binaries), configured from Python dicts.

    with MetricsExporter() as exporter, Alertmanager(tmp / "am", alertmanager_config(hook.url)) as am, \
         Prometheus(tmp / "prom", prometheus_config({"model": [exporter.target]}, alertmanagers=[am]),
                    rules={"model": {"groups": [...]}}) as prom:
        prom.wait_for('model_accuracy{job="model"}')
        prom.wait_for_alert("ModelAccuracyLow")

Intervals are one second, storage lives in the work directory, the lifecycle API is on so
``reload()`` applies a new configuration, and Alertmanager's cluster listener is off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import yaml

from .procs import Service, ServiceError, http_ok, require_binary

__all__ = ["Alertmanager", "Prometheus", "alertmanager_config", "prometheus_config"]

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
FAST = "1s"


def _target(url_or_target: str | Alertmanager) -> str:
    if isinstance(url_or_target, Alertmanager):
        url_or_target = url_or_target.url
    return url_or_target.split("://", 1)[-1].rstrip("/")


def prometheus_config(
    jobs: dict[str, Iterable[str]] | None = None,
    alertmanagers: Iterable[str | Alertmanager] = (),
    interval: str = FAST,
    **extra: Any,
) -> dict[str, Any]:
    """A Prometheus configuration: one scrape job per ``jobs`` entry (name -> ``host:port`` targets)."""
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": list(targets)}]} for name, targets in (jobs or {}).items()
        ],
    }
    targets = [_target(a) for a in alertmanagers]
    if targets:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": targets}]}]}
    config.update(extra)
    return config


def alertmanager_config(
    webhook_url: str | None = None,
    group_by: Iterable[str] = ("alertname",),
    group_wait: str = "0s",
    group_interval: str = FAST,
    repeat_interval: str = "1h",
    send_resolved: bool = True,
) -> dict[str, Any]:
    """An Alertmanager configuration routing everything to one receiver (a webhook when given)."""
    receiver: dict[str, Any] = {"name": "default"}
    if webhook_url:
        receiver["webhook_configs"] = [{"url": webhook_url, "send_resolved": send_resolved}]
    return {
        "route": {
            "receiver": "default",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [receiver],
    }


def _api(method: str, url: str, **kwargs) -> Any:
    try:
        r = requests.request(method, url, timeout=10, **kwargs)
    except requests.RequestException as e:
        raise ServiceError("%s %s failed: %s" % (method, url, e)) from e
    if r.status_code >= 400:
        raise ServiceError("%s %s answered %d: %s" % (method, url, r.status_code, r.text[:500]))
    return r.json() if r.content else None


def _wait(check: Callable[[], Any], timeout: float, what: str, last: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise ServiceError("%s not seen within %.0fs; last seen: %s" % (what, timeout, last()))
        time.sleep(0.2)


class _PrometheusComponent(Service):
    """What Prometheus and Alertmanager share: a YAML config file, flags, readiness at /-/ready."""

    storage_flag = ""
    extra_flags: tuple[str, ...] = ()
    config_name = ""

    def __init__(self, workdir: Path, binary: str):
        super().__init__(workdir)
        self.binary = require_binary(binary, self.package)
        self.config_path = self.workdir / self.config_name

    def _argv(self, port: int) -> list[str]:
        return [
            self.binary,
            "--config.file=%s" % self.config_path,
            "%s=%s" % (self.storage_flag, self.workdir / "data"),
            "--web.listen-address=127.0.0.1:%d" % port,
            "--web.external-url=http://127.0.0.1:%d/" % port,
            "--log.level=info",
            *self.extra_flags,
        ]

    def _ready(self) -> bool:
        return http_ok(self.url + "/-/ready")


class Prometheus(_PrometheusComponent):
    name = "prometheus"
    package = "prometheus"
    storage_flag = "--storage.tsdb.path"
    extra_flags = ("--web.enable-lifecycle", "--rules.alert.resend-delay=1s")
    config_name = "prometheus.yml"

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any] | None = None,
        rules: dict[str, dict[str, Any]] | None = None,
        binary: str = PROMETHEUS_BIN,
    ):
        super().__init__(workdir, binary)
        self.config = config if config is not None else prometheus_config()
        self.rules = dict(rules or {})

    def _write(self) -> None:
        rules_dir = self.workdir / "rules"
        rules_dir.mkdir(parents=True, exist_ok=True)
        for old in rules_dir.glob("*.yml"):
            old.unlink()
        config = dict(self.config)
        files = list(config.get("rule_files", []))
        for name, groups in self.rules.items():
            path = rules_dir / ("%s.yml" % name)
            path.write_text(yaml.safe_dump(groups, sort_keys=False))
            files.append(str(path))
        if files:
            config["rule_files"] = files
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    _prepare = _write

    # -- API --------------------------------------------------------------------------------

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector for ``expr``: ``[{"metric": {...}, "value": [ts, "v"]}, ...]``."""
        body = _api("GET", self.url + "/api/v1/query", params={"query": expr})
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def value(self, expr: str) -> float | None:
        """The value of a one-sample result, ``None`` when empty; error if several samples match."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise ServiceError("%r returned %d samples, expected one: %s" % (expr, len(result), result))
        return float(result[0]["value"][1])

    def wait_for(
        self, expr: str, timeout: float = 30.0, predicate: Callable[[list[dict[str, Any]]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Poll ``query(expr)`` until the result is non-empty (and ``predicate(result)`` holds)."""
        state: dict[str, Any] = {}

        def check():
            state["last"] = self.query(expr)
            return state["last"] if state["last"] and (predicate is None or predicate(state["last"])) else None

        return _wait(check, timeout, "query %r" % expr, lambda: state.get("last"))

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing) as /api/v1/alerts lists them."""
        return _api("GET", self.url + "/api/v1/alerts")["data"]["alerts"]

    def wait_for_alert(self, name: str, state: str = "firing", timeout: float = 30.0) -> dict[str, Any]:
        def check():
            return next(
                (a for a in self.alerts() if a["labels"].get("alertname") == name and a["state"] == state), None
            )

        return _wait(check, timeout, "alert %s in state %s" % (name, state), self.alerts)

    def wait_for_alert_gone(self, name: str, timeout: float = 30.0) -> None:
        """Wait until no alert named ``name`` is pending or firing."""

        def check():
            return not any(a["labels"].get("alertname") == name for a in self.alerts())

        _wait(check, timeout, "alert %s gone" % name, self.alerts)

    def rule_groups(self) -> list[dict[str, Any]]:
        return _api("GET", self.url + "/api/v1/rules")["data"]["groups"]

    def targets(self) -> list[dict[str, Any]]:
        return _api("GET", self.url + "/api/v1/targets")["data"]["activeTargets"]

    def wait_for_targets_up(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        def check():
            targets = self.targets()
            return targets if targets and all(t["health"] == "up" for t in targets) else None

        return _wait(check, timeout, "all targets up", self.targets)

    def reload(self, config: dict[str, Any] | None = None, rules: dict[str, dict[str, Any]] | None = None) -> None:
        """Write a new configuration and/or rule files, then ``POST /-/reload`` (errors are raised)."""
        if config is not None:
            self.config = config
        if rules is not None:
            self.rules = dict(rules)
        self._write()
        _api("POST", self.url + "/-/reload")


class Alertmanager(_PrometheusComponent):
    name = "alertmanager"
    package = "prometheus-alertmanager"
    storage_flag = "--storage.path"
    extra_flags = ("--cluster.listen-address=",)
    config_name = "alertmanager.yml"

    def __init__(self, workdir: Path, config: dict[str, Any] | None = None, binary: str = ALERTMANAGER_BIN):
        super().__init__(workdir, binary)
        self.config = config if config is not None else alertmanager_config()

    def _prepare(self) -> None:
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))

    @property
    def target(self) -> str:
        return _target(self.url)

    # -- API --------------------------------------------------------------------------------

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """``POST /api/v2/alerts`` with alerts in the v2 shape (labels, annotations, startsAt...)."""
        _api("POST", self.url + "/api/v2/alerts", json=alerts)

    def fire(
        self,
        name: str,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        resolved: bool = False,
    ) -> dict[str, Any]:
        """Post one alert named ``name`` (already ended when ``resolved``); return what was posted."""
        now = datetime.now(UTC)
        alert: dict[str, Any] = {
            "labels": {"alertname": name, **(labels or {})},
            "annotations": dict(annotations or {}),
            "startsAt": (now - timedelta(minutes=1)).isoformat(),
        }
        if resolved:
            alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
        self.post_alerts([alert])
        return alert

    def alerts(self, filters: Iterable[str] = ()) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts``, optionally with label matchers like ``alertname="X"``."""
        params = [("filter", f) for f in filters]
        return _api("GET", self.url + "/api/v2/alerts", params=params)

    def wait_for_alert(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        def check():
            return next(iter(self.alerts(['alertname="%s"' % name])), None)

        return _wait(check, timeout, "alert %s in Alertmanager" % name, self.alerts)

    def status(self) -> dict[str, Any]:
        return _api("GET", self.url + "/api/v2/status")

    def reload(self, config: dict[str, Any]) -> None:
        """Write ``config`` and ``POST /-/reload`` (an invalid configuration is raised, the old one stays)."""
        self.config = config
        self._prepare()
        _api("POST", self.url + "/-/reload")
