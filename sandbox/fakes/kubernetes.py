"""A small, stateful, wire-level fake of the Kubernetes API server, on 127.0.0.1.

Enough of https://kubernetes.io/docs/reference/kubernetes-api/ for the REAL ``kubernetes`` Python
client (``Configuration(host=fake.url)`` with a bearer token) reading what an alert needs:

- ``GET /api/v1/namespaces/{ns}/pods/{name}``: the pod with its spec (containers, resources, node)
  and status (phase, container statuses: ``waiting`` CrashLoopBackOff, ``lastState.terminated``
  OOMKilled with exit code 137...).
- ``GET .../pods/{name}/log`` with ``container``, ``previous``, ``tailLines`` and ``limitBytes`` as the
  kubelet applies them; 400 ``a container name must be specified`` for a pod of several containers,
  400 ``previous terminated container ... not found`` when there is none.
- ``GET /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}``: a custom resource given with
  ``add_object`` (an ArgoCD Application, say), returned as stored; 404 ``<plural>.<group> "<name>" not
  found`` as the API server words it.
- ``GET /api/v1/namespaces/{ns}/events`` (core/v1, ``involvedObject``) and
  ``GET /apis/events.k8s.io/v1/namespaces/{ns}/events`` (``regarding``, ``note``), both with
  ``fieldSelector``, ``limit`` and ``continue`` tokens; ``events_v1=False`` makes the second one 404 as on
  a server without that API group.

Errors are ``Status`` objects (``kind: Status``, ``reason``, ``code``) as the API server sends them:
401 Unauthorized without ``Authorization: Bearer <token>``, 404 NotFound. Every request is recorded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .http_base import RecordingServer

__all__ = ["FakeKubernetes", "crashlooping_pod", "oomkilled_pod"]

T0 = "2026-11-24T12:00:00Z"


def status(code: int, reason: str, message: str, details: dict | None = None) -> tuple:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return code, body


def _container(name: str, image: str, limits: dict, requests: dict) -> dict:
    return {"name": name, "image": image, "resources": {"limits": limits, "requests": requests}}


def crashlooping_pod(namespace: str, name: str, node: str = "wsl2-worker", restarts: int = 7) -> dict:
    """A KServe predictor whose container exits 1 on start and waits in CrashLoopBackOff."""
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": "uid-" + name, "labels": {"app": "predictor"}},
        "spec": {
            "nodeName": node,
            "containers": [
                _container(
                    "kserve-container",
                    "ghcr.io/example/model:v3",
                    {"cpu": "1", "memory": "1Gi"},
                    {"cpu": "250m", "memory": "512Mi"},
                ),
                _container("queue-proxy", "gcr.io/knative/queue:v1", {"memory": "128Mi"}, {"memory": "64Mi"}),
            ],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "kserve-container",
                    "ready": False,
                    "restartCount": restarts,
                    "image": "ghcr.io/example/model:v3",
                    "imageID": "ghcr.io/example/model@sha256:" + "a" * 64,
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": "back-off 5m0s restarting failed container=kserve-container pod=%s" % name,
                        }
                    },
                    "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "startedAt": T0, "finishedAt": T0}},
                },
                {
                    "name": "queue-proxy",
                    "ready": True,
                    "restartCount": 0,
                    "image": "gcr.io/knative/queue:v1",
                    "imageID": "gcr.io/knative/queue@sha256:" + "b" * 64,
                    "state": {"running": {"startedAt": T0}},
                    "lastState": {},
                },
            ],
        },
    }


def oomkilled_pod(namespace: str, name: str, node: str = "wsl2-worker") -> dict:
    """A predictor restarted after its container was OOMKilled (exit code 137), running again."""
    pod = crashlooping_pod(namespace, name, node, restarts=2)
    st = pod["status"]["containerStatuses"][0]
    st["ready"] = True
    st["state"] = {"running": {"startedAt": T0}}
    st["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "startedAt": T0, "finishedAt": T0}}
    return pod


@dataclass
class _Pod:
    body: dict
    logs: dict[str, str] = field(default_factory=dict)  # container -> current log
    previous: dict[str, str] = field(default_factory=dict)  # container -> previous container's log


class FakeKubernetes(RecordingServer):
    def __init__(self, token: str = "test-k8s-token", events_v1: bool = True, page_limit: int = 500):  # noqa: S107
        super().__init__()
        self.token = token
        self.events_v1 = events_v1
        self.page_limit = page_limit
        self.pods: dict[tuple[str, str], _Pod] = {}
        self.events: list[dict] = []  # core/v1 form; events.k8s.io is rendered from it
        self.objects: dict[tuple[str, str, str, str], dict] = {}  # (group/version, plural, ns, name)
        ns = r"/namespaces/(?P<ns>[a-z0-9-]+)"
        self.add_route("GET", r"/api/v1" + ns + r"/pods/(?P<name>[a-z0-9.-]+)", self._get_pod)
        self.add_route("GET", r"/api/v1" + ns + r"/pods/(?P<name>[a-z0-9.-]+)/log", self._get_log)
        self.add_route("GET", r"/api/v1" + ns + r"/events", self._core_events)
        self.add_route("GET", r"/apis/events.k8s.io/v1" + ns + r"/events", self._events_v1)
        self.add_route(
            "GET",
            r"/apis/(?P<gv>[a-z0-9.-]+/[a-z0-9]+)" + ns + r"/(?P<plural>[a-z]+)/(?P<name>[a-z0-9.-]+)",
            self._get_object,
        )

    # -- state set-up ----------------------------------------------------------------------------
    def add_pod(self, pod: dict, logs: dict[str, str] | None = None, previous: dict[str, str] | None = None) -> None:
        meta = pod["metadata"]
        self.pods[(meta["namespace"], meta["name"])] = _Pod(copy.deepcopy(pod), dict(logs or {}), dict(previous or {}))

    def add_object(self, obj: dict, plural: str) -> None:
        """A namespaced custom resource, served at its group/version and ``plural``."""
        meta = obj["metadata"]
        self.objects[(obj["apiVersion"], plural, meta["namespace"], meta["name"])] = copy.deepcopy(obj)

    def add_event(
        self,
        namespace: str,
        pod: str,
        reason: str,
        message: str,
        type_: str = "Warning",
        count: int = 1,
        *,
        kind: str = "Pod",
        api_version: str = "v1",
        component: str = "kubelet",
    ) -> None:
        """An event about ``pod`` (or the object ``kind``/``pod`` names), reported by ``component``."""
        n = len(self.events) + 1
        self.events.append(
            {
                "metadata": {"name": "%s.%x" % (pod, 0x1000 + n), "namespace": namespace, "uid": "ev-%d" % n},
                "involvedObject": {"kind": kind, "name": pod, "namespace": namespace, "apiVersion": api_version},
                "reason": reason,
                "message": message,
                "type": type_,
                "count": count,
                "firstTimestamp": T0,
                "lastTimestamp": T0,
                "source": {"component": component, "host": "wsl2-worker"},
                "reportingComponent": component,
            }
        )

    # -- protocol --------------------------------------------------------------------------------
    def authorize(self, headers, path):
        if headers.get("authorization") != "Bearer %s" % self.token:
            return status(401, "Unauthorized", "Unauthorized")
        return None

    def not_found(self, method, path):
        return status(404, "NotFound", "the server could not find the requested resource")

    def _pod(self, m) -> _Pod | None:
        return self.pods.get((m.group("ns"), m.group("name")))

    def _missing(self, m) -> tuple:
        return status(
            404, "NotFound", 'pods "%s" not found' % m.group("name"), {"name": m.group("name"), "kind": "pods"}
        )

    def _get_pod(self, m, _q, _b, _h):
        pod = self._pod(m)
        if pod is None:
            return self._missing(m)
        body = copy.deepcopy(pod.body)
        body.update(kind="Pod", apiVersion="v1")
        return 200, body

    def _get_object(self, m, _q, _b, _h):
        obj = self.objects.get((m.group("gv"), m.group("plural"), m.group("ns"), m.group("name")))
        if obj is None:
            group = m.group("gv").split("/")[0]
            return status(
                404,
                "NotFound",
                '%s.%s "%s" not found' % (m.group("plural"), group, m.group("name")),
                {"name": m.group("name"), "group": group, "kind": m.group("plural")},
            )
        return 200, copy.deepcopy(obj)

    def _get_log(self, m, q, _b, _h):
        pod = self._pod(m)
        if pod is None:
            return self._missing(m)
        names = [c["name"] for c in pod.body["spec"]["containers"]]
        container = q.get("container", [None])[0]
        if container is None:
            if len(names) > 1:
                return status(
                    400,
                    "BadRequest",
                    "a container name must be specified for pod %s, choose one of: [%s]"
                    % (m.group("name"), " ".join(names)),
                )
            container = names[0]
        if container not in names:
            return status(400, "BadRequest", "container %s is not valid for pod %s" % (container, m.group("name")))
        previous = q.get("previous", ["false"])[0] == "true"
        source = pod.previous if previous else pod.logs
        if container not in source:
            if previous:
                return status(
                    400,
                    "BadRequest",
                    'previous terminated container "%s" in pod "%s" not found' % (container, m.group("name")),
                )
            return 200, ""
        text = source[container]
        if "tailLines" in q:
            n = int(q["tailLines"][0])
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-n:]) if n > 0 else ""
        if "limitBytes" in q:
            text = text.encode()[: int(q["limitBytes"][0])].decode("utf-8", "ignore")
        return 200, text

    def _selected(self, ns: str, q: dict, key: str) -> list[dict]:
        wanted = {}
        for part in (q.get("fieldSelector", [""])[0]).split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                wanted[k.strip()] = v.strip()
        out = []
        for ev in self.events:
            if ev["metadata"]["namespace"] != ns:
                continue
            obj = ev["involvedObject"]
            fields = {"%s.name" % key: obj["name"], "%s.kind" % key: obj["kind"], "type": ev["type"]}
            if all(fields.get(k) == v for k, v in wanted.items()):
                out.append(ev)
        return out

    def _page(self, items: list, q: dict) -> tuple[list, str | None]:
        limit = min(int(q.get("limit", [str(self.page_limit)])[0]) or self.page_limit, self.page_limit)
        start = int(q.get("continue", ["0"])[0] or 0)
        chunk = items[start : start + limit]
        return chunk, (str(start + limit) if start + limit < len(items) else None)

    def _core_events(self, m, q, _b, _h):
        items, cont = self._page(self._selected(m.group("ns"), q, "involvedObject"), q)
        meta = {"resourceVersion": "100"}
        if cont:
            meta["continue"] = cont
        return 200, {"kind": "EventList", "apiVersion": "v1", "metadata": meta, "items": copy.deepcopy(items)}

    def _events_v1(self, m, q, _b, _h):
        if not self.events_v1:
            return self.not_found("GET", "")
        items, cont = self._page(self._selected(m.group("ns"), q, "regarding"), q)
        out = [
            {
                "metadata": ev["metadata"],
                "regarding": ev["involvedObject"],
                "reason": ev["reason"],
                "note": ev["message"],
                "type": ev["type"],
                "eventTime": "2026-11-24T12:00:00.000000Z",
                "deprecatedCount": ev["count"],
                "deprecatedFirstTimestamp": ev["firstTimestamp"],
                "deprecatedLastTimestamp": ev["lastTimestamp"],
                "reportingController": ev["reportingComponent"],
                "deprecatedSource": ev["source"],
            }
            for ev in items
        ]
        meta = {"resourceVersion": "100"}
        if cont:
            meta["continue"] = cont
        return 200, {"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": meta, "items": out}
