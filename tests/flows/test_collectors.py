"""pod_context and workflow_failure_context through Ansible, the real kubernetes client and PyGithub against fakes."""

from __future__ import annotations

import pytest

from .scenarios import PLANTED_TOKEN, PREDICTOR, REPO_NAME, bandit_failure, crashloop, oomkill

POD = "mlops.hybrid.pod_context"
WORKFLOW = "mlops.hybrid.workflow_failure_context"


def pod_args(k8s, **extra):
    return {"namespace": "models", "pod": PREDICTOR, "host": k8s.url, "api_key": k8s.token, **extra}


def test_crashlooping_pod_with_previous_logs_and_events(ansible, k8s):
    crashloop(k8s)
    res = ansible.module(POD, pod_args(k8s)).res
    assert res["changed"] is False, res.get("msg")
    assert res["container"] == "kserve-container" and res["node"] == "wsl2-worker"
    assert (res["waiting_reason"], res["last_termination_reason"], res["last_exit_code"]) == (
        "CrashLoopBackOff",
        "Error",
        1,
    )
    assert res["limits"] == {"cpu": "1", "memory": "1Gi"} and res["requests"]["memory"] == "512Mi"
    assert "FileNotFoundError" in res["logs"]["previous"]["text"]
    assert res["logs"]["current"]["text"].startswith("INFO:kserve")
    assert [e["reason"] for e in res["events"]] == ["Pulled", "BackOff"] and res["events"][1]["count"] == 31
    assert res["events_api"] == "events.k8s.io/v1"
    assert "sup3r-s3cret-passw0rd" not in str(res) and res["redactions"]["env_secret"] >= 1
    assert "Back-off restarting failed container" in res["text"] and "Exit Code:    1" in res["text"]


def test_oomkilled_pod_and_core_v1_events_when_events_k8s_io_is_absent(ansible, k8s):
    oomkill(k8s)
    k8s.events_v1 = False
    res = ansible.module(POD, pod_args(k8s, pod="breast-cancer-predictor-7d9f8-oom01")).res
    assert (res["last_termination_reason"], res["last_exit_code"], res["waiting_reason"]) == ("OOMKilled", 137, None)
    assert res["events_api"] == "v1" and res["events"][0]["reason"] == "OOMKilling"
    assert "Reason:       OOMKilled" in res["text"]


def test_reads_are_bounded_on_the_server_and_here(ansible, k8s):
    crashloop(k8s)
    k8s.pods[("models", PREDICTOR)].previous["kserve-container"] = "".join("line %04d\n" % n for n in range(5000))
    for n in range(30):
        k8s.add_event("models", PREDICTOR, "BackOff", "restart %d" % n)
    res = ansible.module(POD, pod_args(k8s, tail_lines=50, max_log_bytes=300, max_events=7)).res
    prev = res["logs"]["previous"]
    assert prev["truncated"] is True and prev["lines"] <= 50 and len(prev["text"].encode()) <= 300
    assert prev["text"].endswith("line 4999")  # the end of the log, where the error is
    assert len(res["events"]) == 7 and res["events_truncated"] is True
    logs = k8s.calls("GET", r"/log$")
    assert {q for r in logs for q in r.query["tailLines"]} == {"50"} and logs[0].query["limitBytes"] == ["1200"]
    assert {r.method for r in k8s.requests} == {"GET"}


def test_check_mode_reads_the_same_and_changes_nothing(ansible, k8s):
    crashloop(k8s)
    normal = ansible.module(POD, pod_args(k8s)).res
    checked = ansible.module(POD, pod_args(k8s), check=True).res
    assert checked["changed"] is False and checked["text"] == normal["text"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"pod": "gone"}, "pod models/gone not found"),
        ({"container": "sidecar"}, "container 'sidecar' is not in pod models/%s" % PREDICTOR),
        ({"api_key": "wrong-token"}, "401 Unauthorized (the token is invalid or expired)"),
        ({"tail_lines": 0}, "tail_lines must be an integer of at least 1"),
    ],
)
def test_bad_input_and_missing_pod_fail_clearly(ansible, k8s, args, message):
    crashloop(k8s)
    result = ansible.module(POD, pod_args(k8s, **args))
    res = result.res
    assert result.failed and message in res["msg"], res["msg"]
    assert "wrong-token" not in res["msg"]


def wf_args(github, run_id, **extra):
    return {
        "run_id": run_id,
        "repository": REPO_NAME,
        "github_api_url": github.url,
        "github_token": github.token,
        **extra,
    }


def test_failed_run_context_through_the_api(ansible, github):
    s = bandit_failure(github)
    res = ansible.module(WORKFLOW, wf_args(github, s["run"])).res
    assert res["changed"] is False, res.get("msg")
    assert res["run"]["head_sha"] == s["bad"] and res["failing_step"] == "Bandit gate (medium severity and up)"
    assert [j["name"] for j in res["failed_jobs"]] == ["security scans"]
    assert res["log_source"] == "run log archive" and ">> Issue: [B403:blacklist]" in res["log"]
    assert not res["log"].startswith("2026-")  # runner timestamps removed
    vuln = [f for f in res["files"] if f["path"] == "src/app/vuln.py"]
    assert vuln and all(f["found"] for f in vuln) and "2\timport pickle" in vuln[0]["excerpt"]
    assert len(github.calls("GET", r"/contents/src/app/vuln.py$")) == 1  # one read per file
    assert res["last_success"]["id"] == s["ok_run"]
    assert [c["sha"] for c in res["commits_since_success"]] == [s["middle"], s["bad"]]
    assert PLANTED_TOKEN not in str(res) and res["redactions"]["github_token"] == 1
    # The archives' signed URLs (the failing run's, and the green run's for its runner) were fetched without the
    # token, once each; nothing but GET was sent.
    blobs = github.calls("GET", r"^/_blobs/")
    assert len(blobs) == 2 and not any("authorization" in b.headers for b in blobs)
    assert len(github.calls("GET", r"/actions/runs/\d+/logs$")) == 2
    assert {r.method for r in github.requests} == {"GET"}


def test_log_bounds_and_check_mode(ansible, github):
    s = bandit_failure(github)
    res = ansible.module(WORKFLOW, wf_args(github, s["run"], max_log_lines=10, max_files=1), check=True).res
    assert res["changed"] is False and res["log_truncated"] is True
    assert len(res["log"].splitlines()) <= 10 and len(res["files"]) <= 1


def test_job_log_is_used_when_the_archive_lacks_the_step(ansible, github):
    s = bandit_failure(github)
    github.archives_without_steps.add(s["run"])
    res = ansible.module(WORKFLOW, wf_args(github, s["run"])).res
    assert res["log_source"] == "job log" and ">> Issue: [B403:blacklist]" in res["log"]
    assert "##[error]Process completed with exit code 1." in res["log"]
    # The job's whole log is the archive's top-level file: no second download.
    assert not github.calls("GET", r"/actions/jobs/\d+/logs$")
    assert all("authorization" not in r.headers for r in github.calls("GET", r"^/_blobs/"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"run_id": 777}, "workflow run 777 not found in %s" % REPO_NAME),
        ({"github_token": "nope"}, "401 Bad credentials (the token is invalid or expired)"),
        ({"repository": "not a repo"}, "repository must look like owner/name"),
    ],
)
def test_missing_run_and_bad_input_fail_clearly(ansible, github, args, message):
    bandit_failure(github)
    result = ansible.module(WORKFLOW, {**wf_args(github, 1), **args})
    assert result.failed and message in result.res["msg"], result.res["msg"]
