"""Training and evaluation: the gate, the artifacts, reproducibility, and MLflow logging."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlops_model import artifacts
from mlops_model.data import load_split
from mlops_model.evaluate import main as evaluate_main
from mlops_model.reference import Reference
from mlops_model.train import main as train_main
from sandbox.model_server import predict_v1


def test_training_passes_the_gate_and_writes_every_artifact(model_dir):
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert metrics["accuracy"] >= 0.85
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert metadata["data_hash"] == load_split().data_hash
    assert len(metadata["feature_names"]) == 30
    importances = json.loads((model_dir / "feature_importances.json").read_text())
    assert sum(importances.values()) == pytest.approx(1.0)
    ref = Reference.load(model_dir)
    assert ref.edges.shape == (30, 9)
    assert ref.feature_proportions.sum(axis=1) == pytest.approx(np.ones(30))
    assert ref.class_proportions.sum() == pytest.approx(1.0)


def test_gate_fails_with_one_line_naming_metric_value_and_threshold(tmp_path, capsys):
    assert train_main(["--output-dir", str(tmp_path / "m"), "--min-accuracy", "0.999"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("gate failed: accuracy 0.9")
    assert "below the threshold 0.9990" in err[0]


def test_evaluate_reproduces_training_metrics_and_gates(model_dir, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert evaluate_main(["--model", str(model_dir), "--output", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads((model_dir / "metrics.json").read_text())
    assert "gate passed" in capsys.readouterr().out
    assert evaluate_main(["--model", str(model_dir), "--min-accuracy", "0.9999"]) == 4
    assert "gate failed: accuracy" in capsys.readouterr().err


def test_training_is_reproducible(model_dir, tmp_path):
    assert train_main(["--output-dir", str(tmp_path / "again")]) == 0
    for name in ("metrics.json", "reference.json", "feature_importances.json"):
        assert (tmp_path / "again" / name).read_text() == (model_dir / name).read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "/nonexistent/dir"], "does not exist"),
        (["--model", "{tmp}"], "model.joblib is missing"),
    ],
)
def test_evaluate_names_bad_model_sources(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert evaluate_main(argv) != 0
    assert message in capsys.readouterr().err


def test_min_accuracy_outside_zero_one_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        train_main(["--output-dir", str(tmp_path), "--min-accuracy", "85"])
    assert e.value.code == 2
    assert "outside 0..1" in capsys.readouterr().err


@pytest.mark.services
@pytest.mark.slow
def test_training_logs_everything_to_mlflow_and_loads_back(mlflow_tracking, model_server, tmp_path, capsys):
    experiment = mlflow_tracking.unique("exp")
    assert train_main(["--output-dir", str(tmp_path / "m"), "--experiment", experiment]) == 0
    out = capsys.readouterr().out
    run_id = out.split("mlflow run ")[1].split()[0]
    client = mlflow_tracking.client()
    run = client.get_run(run_id)
    assert run.data.metrics["accuracy"] >= 0.85
    assert run.data.params["seed"] == "42"
    assert run.data.tags["data_hash"] == load_split().data_hash
    assert run.data.tags["gate"] == "passed"
    logged = {f.path for f in client.list_artifacts(run_id, artifacts.MLFLOW_ARTIFACT_PATH)}
    assert {f"training/{n}" for n in ("reference.json", "feature_importances.json", "metadata.json")} <= logged

    import mlflow  # noqa: PLC0415

    name = mlflow_tracking.unique("model")
    version = mlflow.register_model(f"runs:/{run_id}/model", name)
    client.set_registered_model_alias(name, "champion", version.version)
    info = mlflow.models.get_model_info(f"models:/{name}@champion")
    assert info.signature is not None
    assert info.saved_input_example_info is not None
    loaded = artifacts.load(f"models:/{name}@champion")
    assert loaded.version == version.version
    assert loaded.reference.feature_names == load_split().feature_names
    assert evaluate_main(["--model", f"models:/{name}@champion"]) == 0

    # The server loads the champion from the registry too, and says which version it serves.
    server = model_server(model=f"models:/{name}@champion")
    rows = load_split().x_test[:4]
    assert predict_v1(server, rows)["predictions"] == loaded.estimator.predict(rows).tolist()
    assert f'model_info{{model_name="breast-cancer",revision="unknown",version="{version.version}"}} 1.0' in (
        server.metrics()
    )
