"""The Prometheus fixture: scrapes a local exporter, evaluates rule files, reloads its config."""

from __future__ import annotations

import pytest

from sandbox.procs import LIVE, BinaryMissing, ServiceError, group_alive
from sandbox.prometheus import Prometheus, prometheus_config

pytestmark = pytest.mark.services

ACCURACY_RULES = {
    "groups": [
        {
            "name": "model",
            "rules": [
                {
                    "alert": "BenchAccuracyLow",
                    "expr": "bench_model_accuracy < 0.85",
                    "for": "2s",
                    "labels": {"severity": "critical"},
                    "annotations": {"summary": "accuracy of {{ $labels.model }} is {{ $value }}"},
                },
                {"record": "bench:accuracy:min", "expr": "min(bench_model_accuracy)"},
            ],
        }
    ]
}


def test_scrapes_the_exporter_and_query_returns_its_value(start_prometheus, metrics_exporter):
    metrics_exporter.gauge("bench_model_accuracy", 0.91, {"model": "iris"})
    prom = start_prometheus(prometheus_config({"model": [metrics_exporter.target]}))
    targets = prom.wait_for_targets_up()
    assert [t["labels"]["job"] for t in targets] == ["model"]

    result = prom.wait_for('bench_model_accuracy{job="model"}')
    assert result[0]["metric"]["model"] == "iris"
    assert prom.value('bench_model_accuracy{job="model"}') == 0.91
    assert metrics_exporter.scrapes >= 1

    metrics_exporter.gauge("bench_model_accuracy", 0.5, {"model": "iris"})
    prom.wait_for("bench_model_accuracy == 0.5")
    assert prom.value("bench_model_accuracy") == 0.5
    assert prom.query('bench_model_accuracy{model="other"}') == []


def test_rule_file_alert_goes_pending_then_firing_then_clears(start_prometheus, metrics_exporter):
    metrics_exporter.gauge("bench_model_accuracy", 0.95, {"model": "iris"})
    prom = start_prometheus(prometheus_config({"model": [metrics_exporter.target]}), rules={"model": ACCURACY_RULES})
    assert prom.wait_for("bench:accuracy:min")[0]["value"][1] == "0.95"
    assert prom.alerts() == []
    [group] = prom.rule_groups()
    assert {r["name"] for r in group["rules"]} == {"BenchAccuracyLow", "bench:accuracy:min"}

    metrics_exporter.gauge("bench_model_accuracy", 0.7, {"model": "iris"})
    pending = prom.wait_for_alert("BenchAccuracyLow", state="pending")
    firing = prom.wait_for_alert("BenchAccuracyLow", state="firing")
    assert pending["labels"]["model"] == firing["labels"]["model"] == "iris"
    assert firing["labels"]["severity"] == "critical"
    assert firing["annotations"]["summary"] == "accuracy of iris is 0.7"

    metrics_exporter.gauge("bench_model_accuracy", 0.95, {"model": "iris"})
    prom.wait_for("bench:accuracy:min == 0.95")
    prom.wait_for_alert_gone("BenchAccuracyLow")
    assert prom.alerts() == []


def test_reload_applies_a_new_config_and_refuses_a_broken_one(start_prometheus, metrics_exporter):
    metrics_exporter.gauge("bench_up_marker", 1)
    prom = start_prometheus()
    assert prom.targets() == []

    prom.reload(prometheus_config({"late": [metrics_exporter.target]}))
    prom.wait_for('bench_up_marker{job="late"}')

    with pytest.raises(ServiceError, match="answered 500"):
        prom.reload(rules={"broken": {"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "up ==="}]}]}})
    assert prom.value('up{job="late"}') == 1.0  # the running config stayed


def test_broken_rule_file_at_start_shows_the_log_and_leaves_nothing(tmp_path):
    prom = Prometheus(
        tmp_path / "p", rules={"broken": {"groups": [{"name": "x", "rules": [{"record": "a", "expr": "("}]}]}}
    )
    with pytest.raises(ServiceError, match=r"(?s)exited.*log tail.*broken\.yml"):
        prom.start()
    assert prom.pid not in LIVE


def test_stop_ends_the_process(tmp_path):
    with Prometheus(tmp_path / "p") as prom:
        pid = prom.pid
        assert pid in LIVE and group_alive(pid)
        assert prom.value("vector(42)") == 42.0
    assert not group_alive(pid)
    assert pid not in LIVE


def test_missing_binary_names_the_package(tmp_path):
    with pytest.raises(BinaryMissing, match=r"install the Debian package 'prometheus'.*make install"):
        Prometheus(tmp_path / "p", binary="/nonexistent/prometheus-not-installed")
