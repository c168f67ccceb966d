"""A failed ArgoCD sync, end to end: the alert of gitops/platform/monitoring/argocd-rules.yaml posted to the
real bridge process, which reads the Application and its events from the Kubernetes API (the wire-level
fake, serving an Application rendered from gitops/ with a status in the shape of ArgoCD's CRD) and
dispatches; playbooks/alert_analysis.yml on that payload writes a deployment report (argocd_sync)
that names the resource that failed and the API server's message."""

from __future__ import annotations

import copy

import pytest

from sandbox.argocd import platform
from sandbox.bridge import BridgeProcess, alert, kubeconfig_for, wait_until, webhook_body
from sandbox.fakes.kubernetes import FakeKubernetes
from sandbox.gitops import prometheus_rules_from_gitops
from sandbox.k8s_schema import SchemaValidator
from sandbox.paths import REPO

from .scenarios import REPO_NAME

pytestmark = pytest.mark.services

PLAYBOOK = REPO / "playbooks" / "alert_analysis.yml"
APP = "alert-bridge"
REVISION = "4b1f0c2d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"
T_START, T_END = "2026-12-02T10:00:00Z", "2026-12-02T10:00:07Z"


def _kubectl_name(obj):
    group = obj["apiVersion"].rpartition("/")[0]
    return "%s/%s" % (obj["kind"].lower() + ("." + group if group else ""), obj["metadata"]["name"])


def failed_sync_application():
    """The alert-bridge Application as gitops/ renders it, with the status ArgoCD's controller writes
    when the API server rejects its Deployment (gitops-engine: "one or more objects failed to apply,
    reason: <message>", SyncError condition "Failed last sync attempt to <rev>: <message>")."""
    p = platform()
    rendered = p.app(APP)
    app = copy.deepcopy(rendered.app)
    (deployment,) = [o.obj for o in rendered.objects if o.kind == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    limit = container["resources"]["limits"]["memory"]
    # What the API server answers a request above the limit (k8s.io/kubernetes pkg/apis/core/validation).
    rejected = (
        'Deployment.apps "%s" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: '
        '"2Gi": must be less than or equal to memory limit of %s' % (deployment["metadata"]["name"], limit)
    )
    message = "one or more objects failed to apply, reason: %s" % rejected
    results, resources = [], []
    for o in rendered.objects:
        group, _, version = o.obj["apiVersion"].rpartition("/")
        ref = {"group": group, "version": version, "kind": o.kind, "namespace": o.namespace or "", "name": o.name}
        failed = o.obj is deployment or o.kind == "Deployment"
        results.append(
            {
                **ref,
                "status": "SyncFailed" if failed else "Synced",
                "message": rejected if failed else "%s unchanged" % _kubectl_name(o.obj),
                "syncPhase": "Sync",
            }
        )
        resources.append({**ref, "status": "OutOfSync" if failed else "Synced", "health": {"status": "Healthy"}})
    app["status"] = {
        "sync": {"status": "OutOfSync", "revision": REVISION, "comparedTo": {"source": app["spec"]["source"],
                 "destination": app["spec"]["destination"]}},
        "health": {"status": "Healthy", "lastTransitionTime": T_START},
        "conditions": [
            {"type": "SyncError", "message": "Failed last sync attempt to %s: %s" % (REVISION, message),
             "lastTransitionTime": T_END}
        ],
        "operationState": {
            "operation": {"sync": {"revision": REVISION}, "initiatedBy": {"automated": True},
                          "retry": {"limit": 5}},
            "phase": "Failed",
            "message": message,
            "startedAt": T_START,
            "finishedAt": T_END,
            "retryCount": 5,
            "syncResult": {"revision": REVISION, "resources": results, "source": app["spec"]["source"]},
        },
        "resources": resources,
        "reconciledAt": T_END,
        "sourceType": "Kustomize",
    }  # fmt: skip
    # The fake serves only what ArgoCD's own CRD (tests/upstream/argocd-v3.5.1) accepts.
    SchemaValidator(extra_crds=p.crds()).check(app)
    return app, deployment, rejected, message


def sync_failed_alert(app):
    """ArgoCDAppSyncFailed with the labels of the rule and of ArgoCD's argocd_app_sync_total."""
    (rule,) = [
        r
        for g in prometheus_rules_from_gitops()["groups"]
        for r in g["rules"]
        if r.get("alert") == "ArgoCDAppSyncFailed"
    ]
    meta = app["metadata"]
    labels = {**rule["labels"], "namespace": meta["namespace"], "name": meta["name"], "project": app["spec"]["project"]}
    summary = "%s: an ArgoCD sync failed (1 in 10 minutes)" % meta["name"]  # as promtool renders it
    fired = alert("ArgoCDAppSyncFailed", annotations={"summary": summary})
    fired["labels"].update(labels)  # `name` is a label here, not alert()'s argument
    return fired


def test_a_failed_sync_through_the_bridge_gives_a_deployment_report(ansible, github, slack, flow_env, tmp_path):
    app, deployment, rejected, message = failed_sync_application()
    with FakeKubernetes() as kube:
        kube.add_object(app, "applications")
        kube.add_event(
            app["metadata"]["namespace"], APP, "OperationCompleted",
            "Sync operation to %s failed: %s" % (REVISION, message),
            kind="Application", api_version="argoproj.io/v1alpha1", component="argocd-application-controller",
        )  # fmt: skip
        kubeconfig = kubeconfig_for(tmp_path / "kubeconfig", kube.url, kube.token)
        bridge = BridgeProcess(
            tmp_path / "bridge", github.url, REPO_NAME, github.token,
            env={"BRIDGE_KUBERNETES": "auto", "BRIDGE_KUBECONFIG": str(kubeconfig)},
        ).start()  # fmt: skip
        try:
            assert bridge.post("operational", webhook_body([sync_failed_alert(app)])).json()["accepted"] == 1
            (dispatch,) = wait_until(lambda: github.dispatches(REPO_NAME), 30, "the bridge's dispatch")
        finally:
            bridge.stop()
        assert {c.method for c in kube.calls()} == {"GET"}
    payload = dispatch["client_payload"]
    ctx = payload["context"]
    assert "argocd" in ctx["sources"], ctx
    assert "Phase:              Failed" in ctx["text"] and "SyncError" in ctx["text"]
    assert "apps Deployment aiops %s SyncFailed" % deployment["metadata"]["name"] in ctx["text"]
    assert "Events of Application argocd/%s:" % APP in ctx["text"]

    run = ansible.playbook(PLAYBOOK, extravars={"alert_payload": payload}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    analysis = run.task("Analyse the alert").res
    assert analysis["category"] == "argocd_sync", analysis.get("category")
    assert analysis["template"] == "deployment"  # the GitOps engineer's prompt
    (issue,) = github.issues(REPO_NAME)
    print("\n" + issue["title"] + "\n\n" + issue["body"])
    assert issue["title"].startswith("[aiops] ArgoCDAppSyncFailed")
    body = issue["body"]
    # The first root cause names the resource that failed to apply and the API server's message.
    first = body.split("1. **", 1)[1].split("\n2. **", 1)[0]
    assert "Deployment aiops %s SyncFailed" % deployment["metadata"]["name"] in first, first
    assert rejected in first, first
    # The report says which Application, not which pod (the alert has none).
    assert "- application: argocd/%s (project %s)" % (APP, app["spec"]["project"]) in body, body
    assert "- pod:" not in body and "- restarts:" not in body


def test_the_module_reads_the_same_application_read_only_in_check_mode_too(ansible, k8s):
    app, deployment, rejected, _message = failed_sync_application()
    k8s.add_object(app, "applications")
    args = {"namespace": "argocd", "name": APP, "host": k8s.url, "api_key": k8s.token, "max_events": 5}
    for check in (False, True):
        run = ansible.module("mlops.hybrid.argocd_app_context", args, check=check)
        res = run.res
        assert not run.failed and res["changed"] is False, res.get("msg")
        assert (res["sync_status"], res["operation"]["phase"], res["operation"]["initiated_by"]) == (
            "OutOfSync", "Failed", "automated"
        )  # fmt: skip
        (failed,) = res["troubled_resources"]
        assert (failed["kind"], failed["name"], failed["status"]) == (
            "Deployment",
            deployment["metadata"]["name"],
            "SyncFailed",
        )
        assert failed["message"] == rejected and res["conditions"][0]["type"] == "SyncError"
        assert k8s.token not in str(res)
    assert {c.method for c in k8s.calls()} == {"GET"}
    missing = ansible.module("mlops.hybrid.argocd_app_context", {**args, "name": "absent"})
    assert missing.failed and "Application argocd/absent not found: check the alert's labels" in missing.res["msg"]
