"""A real MLflow tracking server on a free loopback port (SQLite backend, artifacts proxied over HTTP).

    with MlflowServer(tmp_dir) as server:
        client = server.client()          # mlflow.tracking.MlflowClient bound to server.url
        ...

Runs ``mlflow server`` from the project's virtualenv with one worker and job execution off, so
it starts in seconds and leaves no job workers behind. Artifacts go through the server's
``mlflow-artifacts:`` proxy into ``<workdir>/artifacts``, as they would on the cluster.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from .paths import VENV_BIN, tool_env
from .procs import Service, http_ok, require_binary

__all__ = ["MlflowServer", "unique_name", "use_tracking_uri"]

URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def unique_name(prefix: str) -> str:
    """A name nobody else on a shared server uses: ``<prefix>-<8 hex>``, safe for experiments and models."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in prefix)[:60].strip("-") or "t"
    return "%s-%s" % (cleaned, uuid.uuid4().hex[:8])


@contextmanager
def use_tracking_uri(uri: str) -> Iterator[None]:
    """Point the mlflow library, and subprocesses through the environment, at ``uri``; restore both after.

    ``mlflow.set_tracking_uri`` also writes MLFLOW_TRACKING_URI into ``os.environ``, so setting the
    previous URI back is not enough: it would leave a variable that was not there before.
    """
    import mlflow  # noqa: PLC0415 - heavy, and only needed here
    from mlflow.tracking._model_registry import utils as registry_utils  # noqa: PLC0415
    from mlflow.tracking._tracking_service import utils as tracking_utils  # noqa: PLC0415

    saved_env = {name: os.environ.get(name) for name in URI_VARIABLES}
    saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    os.environ["MLFLOW_REGISTRY_URI"] = uri
    try:
        yield
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class MlflowServer(Service):
    name = "mlflow"
    package = "mlflow (pip, in .venv: make install)"
    ready_timeout = 90.0

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        super().__init__(workdir, env)
        self.mlflow_bin = require_binary(str(VENV_BIN / "mlflow"), self.package)
        self.db_path = self.workdir / "mlflow.db"
        self.artifacts_dir = self.workdir / "artifacts"

    @property
    def backend_uri(self) -> str:
        return "sqlite:///%s" % self.db_path

    @property
    def tracking_uri(self) -> str:
        return self.url

    def _argv(self, port: int) -> list[str]:
        self.env = tool_env({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(self.env or {})})
        return [
            self.mlflow_bin,
            "server",
            "--backend-store-uri",
            self.backend_uri,
            "--serve-artifacts",
            "--artifacts-destination",
            str(self.artifacts_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]

    def _ready(self) -> bool:
        return http_ok(self.url + "/health")

    def client(self):
        """An ``MlflowClient`` for this server (tracking and registry)."""
        from mlflow.tracking import MlflowClient  # noqa: PLC0415 - mlflow is heavy; import on use

        return MlflowClient(tracking_uri=self.url, registry_uri=self.url)

    def api(self, method: str, path: str, **kwargs):
        """Call the REST API (``path`` like ``/api/2.0/mlflow/registered-models/get``); returns the JSON."""
        r = requests.request(method, self.url + path, timeout=30, **kwargs)
        r.raise_for_status()
        return r.json()
