"""The monitoring configuration of gitops/ loaded into a real Prometheus and a real Alertmanager
(Debian's binaries): the rules evaluate on scraped model metrics, and Alertmanager delivers drift
and operational alerts to the bridge's two paths with the bearer token."""

from __future__ import annotations

import pytest

from sandbox.gitops import alertmanager_config_from_gitops, prometheus_rules_from_gitops
from sandbox.prometheus import prometheus_config

pytestmark = pytest.mark.services

TOKEN = "bridge-token-for-the-test"


def test_prometheus_loads_the_rules_and_evaluates_them(start_prometheus, metrics_exporter):
    metrics_exporter.set(
        "# TYPE model_prediction_psi gauge\n"
        'model_prediction_psi{model_name="breast-cancer"} 0.42\n'
        "# TYPE model_drift_share gauge\n"
        'model_drift_share{model_name="breast-cancer"} 0.1\n'
    )
    prom = start_prometheus(
        prometheus_config({"model": [metrics_exporter.target]}), rules={"model": prometheus_rules_from_gitops()}
    )
    groups = {g["name"]: len(g["rules"]) for g in prom.rule_groups()}
    assert groups == {"model.slo.recording": 4, "model.operational": 5, "model.quality": 4, "argocd.deployments": 3}
    # `for: 5m`: pending is what a few seconds can show; the firing transition is promtool's part.
    alert = prom.wait_for_alert("ModelPredictionDrift", state="pending")
    assert alert["labels"]["aiops"] == "drift" and alert["labels"]["model_name"] == "breast-cancer"
    assert "PSI 0.420" in alert["annotations"]["summary"]
    assert not [a for a in prom.alerts() if a["labels"]["alertname"] == "ModelFeatureDrift"]


def test_alertmanager_routes_to_the_bridge_paths_with_the_token(start_alertmanager, webhook_receiver, tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    config = alertmanager_config_from_gitops(webhook_receiver.url, token)
    # Only the timers are shortened for the test; routes, receivers and matchers are the tree's.
    config["route"].update(group_wait="0s", group_interval="1s")
    am = start_alertmanager(config)

    am.fire("Watchdog", {"severity": "none"})
    am.fire("ModelPredictionDrift", {"aiops": "drift", "severity": "warning", "model_name": "breast-cancer"})
    am.fire("ModelHighLatency", {"aiops": "alert", "severity": "warning", "model_name": "breast-cancer"})

    drift = webhook_receiver.wait_for(lambda r: r.path == "/alerts/drift")
    operational = webhook_receiver.wait_for(lambda r: r.path == "/alerts/operational")
    for request in (drift, operational):
        assert request.headers["Authorization"] == "Bearer " + TOKEN
    assert [a["labels"]["alertname"] for a in drift.json()["alerts"]] == ["ModelPredictionDrift"]
    assert [a["labels"]["alertname"] for a in operational.json()["alerts"]] == ["ModelHighLatency"]
    sent = {a["labels"]["alertname"] for r in webhook_receiver.requests for a in r.json()["alerts"]}
    assert "Watchdog" not in sent
