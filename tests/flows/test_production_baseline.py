"""mlops.hybrid.production_baseline against a real Prometheus holding three past days of a model's series
(backfilled with promtool, as Prometheus would have scraped them) and the real MLflow tracking server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.model_drift import production_line
from sandbox.paths import REPO
from sandbox.prometheus import Prometheus, prometheus_config

MODULE = "mlops.hybrid.production_baseline"
DAY = 86400
STEP = 300  # one sample every 5 minutes
# Per past day (oldest first): online accuracy, predictions, labels, highest drift share, mean confidence.
DAYS = [(0.95, 1000, 100, 0.1, 0.9), (0.93, 1200, 90, 0.2, 0.88), (0.88, 800, 80, 0.4, 0.8)]


def openmetrics(model, today):
    """The series of the three days before ``today`` (a day number), one sample every STEP seconds."""
    sel = '{model_name="%s"}' % model
    series = {k: [] for k in ("acc", "pred", "fb", "drift", "csum", "ccount", "info")}
    pred = fb = csum = 0.0
    start = (today - len(DAYS)) * DAY
    for n, (acc, preds, labels, drift, conf) in enumerate(DAYS):
        for t in range(start + n * DAY, start + (n + 1) * DAY, STEP):
            pred += preds * STEP / DAY
            fb += labels * STEP / DAY
            csum += conf * preds * STEP / DAY
            series["acc"].append("model_accuracy%s %s %d" % (sel, acc, t))
            series["pred"].append("model_predictions_total%s %s %d" % (sel, pred, t))
            series["fb"].append("model_feedback_total%s %s %d" % (sel, fb, t))
            series["drift"].append("model_drift_share%s %s %d" % (sel, drift, t))
            series["csum"].append("model_prediction_confidence_sum%s %s %d" % (sel, csum, t))
            series["ccount"].append("model_prediction_confidence_count%s %s %d" % (sel, pred, t))
            version = 3 if n < 2 else 4
            series["info"].append('model_info{model_name="%s",version="%d"} 1 %d' % (model, version, t))
    return "\n".join(line for lines in series.values() for line in lines) + "\n# EOF\n"


@pytest.fixture
def prometheus_with_history(tmp_path, mlflow_tracking):
    model = mlflow_tracking.unique("model")
    today = int(time.time() // DAY)
    data = tmp_path / "prometheus" / "data"
    data.mkdir(parents=True)
    source = tmp_path / "history.om"
    source.write_text(openmetrics(model, today))
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    prom = Prometheus(tmp_path / "prometheus", config=prometheus_config())
    prom.start()
    try:
        yield prom, model, today
    finally:
        prom.stop()


def args(prom, mlflow_tracking, model, **extra):
    return {"model_name": model, "prometheus_url": prom.url, "tracking_uri": mlflow_tracking.uri, **extra}


def test_each_complete_day_is_kept_once_and_read_back_as_the_baselines(
    ansible, mlflow_tracking, prometheus_with_history
):
    prom, model, today = prometheus_with_history
    days = [time.strftime("%Y-%m-%d", time.gmtime((today - n) * DAY)) for n in (3, 2, 1)]

    checked = ansible.module(MODULE, args(prom, mlflow_tracking, model), check=True).res
    assert checked["changed"] is True, checked.get("msg")
    assert [r["day"] for r in checked["recorded"]] == days and checked["run_id"] is None
    assert mlflow_tracking.client().get_experiment_by_name("%s-production" % model) is None  # nothing logged

    first = ansible.module(MODULE, args(prom, mlflow_tracking, model)).res
    assert first["changed"] is True and [r["day"] for r in first["recorded"]] == days
    for rec, (acc, preds, labels, drift, conf) in zip(first["recorded"], DAYS, strict=True):
        f = rec["figures"]
        print(rec["day"], f)
        assert f["production_accuracy"] == pytest.approx(acc, abs=1e-6)
        assert f["production_predictions"] == pytest.approx(preds, rel=0.02)
        assert f["production_feedback"] == pytest.approx(labels, rel=0.02)
        assert f["production_drift_share_max"] == pytest.approx(drift, abs=1e-6)
        assert f["production_confidence_mean"] == pytest.approx(conf, rel=0.01)
    assert [r["figures"]["production_version"] for r in first["recorded"]] == [3, 3, 4]

    # Logged as metrics of the production run, the day as the step: the baselines read them back.
    history = mlflow_tracking.client().get_metric_history(first["run_id"], "production_accuracy")
    assert sorted(m.step for m in history) == [today - 3, today - 2, today - 1]
    week = first["baselines"]["7d"]
    assert week["days"] == 3 and week["versions"] == [3, 4]
    assert week["accuracy_mean"] == pytest.approx(sum(d[0] for d in DAYS) / 3, abs=1e-4)
    assert week["accuracy_min"] == pytest.approx(0.88, abs=1e-4) and week["drift_share_max"] == pytest.approx(0.4)
    assert week["predictions_per_day"] == pytest.approx(1000, rel=0.02)
    # What the drift analysis reads of them.
    line = production_line(first["baselines"])
    print(line)
    assert line.startswith("production baselines (daily served figures): 7d: accuracy mean 0.92 (lowest 0.88)")
    assert "over 3 days" in line

    # Again: every day is already kept, nothing changes.
    again = ansible.module(MODULE, args(prom, mlflow_tracking, model)).res
    assert again["changed"] is False and again["recorded"] == [] and again["already"] == days
    assert again["run_id"] == first["run_id"]
    assert len(mlflow_tracking.client().get_metric_history(first["run_id"], "production_accuracy")) == 3


def test_days_without_traffic_are_not_logged_and_bad_input_is_refused(
    ansible, mlflow_tracking, prometheus_with_history
):
    prom, model, _today = prometheus_with_history
    other = ansible.module(MODULE, args(prom, mlflow_tracking, model + "-unserved")).res
    assert other["changed"] is False and other["recorded"] == [] and len(other["without_traffic"]) == 3
    assert other["run_id"] is None and other["baselines"] == {}

    bad = ansible.module(MODULE, args(prom, mlflow_tracking, model, days=90))
    assert bad.failed and "days must be an integer from 1 to 30" in bad.res["msg"]
    unreachable = ansible.module(MODULE, args(prom, mlflow_tracking, model, prometheus_url="http://127.0.0.1:9"))
    assert unreachable.failed and "cannot reach Prometheus at http://127.0.0.1:9" in unreachable.res["msg"]
    assert mlflow_tracking.client().get_experiment_by_name("%s-production" % model) is None


def test_the_clusters_daily_job_keeps_the_days_as_the_module_does(mlflow_tracking, prometheus_with_history, tmp_path):
    """``python -m mlops_bridge.baseline`` (the CronJob production-baseline runs it with the bridge's image), as a
    process with the environment the CronJob sets."""
    prom, model, today = prometheus_with_history
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("bridge/src", "collections")),
        "BASELINE_MODELS": "%s,%s-unserved" % (model, model),
        "BRIDGE_PROMETHEUS_URL": prom.url,
        "MLFLOW_TRACKING_URI": mlflow_tracking.uri,
    }
    argv = [sys.executable, "-m", "mlops_bridge.baseline"]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert first.returncode == 0, first.stderr[-2000:]
    kept, unserved = (json.loads(line) for line in first.stdout.splitlines())
    assert kept["model"] == model and kept["changed"] is True and len(kept["recorded"]) == 3
    assert unserved["changed"] is False and len(unserved["without_traffic"]) == 3
    run_id = kept["run_id"]
    assert sorted(m.step for m in mlflow_tracking.client().get_metric_history(run_id, "production_predictions")) == [
        today - 3,
        today - 2,
        today - 1,
    ]
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[0])["changed"] is False

    broken = subprocess.run(
        argv,
        env={**env, "BRIDGE_PROMETHEUS_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert broken.returncode == 1 and "cannot reach Prometheus at http://127.0.0.1:9" in broken.stdout
