"""The states the AIOps flows are run against: a failed Bandit step on GitHub, a crash-looping pod."""

from __future__ import annotations

from sandbox.fakes.github import FakeGitHubActions, setup_job_log
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


CI_WORKFLOW = """name: ci
on: [push, pull_request]
jobs:
  tests:
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@%(setup_python)s
        with:
          python-version: ${{ matrix.python }}
      - run: pip install -r requirements.txt
      - run: pytest -x tests/
  security:
    name: security scans
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: bandit -r src -ll
"""
CHECKOUT_V4 = ("actions/checkout@v4", "34e114876b0b11c390a56381ad16ebd13914f8d5")
SETUP_PYTHON = {
    "v5": ("actions/setup-python@v5", "a26af69be951a213d495a4c3e4e4022e16d87065"),
    "v6": ("actions/setup-python@v6", "e797f83bcb11b83ae66e0230d6156d7c80228e7c"),
}


def ci_jobs(setup_python: str, image_version: str, failing: bool) -> list[dict]:
    """The jobs of a ci run: two matrix legs of the tests (failing the same way when ``failing``) and the security
    scans (Bandit failing when ``failing``), each with the "Set up job" log of its runner."""
    setup = setup_job_log(image_version=image_version, actions=(CHECKOUT_V4, SETUP_PYTHON[setup_python]))
    pytest_log = (CASES / "gha_pytest_assert.log").read_text()
    jobs = [
        {
            "name": "tests (%s)" % python,
            "conclusion": "failure" if failing else "success",
            "steps": [
                {"name": "Set up job", "log": setup},
                {"name": "Run actions/checkout@v4", "log": "Syncing repository"},
                {
                    "name": "Run pytest -x tests/",
                    "conclusion": "failure" if failing else "success",
                    "log": pytest_log.replace("Python 3.11.7", "Python %s.7" % python) if failing else "4 passed",
                },
            ],
        }
        for python in ("3.11", "3.12")
    ]
    bandit = (CASES / "gha_bandit.log").read_text() if failing else "No issues identified."
    jobs.append(
        {
            "name": "security scans",
            "conclusion": "failure" if failing else "success",
            "steps": [
                {"name": "Set up job", "log": setup_job_log(image_version=image_version, actions=(CHECKOUT_V4,))},
                {"name": "Run bandit -r src -ll", "conclusion": "failure" if failing else "success", "log": bandit},
            ],
        }
    )
    return jobs


def failing_tests_and_bandit(gh: FakeGitHubActions, head_branch: str = "main", pull_requests: tuple = ()) -> dict:
    """A ci run where both matrix legs of the tests fail on the same assertion and Bandit fails, after a green run;
    between the two, the workflow moved actions/setup-python from v5 to v6, requirements.txt raised scikit-learn,
    and the runner image was updated."""
    wf = gh.add_workflow(REPO_NAME, ".github/workflows/ci.yml", "ci")
    good = gh.add_commit(REPO_NAME, "feat: feature statistics")
    gh.add_file(REPO_NAME, ".github/workflows/ci.yml", CI_WORKFLOW % {"setup_python": "v5"}, good)
    gh.add_file(REPO_NAME, "requirements.txt", "numpy==2.1.3\nscikit-learn==1.5.2\n", good)
    ok_run = gh.add_run(
        REPO_NAME, wf, good, "success", ci_jobs("v5", "20251215.174.1", failing=False), head_branch=head_branch
    )
    bad = gh.add_commit(REPO_NAME, "ci: setup-python v6, scikit-learn 1.6")
    gh.add_file(REPO_NAME, ".github/workflows/ci.yml", CI_WORKFLOW % {"setup_python": "v6"}, bad)
    gh.add_file(REPO_NAME, "requirements.txt", "numpy==2.1.3\nscikit-learn==1.6.0\n", bad)
    gh.add_file(REPO_NAME, "src/app/vuln.py", VULN_PY, bad)
    run = gh.add_run(
        REPO_NAME,
        wf,
        bad,
        "failure",
        ci_jobs("v6", "20251222.180.1", failing=True),
        head_branch=head_branch,
        pull_requests=pull_requests,
    )
    return {"workflow": wf, "run": run, "ok_run": ok_run, "good": good, "bad": bad}


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
