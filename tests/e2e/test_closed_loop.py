"""The closed loop, end to end, with real parts: the model server, Prometheus loading the repository's
own alert rules and scraping the server and the bridge, Alertmanager with the repository's own
routing, the alert bridge, and the GitHub fake (GitHub itself cannot be reached from a test).

Transformations, printed by the test: every rule's ``for:`` becomes 5 s (range windows stay), and
Alertmanager's group_wait / group_interval become 1 s / 2 s. Slow requests come from the test-only
``x-inject-latency-seconds`` header of sandbox/latency_server.py; shifted traffic is the data set
with every feature scaled by 1.6. Secrets are planted in the pod's logs, labels and annotations (the
Kubernetes fake) and in the model's series labels (and so in the alerts' labels).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from mlops_model.train import main as train_main
from sandbox.bridge import KubernetesWithPodList, github_fake, kubeconfig_for, wait_until
from sandbox.closed_loop import ClosedLoop
from sandbox.fakes.kubernetes import crashlooping_pod
from sandbox.model_server import breast_cancer_rows
from sandbox.procs import BinaryMissing, require_binary
from sandbox.secrets_planted import LOG as SECRET_LOG
from sandbox.secrets_planted import SECRETS, leaked

pytestmark = [pytest.mark.services, pytest.mark.slow]

POD = "breast-cancer-predictor-00001-deployment-5f7c9d-x2x9k"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e-model") / "artifacts"
    assert train_main(["--output-dir", str(out)]) == 0
    return out


@pytest.fixture
def kube():
    fake = KubernetesWithPodList()
    fake.start()
    pod = crashlooping_pod("models", POD, restarts=3)
    pod["metadata"]["labels"].update(
        {"serving.kserve.io/inferenceservice": "breast-cancer", "leak": SECRETS["aws_access_key_id"]}
    )
    pod["metadata"]["annotations"] = {"deployed-with": "Bearer %s" % SECRETS["bearer_token"]}
    fake.add_pod(
        pod,
        logs={"kserve-container": "INFO model loaded\n" + SECRET_LOG + "\nWARNING predict took 812 ms\n"},
        previous={"kserve-container": "ERROR worker timeout after 30s token=%s\n" % SECRETS["slack_token"]},
    )
    yield fake
    fake.stop()


@pytest.fixture
def github():
    with github_fake() as fake:
        yield fake


def _require_prometheus():
    try:
        require_binary("/usr/bin/prometheus", "prometheus")
        require_binary("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager")
    except BinaryMissing as e:
        pytest.skip(str(e))


def test_slow_and_shifted_traffic_become_dispatches_with_context_and_no_secret(tmp_path, model_dir, kube, github):
    _require_prometheus()
    kubeconfig = kubeconfig_for(tmp_path / "kubeconfig", kube.url, kube.token)
    loop = ClosedLoop(
        tmp_path / "loop",
        str(model_dir),
        github,
        # Several alerts fire at once here (latency, error budget, two drifts); the default burst of 3
        # is exercised by tests/e2e/test_bridge_faults.py.
        bridge_env={"BRIDGE_KUBERNETES": "auto", "BRIDGE_KUBECONFIG": str(kubeconfig), "BRIDGE_RATE_BURST": "10"},
        model_labels={"deploy_note": "rollout by ci with %s" % SECRETS["github_token"]},
        model_options=["--window", "500", "--min-samples", "200"],
    )
    with loop:
        print("\ntransformations: %s; %s" % ("; ".join(loop.rule_changes[:3]) + "; ...", "; ".join(
            loop.alertmanager_changes)))  # fmt: skip
        rows, _ = breast_cancer_rows()
        t0 = time.monotonic()
        # Slow predictions: 0.8 s each, past the 500 ms objective.
        for _ in range(12):
            loop.predict(rows[:10], latency=0.8)
        # Shifted traffic: every feature 60 % larger.
        shifted = np.asarray(rows) * 1.6
        loop.predict(shifted[:500])
        wanted = {"ModelHighLatency": "aiops-alert", "ModelFeatureDrift": "aiops-drift",
                  "ModelPredictionDrift": "aiops-drift"}  # fmt: skip

        def arrived():
            got = {}
            for call in loop.dispatches():
                name = call.body["client_payload"]["alert"]["labels"]["alertname"]
                got.setdefault(name, call)
            return got if set(wanted) <= set(got) else None

        got = wait_until(arrived, 120, "dispatches for %s (firing: %s)" % (sorted(wanted), loop.watch.firing()))
        print("alerts firing in Prometheus: %s" % ", ".join(loop.watch.firing()))
        for name, event_type in wanted.items():
            call = got[name]
            fired = loop.watch.first_firing(name)
            assert fired is not None, "%s was dispatched but never seen firing" % name
            print(
                "%-22s firing at +%5.1fs, dispatch %s at +%5.1fs: firing-to-dispatch %.1fs"
                % (name, fired - t0, call.body["event_type"], call.at - t0, call.at - fired)
            )
            assert call.body["event_type"] == event_type

        latency = got["ModelHighLatency"].body["client_payload"]
        assert latency["alert"]["labels"]["namespace"] == "models"
        # The whole alert as Alertmanager sent it: the rule's graph in Prometheus, the group, Alertmanager's URL.
        assert latency["alert"]["generatorURL"].startswith(loop.prometheus.url.rstrip("/") + "/graph?g0.expr=")
        assert latency["alert"]["startsAt"] and latency["alert"]["fingerprint"]
        group = latency["group"]
        assert group["externalURL"].rstrip("/") == loop.alertmanager.url.rstrip("/"), group
        assert group["commonLabels"]["alertname"] == "ModelHighLatency" and group["key"]
        assert set(group["labels"]) <= set(latency["alert"]["labels"]), group
        assert {"prometheus", "pod"} <= set(latency["context"]["sources"]), latency["context"]
        text = latency["context"]["text"]
        assert "p95 prediction latency (s, 5m):" in text
        p95 = float(text.split("p95 prediction latency (s, 5m):")[1].split()[0])
        assert p95 > 0.5
        assert POD in text and "CrashLoopBackOff" in text and "ERROR worker timeout after 30s" in text
        drift = got["ModelFeatureDrift"].body["client_payload"]
        assert drift["context"]["sources"] == ["drift"]
        assert "psi mean radius" in drift["context"]["text"]
        share = float(drift["context"]["text"].split("drift share ")[1].split(",")[0])
        assert share >= 0.5
        # The planted series label reached the alert's labels, redacted.
        assert "[REDACTED" in drift["alert"]["labels"]["deploy_note"]

        wire = github.wire_text()
        assert leaked(wire) == [], "secrets reached GitHub: %s" % leaked(wire)
        assert loop.bridge.token not in wire
        for call in loop.dispatches():
            assert len(call.body["client_payload"]) <= 10
            assert len(json.dumps(call.body["client_payload"])) < 65535
        print("redactions in the latency dispatch: %s" % latency["context"]["redactions"])

        # Prometheus scrapes the bridge too: its own counters are in the same place as the model's.
        dispatched = loop.prometheus.wait_for(
            'sum(bridge_dispatches_total{job="bridge"})', timeout=15, predicate=lambda r: float(r[0]["value"][1]) >= 3
        )
        print("bridge_dispatches_total in Prometheus: %s" % dispatched[0]["value"][1])
        assert {c.method for c in kube.calls()} == {"GET"}
