from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import argocd
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"alertname": "ArgoCDAppSyncFailed", "namespace": "argocd", "name": "mlflow", "project": "mlops"},
         ("argocd", "mlflow")),
        ({"name": "mlflow", "project": "mlops", "exported_namespace": "apps", "namespace": "argocd"},
         ("apps", "mlflow")),
        ({"name": "mlflow", "project": "mlops"}, ("argocd", "mlflow")),
        ({"alertname": "ModelPodOOMKilled", "namespace": "models", "pod": "p-1"}, None),
        ({"name": "mlflow"}, None),
        (None, None),
    ],
)  # fmt: skip
def test_an_alert_names_its_application_by_argocds_labels(labels, expected):
    assert argocd.application_of(labels) == expected


STATUS = {
    "operationState": {
        "phase": "Failed",
        "syncResult": {
            "revision": "abc",
            "resources": [
                {"group": "", "version": "v1", "kind": "Service", "namespace": "aiops", "name": "b",
                 "status": "Synced"},
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "aiops", "name": "b",
                 "status": "SyncFailed", "message": "is invalid: spec.replicas"},
                {"group": "batch", "version": "v1", "kind": "Job", "namespace": "aiops", "name": "migrate",
                 "status": "Synced", "hookPhase": "Failed", "message": "Job has reached the specified backoff limit"},
            ],
        },
    },
    "resources": [
        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "aiops", "name": "b",
         "health": {"status": "Healthy"}},
        {"group": "apps", "version": "v1", "kind": "StatefulSet", "namespace": "aiops", "name": "db",
         "health": {"status": "Degraded"}},
        {"group": "", "version": "v1", "kind": "Service", "namespace": "aiops", "name": "b",
         "health": {"status": "Healthy"}},
    ],
}  # fmt: skip


def test_failed_results_and_hooks_come_first_then_unhealthy_resources():
    rows = argocd.troubled_resources(STATUS)
    assert [(r["kind"], r["name"], r["status"], r["health"]) for r in rows] == [
        ("Deployment", "b", "SyncFailed", "Healthy"),
        ("Job", "migrate", "Synced", ""),
        ("StatefulSet", "db", "", "Degraded"),
    ]
    assert rows[0]["message"] == "is invalid: spec.replicas"
    assert len(argocd.troubled_resources(STATUS, limit=1)) == 1
    assert argocd.troubled_resources({}) == []


@pytest.mark.parametrize(
    ("namespace", "name", "options", "message"),
    [
        ("", "mlflow", {}, "namespace and name of the Application are required"),
        ("argocd", "mlflow", {"max_resources": 0}, "max_resources must be an integer of at least 1"),
        ("argocd", "mlflow", {"max_events": -1}, "max_events must be an integer of at least 0"),
    ],
)
def test_bad_input_is_refused_before_any_request(namespace, name, options, message):
    with pytest.raises(InvalidInput) as e:
        argocd.collect_application_context(object(), namespace, name, **options)
    assert message in e.value.msg
