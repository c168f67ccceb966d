"""Fixtures of the AIOps flow tests: GitHub (with Actions), Slack and Kubernetes fakes, started per test."""

from __future__ import annotations

import pytest

from sandbox.fakes.github import FakeGitHubActions
from sandbox.fakes.kubernetes import FakeKubernetes
from sandbox.fakes.slack import FakeSlack

from .scenarios import REPO_NAME


@pytest.fixture
def github():
    with FakeGitHubActions() as fake:
        fake.add_repo(REPO_NAME, collaborators=("ml-lead", "sec-oncall"))
        yield fake


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def k8s():
    with FakeKubernetes() as fake:
        yield fake


@pytest.fixture
def flow_env(github, slack):
    """The environment a workflow gives the playbooks: the token, the API URL, the Slack webhook, no LLM key."""
    return {
        "GITHUB_TOKEN": github.token,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO_NAME,
        "SLACK_WEBHOOK_URL": slack.webhook_url,
        "AIOPS_PROVIDER": "offline",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
    }
