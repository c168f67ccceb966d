"""The bridge as a process: HTTP contract, admission, spool, delivery to the GitHub fake, context, shutdown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from sandbox.bridge import (
    BRIDGE_SRC,
    COLLECTIONS,
    REPOSITORY,
    BridgeProcess,
    KubernetesWithPodList,
    alert,
    github_fake,
    kubeconfig_for,
    wait_until,
    webhook_body,
)
from sandbox.fakes.kubernetes import crashlooping_pod
from sandbox.paths import tool_env
from sandbox.secrets_planted import LOG as SECRET_LOG
from sandbox.secrets_planted import SECRETS, leaked

pytestmark = pytest.mark.services

REPO_NAME = REPOSITORY


@pytest.fixture
def github():
    with github_fake() as fake:
        yield fake


@pytest.fixture
def bridge_factory(tmp_path, github):
    started: list[BridgeProcess] = []

    def start(env: dict[str, str] | None = None, workdir: str = "bridge") -> BridgeProcess:
        b = BridgeProcess(tmp_path / workdir, github.url, REPO_NAME, github.token, env=env)
        started.append(b)
        return b.start()

    yield start
    for b in started:
        b.stop()


def dispatches(github):
    return github.dispatches(REPO_NAME)


def test_refuses_what_is_not_an_authenticated_v4_notification(bridge_factory, github):
    bridge = bridge_factory({"BRIDGE_MAX_BODY_BYTES": "4096"})
    body = webhook_body([alert("ModelHighLatency", model_name="m")])
    for token in ("", "wrong-token", bridge.token + "x"):
        r = bridge.post("operational", body, token=token)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = requests.post(bridge.url + "/alerts/drift", json=body, timeout=5)  # no header at all
    assert r.status_code == 401
    r = bridge.post("operational", webhook_body([alert("A", annotations={"d": "x" * 5000})]))
    assert r.status_code == 413 and "over the limit of 4096 bytes" in r.json()["error"]
    r = requests.post(
        bridge.url + "/alerts/operational",
        data=b"{not json",
        headers={"Authorization": "Bearer " + bridge.token, "Content-Type": "application/json"},
        timeout=5,
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    bad = dict(body, version="3")
    r = bridge.post("operational", bad)
    assert r.status_code == 400
    assert r.json()["error"] == (
        "not an Alertmanager v4 webhook notification: version is '3': this endpoint takes Alertmanager's "
        'webhook version "4"'
    )
    assert bridge.post("unknown", body).status_code == 404
    assert requests.put(bridge.url + "/alerts/drift", timeout=5).status_code == 405
    # Nothing was accepted: nothing spooled, nothing sent, nothing counted as received.
    assert not list(bridge.spool_dir.glob("*.json"))
    m = bridge.metrics()
    assert m['bridge_alerts_received_total{route="operational"}'] == 0
    assert m['bridge_webhook_requests_total{code="401"}'] == 4  # both routes count
    time.sleep(0.5)
    assert dispatches(github) == []


def test_dispatches_each_route_with_its_event_type_and_no_secret(bridge_factory, github):
    bridge = bridge_factory()
    planted = {
        "description": "db at postgresql://mlflow:%s@db:5432/mlflow" % SECRETS["url_password"],
        "runbook": "token %s" % SECRETS["github_token"],
    }
    op = alert("ModelHighLatency", annotations=planted, model_name="breast-cancer", namespace="models")
    dr = alert("ModelFeatureDrift", model_name="breast-cancer", namespace="models", leak=SECRETS["slack_token"])
    r = bridge.post("operational", webhook_body([op]))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert bridge.post("drift", webhook_body([dr], receiver="bridge-drift")).json()["accepted"] == 1
    got = wait_until(lambda: len(dispatches(github)) == 2 and dispatches(github), 20, "two dispatches")
    by_type = {d["event_type"]: d["client_payload"] for d in got}
    assert set(by_type) == {"aiops-alert", "aiops-drift"}
    assert by_type["aiops-alert"]["alert"]["fingerprint"] == op["fingerprint"]
    assert by_type["aiops-alert"]["alert"]["labels"]["alertname"] == "ModelHighLatency"
    assert by_type["aiops-drift"]["route"] == "drift"
    for payload in by_type.values():
        assert len(payload) <= 10
        assert len(json.dumps(payload)) < 65535
        # No Prometheus configured in this test: the context says so instead of failing the alert.
        assert any("no Prometheus configured" in n for n in payload["context"]["notes"]), payload["context"]
    wire = github.wire_text()
    assert leaked(wire) == []
    assert bridge.token not in wire
    assert "[REDACTED" in json.dumps(by_type["aiops-alert"]["alert"]["annotations"])
    m = bridge.metrics()
    assert m['bridge_dispatches_total{event_type="aiops-alert"}'] == 1
    assert m['bridge_dispatches_total{event_type="aiops-drift"}'] == 1
    assert m["bridge_delivery_latency_seconds_count"] == 2
    assert m["bridge_spool_depth"] == 0
    # The GitHub token went in the Authorization header only, as GitHub expects it.
    call = github.calls("POST", r"/dispatches$")[0]
    assert call.headers["authorization"] == "Bearer %s" % github.token
    assert call.headers["x-github-api-version"] == "2022-11-28"


def test_dedup_rate_limit_and_resolved(bridge_factory, github):
    bridge = bridge_factory({"BRIDGE_RATE_PER_MINUTE": "1", "BRIDGE_RATE_BURST": "3"})
    first = alert("ModelPodCrashLooping", namespace="models", pod="p-0")
    r = bridge.post("operational", webhook_body([first, first]))
    assert r.json() == {"accepted": 1, "deduplicated": 1, "rate_limited": 0, "skipped": 0, "ids": r.json()["ids"]}
    assert bridge.post("operational", webhook_body([first])).json()["deduplicated"] == 1
    others = [alert("ModelPodCrashLooping", namespace="models", pod="p-%d" % i) for i in range(1, 5)]
    answer = bridge.post("operational", webhook_body(others)).json()
    assert (answer["accepted"], answer["rate_limited"]) == (2, 2)
    resolved = alert("ModelPodCrashLooping", status="resolved", namespace="models", pod="p-0")
    assert bridge.post("operational", webhook_body([resolved])).json()["skipped"] == 1
    wait_until(lambda: len(dispatches(github)) == 3, 20, "three dispatches")
    time.sleep(1)
    assert len(dispatches(github)) == 3
    m = bridge.metrics()
    assert m['bridge_alerts_received_total{route="operational"}'] == 8
    assert m['bridge_alerts_deduplicated_total{route="operational"}'] == 2
    assert m['bridge_alerts_rate_limited_total{route="operational"}'] == 2
    assert m['bridge_alerts_skipped_total{reason="resolved",route="operational"}'] == 1


def test_spooled_before_the_reply_and_delivered_after_an_outage(bridge_factory, github):
    bridge = bridge_factory()
    github.outage(6)
    body = webhook_body([alert("ModelPodOOMKilled", namespace="models", pod="p-%d" % i) for i in range(3)])
    r = bridge.post("operational", body)
    assert r.status_code == 200 and r.json()["accepted"] == 3
    # Written and fsynced before the answer: the files are there the moment the reply is.
    spooled = sorted(bridge.spool_dir.glob("*.json"))
    assert len(spooled) == 3
    assert {json.loads(p.read_text())["alert"]["fingerprint"] for p in spooled} == {
        a["fingerprint"] for a in body["alerts"]
    }
    wait_until(lambda: github.refused_during_outage >= 2, 10, "retries during the outage")
    got = wait_until(lambda: len(dispatches(github)) == 3 and dispatches(github), 30, "delivery after the outage")
    assert max(d["client_payload"]["bridge"]["attempt"] for d in got) > 1
    # The bridge drops a record once GitHub's 204 is read, just after the fake has counted the dispatch.
    wait_until(lambda: not list(bridge.spool_dir.glob("*.json")), 10, "the spool emptied after delivery")
    assert bridge.metrics()['bridge_dispatch_failures_total{reason="retry"}'] >= 2


def test_sigterm_keeps_the_spool_and_a_restart_delivers_it(bridge_factory, github):
    bridge = bridge_factory({"BRIDGE_RATE_BURST": "10"})
    github.outage(3600)
    alerts = [alert("ModelAccuracyLow", model_name="m%d" % i, namespace="models") for i in range(4)]
    assert bridge.post("drift", webhook_body(alerts, receiver="bridge-drift")).json()["accepted"] == 4
    proc = bridge.process.proc
    bridge.stop()  # SIGTERM
    assert proc.returncode == 0
    assert "stopped; 4 alerts stay spooled for the next start" in bridge.process.tail(50)
    assert len(list(bridge.spool_dir.glob("*.json"))) == 4
    github.outage(0)
    bridge.restart()
    assert "(4 recovered)" in bridge.process.tail(50)
    got = wait_until(lambda: len(dispatches(github)) == 4 and dispatches(github), 20, "spooled alerts delivered")
    assert sorted(d["client_payload"]["alert"]["fingerprint"] for d in got) == sorted(a["fingerprint"] for a in alerts)
    # The restarted bridge remembers what it spooled: the same alerts again are duplicates.
    assert bridge.post("drift", webhook_body(alerts, receiver="bridge-drift")).json()["accepted"] == 0


def test_a_refused_dispatch_goes_to_failed(bridge_factory, github):
    bridge = bridge_factory()
    github.outage(3600, status=422)
    assert bridge.post("operational", webhook_body([alert("X", namespace="models")])).json()["accepted"] == 1
    wait_until(lambda: list((bridge.spool_dir / "failed").glob("*.json")), 10, "a record in failed/")
    record = json.loads(next((bridge.spool_dir / "failed").glob("*.json")).read_text())
    assert "GitHub refused the dispatch (422)" in record["failed_reason"]
    assert bridge.metrics()['bridge_dispatch_failures_total{reason="refused"}'] == 1


def test_pod_context_from_the_kubernetes_api_redacted(bridge_factory, github, tmp_path):
    kube = KubernetesWithPodList()
    kube.start()
    try:
        pod = crashlooping_pod("models", "breast-cancer-predictor-00001-deployment-7d9f")
        pod["metadata"]["labels"]["serving.kserve.io/inferenceservice"] = "breast-cancer"
        pod["metadata"]["annotations"] = {"note": "deployed with %s" % SECRETS["github_token"]}
        kube.add_pod(
            pod,
            logs={"kserve-container": "starting\n" + SECRET_LOG},
            previous={"kserve-container": "Traceback\nRuntimeError: model file missing GH=%s" % SECRETS["jwt"]},
        )
        kubeconfig = kubeconfig_for(tmp_path / "kubeconfig", kube.url, kube.token)
        bridge = bridge_factory({"BRIDGE_KUBERNETES": "auto", "BRIDGE_KUBECONFIG": str(kubeconfig)})
        # No pod label (latency alerts aggregate by model): the bridge finds the InferenceService's pod.
        a = alert("ModelHighLatency", model_name="breast-cancer", namespace="models")
        assert bridge.post("operational", webhook_body([a])).json()["accepted"] == 1
        got = wait_until(lambda: dispatches(github), 20, "a dispatch")
        ctx = got[0]["client_payload"]["context"]
        assert "pod" in ctx["sources"]
        assert "CrashLoopBackOff" in ctx["text"]
        assert "RuntimeError: model file missing" in ctx["text"]  # the previous container's log
        assert "FAILED tests/test_features.py::test_mean" in ctx["text"]
        assert sum(ctx["redactions"].values()) >= 10
        assert leaked(github.wire_text()) == []
        # Read-only: the bridge only ever GETs from the API server.
        assert {c.method for c in kube.calls()} == {"GET"}
    finally:
        kube.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BRIDGE_SPOOL_DIR": ""}, "no spool directory: set BRIDGE_SPOOL_DIR"),
        ({"GITHUB_REPOSITORY": "just-a-name"}, "GITHUB_REPOSITORY must be owner/name, got 'just-a-name'"),
        ({"GITHUB_TOKEN": ""}, "no GitHub token: set GITHUB_TOKEN"),
        ({"BRIDGE_TOKEN_FILE": "/nonexistent/token"}, "cannot read the webhook bearer token from /nonexistent/token"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, env, message):
    (tmp_path / "token").write_text("t0ken-value\n")
    base = {
        "PYTHONPATH": os.pathsep.join([str(BRIDGE_SRC), str(COLLECTIONS)]),
        "BRIDGE_SPOOL_DIR": str(tmp_path / "spool"),
        "BRIDGE_TOKEN_FILE": str(tmp_path / "token"),
        "GITHUB_REPOSITORY": "a/b",
        "GITHUB_TOKEN": "x",
        "BRIDGE_PORT": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_bridge"],
        env=tool_env({**base, **env}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "spool").exists()
