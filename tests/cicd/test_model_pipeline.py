"""The model pipeline's CT and CD steps, run locally exactly as the workflow runs them.

The ``run:`` scripts and ``env:`` names are read from .github/workflows/model-pipeline.yml, so
the test and the workflow cannot drift apart: every environment variable a step sets from an
expression must be given a local value here (the MLflow server of the test bench instead of the
secret, a bare Git remote instead of the manifests repository), or the test fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers.gitrepo import GitRemote
from tests.helpers.paths import REPO, tool_env

pytestmark = [pytest.mark.services, pytest.mark.slow]

WORKFLOW = REPO / ".github" / "workflows" / "model-pipeline.yml"
MODEL_DIR = "gitops/models/breast-cancer"
DIGEST = "sha256:" + "d1" * 32


def workflow_step(job: str, name: str) -> dict:
    doc = yaml.safe_load(WORKFLOW.read_text())
    for step in doc["jobs"][job]["steps"]:
        if step.get("name") == name:
            return step
    raise AssertionError("no step %r in job %r of %s" % (name, job, WORKFLOW))


def run_step(step: dict, values: dict[str, str], base_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the step's script with bash as GitHub runs it, its env resolved from ``values``."""
    env = dict(base_env)
    for key, raw in (step.get("env") or {}).items():
        if "${{" in str(raw):
            assert key in values, "step %r sets %s from %r: give it a local value" % (step["name"], key, raw)
            env[key] = values[key]
        else:
            env[key] = str(raw)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def model_tree() -> str:
    """The Git tree of model/ at HEAD: what CT compares with the champion's ``model_tree`` tag."""
    return subprocess.run(
        ["git", "rev-parse", "HEAD:model"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_train_register_bump_as_the_workflow_runs_them(tmp_path, mlflow_tracking):
    model_name = mlflow_tracking.unique("bc")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    github_output = tmp_path / "github_output"
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    base = tool_env(
        {
            "GITHUB_WORKSPACE": str(REPO),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(github_output),
            "GITHUB_SHA": sha,
            "CT_MODEL_NAME": model_name,  # a name of its own on the shared server
            "CT_EXPERIMENT": model_name,
        }
    )
    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "GITHUB_TOKEN"):
        base.pop(key, None)
    mlflow_env = {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "MLFLOW_TRACKING_URI": mlflow_tracking.uri,
        "MLFLOW_TRACKING_USERNAME": "",  # unset secrets arrive as empty strings
        "MLFLOW_TRACKING_PASSWORD": "",
        "MLFLOW_TRACKING_TOKEN": "",
    }

    # -- CT: train -> gate -> register, then export the version as the next jobs read it ------
    train = workflow_step("train", "Train, gate and register (ansible-runner)")
    ct_values = {**mlflow_env, "CT_MIN_ACCURACY": "0.9", "CT_FORCE": "", "CT_WORK_DIR": str(runner_temp / "ct")}
    first = run_step(train, ct_values, base)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "gate passed" in first.stdout or "Register the model and move the alias" in first.stdout
    export = run_step(workflow_step("train", "Export the registered version"), {}, base)
    assert export.returncode == 0, export.stderr
    ct = outputs(github_output)
    assert ct["name"] == model_name and ct["version"] == "1" and len(ct["run_id"]) == 32

    client = mlflow_tracking.client()
    champion = client.get_model_version_by_alias(model_name, "champion")
    assert champion.version == "1" and champion.run_id == ct["run_id"]
    assert len(champion.tags["git_sha"]) == 40 and len(champion.tags["data_hash"]) == 64
    assert len(champion.tags["model_tree"]) == 40
    assert client.get_run(ct["run_id"]).data.metrics["accuracy"] >= 0.9

    # -- image name and tag, from the workflow's own step ------------------------------------
    github_output.write_text("")
    name = run_step(workflow_step("image", "Name the image"), {"OWNER": "MLOps-Hybrid", "VERSION": ct["version"]}, base)
    assert name.returncode == 0, name.stderr
    image = outputs(github_output)
    assert image == {"image": "ghcr.io/mlops-hybrid/model", "tag": "v1-%s" % sha[:12]}

    # -- CD: bump the manifests in a bare remote seeded with this repository's gitops/ --------
    seed = {"%s/%s" % (MODEL_DIR, p.name): p.read_text() for p in sorted((REPO / MODEL_DIR).iterdir()) if p.is_file()}
    remote = GitRemote.create(tmp_path / "manifests.git", seed)
    clone = remote.clone("manifests-clone")
    deploy = workflow_step("deploy", "Bump the image (ansible-runner)")
    cd_values = {
        **mlflow_env,
        "CD_REPO_PATH": str(clone.path),
        "CD_GITHUB_REPOSITORY": "mlops-hybrid/mlops-hybrid",
        "CD_MODE": "push",
        "CD_IMAGE": image["image"],
        "CD_TAG": image["tag"],
        "CD_DIGEST": DIGEST,
        "CD_MODEL_NAME": ct["name"],
        "CD_MLFLOW_RUN_ID": ct["run_id"],
        "GITHUB_TOKEN": "unused-for-a-local-remote",
    }
    bumped = run_step(deploy, cd_values, base)
    assert bumped.returncode == 0, bumped.stdout[-4000:] + bumped.stderr[-2000:]
    kpath = "%s/kustomization.yaml" % MODEL_DIR
    before, after = seed[kpath], remote.show(kpath)
    assert "newTag: %s" % image["tag"] in after and "digest: %s" % DIGEST in after
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 2 and all("newTag" in a or "digest" in a for a, _b in changed), changed
    assert remote.log()[0].subject.startswith("build: update breast-cancer image ghcr.io/mlops-hybrid/model from ")
    assert "Source revision: %s" % sha in remote.git("log", "-1", "--format=%B").stdout
    tags = client.get_model_version(model_name, "1").tags
    assert tags["image"] == "%s:%s" % (image["image"], image["tag"]) and tags["image_digest"] == DIGEST

    # -- the same pipeline again: nothing to train, register or bump -------------------------
    head = remote.head()
    second = run_step(train, ct_values, base)
    assert second.returncode == 0, second.stdout[-4000:]
    if model_tree() != champion.tags["model_tree"]:
        # model/ was committed to meanwhile (this checkout is shared): CT must retrain, and did.
        assert "Train (with the accuracy gate)" in second.stdout and "gate passed" in second.stdout
        assert len(client.search_model_versions("name = '%s'" % model_name)) == 2
        return
    assert "nothing changed, not retraining" in second.stdout, second.stdout[:5000]
    assert len(client.search_model_versions("name = '%s'" % model_name)) == 1
    again = run_step(deploy, cd_values, base)
    assert again.returncode == 0, again.stdout[-4000:]
    assert remote.head() == head
    for run in (second, again):
        recap = [line for line in run.stdout.splitlines() if line.startswith("localhost")]
        assert recap and "changed=0" in recap[-1], recap


def test_the_workflow_steps_the_test_runs_exist_and_use_ansible_runner():
    for job, name in (
        ("train", "Train, gate and register (ansible-runner)"),
        ("deploy", "Bump the image (ansible-runner)"),
    ):
        step = workflow_step(job, name)
        assert step["run"].lstrip().startswith("ansible-runner run ")
        assert "${{" not in step["run"], "untrusted or secret text must go through env, not run:"
    assert os.access(REPO / "playbooks" / "ct.yml", os.R_OK) and os.access(REPO / "playbooks" / "cd.yml", os.R_OK)


def test_training_below_the_gate_fails_the_step_and_registers_nothing(tmp_path, mlflow_tracking):
    model_name = mlflow_tracking.unique("gate")
    base = tool_env(
        {
            "GITHUB_WORKSPACE": str(REPO),
            "RUNNER_TEMP": str(tmp_path),
            "CT_MODEL_NAME": model_name,
            "CT_EXPERIMENT": model_name,
        }
    )
    values = {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "MLFLOW_TRACKING_URI": mlflow_tracking.uri,
        "MLFLOW_TRACKING_USERNAME": "",
        "MLFLOW_TRACKING_PASSWORD": "",
        "MLFLOW_TRACKING_TOKEN": "",
        "CT_MIN_ACCURACY": "0.999",
        "CT_FORCE": "",
        "CT_WORK_DIR": str(tmp_path / "ct"),
    }
    run = run_step(workflow_step("train", "Train, gate and register (ansible-runner)"), values, base)
    assert run.returncode != 0
    assert "gate failed: accuracy 0." in run.stdout and "is below the threshold 0.9990" in run.stdout, run.stdout[
        -3000:
    ]
    assert not mlflow_tracking.client().search_registered_models(filter_string="name = '%s'" % model_name)
    assert not (tmp_path / "ct" / "ct-result.json").exists()
