"""The control plane (e2-small, 2 GB) holds what is scheduled there within 1.2 GiB of requests;
every workload is placed on a node. The per-node table is printed and shown in pytest's summary."""

from __future__ import annotations

import pytest

from tests.gitops.conftest import BUDGET_TABLE
from tests.helpers.memory_budget import (
    CONTROL_PLANE,
    CONTROL_PLANE_BUDGET_MIB,
    UNPLACED,
    WORKER,
    Row,
    budget_rows,
    format_table,
    placement,
    pod_request_mib,
    totals,
)


def test_control_plane_within_budget(request):
    rows = budget_rows()
    table = format_table(rows)
    print(table)
    request.config.stash[BUDGET_TABLE] = table
    assert totals(rows)[CONTROL_PLANE] <= CONTROL_PLANE_BUDGET_MIB, table


def test_every_workload_is_placed():
    assert [r.component for r in budget_rows() if r.node == UNPLACED] == []


def test_model_mlflow_and_monitoring_run_on_the_worker():
    on_worker = {r.component for r in budget_rows() if r.node == WORKER}
    assert {"InferenceService breast-cancer", "Deployment mlflow", "Prometheus", "Grafana", "Alertmanager"} <= on_worker


def test_over_budget_is_detected():
    rows = [*budget_rows(), Row(UNPLACED, "forgotten", "planted", 1, 512)]
    assert totals(rows)[CONTROL_PLANE] > CONTROL_PLANE_BUDGET_MIB
    assert "OVER" in format_table(rows)


@pytest.mark.parametrize(
    ("selector", "affinity", "node"),
    [
        ({"node-role.kubernetes.io/control-plane": "true"}, None, CONTROL_PLANE),
        (
            None,
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}
                                ]
                            }
                        ]
                    }
                }
            },
            WORKER,
        ),
        ({"kubernetes.io/os": "linux"}, None, UNPLACED),
        (None, {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}, UNPLACED),
    ],
)
def test_placement(selector, affinity, node):
    assert placement(selector, affinity) == node


def test_pod_request_counts_containers_and_the_largest_init_container():
    spec = {
        "containers": [
            {"name": "a", "resources": {"requests": {"memory": "128Mi"}}},
            {"name": "b", "resources": {"requests": {"memory": "0.5Gi"}}},
        ],
        "initContainers": [{"name": "i", "resources": {"requests": {"memory": "1Gi"}}}],
    }
    assert pod_request_mib(spec, "planted") == 1024
    spec["initContainers"] = []
    assert pod_request_mib(spec, "planted") == 640


def test_a_workload_without_memory_request_fails():
    with pytest.raises(ValueError, match="declares no memory request"):
        pod_request_mib({"containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi"}}}]}, "planted")
    with pytest.raises(ValueError, match="not a quantity"):
        pod_request_mib({"containers": [{"name": "a", "resources": {"requests": {"memory": "lots"}}}]}, "planted")
