"""playbooks/drift_analysis.yml on a GitHub-hosted runner, fed the repository_dispatch the alert bridge sent.

The cluster's side, as the tree deploys it: MLflow from gitops/platform/mlflow (basic auth, a READ user of
the bridge's own), a model trained and registered by the admin and served by the real model server,
Prometheus with the repository's rules (``for:`` shortened) and Alertmanager with its routing, and the bridge
image run by podman with the container spec of gitops/platform/bridge's Deployment: its env, its Secrets
(test values), its in-cluster Services (pointed at the local servers). Traffic drifts, the rules fire,
Alertmanager posts to the bridge, the bridge gathers its context and dispatches to the GitHub fake.

The runner's side: that client_payload, untouched, reaches the playbook through the environment the
workflow's step sets, read from .github/workflows/drift-analysis.yml, with the secrets a repository has (an
MLflow URL for the model pipeline, no Prometheus: a hosted runner cannot reach it), and ansible-runner.
"""

from __future__ import annotations

import copy
import json
import re
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from mlops_bridge.config import ENV, Settings
from mlops_model.train import main as train_main
from sandbox.bridge import (
    REPOSITORY,
    BridgeContainer,
    bridge_image,
    bridge_manifests,
    github_fake,
    in_cluster_service,
    wait_until,
)
from sandbox.closed_loop import fast_alertmanager_config, fast_rules
from sandbox.fakes.gemini import FakeGemini
from sandbox.gitops import render
from sandbox.mlflow_deployment import ADMIN_PASSWORD, SEARCH, DeploymentMlflow
from sandbox.mlflow_server import use_tracking_uri
from sandbox.model_server import ModelServerProcess, breast_cancer_rows
from sandbox.paths import REPO
from sandbox.procs import BinaryMissing, require_binary
from sandbox.prometheus import Alertmanager, Prometheus, prometheus_config

from .test_drift_flow import pipeline_inputs, send, shifted

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.podman]

PLAYBOOK = REPO / "playbooks" / "drift_analysis.yml"
WORKFLOW = REPO / ".github" / "workflows" / "drift-analysis.yml"
INVENTORY = REPO / "inventories" / "sandbox" / "hosts.yml"
IMAGE = "localhost/mlops-hybrid/bridge:drift-test"
REVISION = "fedcba9876543210fedcba9876543210fedcba98"
MODEL = "breast-cancer"
BRIDGE_USER = ("alert-bridge", "bridge-mlflow-password-for-tests-41d7")
WEBHOOK_TOKEN = "webhook-token-of-the-drift-test-93ab"
# The repository's secrets as the model pipeline needs them: MLflow through its public Ingress (not
# reachable from here, and not needed: the playbook must not call it), no Prometheus for a hosted runner.
REPO_SECRETS = {
    "MLFLOW_TRACKING_URI": "https://mlflow.platform.example.com",
    "MLFLOW_TRACKING_USERNAME": "ci",
    "MLFLOW_TRACKING_PASSWORD": "ci-mlflow-password-for-tests-77c2",
}
# The in-cluster Services the Deployment names that the tree renders itself: their pods' ports and
# labels are read from it. Others (the chart's kps-prometheus, whose pods the operator creates) are
# checked by namespace and the Service's port, which the chart forwards unchanged.
RENDERED_SERVICES = {("mlflow", "mlflow"): REPO / "gitops" / "platform" / "mlflow"}
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def register_model(mlflow, workdir):
    """Train, log and register the model as the admin (the model pipeline's CT), alias champion."""
    out = workdir / "artifacts"
    with pytest.MonkeyPatch.context() as env, use_tracking_uri(mlflow.url):
        env.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        env.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
        assert train_main(["--output-dir", str(out), "--experiment", "drift-bridge"]) == 0
        import mlflow as mlflow_lib  # noqa: PLC0415

        client = mlflow_lib.MlflowClient()
        (run,) = client.search_runs([client.get_experiment_by_name("drift-bridge").experiment_id])
        version = mlflow_lib.register_model("runs:/%s/model" % run.info.run_id, MODEL).version
        client.set_registered_model_alias(MODEL, "champion", version)
    return out, int(version), run.data.metrics


def scrape_config(server, alertmanagers=()):
    config = prometheus_config({"model": ["127.0.0.1:%d" % server.port]}, alertmanagers=list(alertmanagers))
    # What the PodMonitor's Kubernetes discovery attaches to the predictor's series.
    config["scrape_configs"][0]["static_configs"][0]["labels"] = {"namespace": "models"}
    return config


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The in-cluster side, started once: the two dispatches the bridge sent (P1 then P0) and what it ran with."""
    image = bridge_image(IMAGE, REVISION)
    try:
        require_binary("/usr/bin/prometheus", "prometheus")
        require_binary("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager")
    except BinaryMissing as e:
        pytest.skip(str(e))
    tmp = tmp_path_factory.mktemp("drift-from-bridge")
    with ExitStack() as stack:
        mlflow = stack.enter_context(DeploymentMlflow(tmp / "mlflow"))
        r = requests.post(
            mlflow.url + "/api/2.0/mlflow/users/create",
            json={"username": BRIDGE_USER[0], "password": BRIDGE_USER[1]},
            auth=("admin", ADMIN_PASSWORD),
            timeout=30,
        )
        assert r.status_code == 200, r.text
        model_dir, version, train_metrics = register_model(mlflow, tmp)
        server = stack.enter_context(
            ModelServerProcess(
                tmp / "server", str(model_dir), model_name=MODEL,
                extra=["--window", "150", "--min-samples", "100", "--feedback-window", "100"],
            )
        )  # fmt: skip
        github = stack.enter_context(github_fake(REPOSITORY))
        rules, _ = fast_rules(for_seconds=2)
        prom = stack.enter_context(Prometheus(tmp / "prometheus", scrape_config(server), {"model": rules}))
        secrets = {
            ("alert-bridge-token", "token"): WEBHOOK_TOKEN,
            ("alert-bridge-github", "token"): github.token,
            ("alert-bridge-mlflow", "username"): BRIDGE_USER[0],
            ("alert-bridge-mlflow", "password"): BRIDGE_USER[1],
        }
        services = {"kps-prometheus.monitoring": prom.url, "mlflow.mlflow": mlflow.url}
        # api.github.com is outside the cluster: the GitHub fake stands in for it.
        bridge = stack.enter_context(
            BridgeContainer(tmp / "bridge", image, secrets, services, {"GITHUB_API_URL": github.url})
        )
        am_config, _ = fast_alertmanager_config(bridge.url, bridge.token_file)
        am = stack.enter_context(Alertmanager(tmp / "alertmanager", am_config))
        prom.reload(scrape_config(server, [am]))
        prom.wait_for_targets_up(timeout=30)

        def dispatched(name):
            def find():
                return next(
                    (
                        d
                        for d in github.dispatches(REPOSITORY)
                        if d["client_payload"]["alert"]["labels"]["alertname"] == name
                    ),
                    None,
                )

            # Each drift context reads MLflow a dozen times, each request checked by basic auth (about 1 s).
            return wait_until(find, 240, "the bridge's dispatch for %s (log %s)" % (name, bridge.process.log_path))

        rows, labels = breast_cancer_rows()
        # P1: traffic like the training data, labelled correctly, then inputs that drift (accuracy holds).
        send(server, rows[:300], labels[:300], "p1-base")
        send(server, shifted(rows[:200]), None, "p1-drift")
        feature_drift = dispatched("ModelFeatureDrift")
        # The Deployment's rate (BRIDGE_RATE_PER_MINUTE) frees one dispatch every 60/rate seconds.
        time.sleep(60.0 / float(bridge.container_env["BRIDGE_RATE_PER_MINUTE"]))
        # P0: the labels show that the model is now wrong on the drifted inputs.
        send(server, shifted(rows[200:350]), 1 - labels[200:350], "p0")
        accuracy_low = dispatched("ModelAccuracyLow")
        yield {
            "P1": feature_drift["client_payload"],
            "P0": accuracy_low["client_payload"],
            "bridge": bridge,
            "github": github,
            "mlflow": mlflow,
            "version": version,
            "train_metrics": train_metrics,
            "rss": bridge.rss_bytes(),
        }


# -- the runner's side -----------------------------------------------------------------------------


def workflow_env(payload, secrets, github_api_url):
    """The env of the workflow step that runs the playbook, for a repository_dispatch of ``payload``."""
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert doc[True]["repository_dispatch"]["types"] == ["aiops-drift"]  # YAML 1.1 reads `on` as True
    (job,) = doc["jobs"].values()
    (step,) = [s for s in job["steps"] if "playbooks/drift_analysis.yml" in s.get("run", "")]
    event = {
        "toJSON(github.event.client_payload)": json.dumps(payload, indent=2),  # toJSON pretty-prints
        "inputs.model_name": "",  # a repository_dispatch has no inputs
        "github.event.repository.default_branch": "main",
        "github.workspace": str(REPO),
    }

    def value(m):
        expr = m.group(1)
        if expr.startswith("secrets."):
            return secrets.get(expr.removeprefix("secrets."), "")  # an unset secret is an empty string
        assert expr in event, "the workflow's step uses ${{ %s }}: give this test its value" % expr
        return event[expr]

    env = {name: EXPR.sub(value, str(v)) for name, v in step["env"].items()}
    # Variables every GitHub-hosted runner has: the repository and the API of GitHub (the fake here).
    return {"GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_api_url, **env}


@pytest.fixture
def runner(ansible, github, slack):
    """Runs the playbook as the workflow's step would, against GitHub and Slack fakes; returns (run, env)."""
    github.add_repo(REPOSITORY)
    github.add_workflow(REPOSITORY, ".github/workflows/model-pipeline.yml", "model-pipeline", pipeline_inputs())
    secrets = {**REPO_SECRETS, "GITHUB_TOKEN": github.token, "SLACK_WEBHOOK_URL": slack.webhook_url}

    def run(payload, more_secrets=None, extra_env=None):
        env = {**workflow_env(payload, {**secrets, **(more_secrets or {})}, github.url), **(extra_env or {})}
        return ansible.playbook(PLAYBOOK, env=env, inventory=INVENTORY)

    return run


EXPECTED = {
    "P1": ("ModelFeatureDrift", "data drift", "issue"),
    "P0": ("ModelAccuracyLow", "data drift with accuracy loss", "retrain"),
}


def test_the_bridge_dispatches_the_assessment_it_made_in_the_cluster(cluster):
    for urgency, (alertname, drift_type, action) in EXPECTED.items():
        payload = cluster[urgency]
        ctx, a = payload["context"], payload["context"]["assessment"]
        assert payload["alert"]["labels"]["alertname"] == alertname and payload["route"] == "drift"
        assert ctx["sources"] == ["drift"], ctx
        # The image has the MLflow client, the Secret's user may read, the Service's host is allowed.
        assert [n for n in ctx["notes"] if n.startswith("mlflow")] == [], ctx["notes"]
        assert (a["urgency"], a["drift_type"], a["action"]) == (urgency, drift_type, action), a
        assert a["model"] == MODEL and a["version"] == cluster["version"]
        assert "training metrics: " in ctx["text"]
        trained = json.loads(ctx["text"].split("training metrics: ")[1].splitlines()[0])
        assert trained["accuracy"] == round(cluster["train_metrics"]["accuracy"], 4)
        # Drifted features, weighted by the importances logged with the training run.
        assert a["affected_features"] and all(f["importance"] is not None for f in a["affected_features"])
        assert all(f["psi"] >= 0.2 for f in a["affected_features"])
        ranked = [f["psi"] * f["importance"] for f in a["affected_features"]]
        assert ranked == sorted(ranked, reverse=True)
        listed = {m[1]: float(m[2]) for m in re.finditer(r"(?m)^psi (.+) ([0-9.]+)$", ctx["text"])}
        assert len(listed) == 10 and all(
            listed[f["feature"]] == f["psi"] for f in a["affected_features"] if f["feature"] in listed
        )
        # The rule's report, for the runner when no language model answers.
        assert payload["context"]["report"]["urgency"] == urgency
        assert payload["context"]["report"]["root_causes"][0]["cause"].startswith(drift_type.capitalize())
    assert "online accuracy" in " ".join(cluster["P0"]["context"]["assessment"]["figures"])
    bodies = "\n".join(r.raw for r in cluster["github"].calls("POST"))
    for secret in (BRIDGE_USER[1], WEBHOOK_TOKEN, cluster["github"].token, ADMIN_PASSWORD):
        assert secret not in bodies
    (container,) = bridge_manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
    limit = container["resources"]["limits"]["memory"]
    print("\nbridge container RSS after two drift dispatches: %d MiB (limit %s)" % (cluster["rss"] >> 20, limit))


@pytest.mark.parametrize("urgency", ["P1", "P0"])
def test_the_workflow_acts_on_the_payload_the_bridge_sent(cluster, runner, github, slack, urgency, tmp_path):
    payload = cluster[urgency]
    a = payload["context"]["assessment"]
    run = runner(payload)
    assert run.ok, run.stdout[-3000:]
    assert run.task("Collect the drift figures (MLflow and Prometheus, read-only)").event == "runner_on_skipped"
    print("\n%s: %s" % (urgency, run.task("Say what was done").res["msg"]))
    (issue,) = github.issues(REPOSITORY)
    report = tmp_path / "drift-report.md"
    report.write_text("# %s\n\n%s\n" % (issue["title"], issue["body"]))
    print(report.read_text())
    assert {"drift", urgency} <= set(issue["labels"])
    assert issue["title"].startswith("[aiops] %s drift of %s" % (urgency, MODEL))
    body = issue["body"]
    assert a["hypothesis"][:60] in body and "the alert bridge" in body
    # No Gemini key on the repository: the rule's report from the bridge, not a generic one.
    assert payload["context"]["report"]["root_causes"][0]["remediation"][:50] in body
    assert "version %s" % cluster["version"] in body and a["action"] in body
    for f in a["affected_features"][:5]:
        assert f["feature"] in body
    retrain = [(d["ref"], d["inputs"]) for d in github.workflow_dispatches(REPOSITORY)]
    assert retrain == ([("main", {"force_retrain": "true"})] if urgency == "P0" else [])
    assert len(slack.messages) == (1 if urgency == "P0" else 0)
    assert REPO_SECRETS["MLFLOW_TRACKING_PASSWORD"] not in run.stdout


def test_the_language_model_cannot_change_the_action(cluster, runner, github):
    """Gemini answers P2, no retraining; the bridge's rule said P0: retraining is dispatched all the same."""
    answer = {
        "summary": "Nothing to do.",
        "root_causes": [{"cause": "noise", "evidence": "none", "remediation": "none", "confidence": 0.9}],
        "urgency": "P2",
        "false_positive": True,
    }
    with FakeGemini() as gemini:
        gemini.queue_answer(answer)
        # The one variable the workflow does not set: where google-genai finds Gemini (the fake).
        run = runner(cluster["P0"], {"GEMINI_API_KEY": gemini.api_key}, {"AIOPS_API_BASE_URL": gemini.url})
        assert run.ok, run.stdout[-3000:]
        system = gemini.generate_calls[0].body["systemInstruction"]["parts"][0]["text"]
        prompt = json.dumps(gemini.generate_calls[0].body["contents"])
    assert "drift specialist" in system
    assert cluster["P0"]["context"]["assessment"]["affected_features"][0]["feature"] in prompt
    assert run.task("Ask the drift specialist").res["report"]["urgency"] == "P2"
    (dispatch,) = github.workflow_dispatches(REPOSITORY)
    assert dispatch["inputs"] == {"force_retrain": "true"}
    (issue,) = github.issues(REPOSITORY)
    assert "P0" in issue["labels"] and "**Urgency:** P0" in issue["body"]


def test_a_payload_without_an_assessment_is_refused_with_the_bridges_notes(cluster, runner, github, slack):
    """What the bridge sends when it could not read Prometheus: the playbook says so and does nothing."""
    payload = copy.deepcopy(cluster["P1"])
    del payload["context"]["assessment"]
    payload["context"].update(text="", sources=[], notes=["drift: not gathered (Prometheus timed out)"])
    run = runner(payload)
    assert not run.ok
    msg = run.task("Refuse to run without figures and a repository").res["msg"]
    assert "the bridge noted: drift: not gathered (Prometheus timed out)" in msg
    assert github.calls("POST") == [] and slack.requests == []


# -- the NetworkPolicy against the egress of that Deployment -------------------------------------------


def _selects(selector, labels):
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are checked here: %s" % selector
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _port_allowed(rule, port, protocol):
    ports = rule.get("ports")
    return not ports or any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def allowed(policy, namespace, pod_labels, port, protocol="TCP"):
    """Whether an egress rule of ``policy`` lets its pods reach ``port`` on the pods ``pod_labels`` of
    ``namespace`` (``namespace`` None: an address outside the cluster; ``pod_labels`` None: not known)."""
    for rule in policy["spec"].get("egress") or []:
        if not _port_allowed(rule, port, protocol):
            continue
        if not rule.get("to"):
            return True  # any destination
        for peer in rule["to"]:
            if "ipBlock" in peer:
                if (
                    namespace is None
                    and peer["ipBlock"]["cidr"] in ("0.0.0.0/0", "::/0")
                    and not peer["ipBlock"].get("except")
                ):
                    return True
                continue
            if namespace is None:
                continue
            ns_ok = (
                _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace})
                if "namespaceSelector" in peer
                else namespace == policy["metadata"]["namespace"]
            )
            pod_ok = "podSelector" not in peer or (pod_labels is not None and _selects(peer["podSelector"], pod_labels))
            if ns_ok and pod_ok:
                return True
    return False


def pod_side(service, namespace, port):
    """(port, labels) of the pods behind an in-cluster Service the tree renders, else (the Service's port, None)."""
    directory = RENDERED_SERVICES.get((service, namespace))
    if directory is None:
        return port, None
    objs = render(directory)
    (svc,) = [o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == service]
    assert svc["metadata"]["namespace"] == namespace
    (sport,) = [p for p in svc["spec"]["ports"] if p["port"] == port]
    selector = svc["spec"]["selector"]
    (pods,) = [
        o["spec"]["template"]
        for o in objs
        if o["kind"] == "Deployment"
        and _selects({"matchLabels": selector}, o["spec"]["template"]["metadata"]["labels"])
    ]
    target = sport.get("targetPort", port)
    if isinstance(target, str):
        target = next(
            p["containerPort"]
            for c in pods["spec"]["containers"]
            for p in c.get("ports", [])
            if p.get("name") == target
        )
    return target, pods["metadata"]["labels"]


def test_the_network_policy_allows_every_egress_of_the_bridge(cluster):
    """Every URL the Deployment's env gives the bridge (and the defaults it keeps for the others) is allowed,
    with DNS; and the bridge really reached each of them in this module (MLflow, Prometheus, GitHub)."""
    objs = bridge_manifests()
    policy, deployment = objs["NetworkPolicy"], objs["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(policy["spec"]["podSelector"], pod_labels) and "Egress" in policy["spec"]["policyTypes"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    urls = {}
    for f in Settings.__dataclass_fields__.values():
        if f.name.endswith(("_url", "_uri")):
            value = env.get(ENV[f.name], f.default)
            if value:
                urls[ENV[f.name]] = value
    assert set(urls) == {"BRIDGE_PROMETHEUS_URL", "MLFLOW_TRACKING_URI", "GITHUB_API_URL"}, urls
    dns = {"kubernetes.io/metadata.name": "kube-system"}
    for protocol in ("UDP", "TCP"):
        assert any(
            _port_allowed(rule, 53, protocol)
            and any(
                _selects(p.get("namespaceSelector", {}), dns)
                and _selects(p.get("podSelector", {}), {"k8s-app": "kube-dns"})
                for p in rule.get("to") or [{}]
            )
            for rule in policy["spec"]["egress"]
        ), "DNS over %s to kube-dns is not allowed" % protocol
    for name, url in urls.items():
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}[parts.scheme]
        svc = in_cluster_service(url)
        if svc is None:
            assert allowed(policy, None, None, port), "%s=%s: no egress rule allows port %d outside" % (name, url, port)
            continue
        pod_port, labels = pod_side(svc[0], svc[1], port)
        assert allowed(policy, svc[1], labels, pod_port), "%s=%s: no egress rule allows %s pods %s on port %s" % (
            name,
            url,
            svc[1],
            labels,
            pod_port,
        )
    # MLflow's server accepts the Host the bridge sends it (its allowed hosts), with the bridge's user.
    mlflow_host = urlsplit(urls["MLFLOW_TRACKING_URI"]).netloc
    r = requests.get(cluster["mlflow"].url + SEARCH, auth=BRIDGE_USER, headers={"Host": mlflow_host}, timeout=30)
    assert r.status_code == 200, (mlflow_host, r.status_code, r.text[:300])
    # Reached in this module: GitHub (the dispatches), MLflow (training figures), Prometheus (the PSIs).
    assert "training metrics: {" in cluster["P1"]["context"]["text"]
    assert "psi " in cluster["P1"]["context"]["text"]
