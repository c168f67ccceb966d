from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils import text
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import excerpt
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import common, drift_policy, model_drift, workflow
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import client as mlflow_client
from ansible_collections.mlops.hybrid.plugins.module_utils.prometheus.client import Prometheus, selector


@pytest.mark.parametrize(
    ("lines", "max_lines", "max_bytes", "expected", "truncated"),
    [
        (["a", "b", "c"], 5, 100, "a\nb\nc", False),
        (["a", "b", "c"], 2, 100, "b\nc", True),
        (["aaaa", "bbbb", "cccc"], 10, 9, "cccc", True),  # never a half line at the top
    ],
)
def test_tail_bounds_lines_and_bytes(lines, max_lines, max_bytes, expected, truncated):
    assert text.tail("\n".join(lines), max_lines, max_bytes) == (expected, truncated)


def test_redacted_counts_kinds_never_values():
    out = common.redacted({"log": "token: ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "n": 3}, ["sekret-value"])
    assert "ghp_" not in out["log"] and out["n"] == 3
    assert out["redactions"] == {"github_token": 1}


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ("   Location: ./src/app/vuln.py:12:4", [("src/app/vuln.py", 12)]),
        (
            "FAILED tests/test_api.py::test_x - assert 1 == 2\ntests/test_api.py:40: AssertionError",
            [("tests/test_api.py", 40)],
        ),
        ("model/src/x.py:3:1: F401 'os' imported but unused", [("model/src/x.py", 3)]),
        (
            '  File "/home/runner/work/platform/platform/model/src/train.py", line 77, in main',
            [("model/src/train.py", 77)],
        ),
        ('  File "/usr/lib/python3.11/site-packages/sklearn/base.py", line 5', []),
        ("Location: ../../etc/passwd.txt:1:0", []),
    ],
)
def test_finding_locations_are_repository_relative_and_safe(log, expected):
    assert workflow.finding_locations(log) == expected


def test_finding_locations_are_bounded_and_deduplicated():
    log = "\n".join("Location: ./a%d.py:1:0\nLocation: ./a%d.py:1:0" % (n, n) for n in range(20))
    assert workflow.finding_locations(log, max_files=3) == [("a0.py", 1), ("a1.py", 1), ("a2.py", 1)]


def test_clean_log_strips_runner_timestamps_and_colours():
    assert workflow.clean_log("2026-11-24T14:00:01.0000013Z \x1b[31mError\x1b[0m") == "Error"


def serving(psi, share, pred_psi=0.0, acc=None, feedback=0):
    return {
        "feature_psi": [{"feature": f, "psi": v} for f, v in psi],
        "features_observed": 30,
        "drift_share": share,
        "prediction_psi": pred_psi,
        "accuracy": acc,
        "feedback": feedback,
    }


TRAINING = {"version": 3, "feature_importances": {"worst radius": 0.2, "mean area": 0.01}, "history": {}}


@pytest.mark.parametrize(
    ("figures", "urgency", "action", "kind"),
    [
        (
            serving([("worst radius", 1.2), ("mean area", 0.9)], 0.6, 0.4, 0.71, 120),
            "P0",
            "retrain",
            "data drift with accuracy loss",
        ),
        (serving([("worst radius", 0.05)], 0.0, 0.02, 0.70, 120), "P0", "retrain", "concept drift"),
        (serving([("worst radius", 1.2)], 0.55, 0.3, 0.95, 120), "P1", "issue", "data drift"),
        # Accuracy below the gate on too few labels does not count.
        (serving([("worst radius", 1.2)], 0.55, 0.3, 0.5, 10), "P1", "issue", "data drift"),
        (serving([("worst radius", 0.15)], 0.0, 0.05, 0.95, 120), "P2", "slack", "marginal drift"),
        (serving([("worst radius", 0.01)], 0.0, 0.0, None, 0), "P2", "slack", "no significant drift"),
    ],
)
def test_assessment_rules(figures, urgency, action, kind):
    a = drift_policy.assess(TRAINING, figures)
    assert (a["urgency"], a["action"], a["drift_type"]) == (urgency, action, kind)
    assert a["hypothesis"] in a["summary"] and "drift share" in a["summary"]


def test_affected_features_are_ordered_by_psi_times_importance():
    a = drift_policy.assess(TRAINING, serving([("mean area", 2.0), ("worst radius", 0.5)], 0.6))
    assert [f["feature"] for f in a["affected_features"]] == ["worst radius", "mean area"]


def test_model_decay_is_mentioned_when_training_accuracy_declines():
    training = dict(TRAINING, history={"30d": {"versions": 3, "first": 0.97, "last": 0.93}})
    assert "model decay" in drift_policy.assess(training, serving([], 0.0))["hypothesis"]


@pytest.mark.parametrize("url", ["", "prometheus:9090", "ftp://x"])
def test_prometheus_url_must_be_http(url):
    with pytest.raises(InvalidInput, match="prometheus_url"):
        Prometheus(url)


def test_without_training_figures_the_rules_still_assess_and_the_text_says_why():
    training = model_drift.unread_training("breast-cancer", "champion", "7", "MLflow failed to read alias: 401")
    figures = dict(
        serving([("worst radius", 1.2), ("mean area", 0.9)], 0.6, 0.4, 0.97, 120),
        prediction_share={"benign": 0.5},
        confidence_iqr=0.1,
        confidence_mean=0.9,
    )
    a = drift_policy.assess(training, figures)
    assert (a["urgency"], a["action"]) == ("P1", "issue")
    assert [f["importance"] for f in a["affected_features"]] == [None, None]
    text = model_drift.text_of(training, figures, a)
    assert text.startswith("drift detected: data drift for model breast-cancer version 7\n")
    assert "training figures: not read from MLflow (MLflow failed to read alias: 401)" in text
    assert "served figures: drift share 0.6, prediction PSI 0.4, accuracy 0.97 over 120 labelled" in text
    assert excerpt.extract(text)["category"] == "model_validation"  # the product's own drift text, no kind given


class RefusingMlflow:
    """An MLflow client whose every call is refused as a server without the user's credentials answers."""

    def __getattr__(self, name):
        def refuse(*_a, **_k):
            raise mlflow_client.MlflowException(
                "API request to endpoint /api/2.0/mlflow/%s failed with error code 401" % name
            )

        return refuse


@pytest.mark.parametrize(("optional", "message"), [(False, "MLflow failed to read alias"), (True, "Prometheus")])
def test_an_mlflow_that_fails_stops_the_collection_unless_it_is_optional(optional, message):
    # Optional: MLflow's refusal is passed over and the collector goes on to Prometheus (unreachable here).
    with pytest.raises(RemoteError, match=message):
        model_drift.collect_drift_context(
            RefusingMlflow(),
            model_drift.DriftOptions(
                model_name="breast-cancer", prometheus_url="http://127.0.0.1:9", timeout=2, mlflow_optional=optional
            ),
        )


def test_registry_client_needs_a_uri():
    with pytest.raises(InvalidInput, match="MLFLOW_TRACKING_URI"):
        mlflow_client.client_for("")


def test_selector_escapes_label_values():
    assert selector('a"b', "models") == '{model_name="a\\"b",namespace="models"}'


def test_a_wide_confidence_spread_with_stable_inputs_is_a_p2_with_an_investigation():
    figures = dict(serving([("worst radius", 0.12)], 0.0, 0.01), confidence_iqr=0.31, confidence_mean=0.8)
    a = drift_policy.assess(TRAINING, figures)
    assert (a["drift_type"], a["urgency"], a["action"]) == ("confidence spread", "P2", "slack")
    assert "confidence IQR 0.310 (limit 0.20)" in " ".join(a["figures"])
    steps = drift_policy.remediation(a, TRAINING)
    assert steps.startswith("Investigate: (1) compare the live distribution of worst radius")
    assert "model_prediction_confidence_bucket" in steps and "(5) escalate to a retrain" in steps
    calm = drift_policy.assess(TRAINING, dict(figures, confidence_iqr=0.1))
    assert calm["drift_type"] == "marginal drift" and "model_prediction_confidence_bucket" not in (
        drift_policy.remediation(calm, TRAINING)
    )
    strict = drift_policy.assess(TRAINING, figures, drift_policy.Thresholds(max_confidence_iqr=0.4))
    assert strict["drift_type"] == "marginal drift"


def test_a_wide_confidence_spread_is_named_beside_a_confirmed_drift():
    figures = dict(serving([("worst radius", 1.2)], 0.6, 0.3), confidence_iqr=0.35, confidence_mean=0.7)
    a = drift_policy.assess(TRAINING, figures)
    assert a["urgency"] == "P1" and "The model is also unsure: confidence IQR 0.350" in a["hypothesis"]


def test_traffic_by_hour_reaches_the_text():
    traffic = [{"hour": "2026-11-24T%02d:00Z" % h, "predictions": p} for h, p in [(10, 40.0), (11, 310.0), (12, 5.0)]]
    line = model_drift.traffic_line(traffic)
    assert line == (
        "traffic by hour (3 hours, predictions): 10:00 40, 11:00 310, 12:00 5; busiest 2026-11-24T11:00Z (310.0), "
        "quietest 2026-11-24T12:00Z (5.0)"
    )
    assert model_drift.traffic_line([]).startswith("traffic by hour: no hourly figures")
