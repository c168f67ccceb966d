"""The MLflow fixture is a real tracking server: runs, artifacts through the proxy, the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.mlflow_server import MlflowServer
from sandbox.procs import LIVE, ServiceError, group_alive

pytestmark = pytest.mark.services


def test_run_params_metrics_and_artifact_round_trip(mlflow_tracking, tmp_path):
    import mlflow  # noqa: PLC0415

    exp_name = mlflow_tracking.unique("exp")
    exp_id = mlflow.create_experiment(exp_name)
    (tmp_path / "report.json").write_text(json.dumps({"accuracy": 0.93}))
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_param("max_depth", 3)
        mlflow.log_metric("accuracy", 0.93)
        mlflow.log_artifact(str(tmp_path / "report.json"), artifact_path="reports")

    client = mlflow_tracking.client()
    stored = client.get_run(run.info.run_id)
    assert stored.data.params == {"max_depth": "3"}
    assert stored.data.metrics == {"accuracy": 0.93}
    # Artifacts go through the server's proxy, not straight to a local path.
    assert stored.info.artifact_uri.startswith("mlflow-artifacts:/"), stored.info.artifact_uri
    on_server = list(mlflow_tracking.server.artifacts_dir.rglob("report.json"))
    assert len(on_server) == 1, on_server

    back = client.download_artifacts(run.info.run_id, "reports/report.json", str(tmp_path / "down"))
    assert json.loads(Path(back).read_text()) == {"accuracy": 0.93}


def test_model_logged_registered_and_read_back_over_rest(mlflow_tracking, tmp_path):
    import mlflow  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    model_name = mlflow_tracking.unique("model")
    mlflow.set_experiment(mlflow_tracking.unique("exp"))
    clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            clf, name="model", registered_model_name=model_name, pip_requirements=["scikit-learn"]
        )
    mlflow_tracking.client().set_registered_model_alias(model_name, "champion", "1")

    server = mlflow_tracking.server
    version = server.api("GET", "/api/2.0/mlflow/model-versions/get", params={"name": model_name, "version": "1"})
    assert version["model_version"]["run_id"] == run.info.run_id
    assert version["model_version"]["status"] == "READY"
    by_alias = server.api(
        "GET", "/api/2.0/mlflow/registered-models/alias", params={"name": model_name, "alias": "champion"}
    )
    assert by_alias["model_version"]["version"] == "1"

    # The model's files come back through the artifact proxy and still predict.
    loaded = mlflow.pyfunc.load_model("models:/%s@champion" % model_name)
    assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]
    local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "model"))
    assert "MLmodel" in {p.name for p in Path(local).iterdir()}


def test_unique_names_isolate_tests(mlflow_tracking):
    a, b = mlflow_tracking.unique("model"), mlflow_tracking.unique("model")
    assert a != b
    assert a.startswith("test_unique_names_isolate_tests-model-")


@pytest.mark.slow
def test_server_stops_with_its_workers_and_reports_a_bad_start(tmp_path):
    server = MlflowServer(tmp_path / "own")
    with server:
        pgid = server.pid
        assert pgid in LIVE
        assert server.client().search_experiments()  # the Default experiment
    assert not group_alive(pgid), "mlflow server or its uvicorn worker outlived stop()"
    assert pgid not in LIVE

    broken = MlflowServer(tmp_path / "broken")
    broken.db_path = tmp_path / "no-such-dir" / "x" / "mlflow.db"
    (tmp_path / "no-such-dir").write_text("a file, so the directory cannot exist")
    with pytest.raises(ServiceError, match="log tail"):
        broken.start()
    assert broken.pid not in LIVE
