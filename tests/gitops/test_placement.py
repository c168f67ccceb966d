"""Where the platform's pods can run, and what they request, from what is really applied: the
rendered tree (sandbox/argocd.py) and ArgoCD as argocd_bootstrap applies it, on the two nodes
with the taints and labels the k3s roles give them. Every workload has a node, every long-running
container a memory request, and the control plane (e2-small, 2 GiB) stays within 60 % including
k3s itself. The per-node table is printed and shown in pytest's summary."""

from __future__ import annotations

import copy

import pytest

from sandbox.argocd_install import install_manifest
from sandbox.cluster import CONTROL_PLANE, WORKER, cluster
from sandbox.placement import (
    CONTROL_PLANE_BUDGET_MIB,
    Row,
    budget_rows,
    eligible_nodes,
    format_table,
    missing_requests,
    platform_workloads,
    pod_request_mib,
    totals,
)
from tests.gitops.conftest import BUDGET_TABLE


def test_control_plane_within_budget(request):
    rows, unplaced = budget_rows(platform_workloads(), cluster().nodes)
    table = format_table(rows)
    print(table)
    request.config.stash[BUDGET_TABLE] = table
    assert unplaced == []
    assert totals(rows)[CONTROL_PLANE] <= CONTROL_PLANE_BUDGET_MIB, table


def test_every_long_running_container_requests_memory():
    missing = [
        "%s: %s" % (w.label, c)
        for w in platform_workloads()
        if w.long_running and w.replicas
        for c in missing_requests(w.pod)
    ]
    assert missing == []


def test_every_workload_has_exactly_one_kind_of_node():
    nodes = cluster().nodes
    where = {w.label: eligible_nodes(w.pod, nodes) for w in platform_workloads() if not w.daemon and w.replicas}
    assert [w for w, n in where.items() if len(n) != 1] == [], where


def test_argocd_runs_on_the_control_plane_and_the_platform_on_the_worker():
    nodes = cluster().nodes
    placed = [(w, eligible_nodes(w.pod, nodes)) for w in platform_workloads() if not w.daemon and w.replicas]
    argocd = {w.label: n for w, n in placed if w.namespace == "argocd"}
    assert argocd and all(n == [CONTROL_PLANE] for n in argocd.values()), argocd
    rest = {w.label: n for w, n in placed if w.namespace != "argocd"}
    assert {
        "InferenceService models/breast-cancer",
        "Deployment mlflow/mlflow",
        "Prometheus monitoring/kps-prometheus",
    } <= set(rest)
    assert all(n == [WORKER] for n in rest.values()), rest


def test_argocd_as_released_would_not_fit():
    # The upstream manifest alone: no tolerations, no requests; with the control-plane taint every
    # ArgoCD pod is pushed to the laptop, none with a memory request.
    ws = [w for w in platform_workloads(tuple(install_manifest())) if w.source.startswith("ArgoCD")]
    assert ws and all(eligible_nodes(w.pod, cluster().nodes) == [WORKER] for w in ws)
    assert all(missing_requests(w.pod) for w in ws)


def test_over_budget_is_detected():
    rows, _ = budget_rows(platform_workloads(), cluster().nodes)
    rows = [*rows, Row(CONTROL_PLANE, "planted", "planted", 1, 512)]
    assert totals(rows)[CONTROL_PLANE] > CONTROL_PLANE_BUDGET_MIB
    assert "OVER" in format_table(rows)


WORKER_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}]}
            ]
        }
    }
}
CP_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("pod", "nodes"),
    [
        ({}, [WORKER]),  # the taint keeps it off the control plane
        ({"tolerations": [CP_TOLERATION]}, [CONTROL_PLANE, WORKER]),
        (
            {"tolerations": [CP_TOLERATION], "nodeSelector": {"node-role.kubernetes.io/control-plane": "true"}},
            [CONTROL_PLANE],
        ),
        ({"nodeSelector": {"node-role.kubernetes.io/control-plane": "true"}}, []),  # selected but not tolerated
        ({"affinity": WORKER_AFFINITY, "tolerations": [{"operator": "Exists"}]}, [WORKER]),
        ({"nodeSelector": {"mlops.hybrid/role": "inference"}}, [WORKER]),
        ({"nodeSelector": {"kubernetes.io/os": "windows"}}, []),
        (
            {
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoExecute", "operator": "Exists"}
                ]
            },
            [WORKER],
        ),
    ],
)
def test_node_filters(pod, nodes):
    assert eligible_nodes(pod, cluster().nodes) == nodes


def test_pod_request_counts_containers_and_the_largest_init_container():
    spec = {
        "containers": [
            {"name": "a", "resources": {"requests": {"memory": "128Mi"}}},
            {"name": "b", "resources": {"requests": {"memory": "0.5Gi"}}},
        ],
        "initContainers": [{"name": "i", "resources": {"requests": {"memory": "1Gi"}}}],
    }
    assert pod_request_mib(spec) == 1024
    spec["initContainers"] = []
    assert pod_request_mib(spec) == 640
    spec["containers"][0]["resources"] = {"limits": {"memory": "1Gi"}}
    assert missing_requests(spec) == ["container a"]


def test_operator_pods_carry_the_config_reloader():
    (prom,) = [w for w in platform_workloads() if w.kind == "Prometheus"]
    assert [c["name"] for c in prom.pod["containers"]] == ["prometheus", "config-reloader"]
    reloader = copy.deepcopy(prom.pod["containers"][1]["resources"])
    assert reloader["requests"]["memory"], reloader
