"""Pytest fixtures of the test bench: thin wrappers over the plain classes of sandbox/.

Loaded by tests/conftest.py and model/tests/conftest.py. The classes (MlflowServer, GitRemote,
Prometheus, Alertmanager, WebhookReceiver, MetricsExporter) work without pytest too, for
``make demo`` and benchmarks.
A missing program skips the tests that need it, naming the package that brings it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import procs
from .gitrepo import GitRemote
from .mlflow_server import MlflowServer, unique_name, use_tracking_uri
from .procs import BinaryMissing
from .prometheus import Alertmanager, Prometheus, alertmanager_config
from .webhook import MetricsExporter, WebhookReceiver

__all__ = [
    "alertmanager",
    "bench_no_leftover_processes",
    "git_remote",
    "metrics_exporter",
    "mlflow_server",
    "mlflow_tracking",
    "start_alertmanager",
    "start_prometheus",
    "webhook_receiver",
]


# Seconds each session-scoped service took to become ready, shown at the end of the run.
_STARTUP_SECONDS: dict[str, float | None] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    for name, seconds in _STARTUP_SECONDS.items():
        terminalreporter.write_line("test bench: %s ready in %.1fs" % (name, seconds or 0.0))


@pytest.fixture(scope="session", autouse=True)
def bench_no_leftover_processes() -> Iterator[None]:
    """At the end of the session, fail if any service process the bench started is still alive."""
    yield
    leftovers = procs.reap_leftovers()
    assert not leftovers, "service processes left running at the end of the session (now killed): %s" % leftovers


# -- MLflow -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory) -> Iterator[MlflowServer]:
    """One real MLflow tracking server for the whole session; use ``mlflow_tracking`` for isolation."""
    try:
        server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    except BinaryMissing as e:
        pytest.skip(str(e))
    server.start()
    _STARTUP_SECONDS["mlflow server (session)"] = server.startup_seconds
    try:
        yield server
    finally:
        server.stop()


@dataclass
class MlflowTracking:
    """The session's MLflow server as one test sees it: unique names and the URI set in the env."""

    server: MlflowServer
    prefix: str

    @property
    def uri(self) -> str:
        return self.server.url

    def unique(self, kind: str = "exp") -> str:
        """A name no other test uses on the shared server, e.g. ``test-foo-model-1a2b3c4d``."""
        return unique_name("%s-%s" % (self.prefix, kind))

    def client(self):
        return self.server.client()


@pytest.fixture
def mlflow_tracking(mlflow_server, request) -> Iterator[MlflowTracking]:
    """Point ``mlflow`` (the library and subprocesses, via MLFLOW_TRACKING_URI) at the session server."""
    with use_tracking_uri(mlflow_server.url):
        yield MlflowTracking(mlflow_server, request.node.name[:40])


# -- Git ----------------------------------------------------------------------------------------


@pytest.fixture
def git_remote(tmp_path) -> GitRemote:
    """A bare remote under tmp_path with an initial commit on ``main``; ``.clone(name)`` for clones."""
    try:
        return GitRemote.create(tmp_path / "remote.git")
    except BinaryMissing as e:
        pytest.skip(str(e))


# -- Prometheus, Alertmanager and in-process HTTP servers ---------------------------------------


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """An HTTP server on 127.0.0.1 recording every POST: ``.url``, ``.requests``, ``.wait_for()``."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def metrics_exporter() -> Iterator[MetricsExporter]:
    """Serves ``/metrics`` text set by the test (``.set(text)``, ``.gauge(...)``); ``.target`` for Prometheus."""
    with MetricsExporter() as exporter:
        yield exporter


def _service_factory(tmp_path: Path, cls, name: str) -> Iterator:
    """Yield ``start(*args, **kwargs) -> cls`` (a started service); stop every one of them afterwards."""
    started = []

    def start(*args, **kwargs):
        try:
            service = cls(tmp_path / ("%s-%d" % (name, len(started))), *args, **kwargs)
        except BinaryMissing as e:
            pytest.skip(str(e))
        started.append(service)
        return service.start()

    try:
        yield start
    finally:
        for service in started:
            service.stop()


@pytest.fixture
def start_prometheus(tmp_path) -> Iterator:
    """``start_prometheus(config=None, rules=None) -> Prometheus`` (started; stopped at teardown)."""
    yield from _service_factory(tmp_path, Prometheus, "prometheus")


@pytest.fixture
def start_alertmanager(tmp_path) -> Iterator:
    """``start_alertmanager(config=None) -> Alertmanager`` (started; stopped at teardown)."""
    yield from _service_factory(tmp_path, Alertmanager, "alertmanager")


@pytest.fixture
def alertmanager(start_alertmanager, webhook_receiver) -> Alertmanager:
    """An Alertmanager routing every alert to ``webhook_receiver`` (group_wait 0s, group_interval 1s)."""
    return start_alertmanager(alertmanager_config(webhook_receiver.url + "/alerts"))
