"""Fixtures of the model's tests: one trained model directory per session, servers per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mlops_model.train import main as train_main
from sandbox.model_server import ModelServerProcess

# The shared test bench (MLflow server, leftover-process check); a no-op when tests/conftest.py loaded it.
pytest_plugins = ["sandbox.fixtures"]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A model trained once for the session (local artifacts, no MLflow)."""
    out = tmp_path_factory.mktemp("model") / "artifacts"
    assert train_main(["--output-dir", str(out)]) == 0
    return out


@pytest.fixture
def model_server(tmp_path, model_dir) -> Iterator[Callable[..., ModelServerProcess]]:
    """Start the real server on a free port: ``model_server(*cli_options, model=...)``; stopped after the test."""
    started: list[ModelServerProcess] = []

    def start(*extra: str, model: str | None = None) -> ModelServerProcess:
        server = ModelServerProcess(tmp_path / f"server-{len(started)}", model or str(model_dir), extra=list(extra))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
