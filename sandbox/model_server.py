"""The model server as a managed process of the test bench (also used by bench/serving.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import requests

from sandbox.paths import REPO, tool_env
from sandbox.procs import Service, http_ok

__all__ = ["MODEL_SRC", "ModelServerProcess", "breast_cancer_rows", "predict_v1"]

MODEL_SRC = REPO / "model" / "src"


class ModelServerProcess(Service):
    """``python -m mlops_model.server`` on a free loopback port; ``extra`` are more CLI options."""

    name = "model-server"
    ready_timeout = 60.0

    def __init__(self, workdir: Path, model: str, model_name: str = "breast-cancer", extra: list[str] | None = None):
        super().__init__(workdir, tool_env({"PYTHONPATH": str(MODEL_SRC)}))
        self.model = model
        self.model_name = model_name
        self.extra = list(extra or [])

    def _argv(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "mlops_model.server",
            "--model",
            self.model,
            "--name",
            self.model_name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *self.extra,
        ]

    def _ready(self) -> bool:
        return http_ok(f"{self.url}/v2/health/ready")

    def v1(self, suffix: str = ":predict") -> str:
        return f"{self.url}/v1/models/{self.model_name}{suffix}"

    def v2(self) -> str:
        return f"{self.url}/v2/models/{self.model_name}/infer"

    def metrics(self) -> str:
        r = requests.get(f"{self.url}/metrics", timeout=10)
        r.raise_for_status()
        return r.text


def breast_cancer_rows():
    """The whole data set (rows, labels), for requests."""
    from sklearn.datasets import load_breast_cancer  # noqa: PLC0415

    data = load_breast_cancer()
    return data.data, data.target


def predict_v1(server: ModelServerProcess, rows, request_id: str | None = None) -> dict:
    headers = {"x-request-id": request_id} if request_id else {}
    r = requests.post(
        server.v1(), json={"instances": [list(map(float, row)) for row in rows]}, headers=headers, timeout=30
    )
    r.raise_for_status()
    return r.json()
