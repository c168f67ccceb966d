"""The model's alert rules: the contract (names, labels, annotations), `promtool check rules` and
`promtool test rules` on the rules extracted from the PrometheusRule of gitops/."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from sandbox.gitops import MONITORING_DIR, prometheus_rules_from_gitops
from sandbox.procs import require_binary

PROMTOOL = "/usr/bin/promtool"
RULE_TESTS = MONITORING_DIR / "rules-tests" / "model-rules.test.yml"
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
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    return tmp_path


def test_promtool_check_rules(rules_dir):
    proc = _promtool("check", "rules", "model-rules.yml", cwd=rules_dir)
    print(proc.stdout + proc.stderr)
    assert proc.returncode == 0
    assert "SUCCESS: 13 rules found" in proc.stdout


def test_every_alert_has_a_firing_and_a_silent_case():
    doc = yaml.safe_load(RULE_TESTS.read_text())
    fires, silent = set(), set()
    for case in doc["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check["exp_alerts"] else silent).add(check["alertname"])
    assert fires == set(CONTRACT), sorted(set(CONTRACT) - fires)
    assert silent == set(CONTRACT), sorted(set(CONTRACT) - silent)


def test_promtool_test_rules(rules_dir):
    proc = _promtool("test", "rules", RULE_TESTS.name, cwd=rules_dir)
    print(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cases = len(yaml.safe_load(RULE_TESTS.read_text())["tests"])
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
