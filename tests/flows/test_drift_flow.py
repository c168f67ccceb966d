"""drift_context and playbooks/drift_analysis.yml against a real MLflow server and a real Prometheus
scraping the real model server, with GitHub and Slack fakes: one model drifting from P2 to P1 to P0."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
import requests
import yaml

from mlops_model import artifacts
from mlops_model.train import main as train_main
from sandbox.model_server import ModelServerProcess, breast_cancer_rows, predict_v1
from sandbox.paths import REPO
from sandbox.prometheus import prometheus_config

from .scenarios import REPO_NAME

pytestmark = [pytest.mark.services, pytest.mark.slow]

PLAYBOOK = REPO / "playbooks" / "drift_analysis.yml"
MODULE = "mlops.hybrid.drift_context"
PIPELINE = REPO / ".github" / "workflows" / "model-pipeline.yml"


def pipeline_inputs():
    """The workflow_dispatch inputs of the real model pipeline: the retraining dispatch must match them."""
    doc = yaml.safe_load(PIPELINE.read_text())
    return doc[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads the key `on` as True


def until(check, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s not seen within %.0fs" % (what, timeout))
        time.sleep(0.5)


@pytest.fixture
def served(request, mlflow_tracking, tmp_path, start_prometheus):
    """A model trained and registered (alias champion) in MLflow, served by the real server, scraped by Prometheus.

    ``request.param`` (indirect parametrisation), when given, is extra arguments of the training.
    """
    name = mlflow_tracking.unique("model")
    exp = mlflow_tracking.unique("exp")
    out = tmp_path / "artifacts"
    extra = list(getattr(request, "param", None) or [])
    assert train_main(["--output-dir", str(out), "--experiment", exp, *extra]) == 0
    client = mlflow_tracking.client()
    (run,) = client.search_runs([client.get_experiment_by_name(exp).experiment_id])
    import mlflow  # noqa: PLC0415

    version = mlflow.register_model("runs:/%s/model" % run.info.run_id, name).version
    client.set_registered_model_alias(name, "champion", version)
    server = ModelServerProcess(
        tmp_path / "server",
        str(out),
        model_name=name,
        # The labelled feedback is kept, as in the cluster (a volume there), for the P0 retrain.
        extra=[
            *("--window", "150", "--min-samples", "100", "--feedback-window", "100"),
            *("--feedback-dir", str(tmp_path / "feedback")),
        ],
    ).start()
    try:
        prom = start_prometheus(prometheus_config({"model": ["127.0.0.1:%d" % server.port]}))
        yield {
            "name": name,
            "version": int(version),
            "server": server,
            "prom": prom,
            "mlflow": mlflow_tracking.uri,
            "artifacts": out,
        }
    finally:
        server.stop()


def send(server, rows, labels=None, tag="r"):
    """Predict in batches of 50; with labels, send them back as feedback for each batch."""
    for n in range(0, len(rows), 50):
        rid = "%s-%d" % (tag, n)
        predict_v1(server, rows[n : n + 50], request_id=rid)
        if labels is not None:
            r = requests.post(
                server.v1(":feedback"), json={"request_id": rid, "labels": labels[n : n + 50].tolist()}, timeout=10
            )
            assert r.status_code == 200, r.text


def shifted(rows):
    out = rows.copy()
    out[:, :20] = out[:, :20] * 1.8 + 0.5  # two thirds of the features move far from the training data
    return out


def env_for(s, flow_env):
    return {**flow_env, "MLFLOW_TRACKING_URI": s["mlflow"], "PROMETHEUS_URL": s["prom"].url}


def test_drift_at_each_urgency_takes_its_action(ansible, served, github, slack, flow_env):
    s = served
    wf = github.add_workflow(REPO_NAME, ".github/workflows/model-pipeline.yml", "model-pipeline", pipeline_inputs())
    env = {**env_for(s, flow_env), "AIOPS_TEAMS": '{"ml": ["acme/ml-oncall"], "security": ["acme/security"]}'}
    rows, labels = breast_cancer_rows()
    prom, name = s["prom"], s["name"]
    sel = '{model_name="%s"}' % name

    # P2: traffic like the training data, labelled correctly: nothing significant -> Slack only.
    send(s["server"], rows[:300], labels[:300], "p2")
    until(
        lambda: (
            prom.value("model_feedback_total%s" % sel) == 300 and prom.value("model_drift_share%s" % sel) is not None
        ),
        "P2 figures",
    )
    p2 = ansible.playbook(PLAYBOOK, extravars={"drift_model_name": name}, env=env)
    assert p2.ok, p2.stdout[-3000:]
    ctx = p2.task("Collect the drift figures (MLflow and Prometheus, read-only)").res
    print("P2:", p2.task("Say what was done").res["msg"])
    assert ctx["assessment"]["urgency"] == "P2" and ctx["changed"] is False
    assert ctx["model"]["version"] == s["version"] and ctx["model"]["metrics"]["accuracy"] > 0.9
    assert ctx["model"]["history"]["7d"]["versions"] == 1 and ctx["model"]["feature_importances"]
    assert ctx["model"]["reference"]["features"] == 30 and ctx["serving"]["accuracy"] > 0.9
    assert sum(ctx["serving"]["predictions_by_class"].values()) == 300
    assert ctx["serving"]["confidence_iqr"] is not None and ctx["serving"]["traffic_by_hour"]
    # What the drift specialist reads: the hourly traffic is in the text it is given.
    assert "traffic by hour (" in ctx["text"]
    assert "traffic by hour (" in p2.task("Ask the drift specialist").res["excerpt"]
    (msg,) = slack.messages
    assert "[P2]" in msg["text"] and ctx["assessment"]["hypothesis"].split(":")[0] in msg["text"]
    assert github.issues(REPO_NAME) == [] and github.workflow_dispatches(REPO_NAME) == []

    # P1: inputs drift, accuracy still measured on the earlier labels -> an issue for the ML team.
    send(s["server"], shifted(rows[:200]), None, "p1")
    until(lambda: (prom.value("model_drift_share%s" % sel) or 0) >= 0.5, "drift share >= 0.5")
    p1 = ansible.playbook(PLAYBOOK, extravars={"drift_model_name": name}, env=env)
    assert p1.ok, p1.stdout[-3000:]
    print("P1:", p1.task("Say what was done").res["msg"])
    a1 = p1.task("Collect the drift figures (MLflow and Prometheus, read-only)").res["assessment"]
    assert (a1["urgency"], a1["drift_type"], a1["action"]) == ("P1", "data drift", "issue")
    # Every drifted feature is counted, not only the top ones the module lists.
    drifted = int(prom.value("count(model_feature_psi%s >= 0.2)" % sel) or 0)
    assert "(%d of 30 features at PSI >= 0.20)" % drifted in " ".join(a1["figures"]), (drifted, a1["figures"])
    (issue,) = github.issues(REPO_NAME)
    assert {"aiops", "ml", "drift", "P1"} <= set(issue["labels"])
    assert "**Team:** ml (cc @acme/ml-oncall)" in issue["body"] and "@acme/security" not in issue["body"]
    assert a1["hypothesis"][:60] in issue["body"] and "drift share" in issue["body"]
    assert a1["affected_features"][0]["feature"] in issue["body"]
    assert len(slack.messages) == 1 and github.workflow_dispatches(REPO_NAME) == []

    # P0: labels show the model is now wrong -> retraining dispatched, an issue and Slack.
    send(s["server"], shifted(rows[200:350]), 1 - labels[200:350], "p0")
    until(lambda: (prom.value("model_accuracy%s" % sel) or 1) < 0.85, "accuracy below the gate")
    p0 = ansible.playbook(PLAYBOOK, extravars={"drift_model_name": name}, env=env)
    assert p0.ok, p0.stdout[-3000:]
    print("P0:", p0.task("Say what was done").res["msg"])
    a0 = p0.task("Collect the drift figures (MLflow and Prometheus, read-only)").res["assessment"]
    assert (a0["urgency"], a0["action"]) == ("P0", "retrain")
    (dispatch,) = github.workflow_dispatches(REPO_NAME)
    assert dispatch == {"workflow": wf, "ref": "main", "inputs": {"force_retrain": "true"}}
    p0_issues = [i for i in github.issues(REPO_NAME) if "P0" in i["labels"]]
    assert len(p0_issues) == 1 and a0["hypothesis"][:60] in p0_issues[0]["body"]
    assert "online accuracy" in p0_issues[0]["body"]
    assert len(slack.messages) == 2 and "[P0]" in slack.messages[1]["text"]
    # The token went only into the Authorization header of the dispatch, never into a body or the output.
    assert github.token not in p0.stdout
    for r in github.calls("POST"):
        assert github.token not in r.raw


def test_drift_context_check_mode_and_a_missing_model(ansible, served):
    s = served
    rows, labels = breast_cancer_rows()
    send(s["server"], rows[:150], labels[:150], "c")
    until(lambda: s["prom"].value('model_drift_share{model_name="%s"}' % s["name"]) is not None, "drift share")
    args = {"model_name": s["name"], "prometheus_url": s["prom"].url, "tracking_uri": s["mlflow"]}
    res = ansible.module(MODULE, args, check=True).res
    assert res["changed"] is False and res["model"]["alias"] == "champion", res.get("msg")
    assert res["serving"]["served_version"] is not None and "psi" in res["text"]

    missing = ansible.module(MODULE, {**args, "model_name": "no-such-model"})
    assert missing.failed and "MLflow has no alias 'champion' of model 'no-such-model'" in missing.res["msg"]
    no_metrics = ansible.module(MODULE, {**args, "namespace": "elsewhere"})
    assert no_metrics.failed and "has no model_feature_psi or model_drift_share series" in no_metrics.res["msg"]
    dead = ansible.module(MODULE, {**args, "prometheus_url": "http://127.0.0.1:9"})
    assert dead.failed and "cannot reach Prometheus at http://127.0.0.1:9" in dead.res["msg"]


def test_p0_retrain_is_dispatched_with_the_feedback_the_server_kept(ansible, served, github, flow_env, capsys):
    """The server's kept feedback, exported to MLflow by mlops-model-feedback: the P0 dispatch names it."""
    from mlops_model.feedback import main as feedback_main  # noqa: PLC0415
    from mlops_model.feedback import read_feedback  # noqa: PLC0415

    s = served
    wf = github.add_workflow(REPO_NAME, ".github/workflows/model-pipeline.yml", "model-pipeline", pipeline_inputs())
    rows, labels = breast_cancer_rows()
    send(s["server"], shifted(rows[:150]), 1 - labels[:150], "fb")
    sel = '{model_name="%s"}' % s["name"]
    until(lambda: (s["prom"].value("model_accuracy%s" % sel) or 1) < 0.85, "accuracy below the gate")
    out = s["artifacts"].parent / "feedback.csv"
    capsys.readouterr()
    assert feedback_main(["export", "--url", s["server"].url, "--name", s["name"], "--output", str(out)]) == 0
    uri = re.search(r"labelled rows from \S+ in (runs:/\S+)", capsys.readouterr().out).group(1)

    bad = ansible.playbook(PLAYBOOK, extravars={"drift_model_name": s["name"]},
                           env={**env_for(s, flow_env), "DRIFT_FEEDBACK_URI": str(out)})  # fmt: skip
    assert not bad.ok and "drift_feedback_uri (DRIFT_FEEDBACK_URI), when set, is the runs:/" in bad.stdout
    assert github.workflow_dispatches(REPO_NAME) == []
    run = ansible.playbook(PLAYBOOK, extravars={"drift_model_name": s["name"]},
                           env={**env_for(s, flow_env), "DRIFT_FEEDBACK_URI": uri})  # fmt: skip
    assert run.ok, run.stdout[-3000:]
    (dispatch,) = github.workflow_dispatches(REPO_NAME)
    assert dispatch == {"workflow": wf, "ref": "main", "inputs": {"force_retrain": "true", "feedback": uri}}
    assert uri in run.task("Say what was done").res["msg"]
    # What the pipeline's train step will read: the 150 labelled rows, as served, with their labels.
    names = artifacts.read_json(s["artifacts"] / "metadata.json")["feature_names"]
    kept = read_feedback(uri, names, 2)
    assert np.allclose(kept.x, shifted(rows[:150])) and kept.y.tolist() == (1 - labels[:150]).tolist()


def test_repository_dispatch_carries_the_hypothesis_and_figures(ansible, served, github, flow_env):
    s = served
    rows, labels = breast_cancer_rows()
    send(s["server"], shifted(rows[:150]), 1 - labels[:150], "rd")
    sel = '{model_name="%s"}' % s["name"]
    until(lambda: (s["prom"].value("model_accuracy%s" % sel) or 1) < 0.85, "accuracy below the gate")
    run = ansible.playbook(
        PLAYBOOK,
        extravars={"drift_model_name": s["name"], "drift_retrain_via": "repository_dispatch"},
        env=env_for(s, flow_env),
    )
    assert run.ok, run.stdout[-3000:]
    (event,) = github.dispatches(REPO_NAME)
    payload = event["client_payload"]
    assert event["event_type"] == "retrain-model" and payload["urgency"] == "P0"
    assert payload["model_name"] == s["name"] and payload["hypothesis"] and payload["figures"]
    assert np.isclose(float(payload["version"]), s["version"])


# A strongly regularised model (C 0.01, accuracy about 0.94): its confidence spreads over ordinary traffic.
@pytest.mark.parametrize("served", [["--c", "0.01"]], indirect=True)
def test_an_unsure_model_with_stable_inputs_is_a_p2_with_what_to_investigate(ansible, served, github, slack, flow_env):
    """Real rows only, spread over the data set, and the 30 the served model is least sure of: the inputs stay
    within the training data (no feature at PSI 0.2) while the confidence spreads past the alert's 0.2."""
    s = served
    env = {**env_for(s, flow_env), "AIOPS_TEAMS": '{"ml": ["acme/ml"]}'}
    rows, _labels = breast_cancer_rows()
    rows = np.asarray(rows)
    confidence = artifacts.load(str(s["artifacts"])).estimator.predict_proba(rows).max(axis=1)
    ordinary = rows[np.linspace(0, len(rows) - 1, 120).astype(int)]
    send(s["server"], np.vstack([ordinary, rows[np.argsort(confidence)[:30]]]), None, "unsure")
    sel = '{model_name="%s"}' % s["name"]
    until(lambda: s["prom"].value("model_drift_share%s" % sel) is not None, "drift figures")
    run = ansible.playbook(PLAYBOOK, extravars={"drift_model_name": s["name"]}, env=env)
    assert run.ok, run.stdout[-3000:]
    ctx = run.task("Collect the drift figures (MLflow and Prometheus, read-only)").res
    a = ctx["assessment"]
    print("unsure traffic:", a["drift_type"], a["figures"])
    assert ctx["serving"]["confidence_iqr"] > 0.2
    assert (a["urgency"], a["drift_type"], a["action"]) == ("P2", "confidence spread", "slack")
    assert any(f.startswith("confidence IQR") for f in a["figures"])
    (msg,) = slack.messages
    print(msg["text"])
    assert "[P2]" in msg["text"] and "Investigate: (1)" in msg["text"]
    assert github.issues(REPO_NAME) == []


def test_payload_statistics_reach_the_prompt_with_the_missing_values(ansible, served, start_prometheus):
    """One feature scaled by 1.5 and requests lacking a value: the served window's mean and spread beside the
    training data's, the shift in training deviations, and the share of instances refused, as drift_context
    reads them from Prometheus scraping the real server (in the window, and since the server started for a
    Prometheus that saw none of the traffic arrive)."""
    s = served
    sel = '{model_name="%s"}' % s["name"]
    until(lambda: s["prom"].value("sum(model_missing_instances_total%s)" % sel) == 0, "a first scrape")
    rows, _labels = breast_cancer_rows()
    rows = np.asarray(rows, dtype=float)
    live = rows[:150].copy()
    live[:, 0] *= 1.5  # mean radius
    send(s["server"], live, None, "pay")
    reference = artifacts.load(str(s["artifacts"])).reference
    texture = reference.feature_names.index("mean texture")
    holes = [[None if j == texture else v for j, v in enumerate(r)] for r in rows[150:200].tolist()]
    r = requests.post(s["server"].v1(), json={"instances": holes}, timeout=10)
    assert r.status_code == 400 and "mean texture" in r.json()["error"]
    until(lambda: s["prom"].value("sum(model_missing_instances_total%s)" % sel) == 50, "the refusal scraped")
    # increase() extrapolates from the samples it has: a few scrapes after the refusal keep that within 10 %.
    samples = "count_over_time(model_missing_instances_total%s[24h])" % sel
    scraped = s["prom"].value(samples)
    until(lambda: s["prom"].value(samples) >= scraped + 6, "six more scrapes")
    until(lambda: s["prom"].value('count(model_feature_mean{model_name="%s",data="live"})' % s["name"]), "live means")
    args = {"model_name": s["name"], "prometheus_url": s["prom"].url, "tracking_uri": s["mlflow"]}
    res = ansible.module(MODULE, {**args, "top_features": 30}, check=True).res
    assert res["changed"] is False, res.get("msg")
    payload = {f["feature"]: f for f in res["serving"]["payload"]}
    radius = payload["mean radius"]
    print("payload:", radius, payload["mean texture"], res["serving"]["payload_window"])
    assert radius["mean"] == pytest.approx(live[:, 0].mean(), rel=1e-3)
    assert radius["stddev"] == pytest.approx(live[:, 0].std(), rel=1e-3)
    assert radius["training_mean"] == pytest.approx(reference.feature_mean[0], rel=1e-3)
    expected_shift = (live[:, 0].mean() - reference.feature_mean[0]) / reference.feature_std[0]
    assert radius["shift_sd"] == pytest.approx(expected_shift, rel=1e-2) and radius["shift_sd"] > 1
    # 50 of the 200 instances received lacked mean texture (increase() extrapolates: within 10 %).
    assert res["serving"]["payload_window"] == "24h"
    assert payload["mean texture"]["missing_share"] == pytest.approx(0.25, rel=0.1)
    assert res["serving"]["payload"][0]["feature"] == "mean texture"  # missing values first
    assert radius["missing_share"] == 0
    a = res["assessment"]
    assert a["missing_features"] == ["mean texture"]
    assert any(f.startswith("instances refused for a missing value: mean texture") for f in a["figures"])
    line = "payload mean radius: mean %s (training %s, shift %s sd)" % (
        radius["mean"],
        radius["training_mean"],
        radius["shift_sd"],
    )
    assert line in res["text"]
    assert re.search(r"payload mean texture: .*missing 2\d\.\d% of instances \(24h\)", res["text"]), res["text"]
    # The default keeps the ten most telling features, as feature_psi.
    assert len(ansible.module(MODULE, args, check=True).res["serving"]["payload"]) == 10

    # A Prometheus started after the traffic saw no increase: the shares since the server started, exact.
    late = start_prometheus(prometheus_config({"model": ["127.0.0.1:%d" % s["server"].port]}))
    until(lambda: late.value("sum(model_missing_instances_total%s)" % sel) == 50, "the late scrape")
    res = ansible.module(MODULE, {**args, "prometheus_url": late.url}, check=True).res
    assert res["serving"]["payload_window"] == "since the server started", res.get("msg")
    first = res["serving"]["payload"][0]
    assert (first["feature"], first["missing_share"]) == ("mean texture", 0.25)
    assert "missing 25.0% of instances (since the server started)" in res["text"]
