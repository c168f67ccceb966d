"""Memory requests per node, from the GitOps tree, the chart values and documented constants.

    rows = budget_rows()            # one row per workload: node, component, source, replicas, MiB
    print(format_table(rows))       # per-node tables with totals and the control plane's budget

The control plane is the e2-small VM (2 GB): what is scheduled there must request at most
``CONTROL_PLANE_BUDGET_MIB`` (1.2 GiB), leaving the rest to the kernel, systemd and page cache.
Placement is read from each workload: ``nodeSelector node-role.kubernetes.io/control-plane: "true"``
is the control plane, a required node affinity ``node-role.kubernetes.io/control-plane DoesNotExist``
is the worker; a DaemonSet is on both; anything else is "unplaced" and counted on the control plane
(the scheduler may put it there).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from .charts import CHARTS, chart_key
from .gitops import chart_sources, render_all

__all__ = [
    "CONTROL_PLANE",
    "CONTROL_PLANE_BUDGET_MIB",
    "OUTSIDE_TREE",
    "UNPLACED",
    "WORKER",
    "Row",
    "budget_rows",
    "format_table",
    "placement",
    "pod_request_mib",
    "totals",
]

CONTROL_PLANE, WORKER, UNPLACED = "control-plane", "worker", "unplaced"
CONTROL_PLANE_BUDGET_MIB = 1.2 * 1024
MIB = Decimal(1024 * 1024)
CP_LABEL = "node-role.kubernetes.io/control-plane"


@dataclass(frozen=True)
class Row:
    node: str
    component: str
    source: str
    replicas: int
    request_mib: float  # per replica (per pod)

    @property
    def total_mib(self) -> float:
        return self.replicas * self.request_mib


# What runs on the control plane without being in gitops/: counted as constants.
#  - k3s: the server process (API server, controller-manager, scheduler, kine/SQLite), the kubelet
#    and containerd in k3s.service. 512 MiB is the minimum k3s's resource-profiling reference gives
#    for the server of a cluster with one agent on kine/SQLite; its newer figure (about 1.4 GB) adds
#    a Prometheus + Grafana workload on the server, which this design keeps on the worker.
#  - k3s's packaged add-ons, with the requests of their k3s manifests (Traefik, klipper-lb and
#    local-path-provisioner declare none).
#  - ArgoCD, installed by the argocd_bootstrap role from the pinned release manifest, which declares
#    no requests: these are the requests the role sets on it, a reservation of what it needs idle.
OUTSIDE_TREE: tuple[Row, ...] = (
    Row(CONTROL_PLANE, "k3s server + kubelet + containerd", "constant (k3s resource profiling)", 1, 512),
    Row(CONTROL_PLANE, "CoreDNS", "k3s add-on manifest", 1, 70),
    Row(CONTROL_PLANE, "metrics-server", "k3s add-on manifest", 1, 70),
    Row(CONTROL_PLANE, "Traefik + svclb", "k3s add-on (declares no requests)", 1, 0),
    Row(CONTROL_PLANE, "local-path-provisioner", "k3s add-on (declares no requests)", 1, 0),
    Row(CONTROL_PLANE, "argocd-application-controller", "argocd_bootstrap reservation", 1, 192),
    Row(CONTROL_PLANE, "argocd-repo-server", "argocd_bootstrap reservation", 1, 96),
    Row(CONTROL_PLANE, "argocd-server", "argocd_bootstrap reservation", 1, 48),
    Row(CONTROL_PLANE, "argocd-redis", "argocd_bootstrap reservation", 1, 32),
    Row(CONTROL_PLANE, "argocd-applicationset-controller", "argocd_bootstrap reservation", 1, 32),
    Row(CONTROL_PLANE, "argocd-notifications-controller", "argocd_bootstrap reservation", 1, 16),
)


def _get(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def placement(node_selector: dict[str, str] | None, affinity: dict[str, Any] | None) -> str:
    if (node_selector or {}).get(CP_LABEL) == "true":
        return CONTROL_PLANE
    required = ((affinity or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms and all(
        any(e.get("key") == CP_LABEL and e.get("operator") == "DoesNotExist" for e in t.get("matchExpressions", []))
        for t in terms
    ):
        return WORKER
    return UNPLACED


def _memory_mib(resources: dict[str, Any] | None, where: str) -> float:
    requests = (resources or {}).get("requests") or {}
    if "memory" not in requests:
        raise ValueError("%s declares no memory request: every workload must (resources.requests.memory)" % where)
    try:
        return float(Decimal(parse_quantity(requests["memory"])) / MIB)
    except ValueError as e:
        raise ValueError("%s: memory request %r is not a quantity: %s" % (where, requests["memory"], e)) from e


def pod_request_mib(pod_spec: dict[str, Any], where: str) -> float:
    """What the scheduler reserves for a pod: max(sum of containers, largest init container)."""
    containers = sum(
        _memory_mib(c.get("resources"), "%s container %s" % (where, c["name"])) for c in pod_spec["containers"]
    )
    inits = [
        _memory_mib(c.get("resources"), "%s init container %s" % (where, c["name"]))
        for c in pod_spec.get("initContainers", [])
    ]
    return max([containers, *inits])


def _tree_rows() -> list[Row]:
    rows = []
    for directory, objs in render_all().items():
        source = str(directory.relative_to(directory.parents[1]))
        for obj in objs:
            kind, name = obj["kind"], obj["metadata"]["name"]
            where = "%s %s (%s)" % (kind, name, source)
            if kind in ("Deployment", "StatefulSet", "DaemonSet"):
                spec = obj["spec"]["template"]["spec"]
                node = placement(spec.get("nodeSelector"), spec.get("affinity"))
                replicas = 1 if kind == "DaemonSet" else int(obj["spec"].get("replicas", 1))
            elif kind == "InferenceService":
                spec = obj["spec"]["predictor"]
                node = placement(spec.get("nodeSelector"), spec.get("affinity"))
                replicas = int(spec.get("minReplicas", 1))
            else:
                continue
            mib = pod_request_mib(spec, where)
            nodes = [CONTROL_PLANE, WORKER] if kind == "DaemonSet" else [node]
            rows.extend(Row(n, "%s %s" % (kind, name), source, replicas, mib) for n in nodes)
    return rows


def _chart_rows() -> list[Row]:
    rows = []
    for src in chart_sources():
        info = CHARTS.get(chart_key(src.repo, src.chart))
        if info is None:
            raise ValueError("chart %s from %s is not described in tests/helpers/charts.py" % (src.chart, src.repo))
        for comp in info.components:
            where = "%s: %s (chart %s)" % (src.application, comp.name, src.chart)
            mib = _memory_mib(_get(src.values, comp.path("resources")), where)
            for path, count in comp.sidecars:
                mib += count * _memory_mib(_get(src.values, path), "%s sidecar %s" % (where, path))
            replicas = int(_get(src.values, comp.replicas) or 1) if comp.replicas else 1
            source = "chart %s %s" % (src.chart, src.version)
            if comp.daemonset:
                rows.extend(Row(n, comp.name, source, 1, mib) for n in (CONTROL_PLANE, WORKER))
            else:
                node = placement(_get(src.values, comp.path("nodeSelector")), _get(src.values, comp.path("affinity")))
                rows.append(Row(node, comp.name, source, replicas, mib))
    return rows


def budget_rows() -> list[Row]:
    return [*OUTSIDE_TREE, *_chart_rows(), *_tree_rows()]


def totals(rows: list[Row]) -> dict[str, float]:
    """MiB requested per node; unplaced workloads count on the control plane (worst case)."""
    out = {CONTROL_PLANE: 0.0, WORKER: 0.0}
    for row in rows:
        out[CONTROL_PLANE if row.node == UNPLACED else row.node] += row.total_mib
    return out


def format_table(rows: list[Row]) -> str:
    lines = []
    sums = totals(rows)
    for node in (CONTROL_PLANE, WORKER, UNPLACED):
        mine = [r for r in rows if r.node == node]
        if not mine:
            continue
        lines.append("")
        lines.append("%-40s %-40s %8s %12s" % ("node: " + node, "source", "replicas", "request MiB"))
        lines.append("-" * 103)
        lines.extend(
            "%-40s %-40s %8d %12.0f" % (r.component[:40], r.source[:40], r.replicas, r.total_mib)
            for r in sorted(mine, key=lambda r: -r.total_mib)
        )
        if node != UNPLACED:
            lines.append("%-40s %-40s %8s %12.0f" % ("total", "", "", sums[node]))
    budget = CONTROL_PLANE_BUDGET_MIB
    lines.append("")
    lines.append(
        "control plane: %.0f MiB requested of a %.0f MiB budget (1.2 GiB of the e2-small's 2 GB): %s, %.0f MiB left"
        % (
            sums[CONTROL_PLANE],
            budget,
            "within" if sums[CONTROL_PLANE] <= budget else "OVER",
            budget - sums[CONTROL_PLANE],
        )
    )
    return "\n".join(lines)
