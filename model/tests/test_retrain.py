"""Retraining with updated data: labelled feedback kept by the real server, exported to the real
MLflow server, and a retrain on reference data plus that feedback that beats the champion on the
shifted traffic."""

from __future__ import annotations

import csv
import io
import re
import time

import numpy as np
import pytest
import requests

from mlops_model import artifacts
from mlops_model.errors import InvalidInput
from mlops_model.feedback import META_COLUMNS, FeedbackStore, read_feedback
from mlops_model.feedback import main as feedback_main
from mlops_model.train import main as train_main
from sandbox.model_server import breast_cancer_rows, predict_v1

pytestmark = [pytest.mark.services, pytest.mark.slow]

# A recalibrated instrument: the size measurements of production come 1.6 times larger, so the
# champion takes benign tumours for malignant ones. The truth (the labels) has not changed.
SHIFTED = ("mean radius", "mean perimeter", "mean area", "worst radius", "worst perimeter", "worst area")
FACTOR = 1.6
FEEDBACK_ROWS = 380  # sent, labelled and kept; the other rows are the held-out shifted traffic
BATCH = 20


def shifted_traffic(names: list[str]):
    rows, labels = breast_cancer_rows()
    rng = np.random.default_rng(11)
    order = rng.permutation(len(rows))
    x = rows[order] * rng.normal(1.0, 0.01, size=rows.shape)  # not the exact reference rows
    x[:, [names.index(n) for n in SHIFTED]] *= FACTOR
    return x, labels[order]


def contexts(run) -> list[str]:
    """The ``mlflow.data.context`` of each dataset a run logged."""
    return [t.value for i in run.inputs.dataset_inputs for t in i.tags if t.key == "mlflow.data.context"]


def accuracy(model_dir, x, y) -> float:
    return float(np.mean(artifacts.load(str(model_dir)).estimator.predict(x) == y))


def test_retrain_on_kept_feedback_beats_the_champion_on_shifted_traffic(
    model_server, mlflow_tracking, tmp_path, capsys
):
    experiment = mlflow_tracking.unique()
    champion = tmp_path / "champion"
    assert train_main(["--output-dir", str(champion), "--experiment", experiment, "--min-accuracy", "0.9"]) == 0
    names = artifacts.read_json(champion / "metadata.json")["feature_names"]
    x, y = shifted_traffic(names)
    x_feedback, y_feedback = x[:FEEDBACK_ROWS], y[:FEEDBACK_ROWS]
    x_held, y_held = x[FEEDBACK_ROWS:], y[FEEDBACK_ROWS:]

    # Production: the champion serves the shifted traffic, the labels come back later as feedback.
    store = tmp_path / "feedback-volume"
    server = model_server("--feedback-dir", str(store), model=str(champion))
    for start in range(0, FEEDBACK_ROWS, BATCH):
        request_id = f"shifted-{start}"
        predict_v1(server, x_feedback[start : start + BATCH], request_id=request_id)
        labels = y_feedback[start : start + BATCH].tolist()
        r = requests.post(server.v1(":feedback"), json={"request_id": request_id, "labels": labels}, timeout=10)
        assert r.status_code == 200, r.text
    assert r.json()["kept"] == FEEDBACK_ROWS

    # Kept on the volume: each row what was predicted on, with its label and the serving version.
    with (store / "feedback.csv").open(newline="") as f:
        kept = list(csv.DictReader(f))
    assert len(kept) == FEEDBACK_ROWS
    assert {row["model_version"] for row in kept} == {"local"}
    assert np.allclose([[float(row[n]) for n in names] for row in kept], x_feedback)
    assert [int(row["label"]) for row in kept] == y_feedback.tolist()

    # Exported from the server and logged to MLflow as a dataset.
    capsys.readouterr()
    fb_experiment = mlflow_tracking.unique("feedback")
    out = tmp_path / "export" / "feedback.csv"
    assert feedback_main(["export", "--url", server.url, "--output", str(out), "--experiment", fb_experiment]) == 0
    line = capsys.readouterr().out
    assert f"{FEEDBACK_ROWS} labelled rows" in line, line
    uri = re.search(r"labelled rows from \S+ in (runs:/\S+)", line).group(1)
    assert uri.startswith("runs:/") and uri.endswith("/feedback/feedback.csv"), uri
    client = mlflow_tracking.client()
    export_run = client.get_run(uri.split("/")[1])
    assert contexts(export_run) == ["feedback"]
    assert export_run.data.params["feedback_rows"] == str(FEEDBACK_ROWS)

    # The P0 retrain: reference data plus the feedback read back from MLflow, same gate.
    retrained = tmp_path / "retrained"
    retrain = ["--output-dir", str(retrained), "--experiment", experiment, "--min-accuracy", "0.9"]
    assert train_main([*retrain, "--feedback", uri]) == 0
    printed = capsys.readouterr().out
    assert f"feedback {FEEDBACK_ROWS} rows" in printed and "gate passed" in printed, printed
    metrics = artifacts.read_json(retrained / "metrics.json")
    assert metrics["accuracy"] >= 0.9  # on the reference test split: the gate still applies

    before, after = accuracy(champion, x_held, y_held), accuracy(retrained, x_held, y_held)
    print(
        f"\nheld-out shifted traffic ({len(y_held)} rows, {', '.join(SHIFTED)} x{FACTOR}): "
        f"champion accuracy {before:.4f}, retrained on {FEEDBACK_ROWS} feedback rows {after:.4f}; "
        f"reference test split {artifacts.read_json(champion / 'metrics.json')['accuracy']:.4f} -> "
        f"{metrics['accuracy']:.4f}; held-out feedback {metrics['feedback_accuracy']:.4f}"
    )
    assert after > before

    # Two dataset versions in MLflow: the champion's training rows and the rows plus feedback.
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id], order_by=["start_time ASC"])
    assert len(runs) == 2
    assert [contexts(run) for run in runs] == [["training"], ["training"]]
    first, second = (run.inputs.dataset_inputs[0].dataset for run in runs)
    assert first.name == second.name == f"{experiment}-training"
    assert first.digest != second.digest
    params = runs[1].data.params
    assert params["feedback_rows"] == str(FEEDBACK_ROWS) and params["feedback"] == uri
    assert int(params["feedback_train_rows"]) + int(params["feedback_holdout_rows"]) == FEEDBACK_ROWS
    assert int(params["train_rows"]) == int(runs[0].data.params["train_rows"]) + int(params["feedback_train_rows"])


def test_the_store_keeps_its_caps_across_restarts(tmp_path):
    names = ["a", "b"]
    store = FeedbackStore(tmp_path, names, max_rows=10, max_days=1)
    rows = np.arange(40, dtype=float).reshape(20, 2)
    for i in range(0, 20, 2):
        kept = store.append(f"r{i}", "3", rows[i : i + 2], np.array([0, 1]), np.array([1, 1]))
    assert kept <= 11  # rewritten once it is a tenth over the cap
    exported = list(csv.reader(io.StringIO(store.export().decode())))
    assert exported[0] == [*META_COLUMNS, *names]
    assert [float(r[-1]) for r in exported[1:]] == rows[-10:, 1].tolist()

    # Rows older than max_days are dropped, here when the server starts again.
    path = tmp_path / "feedback.csv"
    lines = path.read_text().splitlines()
    old = f"{time.time() - 2 * 86400:.3f}"
    path.write_text("\n".join([lines[0], *(old + line[line.index(",") :] for line in lines[1:4]), *lines[4:]]) + "\n")
    again = FeedbackStore(tmp_path, names, max_rows=10, max_days=1)
    assert len(again.export().decode().splitlines()) == 1 + len(lines) - 4

    # Another model's file (other features) is set aside, not mixed in.
    FeedbackStore(tmp_path, ["other"], max_rows=10, max_days=1)
    assert len(list(tmp_path.glob("feedback.*.csv"))) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,label\n1,0\n", "lacks the columns ['a', 'b']"),
        (f"{','.join(META_COLUMNS)},a,b\n", "holds no rows"),
        (f"{','.join(META_COLUMNS)},a,b\n1,v,r,0,7,1.0,2.0\n", "labels outside 0..1"),
        (f"{','.join(META_COLUMNS)},a,b\n1,v,r,0,1,x,2.0\n", "non-numeric"),
    ],
)
def test_bad_feedback_files_are_refused_by_name(tmp_path, content, message):
    path = tmp_path / "f.csv"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=r"feedback file .*f\.csv") as e:
        read_feedback(str(path), ["a", "b"], 2)
    assert message in str(e.value)


def test_bad_feedback_stops_training_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "never"
    assert train_main(["--output-dir", str(out), "--feedback", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_export_is_refused_where_nothing_is_kept(model_server):
    rows, _ = breast_cancer_rows()
    counting = model_server()
    r = requests.get(counting.v1(":feedback"), timeout=10)
    assert r.status_code == 409 and "--feedback-dir" in r.json()["error"]
    off = model_server("--monitoring", "off", "--feedback-dir", "/nonexistent/never-created")
    predict_v1(off, rows[:2], request_id="x")
    r = requests.get(off.v1(":feedback"), timeout=10)
    assert r.status_code == 409 and "monitoring is off" in r.json()["error"]
