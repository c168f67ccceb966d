"""The alert rules (the model's and ArgoCD's deployments'): the contract (names, labels, annotations),
`promtool check rules` and `promtool test rules` (every file of rules-tests/) on the rules extracted from
the PrometheusRules of gitops/."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from sandbox.argocd_install import install_manifest
from sandbox.gitops import MONITORING_DIR, prometheus_rules_from_gitops, render
from sandbox.procs import require_binary

PROMTOOL = "/usr/bin/promtool"
RULE_TESTS = MONITORING_DIR / "rules-tests" / "model-rules.test.yml"
TEST_FILES = sorted((MONITORING_DIR / "rules-tests").glob("*.test.yml"))
# Names the bridge, the workflows and Alertmanager's routes rely on, with their aiops label.
CONTRACT = {
    "ModelHighLatency": "alert",
    "ModelPodCrashLooping": "alert",
    "ModelPodOOMKilled": "alert",
    "ModelErrorBudgetBurnFast": "alert",
    "ModelErrorBudgetBurnSlow": "alert",
    "ModelAccuracyLow": "drift",
    "ModelPredictionDrift": "drift",
    "ModelFeatureDrift": "drift",
    "ModelConfidenceVarianceHigh": "drift",
    "ArgoCDAppSyncFailed": "alert",
    "ArgoCDAppDegraded": "alert",
    "ArgoCDAppOutOfSync": "alert",
}


def _alerts():
    return [r for g in prometheus_rules_from_gitops()["groups"] for r in g["rules"] if "alert" in r]


def test_alert_names_and_labels_follow_the_contract():
    alerts = {r["alert"]: r for r in _alerts()}
    assert sorted(alerts) == sorted(CONTRACT)
    for name, rule in alerts.items():
        assert rule["labels"]["aiops"] == CONTRACT[name], name
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        for key in ("summary", "description"):
            assert "$value" in rule["annotations"][key] or "$labels" in rule["annotations"][key], (name, key)
        assert "$value" in rule["annotations"]["summary"] + rule["annotations"]["description"], name


def _promtool(*args, cwd):
    binary = require_binary(PROMTOOL, "prometheus")
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture
def rules_dir(tmp_path):
    (tmp_path / "model-rules.yml").write_text(yaml.safe_dump(prometheus_rules_from_gitops(), sort_keys=False))
    for path in TEST_FILES:
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_promtool_check_rules(rules_dir):
    proc = _promtool("check", "rules", "model-rules.yml", cwd=rules_dir)
    print(proc.stdout + proc.stderr)
    assert proc.returncode == 0
    assert "SUCCESS: 16 rules found" in proc.stdout


def test_every_alert_has_a_firing_and_a_silent_case():
    fires, silent = set(), set()
    for case in (c for path in TEST_FILES for c in yaml.safe_load(path.read_text())["tests"]):
        for check in case.get("alert_rule_test", []):
            (fires if check["exp_alerts"] else silent).add(check["alertname"])
    assert fires == set(CONTRACT), sorted(set(CONTRACT) - fires)
    assert silent == set(CONTRACT), sorted(set(CONTRACT) - silent)


def test_promtool_test_rules(rules_dir):
    proc = _promtool("test", "rules", *(path.name for path in TEST_FILES), cwd=rules_dir)
    print(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(TEST_FILES) == 2
    cases = sum(len(yaml.safe_load(path.read_text())["tests"]) for path in TEST_FILES)
    print("%d test groups, %d alerts" % (cases, len(CONTRACT)))


def test_promtool_fails_when_a_threshold_changes(rules_dir):
    rules = prometheus_rules_from_gitops()
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "ModelAccuracyLow":
                rule["expr"] = rule["expr"].replace("0.85", "0.70")
    (rules_dir / "model-rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    proc = _promtool("test", "rules", RULE_TESTS.name, cwd=rules_dir)
    assert proc.returncode != 0
    assert "ModelAccuracyLow" in proc.stdout + proc.stderr


def test_promtool_fails_when_the_sync_failure_rule_loses_its_first_failure_case(rules_dir):
    # Without the `unless ... offset 10m` half, a first failure (a new series at 1) is not seen.
    rules = prometheus_rules_from_gitops()
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "ArgoCDAppSyncFailed":
                rule["expr"] = rule["expr"].split("\nor\n")[0]
    (rules_dir / "model-rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    proc = _promtool("test", "rules", "argocd-rules.test.yml", cwd=rules_dir)
    assert proc.returncode != 0
    assert "ArgoCDAppSyncFailed" in proc.stdout + proc.stderr


def test_argocd_metrics_are_scraped_from_the_service_argocd_installs():
    """The ServiceMonitor selects the Service and port of ArgoCD's own install.yaml (the metrics the
    rules read), and the controller's NetworkPolicy admits Prometheus on that port."""
    (monitor,) = [o for o in render(MONITORING_DIR) if o["kind"] == "ServiceMonitor"]
    install = install_manifest()
    services = [
        o
        for o in install
        if o["kind"] == "Service"
        and o["metadata"].get("namespace", "argocd") in monitor["spec"]["namespaceSelector"]["matchNames"]
        and monitor["spec"]["selector"]["matchLabels"].items() <= (o["metadata"].get("labels") or {}).items()
    ]
    assert [s["metadata"]["name"] for s in services] == ["argocd-metrics"]
    (port,) = [p for p in services[0]["spec"]["ports"] if p["name"] == monitor["spec"]["endpoints"][0]["port"]]
    selected = services[0]["spec"]["selector"]
    assert selected == {"app.kubernetes.io/name": "argocd-application-controller"}
    (policy,) = [
        o for o in install if o["kind"] == "NetworkPolicy" and o["spec"]["podSelector"]["matchLabels"] == selected
    ]
    assert {"port": port["targetPort"]} in [p for rule in policy["spec"]["ingress"] for p in rule["ports"]]
    assert any(rule["from"] == [{"namespaceSelector": {}}] for rule in policy["spec"]["ingress"])
