"""The states the AIOps flows are run against: a failed Bandit step on GitHub, a crash-looping pod."""

from __future__ import annotations

from sandbox.fakes.github import FakeGitHubActions
from sandbox.fakes.kubernetes import FakeKubernetes, crashlooping_pod, oomkilled_pod
from sandbox.paths import REPO

REPO_NAME = "example/platform"
CASES = REPO / "tests" / "corpus" / "cases"
PLANTED_TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"  # a fake token printed by the failing step

# The file Bandit scanned to produce tests/corpus/cases/gha_bandit.log (its line numbers match the findings).
VULN_PY = (REPO / "tests" / "corpus" / "planted" / "src" / "app" / "vuln.py").read_text()


def bandit_failure(gh: FakeGitHubActions, head_branch: str = "main", pull_requests: tuple = ()) -> dict:
    """A pipeline run whose Bandit step failed on a commit that added src/app/vuln.py, after a green run
    (on ``head_branch``, belonging to ``pull_requests``)."""
    good = gh.add_commit(REPO_NAME, "feat: model server metrics")
    wf = gh.add_workflow(REPO_NAME, ".github/workflows/model-pipeline.yml", "model-pipeline")
    ok_run = gh.add_run(
        REPO_NAME, wf, good, "success", [{"name": "security scans", "conclusion": "success", "steps": []}]
    )
    middle = gh.add_commit(REPO_NAME, "chore: bump scikit-learn")
    bad = gh.add_commit(REPO_NAME, "feat: cache predictions with pickle")
    gh.add_file(REPO_NAME, "src/app/vuln.py", VULN_PY, bad)
    log = (CASES / "gha_bandit.log").read_text() + "2026-11-24T14:00:02.0000000Z GITHUB_TOKEN=%s\n" % PLANTED_TOKEN
    run = gh.add_run(
        REPO_NAME,
        wf,
        bad,
        "failure",
        head_branch=head_branch,
        pull_requests=pull_requests,
        jobs=[
            {"name": "lint and test", "conclusion": "success", "steps": [{"name": "pytest", "log": "5 passed"}]},
            {
                "name": "security scans",
                "conclusion": "failure",
                "steps": [
                    {"name": "Set up job", "log": "Runner image ubuntu-24.04"},
                    {"name": "Check out", "log": "Fetching the repository"},
                    {"name": "Bandit gate (medium severity and up)", "conclusion": "failure", "log": log},
                    {"name": "pip-audit (SCA)", "conclusion": "skipped", "log": ""},
                ],
            },
        ],
    )
    return {"workflow": wf, "run": run, "ok_run": ok_run, "good": good, "middle": middle, "bad": bad}


PREDICTOR = "breast-cancer-predictor-7d9f8-x2x9q"
CRASH_LOG = """INFO:kserve:Loading model breast-cancer from /mnt/models
Traceback (most recent call last):
  File "/app/mlops_model/server.py", line 112, in load
    self.model = artifacts.load(self.model_dir)
FileNotFoundError: [Errno 2] No such file or directory: '/mnt/models/model.joblib'
MLFLOW_TRACKING_PASSWORD=sup3r-s3cret-passw0rd
"""


def crashloop(k8s: FakeKubernetes, namespace: str = "models", pod: str = PREDICTOR) -> None:
    k8s.add_pod(
        crashlooping_pod(namespace, pod),
        logs={"kserve-container": "INFO:kserve:Loading model breast-cancer from /mnt/models\n"},
        previous={"kserve-container": CRASH_LOG},
    )
    k8s.add_event(namespace, pod, "Pulled", "Container image already present on machine", "Normal", 7)
    k8s.add_event(
        namespace, pod, "BackOff", "Back-off restarting failed container kserve-container in pod %s" % pod, count=31
    )


def oomkill(k8s: FakeKubernetes, namespace: str = "models", pod: str = "breast-cancer-predictor-7d9f8-oom01") -> None:
    k8s.add_pod(
        oomkilled_pod(namespace, pod),
        logs={"kserve-container": "INFO:kserve:Loading model breast-cancer\n"},
        previous={"kserve-container": "INFO:kserve:batch of 1000 rows\n" * 40},
    )
    k8s.add_event(namespace, pod, "OOMKilling", "Memory cgroup out of memory: Killed process 4242 (python)", count=2)
