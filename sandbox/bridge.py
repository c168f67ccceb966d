"""The alert bridge as a managed process of the test bench, a GitHub fake that can go down, and
Alertmanager-shaped webhook bodies.

    github = GitHubWithOutage(); github.start(); github.add_repo("acme/platform")
    with BridgeProcess(tmp / "bridge", github.url, "acme/platform", github.token) as bridge:
        bridge.post("operational", webhook_body([alert("ModelHighLatency", model_name="m")]))
        github.outage(30)                     # every API call answers 503 for 30 s

The bridge as gitops/platform/bridge deploys it, on this machine:

    env = deployment_env(secrets, {"mlflow.mlflow": mlflow.url, ...})   # the Deployment's env, stand-ins
    with BridgeContainer(tmp / "c", image, secrets, services, {"GITHUB_API_URL": github.url}) as bridge:
        ...                                   # the image, run with the Deployment's container spec

Used by bridge/tests, tests/e2e, tests/flows and scripts/demo_loop.py.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from sandbox.fakes.github import FakeGitHubActions
from sandbox.fakes.kubernetes import FakeKubernetes

from .gitops import render
from .paths import REPO, tool_env
from .procs import LOOPBACK, Service, ServiceError, http_ok, require_binary

__all__ = [
    "BRIDGE_MANIFESTS",
    "BRIDGE_SRC",
    "REPOSITORY",
    "WEBHOOK_TOKEN",
    "BridgeContainer",
    "BridgeProcess",
    "GitHubWithOutage",
    "KubernetesWithPodList",
    "alert",
    "bridge_image",
    "bridge_manifests",
    "deployment_env",
    "github_fake",
    "kubeconfig_for",
    "wait_until",
    "webhook_body",
]

BRIDGE_SRC = REPO / "bridge" / "src"
COLLECTIONS = REPO / "collections"
REPOSITORY = "mlops-hybrid/mlops-hybrid"
WEBHOOK_TOKEN = "bridge-webhook-token-for-tests-8c1f"
BRIDGE_MANIFESTS = REPO / "gitops" / "platform" / "bridge"
# An in-cluster Service's name: <service>.<namespace>.svc[.cluster.local].
SERVICE_HOST = re.compile(r"^(?P<service>[a-z0-9-]+)\.(?P<namespace>[a-z0-9-]+)\.svc(?:\.cluster\.local)?$")
# Where a pod is placed rather than what it is told: a process on this machine picks its own.
PLACEMENT = ("BRIDGE_HOST", "BRIDGE_PORT")
# Variables the bridge and its clients read: a bridge process of the bench gets them from its caller only.
OWN_SETTINGS = ("BRIDGE_", "GITHUB_", "MLFLOW_")


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


class _BridgeApi:
    """What a test does with a running bridge: post webhooks with its token, read its metrics."""

    token: str
    url: str

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


class BridgeProcess(_BridgeApi, Service):
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
        # Only what it is given: no setting of the bridge or of its clients comes from this shell.
        inherited = {k: v for k, v in tool_env().items() if not k.startswith(OWN_SETTINGS)}
        self.env = {**inherited, **self.settings_env, "BRIDGE_PORT": str(port)}
        return [sys.executable, "-m", "mlops_bridge"]

    def _ready(self) -> bool:
        return http_ok(self.url + "/healthz")

    @property
    def target(self) -> str:
        return "127.0.0.1:%d" % self.port

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


# -- the bridge as the Deployment runs it -------------------------------------------------------------


def bridge_image(tag: str, revision: str) -> str:
    """``make bridge-image`` (podman, cached layers) tagged ``tag``; pytest skips without podman."""
    import pytest  # noqa: PLC0415 - only the tests call this

    try:
        require_binary("podman", "podman")
    except ServiceError as e:
        pytest.skip("%s (make install does it as root)" % e)
    r = subprocess.run(
        ["make", "--no-print-directory", "bridge-image", "BRIDGE_IMAGE=%s" % tag, "MODEL_REVISION=%s" % revision],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert r.returncode == 0, "make bridge-image failed:\n%s\n%s" % (r.stdout[-3000:], r.stderr[-3000:])
    return tag


def bridge_manifests() -> dict[str, dict[str, Any]]:
    """The bridge's objects of gitops/platform/bridge as kustomize renders them, by kind: those named alert-bridge
    (or alert-bridge-*), not the production-baseline CronJob's beside them."""
    objs = [o for o in render(BRIDGE_MANIFESTS) if o["metadata"]["name"].startswith("alert-bridge")]
    return {o["kind"]: o for o in objs}


def in_cluster_service(url: str) -> tuple[str, str] | None:
    """``(service, namespace)`` when ``url`` names an in-cluster Service, else None."""
    m = SERVICE_HOST.match(urlsplit(url).hostname or "") if "://" in url else None
    return (m["service"], m["namespace"]) if m else None


def _stand_in(url: str, services: Mapping[str, str]) -> str:
    """``url`` with its in-cluster Service replaced by the local stand-in ``services["<service>.<namespace>"]``."""
    svc = in_cluster_service(url)
    if svc is None:
        return url
    key = "%s.%s" % svc
    if key not in services:
        raise ServiceError("the bridge's Deployment points at %s: give a local stand-in for %s" % (url, key))
    local, parts = urlsplit(services[key]), urlsplit(url)
    return urlunsplit((local.scheme, local.netloc, parts.path, parts.query, parts.fragment))


def deployment_env(
    secrets: Mapping[tuple[str, str], str],
    services: Mapping[str, str | None],
    container: dict[str, Any] | None = None,
    mounted: bool = True,
) -> dict[str, str]:
    """The environment the Deployment gives the bridge's container, for a process on this machine.

    ``secrets`` maps ``(secret name, key)`` to a test value (an optional reference may be absent,
    as in the cluster); every URL naming an in-cluster Service is pointed at its stand-in in
    ``services`` (a stand-in None leaves the variable out, for the caller to set); ``mounted=False``
    leaves out the values that are paths inside the pod's volumes and its placement (port,
    address), for a process that has its own.
    """
    if container is None:
        (container,) = bridge_manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
    mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
    env: dict[str, str] = {}
    for item in container.get("env", []):
        name = item["name"]
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]  # the only kind of reference the bridge is given
            if (ref["name"], ref["key"]) in secrets:
                env[name] = secrets[(ref["name"], ref["key"])]
            elif not ref.get("optional"):
                raise ServiceError("no test value for the Secret key %s/%s (%s)" % (ref["name"], ref["key"], name))
            continue
        value = str(item.get("value", ""))
        in_volume = any(value == m or value.startswith(m.rstrip("/") + "/") for m in mounts)
        if not mounted and (in_volume or name in PLACEMENT):
            continue
        svc = in_cluster_service(value)
        if svc is not None and "%s.%s" % svc in services and services["%s.%s" % svc] is None:
            continue
        env[name] = _stand_in(value, services)
    return env


def _mebibytes(quantity: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(int(quantity) / 2**20)


class BridgeContainer(_BridgeApi, Service):
    """The bridge image run by podman with the container spec of the rendered Deployment.

    Kept from the spec: the env (secrets and Services replaced as :func:`deployment_env` does), the
    user and fsGroup, the read-only root filesystem, no privilege escalation, every capability
    dropped, the memory limit, and the volumes at their mount paths (a Secret's keys as files, the
    PVC as a directory owned by fsGroup, an emptyDir as a tmpfs). Changed, because podman runs it
    on the host's network instead of a pod network: the port (a free one) and the address
    (loopback). ``extra_env`` stands in for hosts outside the cluster (``GITHUB_API_URL``).
    """

    name = "bridge-container"
    package = "podman"
    ready_timeout = 60.0

    def __init__(
        self,
        workdir: Path,
        image: str,
        secrets: Mapping[tuple[str, str], str],
        services: Mapping[str, str],
        extra_env: Mapping[str, str] | None = None,
    ):
        super().__init__(workdir)
        self.podman = require_binary("podman", self.package)
        self.image = image
        self.secrets = dict(secrets)
        self.deployment = bridge_manifests()["Deployment"]
        self.pod = self.deployment["spec"]["template"]["spec"]
        (self.container,) = self.pod["containers"]
        # What the container is given; podman itself runs with this machine's environment.
        self.container_env = {**deployment_env(secrets, services, self.container), **(extra_env or {})}
        self.container_name = "mlops-bridge-%s" % uuid.uuid4().hex[:10]
        self.token = self.container_env.get("BRIDGE_TOKEN") or self._secret_file_value("BRIDGE_TOKEN_FILE")

    def _secret_file_value(self, env_name: str) -> str:
        path = self.container_env[env_name]
        for mount in self.container["volumeMounts"]:
            volume = next(v for v in self.pod["volumes"] if v["name"] == mount["name"])
            if "secret" in volume and path.startswith(mount["mountPath"].rstrip("/") + "/"):
                key = path[len(mount["mountPath"].rstrip("/")) + 1 :]
                return self.secrets[(volume["secret"]["secretName"], key)]
        raise ServiceError("%s=%s is in no Secret volume of the Deployment" % (env_name, path))

    def _volume_args(self) -> list[str]:
        ctx = self.pod.get("securityContext") or {}
        uid, gid = ctx.get("runAsUser", 0), ctx.get("fsGroup", ctx.get("runAsGroup", 0))
        args = []
        for mount in self.container.get("volumeMounts", []):
            volume = next(v for v in self.pod["volumes"] if v["name"] == mount["name"])
            host = self.workdir / "volumes" / mount["name"]
            if "emptyDir" in volume:
                args += ["--tmpfs", "%s:rw,mode=1777" % mount["mountPath"]]
                continue
            host.mkdir(parents=True, exist_ok=True)
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                for (secret, key), value in self.secrets.items():
                    if secret == name:
                        (host / key).write_text(value)
                        (host / key).chmod(0o644)  # a Secret volume's defaultMode
            else:  # the PVC: a directory the pod's fsGroup may write
                os.chown(host, uid, gid)
                host.chmod(0o2775)
            args += ["-v", "%s:%s%s" % (host, mount["mountPath"], ":ro" if mount.get("readOnly") else "")]
        return args

    def _security_args(self) -> list[str]:
        pod_ctx = self.pod.get("securityContext") or {}
        ctx = self.container.get("securityContext") or {}
        args = ["--user", "%s:%s" % (pod_ctx.get("runAsUser", 0), pod_ctx.get("runAsGroup", 0))]
        if "fsGroup" in pod_ctx:
            args += ["--group-add", str(pod_ctx["fsGroup"])]
        if ctx.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if ctx.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        for cap in (ctx.get("capabilities") or {}).get("drop", []):
            args += ["--cap-drop", cap]
        limit = ((self.container.get("resources") or {}).get("limits") or {}).get("memory")
        if limit:
            args += ["--memory", "%dm" % _mebibytes(limit)]
        return args

    def _prepare(self) -> None:
        self.env_file = self.workdir / "container.env"
        self.env_file.touch(mode=0o600)
        self.volume_args = self._volume_args()

    def _argv(self, port: int) -> list[str]:
        env = {**self.container_env, "BRIDGE_HOST": LOOPBACK, "BRIDGE_PORT": str(port)}
        self.env_file.write_text("".join("%s=%s\n" % kv for kv in sorted(env.items())))
        grace = self.pod.get("terminationGracePeriodSeconds", 30)
        return [
            self.podman, "run", "--rm", "--name", self.container_name, "--network", "host",
            "--stop-timeout", str(grace), "--env-file", str(self.env_file),
            *self._security_args(), *self.volume_args, self.image,
        ]  # fmt: skip

    def _ready(self) -> bool:
        return http_ok(self.url + "/healthz")

    @property
    def token_file(self) -> Path:
        """The webhook token's file on this machine (in the Secret volume), for Alertmanager to read."""
        return self.host_path(self.container_env["BRIDGE_TOKEN_FILE"])

    def host_path(self, path: str) -> Path:
        """Where a path inside one of the container's volumes is on this machine."""
        for mount in self.container.get("volumeMounts", []):
            root = mount["mountPath"].rstrip("/")
            if path == root or path.startswith(root + "/"):
                return self.workdir / "volumes" / mount["name"] / path[len(root) :].lstrip("/")
        raise ServiceError("%s is in no volume of the bridge's container" % path)

    def rss_bytes(self) -> int:
        """Resident memory of the bridge (the container's first process), from its /proc."""
        status = subprocess.run(
            [self.podman, "exec", self.container_name, "cat", "/proc/1/status"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
        return next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            subprocess.run([self.podman, "rm", "-f", self.container_name], capture_output=True, check=False, timeout=60)
