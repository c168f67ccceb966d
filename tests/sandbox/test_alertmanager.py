"""The Alertmanager fixture delivers to the webhook receiver, alone and behind a firing Prometheus rule."""

from __future__ import annotations

import pytest

from sandbox.procs import BinaryMissing, ServiceError
from sandbox.prometheus import Alertmanager, alertmanager_config, prometheus_config

from .test_prometheus import ACCURACY_RULES

pytestmark = pytest.mark.services


def _alert_named(name, status="firing"):
    def match(req):
        body = req.json()
        return body["status"] == status and any(a["labels"]["alertname"] == name for a in body["alerts"])

    return match


def test_posted_alert_reaches_the_webhook_with_its_labels(alertmanager, webhook_receiver):
    alertmanager.fire("BenchPosted", {"severity": "warning", "model": "iris"}, {"summary": "posted by the test"})
    req = webhook_receiver.wait_for(_alert_named("BenchPosted"))
    body = req.json()
    assert req.path == "/alerts"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["User-Agent"].startswith("Alertmanager/")
    assert body["version"] == "4"
    assert body["receiver"] == "default"
    assert body["groupLabels"] == {"alertname": "BenchPosted"}
    assert body["externalURL"] == alertmanager.url
    [alert] = body["alerts"]
    assert alert["labels"] == {"alertname": "BenchPosted", "severity": "warning", "model": "iris"}
    assert alert["annotations"] == {"summary": "posted by the test"}

    [stored] = alertmanager.alerts(['alertname="BenchPosted"'])
    assert stored["status"]["state"] == "active"
    assert alertmanager.alerts(['alertname="NotPosted"']) == []


def test_resolved_alert_is_delivered_as_resolved(alertmanager, webhook_receiver):
    alertmanager.fire("BenchFlap", {"model": "iris"})
    webhook_receiver.wait_for(_alert_named("BenchFlap"))
    alertmanager.fire("BenchFlap", {"model": "iris"}, resolved=True)
    resolved = webhook_receiver.wait_for(_alert_named("BenchFlap", status="resolved")).json()
    assert resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"


def test_reload_switches_the_receiver_and_refuses_a_broken_config(alertmanager, webhook_receiver):
    alertmanager.reload(alertmanager_config(webhook_receiver.url + "/second"))
    alertmanager.fire("BenchAfterReload")
    assert webhook_receiver.wait_for(_alert_named("BenchAfterReload")).path == "/second"

    with pytest.raises(ServiceError, match="answered 500"):
        alertmanager.reload({"route": {"receiver": "missing"}, "receivers": [{"name": "default"}]})
    assert alertmanager.status()["config"]["original"].count("/second") == 1


def test_prometheus_rule_fires_through_alertmanager_to_the_receiver(
    start_prometheus, alertmanager, webhook_receiver, metrics_exporter
):
    metrics_exporter.gauge("bench_model_accuracy", 0.95, {"model": "iris"})
    prom = start_prometheus(
        prometheus_config({"model": [metrics_exporter.target]}, alertmanagers=[alertmanager]),
        rules={"model": ACCURACY_RULES},
    )
    prom.wait_for("bench_model_accuracy")
    assert webhook_receiver.requests == []

    metrics_exporter.gauge("bench_model_accuracy", 0.6, {"model": "iris"})
    body = webhook_receiver.wait_for(_alert_named("BenchAccuracyLow"), timeout=60).json()
    [alert] = body["alerts"]
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["model"] == "iris"
    assert alert["labels"]["job"] == "model"
    assert alert["annotations"]["summary"] == "accuracy of iris is 0.6"
    assert alert["generatorURL"].startswith(prom.url)


def test_missing_binary_names_the_package(tmp_path):
    with pytest.raises(BinaryMissing, match="prometheus-alertmanager"):
        Alertmanager(tmp_path / "am", binary="/nonexistent/alertmanager-not-installed")


def test_fixture_skips_with_the_package_name_when_the_binary_is_missing(start_alertmanager):
    with pytest.raises(pytest.skip.Exception, match=r"'prometheus-alertmanager'.*make install"):
        start_alertmanager(binary="/nonexistent/alertmanager-not-installed")
