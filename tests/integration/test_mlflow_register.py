"""mlops.hybrid.mlflow_register through Ansible against a real MLflow tracking server."""

from __future__ import annotations

import json
import socket
import time

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow.registry import HISTORY_PREFIX
from sandbox.mlflow_server import unique_name, use_tracking_uri

pytestmark = pytest.mark.services

MODULE = "mlops.hybrid.mlflow_register"


@pytest.fixture(scope="module")
def runs(mlflow_server):
    """Three runs, each with a tiny scikit-learn model: two good ones and one below the gate."""
    import mlflow  # noqa: PLC0415 - heavy
    import mlflow.sklearn  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    client = mlflow_server.client()
    experiment = client.create_experiment(unique_name("register"))
    estimator = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    ids = {}
    with use_tracking_uri(mlflow_server.url):
        for label, accuracy in (("good", 0.95), ("better", 0.97), ("poor", 0.70)):
            with mlflow.start_run(experiment_id=experiment) as run:
                mlflow.log_metric("accuracy", accuracy)
                mlflow.sklearn.log_model(estimator, name="model", pip_requirements=["scikit-learn"])
            ids[label] = run.info.run_id
    return ids


def args(server, name, run_id, **extra):
    out = {"name": name, "run_id": run_id, "tracking_uri": server.url, "actor": "ci-bot", "reason": "test"}
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def model_exists(client, name) -> bool:
    return bool(client.search_registered_models(filter_string="name = '%s'" % name))


def test_check_then_register_then_unchanged(ansible, mlflow_server, runs):
    client, name = mlflow_server.client(), unique_name("bc")
    lineage = {"git_sha": "0123abc", "data_hash": "f" * 64, "pipeline_run_url": "https://ci.example/run/1"}
    a = args(mlflow_server, name, runs["good"], tags=lineage, metric="accuracy", min_value=0.9)

    check = ansible.module(MODULE, a, check=True)
    assert not check.failed, check.res.get("msg")
    assert check.changed and check.res["version"] is None
    assert check.res["gate"] == {"name": "accuracy", "value": 0.95, "min_value": 0.9, "passed": True}
    assert not model_exists(client, name)

    first = ansible.module(MODULE, a)
    assert not first.failed, first.res.get("msg")
    assert first.changed and first.res["version"] == "1" and first.res["previous_version"] is None
    assert first.res["model_uri"] == "models:/%s/1" % name and first.res["alias_uri"] == "models:/%s@champion" % name
    version = client.get_model_version_by_alias(name, "champion")
    assert version.version == "1" and version.run_id == runs["good"]
    assert {k: version.tags[k] for k in lineage} == lineage
    assert [(h["alias"], h["version"], h["previous_version"], h["actor"]) for h in first.res["history"]] == [
        ("champion", "1", None, "ci-bot")
    ]

    again = ansible.module(MODULE, a)
    assert not again.failed and not again.changed
    assert again.res["version"] == "1" and again.res["actions"] == []
    assert len(client.search_model_versions("name = '%s'" % name)) == 1
    assert not ansible.module(MODULE, a, check=True).changed

    retag = ansible.module(MODULE, {**a, "tags": {**lineage, "image_digest": "sha256:" + "1" * 64}})
    assert retag.changed and retag.res["actions"] == ["set version tags image_digest"]
    assert len(retag.res["history"]) == 1  # tags changed, the alias did not move


def test_alias_moves_are_recorded_and_a_rollback_reuses_the_version(ansible, mlflow_server, runs):
    client, name = mlflow_server.client(), unique_name("bc")
    assert ansible.module(MODULE, args(mlflow_server, name, runs["good"])).res["version"] == "1"

    promote = ansible.module(MODULE, args(mlflow_server, name, runs["better"], reason="nightly"), diff=True)
    assert not promote.failed, promote.res.get("msg")
    assert promote.res["version"] == "2" and promote.res["previous_version"] == "1"
    out = promote.res["_stdout"]  # the diff shows the alias move
    assert "-        champion: '1'" in out and "+        champion: '2'" in out, out

    rollback = ansible.module(MODULE, args(mlflow_server, name, runs["good"], actor="oncall", reason="INC-7"))
    assert rollback.changed and rollback.res["version"] == "1" and rollback.res["previous_version"] == "2"
    assert len(client.search_model_versions("name = '%s'" % name)) == 2

    moves = [(h["version"], h["previous_version"], h["actor"], h["reason"]) for h in rollback.res["history"]]
    assert moves == [("1", None, "ci-bot", "test"), ("2", "1", "ci-bot", "nightly"), ("1", "2", "oncall", "INC-7")]
    times = [h["at"] for h in rollback.res["history"]]
    assert times == sorted(times)
    # The history lives in the registry itself: a fresh client reads the same records.
    stored = {
        k: json.loads(v) for k, v in client.get_registered_model(name).tags.items() if k.startswith(HISTORY_PREFIX)
    }
    assert sorted(stored) == ["%schampion.%06d" % (HISTORY_PREFIX, n) for n in (1, 2, 3)]
    assert stored["%schampion.000003" % HISTORY_PREFIX]["run_id"] == runs["good"]


def test_gate_failure_names_metric_value_and_threshold_and_registers_nothing(ansible, mlflow_server, runs):
    client, name = mlflow_server.client(), unique_name("bc")
    for check in (True, False):
        r = ansible.module(
            MODULE, args(mlflow_server, name, runs["poor"], metric="accuracy", min_value=0.85), check=check
        )
        assert r.failed and not r.changed
        assert "accuracy 0.7000" in r.res["msg"] and "threshold 0.8500" in r.res["msg"], r.res["msg"]
        assert r.res["gate"]["passed"] is False
    assert not model_exists(client, name)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"alias": "latest"}, "alias 'latest' is not allowed"),
        ({"alias": "v3"}, "is not allowed"),
        ({"run_id": "0" * 32}, "does not exist"),
        ({"metric": "f1", "min_value": 0.5}, "has no metric 'f1'; it logged: accuracy"),
        ({"metric": "accuracy"}, "parameters are required together: metric, min_value"),
        ({"model_uri": "models:/something/3", "run_id": None}, "names a registered model"),
        ({"artifact_path": "nope"}, "has no model named 'nope'"),
        ({"request_retries": -1}, "request_retries must be 0 or more"),
    ],
)
def test_bad_input_is_refused(ansible, mlflow_server, runs, override, message):
    name = unique_name("bad")
    a = {k: v for k, v in {**args(mlflow_server, name, runs["good"]), **override}.items() if v is not None}
    r = ansible.module(MODULE, a)
    assert r.failed and message in r.res["msg"], r.res["msg"]
    assert not model_exists(mlflow_server.client(), name)


def test_register_from_a_model_uri(ansible, mlflow_server, runs):
    name = unique_name("uri")
    r = ansible.module(MODULE, {**args(mlflow_server, name, None), "model_uri": "runs:/%s/model" % runs["better"]})
    assert not r.failed, r.res.get("msg")
    assert r.res["run_id"] == runs["better"] and r.res["source"].startswith("models:/m-")
    same = ansible.module(MODULE, {**args(mlflow_server, name, None), "model_uri": r.res["source"]})
    assert not same.changed and same.res["version"] == r.res["version"]


def test_credentials_are_sent_and_never_shown(ansible, mlflow_server, runs):
    secret = "s3cret-" + unique_name("pw")
    r = ansible.module(
        MODULE,
        {**args(mlflow_server, unique_name("auth"), runs["good"]), "username": "ci", "password": secret},
    )
    assert not r.failed, r.res.get("msg")
    assert secret not in r.res["_stdout"] and secret not in json.dumps(r.res)


def test_a_dead_server_fails_fast_with_a_clear_message(ansible):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    began = time.monotonic()
    r = ansible.module(MODULE, {"name": "m", "run_id": "0" * 32, "tracking_uri": "http://127.0.0.1:%d" % port})
    print("dead server: the task failed after %.1f s (ansible-runner start-up included)" % (time.monotonic() - began))
    assert r.failed
    assert "cannot reach the MLflow tracking server at http://127.0.0.1:%d" % port in r.res["msg"]
    assert "timeout 10s, 1 retries" in r.res["msg"] and "MLFLOW_TRACKING_URI" in r.res["msg"]


def test_a_server_that_never_answers_is_bounded_by_request_timeout(ansible):
    with socket.socket() as s:  # accepts connections, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        port = s.getsockname()[1]
        began = time.monotonic()
        r = ansible.module(
            MODULE,
            {
                "name": "m",
                "run_id": "0" * 32,
                "tracking_uri": "http://127.0.0.1:%d" % port,
                "request_timeout": 2,
                "request_retries": 0,
            },
        )
        print("silent server: the task failed after %.1f s with request_timeout=2" % (time.monotonic() - began))
    assert r.failed and "timeout 2s, 0 retries" in r.res["msg"] and "timed out" in r.res["msg"].lower(), r.res["msg"]
