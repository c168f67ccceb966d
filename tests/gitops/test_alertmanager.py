"""Alertmanager's configuration from the monitoring values: valid for amtool, and routing drift
alerts and operational alerts to the bridge's two paths with the bearer token file."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from sandbox.gitops import alertmanager_config_from_gitops
from sandbox.procs import require_binary

AMTOOL = "/usr/bin/amtool"
TOKEN_FILE = "/etc/alertmanager/secrets/alert-bridge-token/token"


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(alertmanager_config_from_gitops(), sort_keys=False))
    return path


def _amtool(*args):
    return subprocess.run(
        [require_binary(AMTOOL, "prometheus-alertmanager"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_amtool_check_config(config_file):
    proc = _amtool("check-config", str(config_file))
    print(proc.stdout + proc.stderr)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=ModelPredictionDrift", "aiops=drift", "severity=warning"], "bridge-drift"),
        (["alertname=ModelAccuracyLow", "aiops=drift", "severity=critical"], "bridge-drift"),
        (["alertname=ModelHighLatency", "aiops=alert", "severity=warning"], "bridge-operational"),
        (["alertname=ModelPodOOMKilled", "aiops=alert", "severity=critical"], "bridge-operational"),
        (["alertname=KubeNodeNotReady", "severity=critical"], "bridge-operational"),
        (["alertname=KubePodNotReady", "severity=warning"], "null"),
        (["alertname=Watchdog", "severity=none"], "null"),
    ],
)
def test_routes(config_file, labels, receiver):
    proc = _amtool("config", "routes", "test", "--config.file=%s" % config_file, *labels)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == receiver


def test_bridge_paths_and_token():
    receivers = {r["name"]: r for r in alertmanager_config_from_gitops()["receivers"]}
    for name, path in (("bridge-operational", "/alerts/operational"), ("bridge-drift", "/alerts/drift")):
        (hook,) = receivers[name]["webhook_configs"]
        assert hook["url"] == "http://alert-bridge.aiops.svc.cluster.local:8080" + path
        assert hook["http_config"]["authorization"] == {"type": "Bearer", "credentials_file": TOKEN_FILE}
        assert hook["send_resolved"] is True


def test_rewritten_for_a_local_bridge(tmp_path):
    token = tmp_path / "token"
    token.write_text("t")
    config = alertmanager_config_from_gitops("http://127.0.0.1:18080", token)
    urls = sorted(h["url"] for r in config["receivers"] for h in r.get("webhook_configs", []))
    assert urls == ["http://127.0.0.1:18080/alerts/drift", "http://127.0.0.1:18080/alerts/operational"]
    creds = {
        h["http_config"]["authorization"]["credentials_file"]
        for r in config["receivers"]
        for h in r.get("webhook_configs", [])
    }
    assert creds == {str(token)}
    assert config["route"] == alertmanager_config_from_gitops()["route"]


def test_amtool_rejects_a_broken_route(tmp_path):
    config = alertmanager_config_from_gitops()
    config["route"]["routes"][0]["receiver"] = "bridge-drfit"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(config))
    proc = _amtool("check-config", str(path))
    assert proc.returncode != 0
    assert "bridge-drfit" in proc.stdout + proc.stderr
