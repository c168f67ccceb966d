"""MLflow started the way its Deployment in gitops/platform/mlflow runs it: the container's argv and env, basic auth on.

Only what a pod has and a host does not changes (host, port, workers, paths); the tests of the
Deployment and the drift flow's in-cluster reading share it.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from sandbox.gitops import GITOPS, render
from sandbox.paths import VENV_BIN, tool_env
from sandbox.procs import Service, http_ok

ADMIN_PASSWORD = "test-admin-password-1"
SECRETS = {("mlflow-auth", "admin-password"): ADMIN_PASSWORD, ("mlflow-auth", "flask-secret-key"): "k" * 32}


def rendered():
    """The Deployment, ConfigMap and Ingress of gitops/platform/mlflow as ArgoCD renders them."""
    objs = {o["kind"]: o for o in render(GITOPS / "platform" / "mlflow")}
    return objs["Deployment"], objs["ConfigMap"], objs["Ingress"]


class DeploymentMlflow(Service):
    """``mlflow server`` with the container's argv and env; only host, port, workers and paths change."""

    name = "mlflow-deployment"
    package = "mlflow (pip, in .venv: make install)"
    ready_timeout = 120.0

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        deployment, configmap, _ = rendered()
        (self.container,) = deployment["spec"]["template"]["spec"]["containers"]
        self.data = self.workdir / "data"
        self.auth_ini = configparser.ConfigParser()
        self.auth_ini.read_string(configmap["data"]["basic_auth.ini"])
        assert self.auth_ini["mlflow"]["database_uri"] == "sqlite:////mlflow/basic_auth.db"
        self.auth_ini["mlflow"]["database_uri"] = "sqlite:///%s" % (self.data / "basic_auth.db")
        self.ini = self.workdir / "basic_auth.ini"

    def _prepare(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with self.ini.open("w") as f:
            self.auth_ini.write(f)

    def _argv(self, port: int) -> list[str]:
        env = {}
        for item in self.container["env"]:
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                env[item["name"]] = SECRETS[(ref["name"], ref["key"])]
            else:
                env[item["name"]] = item["value"]
        env.update(HOME=str(self.workdir), MLFLOW_AUTH_CONFIG_PATH=str(self.ini))
        self.env = tool_env(env)
        argv = [str(VENV_BIN / "mlflow"), *self.container["command"][1:]]
        moved = {
            "--host": "127.0.0.1",
            "--port": str(port),
            "--workers": "1",
            "--backend-store-uri": "sqlite:///%s" % (self.data / "mlflow.db"),
            "--artifacts-destination": str(self.data / "artifacts"),
        }
        return [("%s=%s" % (a.split("=")[0], moved[a.split("=")[0]]) if a.split("=")[0] in moved else a) for a in argv]

    def _ready(self) -> bool:
        return http_ok(self.url + "/health")


SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"
