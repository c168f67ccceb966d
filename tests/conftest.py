"""Fixtures shared by every test: see tests/helpers/ for the test bench itself."""

from __future__ import annotations

import pytest

from sandbox.ansible_run import AnsibleHarness

# Real local services (MLflow, Git remotes, Prometheus, Alertmanager, webhook receiver).
pytest_plugins = ["sandbox.fixtures"]


@pytest.fixture
def ansible(tmp_path):
    """Run playbooks and single modules through ansible-runner against the sandbox inventory."""
    return AnsibleHarness(tmp_path / "ansible")
