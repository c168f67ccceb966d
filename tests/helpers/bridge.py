"""The alert bridge as a managed process of the test bench, a GitHub fake that can go down, and
Alertmanager-shaped webhook bodies.

    github = GitHubWithOutage(); github.start(); github.add_repo("acme/platform")
    with BridgeProcess(tmp / "bridge", github.url, "acme/platform", github.token) as bridge:
        bridge.post("operational", webhook_body([alert("ModelHighLatency", model_name="m")]))
        github.outage(30)                     # every API call answers 503 for 30 s

Used by bridge/tests, tests/e2e and scripts/demo_loop.py.
"""

from __future__ import annotations

import copy
import hashlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tests.fakes.github import FakeGitHubActions
from tests.fakes.kubernetes import FakeKubernetes

from .paths import REPO, tool_env
from .procs import Service, http_ok

__all__ = [
    "BRIDGE_SRC",
    "REPOSITORY",
    "WEBHOOK_TOKEN",
    "BridgeProcess",
    "GitHubWithOutage",
    "KubernetesWithPodList",
    "alert",
    "github_fake",
    "kubeconfig_for",
    "wait_until",
    "webhook_body",
]

BRIDGE_SRC = REPO / "bridge" / "src"
COLLECTIONS = REPO / "collections"
REPOSITORY = "mlops-hybrid/mlops-hybrid"
WEBHOOK_TOKEN = "bridge-webhook-token-for-tests-8c1f"


def alert(name: str, status: str = "firing", annotations: dict[str, str] | None = None, **labels: str) -> dict:
    """One alert as Alertmanager puts it in a webhook; the fingerprint is derived from the labels."""
    labels = {"alertname": name, **labels}
    fp = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    now = datetime.now(UTC).isoformat()
    return {
        "status": status,
        "labels": labels,
        "annotations": dict(annotations or {"summary": "%s fired" % name}),
        "startsAt": now,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else now,
        "generatorURL": "http://prometheus.example/graph?g0.expr=up",
        "fingerprint": fp,
    }


def webhook_body(alerts: list[dict], receiver: str = "bridge-operational") -> dict:
    """A version 4 Alertmanager webhook notification holding ``alerts``."""
    common = dict(alerts[0]["labels"]) if alerts else {}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="%s"}' % common.get("alertname", ""),
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": alerts,
    }


class GitHubWithOutage(FakeGitHubActions):
    """The GitHub fake, plus ``outage(seconds, status)``: every call is answered ``status`` meanwhile."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._down_until = 0.0
        self._down_status = 503
        self.refused_during_outage = 0

    def outage(self, seconds: float, status: int = 503) -> None:
        with self.lock:
            self._down_until = time.monotonic() + seconds
            self._down_status = status

    def authorize(self, headers, path):
        if time.monotonic() < self._down_until:
            self.refused_during_outage += 1
            return self._down_status, {"message": "Service Unavailable", "documentation_url": "https://docs.github.com"}
        return super().authorize(headers, path)


@contextmanager
def github_fake(repository: str = REPOSITORY) -> Iterator[GitHubWithOutage]:
    """A started GitHub fake holding ``repository``; stopped at the end of the block."""
    fake = GitHubWithOutage()
    fake.start()
    try:
        fake.add_repo(repository)
        yield fake
    finally:
        fake.stop()


class KubernetesWithPodList(FakeKubernetes):
    """The Kubernetes fake plus ``GET /api/v1/namespaces/{ns}/pods?labelSelector=k=v,...`` (a PodList)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_route("GET", r"/api/v1/namespaces/(?P<ns>[a-z0-9-]+)/pods", self._list_pods)

    def _list_pods(self, m, q, _b, _h):
        wanted = dict(p.split("=", 1) for p in q.get("labelSelector", [""])[0].split(",") if "=" in p)
        items = []
        for (ns, _name), pod in sorted(self.pods.items()):
            labels = pod.body["metadata"].get("labels") or {}
            if ns == m.group("ns") and all(labels.get(k) == v for k, v in wanted.items()):
                items.append(copy.deepcopy(pod.body))
        return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "100"}, "items": items}


def kubeconfig_for(path: Path, server_url: str, token: str) -> Path:
    """A kubeconfig file for a plain-HTTP API server on loopback with a bearer token."""
    import yaml  # noqa: PLC0415

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server_url}}],
        "users": [{"name": "bridge", "user": {"token": token}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "bridge"}}],
        "current-context": "fake",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


class BridgeProcess(Service):
    """``python -m mlops_bridge`` on a free loopback port; ``env`` adds or overrides BRIDGE_* settings."""

    name = "bridge"
    ready_timeout = 30.0

    def __init__(
        self,
        workdir: Path,
        github_url: str,
        repository: str,
        github_token: str,
        env: dict[str, str] | None = None,
        token: str = WEBHOOK_TOKEN,
    ):
        super().__init__(workdir)
        self.token = token
        self.spool_dir = self.workdir / "spool"
        self.settings_env = {
            "PYTHONPATH": os.pathsep.join([str(BRIDGE_SRC), str(COLLECTIONS)]),
            "PYTHONUNBUFFERED": "1",
            "BRIDGE_HOST": "127.0.0.1",
            "BRIDGE_TOKEN_FILE": str(self.workdir / "token"),
            "BRIDGE_SPOOL_DIR": str(self.spool_dir),
            "BRIDGE_KUBERNETES": "off",
            "GITHUB_API_URL": github_url,
            "GITHUB_REPOSITORY": repository,
            "GITHUB_TOKEN": github_token,
            "BRIDGE_RETRY_BASE_SECONDS": "0.5",
            "BRIDGE_RETRY_MAX_SECONDS": "4",
            **(env or {}),
        }

    @property
    def token_file(self) -> Path:
        return self.workdir / "token"

    def _prepare(self) -> None:
        self.token_file.write_text(self.token + "\n")
        self.token_file.chmod(0o600)

    def _argv(self, port: int) -> list[str]:
        self.env = tool_env({**self.settings_env, "BRIDGE_PORT": str(port)})
        return [sys.executable, "-m", "mlops_bridge"]

    def _ready(self) -> bool:
        return http_ok(self.url + "/healthz")

    @property
    def target(self) -> str:
        return "127.0.0.1:%d" % self.port

    def post(self, route: str, body: Any, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": "Bearer %s" % (self.token if token is None else token)}
        return requests.post("%s/alerts/%s" % (self.url, route), json=body, headers=headers, timeout=10, **kwargs)

    def metrics(self) -> dict[str, float]:
        """The bridge's own samples, ``{'name{labels}': value}`` (unlabelled ones by name)."""
        out = {}
        for line in requests.get(self.url + "/metrics", timeout=10).text.splitlines():
            if line.startswith("bridge_") and " " in line:
                key, value = line.rsplit(" ", 1)
                out[key] = float(value)
        return out

    def kill(self) -> None:
        """SIGKILL the bridge (no shutdown at all), as a node failure or an OOM kill would."""
        os.killpg(self.process.proc.pid, signal.SIGKILL)
        self.process.proc.wait(timeout=10)
        self.process.stop()  # forgets the process group

    def restart(self) -> None:
        """Start again on the same spool (a new port)."""
        self.process = None
        self.start()

    def rss_bytes(self) -> int:
        """Resident memory of the bridge process, from /proc."""
        for line in Path("/proc/%d/status" % self.process.proc.pid).read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for pid %d" % self.process.proc.pid)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; raise naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("%s not seen within %.0fs" % (what, timeout))
        time.sleep(interval)
