"""Fixtures for the AIOps tests: wire-level fakes of Gemini, GitHub and Slack, started and stopped per test."""

from __future__ import annotations

import pytest

from sandbox.fakes.gemini import FakeGemini
from sandbox.fakes.github import FakeGitHub
from sandbox.fakes.openai_compat import FakeOpenAICompatible
from sandbox.fakes.slack import FakeSlack


@pytest.fixture
def gemini():
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        fake.add_repo("example/platform", collaborators=("ml-lead", "sec-oncall"))
        yield fake


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def local_llm():
    with FakeOpenAICompatible(api_key="local-key") as fake:
        yield fake
