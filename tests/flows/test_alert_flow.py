"""playbooks/alert_analysis.yml end to end: a crash-looping pod alert -> an SRE report in one issue and on Slack."""

from __future__ import annotations

from mlops_bridge.dispatch import build_payload
from mlops_bridge.schema import parse_notification
from mlops_bridge.server import new_record
from sandbox.bridge import alert, webhook_body
from sandbox.paths import REPO

from .scenarios import PREDICTOR, REPO_NAME, crashloop, oomkill

PLAYBOOK = REPO / "playbooks" / "alert_analysis.yml"


def crashloop_alert(pod=PREDICTOR):
    """The alert as gitops/platform/monitoring/model-rules.yaml labels it, in the bridge's payload form."""
    return {
        "alert": {
            "status": "firing",
            "fingerprint": "3f1c0a9d2b7e6a11",
            "labels": {
                "alertname": "ModelPodCrashLooping",
                "severity": "critical",
                "aiops": "alert",
                "namespace": "models",
                "pod": pod,
                "container": "kserve-container",
                "model_name": "breast-cancer",
            },
            "annotations": {"summary": "breast-cancer: pod %s is in CrashLoopBackOff" % pod},
        }
    }


def k8s_env(flow_env, k8s):
    return {**flow_env, "K8S_AUTH_HOST": k8s.url, "K8S_AUTH_API_KEY": k8s.token}


def test_crashlooping_pod_gives_an_sre_report_in_one_issue_and_on_slack(ansible, github, slack, k8s, flow_env):
    crashloop(k8s)
    env = k8s_env(flow_env, k8s)
    run = ansible.playbook(PLAYBOOK, extravars={"alert_payload": crashloop_alert()}, env=env)
    assert run.ok, run.stdout[-3000:]
    print(run.task("Say what was posted").res["msg"])

    pod = run.task("Collect the pod's context (read-only)").res
    assert pod["changed"] is False and pod["waiting_reason"] == "CrashLoopBackOff" and pod["restart_count"] == 7
    assert "FileNotFoundError" in pod["logs"]["previous"]["text"]
    assert "sup3r-s3cret-passw0rd" not in str(pod) and pod["redactions"]

    analysis = run.task("Analyse the alert").res
    assert analysis["category"] == "k8s_crashloop" and analysis["template"] == "sre"

    (issue,) = github.issues(REPO_NAME)
    assert {"aiops", "sre", "alert", "critical"} <= set(issue["labels"])
    assert issue["title"].startswith("[aiops] ModelPodCrashLooping")
    assert "wsl2-worker" in issue["body"] and "CrashLoopBackOff" in issue["body"]
    (message,) = slack.messages
    assert "k8s_crashloop" in message["text"] and "/issues/1" in message["text"]

    # The same alert again, later (the pod restarted once more): a comment on the same issue, not a twin.
    k8s.pods[("models", PREDICTOR)].body["status"]["containerStatuses"][0]["restartCount"] = 8
    again = ansible.playbook(PLAYBOOK, extravars={"alert_payload": crashloop_alert()}, env=env)
    assert again.ok, again.stdout[-3000:]
    assert len(github.issues(REPO_NAME)) == 1 and len(github.comments(REPO_NAME, 1)) == 1
    assert len(slack.messages) == 2
    for fake in (github, slack):
        assert "sup3r-s3cret-passw0rd" not in fake.wire_text()
    # Only GET requests reached the Kubernetes API.
    assert {r.method for r in k8s.requests} == {"GET"}


def test_context_sent_by_the_bridge_is_used_without_the_cluster(ansible, github, slack, flow_env):
    payload = crashloop_alert()
    payload["context"] = {"text": "Last State: Terminated\n  Reason: OOMKilled\n  Exit Code: 137\n"}
    payload["alert"]["labels"]["alertname"] = "ModelPodOOMKilled"
    run = ansible.playbook(PLAYBOOK, extravars={"alert_payload": payload}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    assert run.task("Collect the pod's context (read-only)").event == "runner_on_skipped"
    assert run.task("Analyse the alert").res["category"] == "k8s_oom"
    (issue,) = github.issues(REPO_NAME)
    assert "the alert bridge" in issue["body"]


def test_oomkilled_pod_from_an_alertmanager_body(ansible, github, slack, k8s, flow_env):
    oomkill(k8s)
    body = {"alerts": [crashloop_alert("breast-cancer-predictor-7d9f8-oom01")["alert"]]}
    body["alerts"][0]["labels"]["alertname"] = "ModelPodOOMKilled"
    run = ansible.playbook(PLAYBOOK, extravars={"alert_payload": body}, env=k8s_env(flow_env, k8s))
    assert run.ok, run.stdout[-3000:]
    pod = run.task("Collect the pod's context (read-only)").res
    assert pod["last_termination_reason"] == "OOMKilled" and pod["last_exit_code"] == 137
    assert run.task("Analyse the alert").res["category"] == "k8s_oom"


def test_a_vanished_pod_fails_clearly_and_posts_nothing(ansible, github, slack, k8s, flow_env):
    run = ansible.playbook(
        PLAYBOOK, extravars={"alert_payload": crashloop_alert("gone-pod")}, env=k8s_env(flow_env, k8s)
    )
    assert not run.ok
    msg = run.task("Collect the pod's context (read-only)").res["msg"]
    assert "pod models/gone-pod not found" in msg
    assert github.calls("POST") == [] and slack.requests == []


def test_the_bridges_payload_carries_the_whole_alert_and_the_report_links_back(ansible, github, slack, flow_env):
    """The payload the bridge builds from an Alertmanager webhook: the issue links to Prometheus and Alertmanager."""
    fired = alert("ModelPodOOMKilled", namespace="models", pod="p-1", severity="critical", aiops="alert")
    note = parse_notification(webhook_body([fired]))
    record = new_record("operational", note, note.alerts[0])
    record["context"] = {"text": "Last State: Terminated\n  Reason: OOMKilled\n  Exit Code: 137\n", "sources": ["pod"]}
    payload = build_payload(record)
    run = ansible.playbook(PLAYBOOK, extravars={"alert_payload": payload}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    analysis = run.task("Analyse the alert").res
    assert analysis["category"] == "k8s_oom"
    (issue,) = github.issues(REPO_NAME)
    assert fired["generatorURL"] in issue["body"]
    assert "http://alertmanager.example/#/alerts?filter=%7Balertname%3D%22ModelPodOOMKilled%22%7D" in issue["body"]
    assert fired["startsAt"] in issue["body"]
