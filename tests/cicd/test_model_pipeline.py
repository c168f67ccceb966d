"""The model pipeline's CT and CD steps, run locally exactly as the workflow runs them.

The ``run:`` scripts and ``env:`` names are read from .github/workflows/model-pipeline.yml and
the reusable workflows its jobs call (image.yml, gitops-bump.yml), so the test and the workflows
cannot drift apart: an ``${{ inputs.* }}`` or ``${{ env.* }}`` is resolved from what the calling
job passes and what the called workflow sets, and every other expression must be given a local
value here (the MLflow server of the test bench instead of the secret, a bare Git remote instead
of the manifests repository), or the test fails. The bridge's pipeline (bridge-image.yml) calls
the same two reusable workflows; its CD step is run here too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from sandbox.gitrepo import GitRemote
from sandbox.paths import REPO, tool_env
from tests.helpers import workflows

pytestmark = [pytest.mark.services, pytest.mark.slow]

WORKFLOW = "model-pipeline.yml"
VALUES = "gitops/apps/values.yaml"
DIGEST = "sha256:" + "d1" * 32


def workflow_step(job: str, name: str, workflow: str = WORKFLOW) -> dict:
    return workflows.workflow_step(workflow, job, name)


def run_step(step: dict, values: dict[str, str], base_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the step's script with bash as GitHub runs it, its env resolved (``values`` by name first)."""
    env = dict(base_env)
    for key, raw in (step.get("env") or {}).items():
        env[key] = values[key] if key in values else workflows.resolve(step, raw, values, key)
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


def gitops_files() -> dict[str, str]:
    """This checkout's gitops/ tree (its tracked files): what a manifests repository holds."""
    names = subprocess.run(
        ["git", "ls-files", "-z", "gitops"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return {name: (REPO / name).read_text() for name in names if name and (REPO / name).is_file()}


def values_remote(
    tmp_path: Path, image: dict[str, str], files: dict[str, str] | None = None
) -> tuple[GitRemote, dict[str, str]]:
    """A bare remote seeded with this repository's gitops/ tree (or ``files``), and the local values
    of the CD step (which renders and validates the tree before it pushes)."""
    remote = GitRemote.create(tmp_path / "manifests.git", files if files is not None else gitops_files())
    clone = remote.clone("manifests-clone")
    return remote, {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "CD_REPO_PATH": str(clone.path),
        "CD_GITHUB_REPOSITORY": "mlops-hybrid/mlops-hybrid",
        "needs.image.outputs.image": image["image"],
        "needs.image.outputs.tag": image["tag"],
        "needs.image.outputs.digest": DIGEST,
        "GITHUB_TOKEN": "unused-for-a-local-remote",
    }


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
    ct_values = {**mlflow_env, "CT_MIN_ACCURACY": "0.9", "CT_FORCE": "", "CT_FEEDBACK": "",
                 "CT_WORK_DIR": str(runner_temp / "ct")}  # fmt: skip
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

    # -- image name and tag, from the image workflow's own step with what the pipeline passes ----
    github_output.write_text("")
    trained = {"needs.train.outputs.%s" % k: ct[k] for k in ("version", "run_id")}
    trained["needs.train.outputs.model_name"] = ct["name"]
    name = run_step(workflow_step("image", "Name the image"), {"OWNER": "MLOps-Hybrid", **trained}, base)
    assert name.returncode == 0, name.stderr
    image = outputs(github_output)
    assert image["image"] == "ghcr.io/mlops-hybrid/model" and image["tag"] == "v1-%s" % sha[:12]

    # -- the image's build context: the registered version fetched as the image job fetches it --
    # (the make target's MODEL_BUNDLE points into tmp_path instead of model/bundle/ of the checkout;
    # the requirements it would install are those of this test bench's virtualenv)
    bundle = tmp_path / "bundle"
    prepare = run_step(
        workflow_step("image", "Prepare the build context"),
        {**mlflow_env, **trained, "REQUIREMENTS": ""},
        {**base, "MODEL_BUNDLE": str(bundle)},
    )
    assert prepare.returncode == 0, prepare.stdout[-3000:] + prepare.stderr[-3000:]
    info = json.loads((bundle / "bundle.json").read_text())
    assert (info["name"], str(info["version"])) == (model_name, "1"), info

    # -- CD: pin the image in a bare remote seeded with this repository's values file ----------
    remote, cd_values = values_remote(tmp_path, image)
    cd_values.update({**mlflow_env, **trained})
    deploy = workflow_step("deploy", "Bump the image (ansible-runner)")
    bumped = run_step(deploy, cd_values, base)
    assert bumped.returncode == 0, bumped.stdout[-4000:] + bumped.stderr[-2000:]
    before, after = (REPO / VALUES).read_text(), remote.show(VALUES)
    pinned = yaml.safe_load(after)["images"]
    assert pinned["model"]["tag"] == image["tag"] and pinned["model"]["digest"] == DIGEST
    assert pinned["bridge"] == yaml.safe_load(before)["images"]["bridge"]
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 2 and all("tag:" in a or "digest:" in a for a, _b in changed), changed
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


def test_the_image_workflow_scans_and_pushes_the_one_build():
    doc = workflows.workflow("image.yml")
    (job,) = doc["jobs"].values()
    steps = job["steps"]
    builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action@")]
    assert len(builds) == 1, "build once: %d build steps" % len(builds)
    build = builds[0]["with"]
    assert build["push"] is False and build["provenance"] is False
    layout = "${{ steps.name.outputs.layout }}"
    assert build["outputs"] == "type=oci,dest=%s,tar=false" % layout
    trivy = [s for s in steps if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert [t["with"]["input"] for t in trivy] == [layout, layout], "Trivy scans the built layout, nothing else"
    gate = trivy[-1]["with"]
    assert gate["severity"] == "CRITICAL" and gate["exit-code"] == "1" and gate["ignore-unfixed"] is True
    assert trivy[0]["with"]["ignore-unfixed"] is False and trivy[0]["with"]["exit-code"] == "0"
    header = (workflows.WORKFLOWS / "image.yml").read_text().split("\nname:")[0]
    assert "ignore-unfixed: true" in header, "the workflow's header states why unfixed CRITICALs do not fail"
    push = next(s for s in steps if s.get("id") == "push")
    assert steps.index(push) > steps.index(trivy[-1]) > steps.index(builds[0])
    assert push["env"]["LAYOUT"] == layout and push["env"]["SCANNED"] == "${{ steps.built.outputs.digest }}"
    assert 'skopeo copy --preserve-digests --digestfile "$RUNNER_TEMP/pushed-digest" "oci:$LAYOUT"' in push["run"]
    assert job["outputs"]["digest"] == "${{ steps.push.outputs.digest }}"
    assert doc["on"]["workflow_call"]["outputs"]["digest"]["value"] == "${{ jobs.image.outputs.digest }}"


def test_the_model_image_bakes_in_the_registered_version_and_snyk_sees_the_installed_packages():
    doc = workflows.workflow(WORKFLOW)
    image = doc["jobs"]["image"]
    assert image["uses"] == "./.github/workflows/image.yml" and image["needs"] == ["train"]
    version = "${{ needs.train.outputs.model_name }}/${{ needs.train.outputs.version }}"
    assert image["with"]["prepare"] == "model-bundle"
    assert image["with"]["prepare-args"] == "MODEL_URI=models:/%s" % version
    assert set(image["secrets"]) == {"MLFLOW_TRACKING_%s" % k for k in ("URI", "USERNAME", "PASSWORD", "TOKEN")}
    assert (image["with"]["context"], image["with"]["dockerfile"]) == ("model", "model/Dockerfile")
    assert doc["jobs"]["deploy"]["with"]["paths"] == VALUES
    security = [s.get("name") for s in doc["jobs"]["security"]["steps"]]
    steps = {s.get("name"): s for s in doc["jobs"]["security"]["steps"]}
    install = "Install the model's requirements (for Snyk)"
    assert security.index(install) < security.index("Snyk (SCA)")
    assert steps[install]["run"] == "python -m pip install -r model/requirements.txt"
    assert steps[install]["if"] == steps["Snyk (SCA)"]["if"] == "env.SNYK_TOKEN != ''"
    assert "--file=model/requirements.txt --package-manager=pip" in steps["Snyk (SCA)"]["run"]


@pytest.mark.parametrize(("workflow_file", "job"), [(WORKFLOW, "image"), ("bridge-image.yml", "image")])
def test_every_build_arg_a_pipeline_passes_is_an_arg_of_its_dockerfile(workflow_file, job):
    # A build arg the Dockerfile does not declare is silently ignored by the build.
    given = workflows.workflow(workflow_file)["jobs"][job]["with"]
    (build,) = [s for s in workflows.job_steps(workflow_file, job) if "build-args" in s.get("with", {})]
    lines = [*build["with"]["build-args"].splitlines(), *(given.get("build-args") or "").splitlines()]
    passed = {line.strip().split("=", 1)[0] for line in lines if "=" in line}
    dockerfile = (REPO / given["dockerfile"]).read_text()
    declared = set(re.findall(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)", dockerfile, re.M))
    assert "REVISION" in passed and passed <= declared, passed - declared


def test_the_bridge_pipeline_names_and_pins_its_image_as_the_workflow_runs_it(tmp_path):
    bridge = "bridge-image.yml"
    github_output = tmp_path / "github_output"
    github_output.write_text("")
    sha = "0123456789abcdef0123456789abcdef01234567"
    base = tool_env(
        {
            "GITHUB_WORKSPACE": str(REPO),
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(github_output),
            "GITHUB_SHA": sha,
        }
    )
    base.pop("GITHUB_TOKEN", None)
    name = run_step(workflow_step("image", "Name the image", bridge), {"OWNER": "MLOps-Hybrid"}, base)
    assert name.returncode == 0, name.stderr
    image = outputs(github_output)
    assert image["image"] == "ghcr.io/mlops-hybrid/bridge" and image["tag"] == "bridge-0123456789ab"

    remote, values = values_remote(tmp_path, image)
    values.update({"MLFLOW_TRACKING_%s" % k: "" for k in ("URI", "USERNAME", "PASSWORD", "TOKEN")})
    deploy = workflow_step("deploy", "Bump the image (ansible-runner)", bridge)
    for attempt in (1, 2):
        run = run_step(deploy, values, base)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        recap = [line for line in run.stdout.splitlines() if line.startswith("localhost")]
        assert recap and ("changed=1" if attempt == 1 else "changed=0") in recap[-1], recap
    pinned = yaml.safe_load(remote.show(VALUES))["images"]
    assert pinned["bridge"]["tag"] == image["tag"] and pinned["bridge"]["digest"] == DIGEST
    assert pinned["model"] == yaml.safe_load((REPO / VALUES).read_text())["images"]["model"]
    assert remote.log()[0].subject.startswith("build: update bridge image ghcr.io/mlops-hybrid/bridge from ")
    assert len(remote.log()) == 2


@pytest.mark.parametrize("manifests", [1, 2, 0])
def test_the_image_workflow_takes_the_digest_of_the_one_image_in_the_layout(tmp_path, manifests):
    step = workflow_step("image", "Read the built manifest's digest")
    layout, github_output = tmp_path / "oci", tmp_path / "github_output"
    layout.mkdir()
    github_output.write_text("")
    digests = ["sha256:%064x" % (n + 1) for n in range(manifests)]
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": 1} for d in digests
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    run = run_step(step, {"LAYOUT": str(layout)}, tool_env({"GITHUB_OUTPUT": str(github_output)}))
    if manifests == 1:
        assert run.returncode == 0, run.stdout + run.stderr
        assert outputs(github_output) == {"digest": digests[0]}
    else:
        assert run.returncode != 0 and "expected one image" in run.stdout
        assert outputs(github_output) == {}


def train_values(tracking_uri: str, work_dir: Path, **overrides: str) -> dict[str, str]:
    """The train step's secrets and settings, locally: the bench's MLflow, no credentials, no feedback."""
    return {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_USERNAME": "",
        "MLFLOW_TRACKING_PASSWORD": "",
        "MLFLOW_TRACKING_TOKEN": "",
        "CT_MIN_ACCURACY": "0.9",
        "CT_FORCE": "",
        "CT_FEEDBACK": "",
        "CT_WORK_DIR": str(work_dir),
        **overrides,
    }


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
    values = train_values(mlflow_tracking.uri, tmp_path / "ct", CT_MIN_ACCURACY="0.999")
    run = run_step(workflow_step("train", "Train, gate and register (ansible-runner)"), values, base)
    assert run.returncode != 0
    assert "gate failed: accuracy 0." in run.stdout and "is below the threshold 0.9990" in run.stdout, run.stdout[
        -3000:
    ]
    assert not mlflow_tracking.client().search_registered_models(filter_string="name = '%s'" % model_name)
    assert not (tmp_path / "ct" / "ct-result.json").exists()


def test_a_retrain_with_feedback_trains_on_it_and_registers_a_new_version(tmp_path, mlflow_tracking):
    """The P0 dispatch's `feedback` input: the train step retrains (the model's tree unchanged) on the
    reference data plus the feedback the server kept and the export logged to MLflow."""
    import numpy as np  # noqa: PLC0415

    from mlops_model.feedback import FeedbackStore, log_dataset  # noqa: PLC0415
    from sandbox.model_server import breast_cancer_rows  # noqa: PLC0415

    model_name = mlflow_tracking.unique("fb")
    base = tool_env({"GITHUB_WORKSPACE": str(REPO), "RUNNER_TEMP": str(tmp_path), "CT_MODEL_NAME": model_name,
                     "CT_EXPERIMENT": model_name})  # fmt: skip
    values = train_values(mlflow_tracking.uri, tmp_path / "ct")
    step = workflow_step("train", "Train, gate and register (ansible-runner)")
    first = run_step(step, values, base)
    assert first.returncode == 0, first.stdout[-3000:]

    # The file the server keeps (its own store), logged as the export logs it.
    from sklearn.datasets import load_breast_cancer  # noqa: PLC0415

    names = [str(n) for n in load_breast_cancer().feature_names]
    rows, labels = breast_cancer_rows()
    store = FeedbackStore(tmp_path / "volume", names)
    store.append("r1", "1", rows[:100] * 1.3, np.zeros(100, dtype=int), labels[:100])
    uri = log_dataset(store.path, mlflow_tracking.unique("feedback"), "http://model:8080/v1/models/x:feedback")

    bad = run_step(step, {**values, "CT_FEEDBACK": "feedback.csv"}, base)
    assert bad.returncode != 0 and "ct_feedback (CT_FEEDBACK), when set, is the runs:/" in bad.stdout
    retrain = run_step(step, {**values, "CT_FEEDBACK": uri}, base)
    assert retrain.returncode == 0, retrain.stdout[-3000:]

    client = mlflow_tracking.client()
    champion = client.get_model_version_by_alias(model_name, "champion")
    assert champion.version == "2" and champion.tags["feedback"] == uri
    run = client.get_run(champion.run_id)
    assert run.data.params["feedback_rows"] == "100" and "feedback_accuracy" in run.data.metrics
    assert (run.data.params["feedback_train_rows"], run.data.params["feedback_holdout_rows"]) == ("70", "30")
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["%s-training" % model_name]
    assert [len(r.inputs.dataset_inputs) for r in client.search_runs(
        [client.get_experiment_by_name(model_name).experiment_id])] == [1, 1]  # fmt: skip
