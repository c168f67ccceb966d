"""Where every workload of the platform can run, and the memory it requests on each node.

    rows = budget_rows(platform(), argocd_objects())   # one Row per workload and node
    print(format_table(rows))                          # per-node tables, the control plane's total

The workloads are read from what is applied: the rendered platform (sandbox/argocd.py) and
ArgoCD's release manifest with the argocd_bootstrap role's placement patch merged in, as the role
applies them. Pods come from Deployments, StatefulSets, DaemonSets, Jobs, bare Pods, and from
the custom resources whose controllers make pods: an InferenceService's predictor (KServe, raw
Deployment mode), Prometheus and Alertmanager (the operator adds its config-reloader sidecar and
init container with the requests of its ``--config-reloader-*`` flags).

A pod is eligible for a node when it tolerates the node's NoSchedule/NoExecute taints and the
node's labels satisfy its nodeSelector and required node affinity (the scheduler's filters for
these). The nodes, with the taints and labels the roles give them, come from
sandbox/cluster.py. A pod eligible for both nodes is counted on the control plane (the
worst case for the 2 GB VM); a DaemonSet has a pod on every eligible node.

What runs there without being applied by the platform (k3s itself and the add-ons k3s deploys
from its own manifests) is in ``K3S``, each with its source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from .cluster import CONTROL_PLANE, WORKER, Node

__all__ = [
    "CONTROL_PLANE",
    "CONTROL_PLANE_BUDGET_MIB",
    "K3S",
    "WORKER",
    "Row",
    "Workload",
    "budget_rows",
    "eligible_nodes",
    "format_table",
    "missing_requests",
    "platform_workloads",
    "pod_request_mib",
    "totals",
    "workloads",
]

# 60 % of the e2-small's 2 GiB may be requested; the rest is the kernel, systemd, page cache.
CONTROL_PLANE_BUDGET_MIB = 0.6 * 2048
MIB = Decimal(1024 * 1024)


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    source: str
    pod: dict[str, Any]  # a pod spec
    replicas: int
    daemon: bool = False
    long_running: bool = True  # False for Jobs and hooks: they finish

    @property
    def label(self) -> str:
        return "%s %s/%s" % (self.kind, self.namespace, self.name)


@dataclass(frozen=True)
class Row:
    node: str
    component: str
    source: str
    replicas: int
    request_mib: float  # per pod

    @property
    def total_mib(self) -> float:
        return self.replicas * self.request_mib


# k3s's server process and the add-ons k3s applies from its own manifests (not in gitops/): their
# requests as k3s v1.31 ships them. CoreDNS and metrics-server tolerate the control-plane taint
# and have no node selector, so they may land on the VM; Traefik's and klipper-lb's pods declare
# no requests (k3s manifests/traefik.yaml values, servicelb), local-path-provisioner neither.
K3S: tuple[Row, ...] = (
    Row(CONTROL_PLANE, "k3s server + kubelet + containerd", "k3s resource profiling: 512 MiB minimum", 1, 512),
    Row(CONTROL_PLANE, "CoreDNS", "k3s manifests/coredns.yaml (requests memory 70Mi)", 1, 70),
    Row(CONTROL_PLANE, "metrics-server", "k3s manifests/metrics-server (requests memory 70Mi)", 1, 70),
)


def _memory_mib(resources: dict[str, Any] | None) -> float | None:
    requests = (resources or {}).get("requests") or {}
    if "memory" not in requests:
        return None
    return float(Decimal(parse_quantity(requests["memory"])) / MIB)


def missing_requests(pod: dict[str, Any]) -> list[str]:
    """Containers and init containers of a pod spec that declare no memory request."""
    return [
        "%s %s" % (kind, c["name"])
        for kind, key in (("container", "containers"), ("init container", "initContainers"))
        for c in pod.get(key) or []
        if _memory_mib(c.get("resources")) is None
    ]


def pod_request_mib(pod: dict[str, Any]) -> float:
    """What the scheduler reserves for a pod: max(sum of containers, largest init container)."""
    containers = sum(_memory_mib(c.get("resources")) or 0.0 for c in pod["containers"])
    inits = [_memory_mib(c.get("resources")) or 0.0 for c in pod.get("initContainers") or []]
    return max([containers, *inits])


# --- the scheduler's node filters ------------------------------------------------------------------


def _tolerates(tolerations: list[dict[str, Any]], taint) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint.effect:
            continue
        if t.get("operator", "Equal") == "Exists":
            if not t.get("key") or t["key"] == taint.key:
                return True
        elif t.get("key") == taint.key and (t.get("value") or "") == taint.value:
            return True
    return False


def _expression(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values") or []
    have = labels.get(key)
    if op == "In":
        return have in values
    if op == "NotIn":
        return have not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        if have is None or not have.lstrip("-").isdigit():
            return False
        return int(have) > int(values[0]) if op == "Gt" else int(have) < int(values[0])
    raise ValueError("unknown node selector operator %r" % op)


def _affinity_allows(affinity: dict[str, Any] | None, node: Node) -> bool:
    required = ((affinity or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return True
    fields = {"metadata.name": node.name}
    for term in required.get("nodeSelectorTerms") or []:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if (
            (exprs or field_exprs)
            and all(_expression(e, node.labels) for e in exprs)
            and all(_expression(e, fields) for e in field_exprs)
        ):
            return True
    return False


def eligible_nodes(pod: dict[str, Any], nodes: Iterable[Node]) -> list[str]:
    out = []
    for node in nodes:
        hard = [t for t in node.taints if t.effect in ("NoSchedule", "NoExecute")]
        if not all(_tolerates(pod.get("tolerations") or [], t) for t in hard):
            continue
        if any(node.labels.get(k) != v for k, v in (pod.get("nodeSelector") or {}).items()):
            continue
        if not _affinity_allows(pod.get("affinity"), node):
            continue
        out.append(node.name)
    return out


# --- workloads from applied objects ------------------------------------------------------------------


def _reloader_resources(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """The config-reloader requests the Prometheus Operator's flags give its sidecars."""
    for obj in objs:
        if obj["kind"] != "Deployment":
            continue
        for c in obj["spec"]["template"]["spec"]["containers"]:
            args = dict(a.lstrip("-").split("=", 1) for a in c.get("args") or [] if "=" in a)
            if "prometheus-config-reloader" in args:
                requests = {k: args["config-reloader-%s-request" % k] for k in ("cpu", "memory")
                            if args.get("config-reloader-%s-request" % k, "0") not in ("0", "")}  # fmt: skip
                return {"requests": requests}
    return {}


def _operator_pod(spec: dict[str, Any], main: str, reloader: dict[str, Any]) -> dict[str, Any]:
    """The pod spec prometheus-operator builds for a Prometheus or Alertmanager resource."""
    pod = {k: spec[k] for k in ("nodeSelector", "affinity", "tolerations") if spec.get(k)}
    pod["containers"] = [
        {"name": main, "resources": spec.get("resources") or {}},
        {"name": "config-reloader", "resources": reloader},
    ]
    pod["initContainers"] = [{"name": "init-config-reloader", "resources": reloader}]
    return pod


def workloads(applied: Iterable[tuple[dict[str, Any], str, bool]]) -> list[Workload]:
    """Workloads of (object, source, is_hook) triples."""
    items = list(applied)
    reloader = _reloader_resources([o for o, _, _ in items])
    out = []
    for obj, source, hook in items:
        kind, meta = obj["kind"], obj["metadata"]
        ns, name, spec = meta.get("namespace", ""), meta["name"], obj.get("spec") or {}
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            out.append(Workload(kind, ns, name, source, spec["template"]["spec"], int(spec.get("replicas", 1)),
                                long_running=not hook))  # fmt: skip
        elif kind == "DaemonSet":
            out.append(Workload(kind, ns, name, source, spec["template"]["spec"], 1, daemon=True))
        elif kind == "Job":
            out.append(Workload(kind, ns, name, source, spec["template"]["spec"], 1, long_running=False))
        elif kind == "Pod":
            out.append(Workload(kind, ns, name, source, spec, 1, long_running=not hook))
        elif kind == "InferenceService":
            predictor = spec["predictor"]
            pod = {k: v for k, v in predictor.items() if k not in ("minReplicas", "maxReplicas", "model")}
            out.append(Workload(kind, ns, name, source, pod, int(predictor.get("minReplicas", 1))))
        elif kind in ("Prometheus", "Alertmanager"):
            pod = _operator_pod(spec, kind.lower(), reloader)
            out.append(Workload(kind, ns, name, source, pod, int(spec.get("replicas", 1))))
    return out


def platform_workloads(argocd: Iterable[dict[str, Any]] | None = None) -> list[Workload]:
    """The workloads of the rendered platform and of ArgoCD as the role applies it (or ``argocd``)."""
    from .argocd import platform  # noqa: PLC0415 - rendering is slow: only when asked
    from .argocd_install import argocd_applied  # noqa: PLC0415

    p = platform()
    items = [(o.obj, "%s: %s" % (a.name, o.source), o.hook is not None) for a in p.apps for o in a.objects]
    items += [(o, "ArgoCD (argocd_bootstrap)", False) for o in (argocd_applied() if argocd is None else argocd)]
    return workloads(items)


def budget_rows(all_workloads: Iterable[Workload], nodes: Iterable[Node]) -> tuple[list[Row], list[str]]:
    """Rows of the long-running workloads (plus K3S), and the workloads no node is eligible for."""
    nodes = list(nodes)
    rows, unplaced = list(K3S), []
    for w in all_workloads:
        if w.replicas == 0:
            continue  # scaled to zero: no pod to place
        eligible = eligible_nodes(w.pod, nodes)
        if not eligible:
            unplaced.append(w.label)
            continue
        if not w.long_running:
            continue
        mib = pod_request_mib(w.pod)
        if w.daemon:
            rows.extend(Row(n, w.label, w.source, 1, mib) for n in eligible)
        else:
            node = eligible[0] if len(eligible) == 1 else CONTROL_PLANE
            rows.append(
                Row(node, w.label + ("" if len(eligible) == 1 else " (either node)"), w.source, w.replicas, mib)
            )
    return rows, unplaced


def totals(rows: Iterable[Row]) -> dict[str, float]:
    out = {CONTROL_PLANE: 0.0, WORKER: 0.0}
    for row in rows:
        out[row.node] += row.total_mib
    return out


def format_table(rows: list[Row]) -> str:
    lines = []
    sums = totals(rows)
    for node in (CONTROL_PLANE, WORKER):
        mine = sorted((r for r in rows if r.node == node), key=lambda r: -r.total_mib)
        lines += ["", "%-58s %-52s %4s %8s" % ("node: " + node, "source", "pods", "MiB"), "-" * 125]
        lines += ["%-58s %-52s %4d %8.0f" % (r.component[:58], r.source[:52], r.replicas, r.total_mib) for r in mine]
        lines.append("%-58s %-52s %4s %8.0f" % ("total", "", "", sums[node]))
    budget, used = CONTROL_PLANE_BUDGET_MIB, sums[CONTROL_PLANE]
    verdict = "within" if used <= budget else "OVER"
    lines += [
        "",
        "control plane: %.0f MiB requested of %.0f MiB (60 %% of the e2-small's 2 GiB): %s, %.0f MiB left"
        % (used, budget, verdict, budget - used),
    ]
    return "\n".join(lines)
