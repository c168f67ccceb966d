"""The model's Grafana dashboard: provisioned through the sidecar's ConfigMap, covering what an
operator needs, and every query valid PromQL over the model server's metric contract."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from sandbox.gitops import MONITORING_DIR, render
from sandbox.procs import require_binary

# The model server's metrics (issue 3's contract) and the series Prometheus derives from them.
MODEL_METRICS = {
    "request_predict_seconds_bucket",
    "request_predict_seconds_count",
    "model_predictions_total",
    "model_prediction_confidence_bucket",
    "model_feature_psi",
    "model_prediction_psi",
    "model_drift_share",
    "model_accuracy",
    "model_feedback_total",
    "model_info",
}
PROMQL_WORDS = {
    "sum",
    "by",
    "rate",
    "histogram_quantile",
    "max",
    "avg",
    "le",
    "class",
    "feature",
    "version",
    "revision",
}


def _dashboard():
    (cm,) = [o for o in render(MONITORING_DIR) if o["kind"] == "ConfigMap"]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    return json.loads(cm["data"]["model.json"])


def _exprs(dashboard):
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_dashboard_covers_the_model():
    titles = " | ".join(p["title"] for p in _dashboard()["panels"]).lower()
    for topic in ("latency", "p95", "throughput", "class mix", "psi per feature", "accuracy", "confidence"):
        assert topic in titles, topic


def test_dashboard_queries_use_the_metric_contract():
    names = set()
    for expr in _exprs(_dashboard()):
        names |= {w for w in re.findall(r"\b([a-z_]+)\s*[{(\[]", expr) if w not in PROMQL_WORDS}
    assert names <= MODEL_METRICS, sorted(names - MODEL_METRICS)
    assert {"request_predict_seconds_bucket", "model_feature_psi", "model_accuracy"} <= names


def test_dashboard_queries_are_valid_promql(tmp_path):
    exprs = [e.replace("$model", "breast-cancer") for e in _exprs(_dashboard())]
    rules = {
        "groups": [
            {"name": "dashboard", "rules": [{"record": "dashboard:q%d" % i, "expr": e} for i, e in enumerate(exprs)]}
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    proc = subprocess.run(
        [require_binary("/usr/bin/promtool", "prometheus"), "check", "rules", "dashboard.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: %d rules found" % len(exprs) in proc.stdout
