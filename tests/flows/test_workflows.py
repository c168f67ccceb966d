"""The analysis workflows, read as data: what they trigger on, what they may do, and that the triage
workflow never checks out or runs code from the failing revision."""

from __future__ import annotations

import re

import pytest
import yaml

from sandbox.paths import REPO
from tests.helpers.workflows import LOCAL_REUSABLE

WORKFLOWS = REPO / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
# What a workflow_run event says about the run that failed: all of it is chosen by whoever pushed.
EVENT_REVISION = re.compile(
    r"github\.event\.workflow_run\.(?:head_sha|head_branch|head_repository|head_commit|pull_requests)"
)
# The playbook of each workflow may use these modules and nothing else (no command, shell, script, git...).
ALLOWED_MODULES = {
    "triage.yml": {
        "ansible.builtin.assert",
        "mlops.hybrid.workflow_failure_context",
        "mlops.hybrid.llm_analyze",
        "mlops.hybrid.incident_report",
        "ansible.builtin.debug",
    },
    "alert-analysis.yml": {
        "ansible.builtin.assert",
        "mlops.hybrid.pod_context",
        "mlops.hybrid.llm_analyze",
        "mlops.hybrid.incident_report",
        "ansible.builtin.debug",
    },
    "drift-analysis.yml": {
        "ansible.builtin.assert",
        "mlops.hybrid.drift_context",
        "mlops.hybrid.llm_analyze",
        "ansible.builtin.set_fact",
        "mlops.hybrid.github_dispatch",
        "mlops.hybrid.incident_report",
        "ansible.builtin.debug",
    },
}
PLAYBOOK = {
    "triage.yml": "triage.yml",
    "alert-analysis.yml": "alert_analysis.yml",
    "drift-analysis.yml": "drift_analysis.yml",
}


def load(name):
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as True
    return doc


def steps(doc):
    return [(job_name, step) for job_name, job in doc["jobs"].items() for step in job["steps"]]


def task_modules(playbook):
    plays = yaml.safe_load((REPO / "playbooks" / playbook).read_text())
    keys = {"name", "register", "when", "no_log", "changed_when", "failed_when", "check_mode", "vars", "tags"}
    keys |= {"loop", "loop_control"}
    return {k for play in plays for task in play["tasks"] for k in task if k not in keys}


def test_triage_runs_on_failed_workflow_runs_with_least_privilege():
    doc = load("triage.yml")
    # The pipelines and the analysis workflows themselves, by their `name:`; never triage itself (a loop).
    watched = [load(f)["name"] for f in ("model-pipeline.yml", "ci.yml", "drift-analysis.yml", "alert-analysis.yml")]
    assert watched == ["model-pipeline", "ci", "drift-analysis", "alert-analysis"]
    assert doc["on"] == {"workflow_run": {"workflows": watched, "types": ["completed"]}}
    names = {load(p.name)["name"] for p in WORKFLOWS.glob("*.yml")}
    assert set(watched) <= names and doc["name"] not in watched
    assert doc["permissions"] == {}
    (job,) = doc["jobs"].values()
    assert job["if"] == "github.event.workflow_run.conclusion == 'failure'"
    assert job["permissions"] == {"actions": "read", "contents": "write", "issues": "write"}


def test_triage_never_checks_out_or_runs_the_failing_revision():
    doc = load("triage.yml")
    text = (WORKFLOWS / "triage.yml").read_text()
    # 1. Nothing in the workflow names the failing revision: no head sha, branch, repository or PR of the run.
    for expr in EXPR.findall(text):
        assert not EVENT_REVISION.search(expr), expr
    for _job, step in steps(doc):
        uses = step.get("uses", "")
        with_ = step.get("with", {})
        if uses.startswith("actions/checkout@"):
            # 2. The checkout is this workflow's own revision (the default branch): no ref or repository from
            # anywhere, no token kept in .git/config for later steps.
            assert "ref" not in with_ and "repository" not in with_, step
            assert with_.get("persist-credentials") is False, step
        # 3. No artifact, cache or code of the run is fetched, and nothing is run from the event.
        assert not uses.startswith(("actions/download-artifact", "actions/cache", "dawidd6/")), step
        assert "${{" not in step.get("run", ""), step
    runs = [step["run"] for _job, step in steps(doc) if "run" in step]
    assert runs[0].startswith("python -m pip install -c requirements/constraints.txt -r requirements/runtime.txt")
    assert "--playbook playbooks/triage.yml" in runs[1] and len(runs) == 2
    # 4. The event gives the playbook one number, through the environment.
    (env,) = [s["env"] for _j, s in steps(doc) if "env" in s]
    event_vars = {k: v for k, v in env.items() if "github.event" in str(v)}
    assert event_vars == {"TRIAGE_RUN_ID": "${{ github.event.workflow_run.id }}"}
    # 5. The playbook only reads through the API, analyses and posts: no module that runs or fetches code.
    assert task_modules("triage.yml") <= ALLOWED_MODULES["triage.yml"]


@pytest.mark.parametrize("name", ["triage.yml", "alert-analysis.yml", "drift-analysis.yml"])
def test_actions_pinned_untrusted_text_via_env_and_playbook_modules(name):
    doc = load(name)
    assert doc["permissions"] == {}
    for _job, step in steps(doc):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
        assert "${{" not in step.get("run", ""), step
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    runner = [s["run"] for _j, s in steps(doc) if "ansible-runner" in s.get("run", "")]
    assert len(runner) == 1 and "--playbook playbooks/%s" % PLAYBOOK[name] in runner[0]
    assert task_modules(PLAYBOOK[name]) <= ALLOWED_MODULES[name]


def test_alert_and_drift_workflows_take_the_bridge_dispatches_and_manual_runs():
    alert, drift = load("alert-analysis.yml"), load("drift-analysis.yml")
    assert alert["on"]["repository_dispatch"] == {"types": ["aiops-alert"]}
    assert drift["on"]["repository_dispatch"] == {"types": ["aiops-drift"]}
    assert "workflow_dispatch" in alert["on"] and "workflow_dispatch" in drift["on"]
    (a_job,) = alert["jobs"].values()
    (d_job,) = drift["jobs"].values()
    assert a_job["permissions"] == {"contents": "read", "issues": "write"}
    assert d_job["permissions"] == {"contents": "read", "issues": "write", "actions": "write"}
    a_env = next(s["env"] for _j, s in steps(alert) if "env" in s)
    assert "client_payload" in a_env["ALERT_PAYLOAD"] and a_env["ALERT_COLLECT_POD"] == "false"
    d_env = next(s["env"] for _j, s in steps(drift) if "env" in s)
    assert "client_payload" in d_env["DRIFT_PAYLOAD"]


def test_the_drift_retraining_dispatch_targets_the_model_pipeline():
    plays = yaml.safe_load((REPO / "playbooks" / "drift_analysis.yml").read_text())
    defaults = plays[0]["vars"]
    assert (WORKFLOWS / defaults["drift_retrain_workflow"]).is_file()
    pipeline = yaml.safe_load((WORKFLOWS / defaults["drift_retrain_workflow"]).read_text())
    assert "force_retrain" in pipeline[True]["workflow_dispatch"]["inputs"]


# Inputs that stay out of a run's name: the alert payload is a whole alert, too long for a title.
UNNAMED_INPUTS = {"alert-analysis.yml": {"payload"}}


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_a_dispatched_run_is_named_by_its_inputs(path):
    """GitHub's API returns no dispatch inputs, only the run's name: triage's configuration comparison
    reads the inputs from it, so every input of a dispatched workflow is in its run-name (dispatches only)."""
    doc = load(path.name)
    inputs = set((doc["on"].get("workflow_dispatch") or {}).get("inputs") or {}) - UNNAMED_INPUTS.get(path.name, set())
    if not inputs:
        return
    name = " ".join(doc.get("run-name", "").split())
    assert name.startswith("${{ github.event_name == 'workflow_dispatch' &&") and name.endswith("|| '' }}"), name
    for given in inputs:
        assert "inputs.%s" % given in name and "%s={" % given in name, (path.name, given, name)


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_pins_its_actions_and_grants_each_job_its_own_permissions(path):
    doc = load(path.name)
    assert doc["permissions"] == {}, "%s: no workflow-wide permissions; each job says what it needs" % path.name
    for name, job in doc["jobs"].items():
        assert "permissions" in job, "%s: job %s has no permissions: of its own" % (path.name, name)
        if "uses" in job:  # a reusable workflow of this repository, whose jobs are checked here too
            assert LOCAL_REUSABLE.match(job["uses"]) and (REPO / job["uses"]).is_file(), job["uses"]
            continue
        for step in job["steps"]:
            if "uses" in step:
                assert PINNED.match(step["uses"]), step["uses"]
            assert "${{" not in step.get("run", ""), "%s: untrusted text goes through env: %s" % (path.name, step)
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, step


def test_the_reusable_image_and_bump_workflows_ask_for_no_more_than_their_callers_grant():
    for name, caller_job in (("image.yml", "image"), ("gitops-bump.yml", "deploy")):
        (job,) = load(name)["jobs"].values()
        for caller in ("model-pipeline.yml", "bridge-image.yml"):
            granted = load(caller)["jobs"][caller_job]
            assert granted["uses"] == "./.github/workflows/" + name
            assert job["permissions"] == granted["permissions"], (name, caller)
