# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failure categories: one table that the classifier, the prompts, the offline reports, the
incident routing and the modules' ``kind`` choices all read.

A row names the category, what it means, the team it goes to (``team``: the handles of
incident_report's ``teams`` setting are mentioned) and its issue ``labels``, the prompt template, the
offline report's urgency, cause and remediation, and the words that say the category outside the
log's failure lines: the tools whose command line or step name it is (``tools``), weaker words of a
step or job name (``step_words``) and words of a Prometheus alert's name (``alert_words``); and the
words a failure of the category talks in (``vocabulary``), which name the category of a log no rule
matches when its failing lines use enough of them.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Category:
    """One failure category and everything the platform does by it."""

    name: str
    description: str
    team: str
    labels: tuple
    template: str
    urgency: str
    cause: str
    remediation: str
    tools: tuple = ()
    step_words: tuple = ()
    alert_words: tuple = ()
    vocabulary: tuple = ()


TABLE = (
    Category(
        name="test",
        description="a test suite fails (pytest, unittest, tox, nox, a collection or configuration error)",
        team="dev",
        labels=("ci",),
        template="testing",
        urgency="P2",
        cause="A test fails: the assertion or exception shown in the evidence.",
        remediation="Run the failing test locally (pytest -x <test id>), decide whether the code or the test is "
        "wrong, fix it in a PR.",
        tools=("pytest", "py.test", "tox", "nox", "unittest", "molecule", "ansible-test units"),
        step_words=("test", "tests", "pytest", "unit", "integration", "e2e"),
        vocabulary=(
            "pytest",
            "unittest",
            "assert",
            "test_",
            "tests/",
            "testcase",
            "jest",
            "fixture",
            "conftest",
            "tox",
            "nox",
        ),
    ),
    Category(
        name="lint",
        description="a linter, formatter or type checker reports violations",
        team="dev",
        labels=("ci",),
        template="testing",
        urgency="P2",
        cause="The linter or formatter reports violations.",
        remediation="Run the same linter locally (ruff check --fix / ruff format) and commit the result; do not "
        "silence the rule without a reason.",
        tools=(
            "flake8",
            "ruff",
            "pylint",
            "mypy",
            "pyright",
            "black",
            "isort",
            "yamllint",
            "ansible-lint",
            "actionlint",
            "shellcheck",
            "hadolint",
            "eslint",
            "prettier",
            "golangci-lint",
            "pre-commit",
            "markdownlint",
            "tflint",
            "ansible-test sanity",
        ),
        step_words=("lint", "format", "style", "typecheck", "type-check", "sanity"),
        vocabulary=(
            "lint",
            "flake8",
            "pylint",
            "ruff",
            "mypy",
            "eslint",
            "prettier",
            "reformat",
            "style",
            "pep8",
            "pycodestyle",
            "unused",
            "line too long",
            "undefined name",
            "yamllint",
            "shellcheck",
            "hadolint",
            "errcheck",
        ),
    ),
    Category(
        name="sast",
        description="a static analyser finds insecure code (Bandit, Semgrep, gosec, CodeQL)",
        team="security",
        labels=("security",),
        template="devsecops",
        urgency="P1",
        cause="The static analyser found insecure code (see the issue id and location).",
        remediation="Fix the flagged line (no shell=True, safe_load, no pickle of untrusted data, verify TLS); "
        "mark a proven false positive with a justified nosec.",
        tools=("bandit", "semgrep", "gosec", "codeql", "brakeman", "checkov", "tfsec", "kics", "njsscan"),
        step_words=("sast", "codeql"),
        vocabulary=(
            "bandit",
            "semgrep",
            "gosec",
            "codeql",
            "sast",
            "cwe-",
            "injection",
            "insecure",
            "hardcoded",
            "checkov",
            "tfsec",
            "static analysis",
            "brakeman",
        ),
    ),
    Category(
        name="sca",
        description="a dependency has a known vulnerability (pip-audit, Safety, Snyk, govulncheck, cargo audit)",
        team="security",
        labels=("security",),
        template="devsecops",
        urgency="P1",
        cause="A pinned dependency has a known vulnerability.",
        remediation="Raise the pin to the fixed version in requirements and constraints, rerun the tests, and "
        "re-run the audit.",
        tools=(
            "pip-audit",
            "safety",
            "snyk",
            "osv-scanner",
            "govulncheck",
            "cargo audit",
            "cargo-audit",
            "npm audit",
            "yarn audit",
            "dependency-check",
            "bundle-audit",
            "bundler-audit",
        ),
        step_words=("sca", "audit", "dependency", "dependencies", "vulnerabilit"),
        vocabulary=(
            "vulnerab",
            "advisory",
            "ghsa-",
            "pysec-",
            "rustsec",
            "audit",
            "dependenc",
            "upgrade to",
            "fixed in",
            "affected",
            "snyk",
            "safety",
        ),
    ),
    Category(
        name="container_scan",
        description="an image holds vulnerable packages (Trivy, Grype, Docker Scout)",
        team="security",
        labels=("security",),
        template="devsecops",
        urgency="P1",
        cause="The image contains packages with critical vulnerabilities.",
        remediation="Rebuild on a patched base image (or upgrade the package), push, and let the GitOps bump roll "
        "it out.",
        tools=("trivy", "grype", "docker scout", "clair", "clairctl", "klar", "anchore", "dockle"),
        step_words=("image scan", "container scan", "scan image", "scan the image"),
        vocabulary=(
            "trivy",
            "grype",
            "image",
            "layer",
            "debian",
            "alpine",
            "ubuntu",
            "base image",
            "scout",
            "clair",
            "os package",
        ),
    ),
    Category(
        name="secrets",
        description="a credential was committed or printed (gitleaks, TruffleHog, detect-secrets, push protection)",
        team="security",
        labels=("security",),
        template="devsecops",
        urgency="P0",
        cause="A credential was committed or printed.",
        remediation="Revoke and rotate the credential now, remove it from the history, and load it from a secret "
        "store.",
        tools=("gitleaks", "trufflehog", "detect-secrets", "ggshield", "git-secrets", "secretlint"),
        step_words=("secret", "secrets", "leaks"),
        vocabulary=(
            "secret",
            "token",
            "leak",
            "credential",
            "api key",
            "password",
            "gitleaks",
            "trufflehog",
            "entropy",
            "push protection",
            "private key",
        ),
    ),
    Category(
        name="training",
        description="training diverged or got bad input (NaN loss, NaN features, shapes, an accuracy assert)",
        team="ml",
        labels=("ml",),
        template="ml_engineer",
        urgency="P1",
        cause="Training diverged or received bad input (NaN/inf loss, NaN features, shape mismatch).",
        remediation="Check the input data for NaN and schema changes, lower the learning rate or clip gradients, "
        "and rerun.",
        step_words=("train", "training", "fit"),
        vocabulary=(
            "train",
            "epoch",
            "loss",
            "fit(",
            "gradient",
            "optimizer",
            "learning rate",
            "batch",
            "tensor",
            "cuda",
            "sklearn",
            "torch",
            "keras",
            "xgboost",
        ),
    ),
    Category(
        name="model_validation",
        description="a model or its data fails a gate (metric below threshold, schema, data quality, drift)",
        team="ml",
        labels=("ml",),
        template="ml_engineer",
        urgency="P1",
        cause="The model failed its validation gate (metric below threshold, schema or drift).",
        remediation="Do not promote the model; compare data and metrics with the last good run in MLflow and "
        "retrain or roll back.",
        tools=("great_expectations", "pandera", "deepchecks", "evidently"),
        step_words=("validate", "validation", "evaluate", "evaluation", "gate", "drift"),
        alert_words=("Drift", "Accuracy", "Confidence"),
        vocabulary=(
            "validat",
            "schema",
            "expectation",
            "drift",
            "threshold",
            "metric",
            "accuracy",
            "great_expectations",
            "pandera",
            "evidently",
            "data quality",
            "anomal",
        ),
    ),
    Category(
        name="k8s_crashloop",
        description="a container exits on start and Kubernetes backs off restarting it",
        team="platform",
        labels=("sre",),
        template="sre",
        urgency="P1",
        cause="The container exits on start and Kubernetes backs off restarting it.",
        remediation="Read the previous container's log (kubectl logs --previous), fix the startup error (config, "
        "model path, dependency) in Git.",
        alert_words=("CrashLoop", "Restart"),
        vocabulary=("crashloop", "back-off", "restart", "exited", "kubectl", "pod", "container", "startup"),
    ),
    Category(
        name="k8s_oom",
        description="a container was killed for memory (OOMKilled, exit code 137, evicted for node memory)",
        team="platform",
        labels=("sre",),
        template="sre",
        urgency="P1",
        cause="The container was killed for exceeding its memory limit.",
        remediation="Raise the memory limit in the manifest or reduce the memory the process uses (batch size, "
        "model size); watch the node's free memory.",
        alert_words=("OOM", "Memory"),
        vocabulary=("oom", "memory", "killed", "137", "evict", "memcg", "heap", "out of memory"),
    ),
    Category(
        name="k8s_image_pull",
        description="the node cannot pull the image (ErrImagePull, ImagePullBackOff)",
        team="platform",
        labels=("sre",),
        template="sre",
        urgency="P1",
        cause="The node cannot pull the image (wrong tag, missing image or missing pull credentials).",
        remediation="Check the tag exists in the registry and that the pod has the right imagePullSecret; fix the "
        "manifest in Git.",
        alert_words=("ImagePull",),
        vocabulary=("pull", "image", "registry", "manifest unknown", "unauthorized", "docker.io", "ghcr.io"),
    ),
    Category(
        name="k8s_probe",
        description="health probes fail, so the pod is not ready or is restarted",
        team="platform",
        labels=("sre",),
        template="sre",
        urgency="P2",
        cause="Health probes fail, so the pod is not ready or gets restarted.",
        remediation="Check the probe path and port against the server, and give the model time to load "
        "(startupProbe or initialDelaySeconds).",
        alert_words=("Probe", "NotReady"),
        vocabulary=("probe", "readiness", "liveness", "healthz", "health check", "unhealthy"),
    ),
    Category(
        name="k8s_latency",
        description="requests are slow or time out (latency alerts, 504s, upstream timeouts, slow-request lines)",
        team="platform",
        labels=("sre",),
        template="sre",
        urgency="P1",
        cause="Inference latency is above its objective.",
        remediation="Check CPU throttling and replicas, batch size and model size; scale out or roll back the last "
        "model change.",
        alert_words=("Latency", "Slow"),
        vocabulary=(
            "latency",
            "timeout",
            "timed out",
            "slow",
            "504",
            "deadline",
            "p99",
            "response time",
            "elapsed",
            "upstream",
        ),
    ),
    Category(
        name="argocd_sync",
        description="ArgoCD cannot render, compare or apply the desired state",
        team="platform",
        labels=("sre",),
        template="deployment",
        urgency="P1",
        cause="ArgoCD cannot render or apply the desired state.",
        remediation="Fix the manifest or kustomization in Git (or install the missing CRD), then let ArgoCD sync "
        "again.",
        tools=("argocd",),
        step_words=("argocd", "gitops sync"),
        alert_words=("ArgoCD", "OutOfSync", "SyncFailed"),
        vocabulary=(
            "argocd",
            "argo cd",
            "sync",
            "application",
            "manifest",
            "kustomize",
            "helm",
            "outofsync",
            "repo-server",
            "gitops",
        ),
    ),
    Category(
        name="infra",
        description="the infrastructure failed (connectivity, quota, disk, package index, registry, Git remote)",
        team="platform",
        labels=("sre",),
        template="sre",
        urgency="P1",
        cause="The platform's infrastructure failed (connectivity, quota, disk, registry or Git remote).",
        remediation="Check the reported resource (host reachability, quota, free disk, remote state) and rerun "
        "once it is fixed.",
        tools=("terraform", "gcloud", "ansible-playbook", "pulumi", "packer"),
        step_words=("provision", "terraform", "infra", "infrastructure"),
        alert_words=("NodeDown", "InstanceDown", "Disk", "Unreachable"),
        vocabulary=(
            "terraform",
            "ansible",
            "quota",
            "permission",
            "denied",
            "dns",
            "resolve",
            "connection refused",
            "unreachable",
            "ssh",
            "disk",
            "no space",
            "network",
            "gcloud",
            "runner",
        ),
    ),
    Category(
        name="other",
        description="nothing else fits",
        team="",
        labels=("triage",),
        template="sre",
        urgency="P2",
        cause="The failure does not match a known pattern.",
        remediation="Read the decisive lines below and the full log; add a rule to the extractor if the pattern "
        "recurs.",
    ),
)

BY_NAME = {c.name: c for c in TABLE}
TEAMS = tuple(sorted({c.team for c in TABLE if c.team}))
CATEGORIES = tuple(c.name for c in TABLE)


def category(name):
    """The row of ``name``; an unknown name gets the row of ``other``."""
    return BY_NAME.get(name, BY_NAME["other"])
