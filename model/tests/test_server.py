"""The real server on a free port: both protocols, bad input, the metrics contract, drift and feedback."""

from __future__ import annotations

import re

import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from mlops_model import artifacts
from sandbox.model_server import breast_cancer_rows, predict_v1

pytestmark = [pytest.mark.services, pytest.mark.slow]

CONTRACT = {
    "request_predict_seconds": "histogram",
    "model_predictions_total": "counter",
    "model_prediction_confidence": "histogram",
    "model_feature_psi": "gauge",
    "model_prediction_psi": "gauge",
    "model_drift_share": "gauge",
    "model_feature_mean": "gauge",
    "model_feature_stddev": "gauge",
    "model_feature_missing_total": "counter",
    "model_missing_instances_total": "counter",
    "model_accuracy": "gauge",
    "model_feedback_total": "counter",
    "model_info": "gauge",
}


def samples(text: str) -> dict[str, list]:
    """Metric name -> samples, parsed with prometheus_client's own parser (family names without _total)."""
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def families(text: str) -> dict[str, str]:
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def value(text: str, name: str, **labels) -> float | None:
    for s in samples(text).get(name, []):
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


@pytest.fixture
def data():
    return breast_cancer_rows()


def test_v1_and_v2_predict_what_the_trained_model_predicts(model_server, model_dir, data):
    rows, _ = data
    server = model_server()
    expected = artifacts.load(str(model_dir)).estimator.predict_proba(rows[:5])

    v1 = predict_v1(server, rows[:5], request_id="req-v1")
    assert v1["predictions"] == expected.argmax(axis=1).tolist()
    assert np.allclose(v1["probabilities"], expected)
    assert v1["request_id"] == "req-v1"

    by_name = [
        dict(zip(artifacts.read_json(model_dir / "metadata.json")["feature_names"], r, strict=True)) for r in rows[:2]
    ]
    named = requests.post(
        server.v1(), json={"instances": [{k: float(v) for k, v in r.items()} for r in by_name]}, timeout=10
    )
    assert named.json()["predictions"] == v1["predictions"][:2]

    body = {
        "id": "req-v2",
        "inputs": [{"name": "x", "shape": [5, 30], "datatype": "FP64", "data": rows[:5].ravel().tolist()}],
    }
    v2 = requests.post(server.v2(), json=body, timeout=10)
    assert v2.status_code == 200, v2.text
    doc = v2.json()
    assert doc["id"] == "req-v2"
    assert doc["model_name"] == "breast-cancer"
    outputs = {o["name"]: o for o in doc["outputs"]}
    assert outputs["predict"]["data"] == v1["predictions"]
    assert np.allclose(np.reshape(outputs["predict_proba"]["data"], (5, 2)), expected)

    assert requests.get(f"{server.url}/v2/health/ready", timeout=5).status_code == 200
    assert requests.get(f"{server.url}/v1/models/breast-cancer", timeout=5).json()["ready"] is True
    assert requests.get(f"{server.url}/v2/models/breast-cancer/ready", timeout=5).status_code == 200


def v2_body(shape, data, datatype="FP64"):
    return {"inputs": [{"name": "x", "shape": shape, "datatype": datatype, "data": data}]}


GOOD_ROW = [1.0] * 30
BAD_REQUESTS = [
    ("v1", "malformed json", b'{"instances": [[1, 2,', "Unrecognized request format: unexpected end of data"),
    ("v1", "no instances", {"rows": [GOOD_ROW]}, '"instances"'),
    ("v1", "empty instances", {"instances": []}, "non-empty list"),
    ("v1", "too few features", {"instances": [[1.0] * 29]}, "29 values: the model expects 30 features"),
    ("v1", "too many features", {"instances": [GOOD_ROW, [1.0] * 31]}, "instance 1 has 31 values"),
    (
        "v1",
        "non-numeric",
        {"instances": [[*GOOD_ROW[:29], "abc"]]},
        "feature 29 (worst fractal dimension) is not a number",
    ),
    ("v1", "null", {"instances": [[None, *GOOD_ROW[1:]]]}, "feature 0 (mean radius) is not a number"),
    ("v1", "boolean", {"instances": [[True] * 30]}, "is not a number"),
    ("v1", "NaN literal", b'{"instances": [[NaN' + b", 1.0" * 29 + b"]]}", "Unrecognized request format"),
    ("v1", "not JSON content type", b"instances=1", "the body is not valid JSON"),
    (
        "v1",
        "overflowing number",
        b'{"instances": [[1e999' + b", 1.0" * 29 + b"]]}",
        "Unrecognized request format: number is infinity",
    ),
    ("v1", "unknown feature name", {"instances": [{"radius": 1.0}]}, "does not match the features"),
    ("v1", "too many instances", {"instances": [GOOD_ROW] * 1001}, "1001 instances in one request: the limit is 1000"),
    ("v2", "wrong shape", v2_body([1, 29], [1.0] * 29), "the model expects [n, 30] features"),
    ("v2", "bytes tensor", v2_body([1, 30], ["a"] * 30, "BYTES"), "datatype BYTES"),
    ("v2", "data and shape disagree", v2_body([2, 30], [1.0] * 30), "does not match shape"),
    ("v2", "malformed json", b'{"inputs": [', "invalid request body"),
    ("v2", "no inputs", {"id": "x"}, "invalid request body"),
    ("v2", "NaN as text", v2_body([1, 30], ["NaN"] + [1.0] * 29), "instance 0 feature 0 is nan"),
]


def test_each_bad_input_gets_400_naming_the_problem_and_stays_out_of_the_window(model_server, data):
    rows, _ = data
    server = model_server("--min-samples", "5", "--window", "50")
    for protocol, what, body, message in BAD_REQUESTS:
        url = server.v1() if protocol == "v1" else server.v2()
        kwargs = (
            {"data": body, "headers": {"content-type": "text/plain" if "content type" in what else "application/json"}}
            if isinstance(body, bytes)
            else {"json": body}
        )
        r = requests.post(url, timeout=10, **kwargs)
        assert r.status_code == 400, f"{protocol} {what}: {r.status_code} {r.text}"
        assert message in r.json()["error"], f"{protocol} {what}: {r.json()['error']}"
    big = b'{"instances": [' + b",".join([b"[" + b",".join([b"1.0"] * 30) + b"]"] * 9000) + b"]}"
    r = requests.post(server.v1(), data=big, headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 400
    assert "over the limit of 1048576" in r.json()["error"]

    metrics = server.metrics()
    assert value(metrics, "model_predictions_total", **{"class": "malignant"}) in (None, 0.0)
    assert value(metrics, "model_predictions_total", **{"class": "benign"}) in (None, 0.0)
    assert "model_feature_psi{" not in metrics  # nothing entered the window
    predict_v1(server, rows[:5])
    metrics = server.metrics()
    assert sum(s.value for s in samples(metrics)["model_predictions_total"]) == 5
    assert value(metrics, "model_feature_psi", feature="mean radius") is not None
    assert requests.get(f"{server.url}/v2/health/live", timeout=5).status_code == 200  # still alive


def test_metrics_follow_the_contract(model_server, data):
    rows, labels = data
    server = model_server("--min-samples", "10")
    result = predict_v1(server, rows[:20], request_id="contract")
    requests.post(server.v1(":feedback"), json={"request_id": "contract", "labels": labels[:20].tolist()}, timeout=10)
    text = server.metrics()
    kinds = families(text)
    for name, kind in CONTRACT.items():
        family = name.removesuffix("_total")
        assert kinds.get(family) == kind, f"{name}: {kinds.get(family)}"
    assert value(text, "request_predict_seconds_count", model_name="breast-cancer") == 1
    predicted = np.bincount(result["predictions"], minlength=2)
    assert value(text, "model_predictions_total", model_name="breast-cancer", **{"class": "malignant"}) == predicted[0]
    assert value(text, "model_predictions_total", model_name="breast-cancer", **{"class": "benign"}) == predicted[1]
    assert value(text, "model_prediction_confidence_count", model_name="breast-cancer") == 20
    psi = [s for s in samples(text)["model_feature_psi"] if s.labels["model_name"] == "breast-cancer"]
    assert len(psi) == 30
    assert {s.labels["feature"] for s in psi} >= {"mean radius", "worst area"}
    assert value(text, "model_prediction_psi", model_name="breast-cancer") is not None
    assert 0.0 <= value(text, "model_drift_share", model_name="breast-cancer") <= 1.0
    assert value(text, "model_feedback_total", model_name="breast-cancer") == 20
    info = samples(text)["model_info"][0]
    assert info.value == 1
    assert info.labels["model_name"] == "breast-cancer"
    assert info.labels["version"] == "local"
    assert set(info.labels) == {"model_name", "version", "revision"}


def test_psi_is_low_on_training_like_traffic_and_high_on_shifted_traffic(model_server, data):
    rows, _ = data
    server = model_server("--window", "500", "--min-samples", "200")
    for start in range(0, 500, 50):
        predict_v1(server, rows[start : start + 50])
    text = server.metrics()
    in_dist = {s.labels["feature"]: s.value for s in samples(text)["model_feature_psi"]}
    assert max(in_dist.values()) < 0.2, in_dist
    assert value(text, "model_drift_share") == 0.0

    shifted = rows.copy()
    shifted[:, :10] *= 1.6  # the "mean" features grow by 60 %
    for start in range(0, 500, 50):
        predict_v1(server, shifted[start : start + 50])
    text = server.metrics()
    after = {s.labels["feature"]: s.value for s in samples(text)["model_feature_psi"]}
    names = list(after)
    assert all(after[n] >= 0.2 for n in names[:10]), after
    assert value(text, "model_drift_share") >= 10 / 30
    assert value(text, "model_prediction_psi") > 0.2  # bigger tumours: the class mix moves too


def test_payload_statistics_compare_the_window_with_the_training_data(model_server, model_dir, data):
    rows, _ = data
    server = model_server("--window", "300", "--min-samples", "50")
    reference = artifacts.load(str(model_dir)).reference
    names = reference.feature_names
    area = names.index("worst area")
    text = server.metrics()
    # The training figures are there from the start; the live ones once the window holds min_samples.
    assert value(text, "model_feature_mean", feature="mean radius", data="training") == pytest.approx(
        reference.feature_mean[0]
    )
    assert value(text, "model_feature_stddev", feature="worst area", data="training") == pytest.approx(
        reference.feature_std[area]
    )
    assert value(text, "model_feature_mean", feature="mean radius", data="live") is None
    shifted = rows[:300].copy()
    shifted[:, 0] *= 1.5
    for start in range(0, 300, 50):
        predict_v1(server, shifted[start : start + 50])
    text = server.metrics()
    live = {
        k: value(text, k, feature="mean radius", data="live") for k in ("model_feature_mean", "model_feature_stddev")
    }
    assert live["model_feature_mean"] == pytest.approx(shifted[:, 0].mean())
    assert live["model_feature_stddev"] == pytest.approx(shifted[:, 0].std())
    assert value(text, "model_feature_mean", feature="worst area", data="live") == pytest.approx(
        rows[:300, area].mean()
    )

    assert value(text, "model_feature_missing_total", feature="mean texture") == 0  # every feature from the start
    holes = [[None if j == 1 else float(v) for j, v in enumerate(r)] for r in rows[:3].tolist()]
    keyed = [dict(zip(names, r, strict=True)) for r in rows[3:5].tolist()]
    del keyed[0]["mean texture"]
    keyed[1]["worst area"] = None
    for body in ({"instances": holes}, {"instances": keyed}):
        r = requests.post(server.v1(), json=body, timeout=10)
        assert r.status_code == 400, r.text
    r = requests.post(server.v1(), json={"instances": [["x"] * 30]}, timeout=10)
    assert r.status_code == 400  # not a missing value: not counted
    text = server.metrics()
    assert value(text, "model_feature_missing_total", feature="mean texture") == 4
    assert value(text, "model_feature_missing_total", feature="worst area") == 1
    assert value(text, "model_feature_missing_total", feature="mean radius") == 0
    assert value(text, "model_missing_instances_total") == 5
    assert sum(s.value for s in samples(text)["model_predictions_total"]) == 300  # none of them served


def test_psi_is_not_published_below_the_minimum_sample_count(model_server, data):
    rows, _ = data
    server = model_server("--min-samples", "100")
    predict_v1(server, rows[:99])
    assert value(server.metrics(), "model_feature_psi", feature="mean radius") is None
    predict_v1(server, rows[99:100])
    assert value(server.metrics(), "model_feature_psi", feature="mean radius") is not None


def test_accuracy_follows_feedback(model_server, data):
    rows, labels = data
    server = model_server("--feedback-window", "100")
    predicted = np.array(predict_v1(server, rows[:50], request_id="a")["predictions"])
    r = requests.post(server.v1(":feedback"), json={"request_id": "a", "labels": predicted.tolist()}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["accuracy"] == 1.0
    assert value(server.metrics(), "model_accuracy") == 1.0

    predicted = np.array(predict_v1(server, rows[50:100], request_id="b")["predictions"])
    wrong = (1 - predicted).tolist()
    r = requests.post(server.v1(":feedback"), json={"request_id": "b", "labels": wrong}, timeout=10)
    assert r.json() == {"request_id": "b", "labels": 50, "correct": 0, "accuracy": 0.5}
    text = server.metrics()
    assert value(text, "model_accuracy") == 0.5
    assert value(text, "model_feedback_total") == 100

    names = ["malignant", "benign"]
    predict_v1(server, rows[100:110], request_id="c")
    r = requests.post(
        server.v1(":feedback"), json={"request_id": "c", "labels": [names[y] for y in labels[100:110]]}, timeout=10
    )
    assert r.status_code == 200

    for body, status, message in [
        ({"request_id": "a", "labels": [0] * 50}, 404, "no pending prediction"),  # already labelled
        ({"request_id": "nope", "labels": [0]}, 404, "no pending prediction"),
        ({"labels": [0]}, 400, "request_id"),
    ]:
        r = requests.post(server.v1(":feedback"), json=body, timeout=10)
        assert r.status_code == status
        assert message in r.json()["error"]
    predict_v1(server, rows[:3], request_id="d")
    for labels_sent, message in [([0, 1], "list of 3 labels"), ([0, 1, 7], "label 2 is 7")]:
        r = requests.post(server.v1(":feedback"), json={"request_id": "d", "labels": labels_sent}, timeout=10)
        assert r.status_code == 400
        assert message in r.json()["error"]
    assert value(server.metrics(), "model_feedback_total") == 110


def test_monitoring_off_keeps_kserve_latency_and_drops_our_metrics(model_server, data):
    rows, _ = data
    server = model_server("--monitoring", "off")
    predict_v1(server, rows[:3], request_id="x")
    text = server.metrics()
    assert value(text, "request_predict_seconds_count", model_name="breast-cancer") == 1
    assert not re.search(r"^model_", text, re.MULTILINE)
    r = requests.post(server.v1(":feedback"), json={"request_id": "x", "labels": [0, 0, 0]}, timeout=10)
    assert r.status_code == 409
    assert "monitoring is off" in r.json()["error"]


def test_classifier_is_not_ready_before_load(model_dir):
    from mlops_model.server import make_classifier_class  # noqa: PLC0415 (imports kserve)

    model = make_classifier_class()("m", str(model_dir), None)
    assert model.ready is False
    assert model.load() is True
    assert model.ready is True


def test_server_refuses_a_missing_model_directory(tmp_path):
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from sandbox.model_server import MODEL_SRC  # noqa: PLC0415
    from sandbox.paths import tool_env  # noqa: PLC0415

    r = subprocess.run(
        [sys.executable, "-m", "mlops_model.server", "--model", str(tmp_path / "none"), "--port", "1"],
        capture_output=True, text=True, env=tool_env({"PYTHONPATH": str(MODEL_SRC)}), timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 2
    assert "does not exist" in r.stderr
