"""MLflow started from the Deployment of gitops/platform/mlflow: its own command line and
environment (the Secret values replaced by test ones, paths moved into tmp_path), so the flags,
the basic-auth app with the admin password from the Secret, the allowed hosts and the unprotected
probe path are proven on the same MLflow version the image pins."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
import requests

from sandbox.gitops import GITOPS, render
from sandbox.paths import VENV_BIN, tool_env
from sandbox.procs import Service, http_ok

pytestmark = pytest.mark.services

ADMIN_PASSWORD = "test-admin-password-1"
SECRETS = {("mlflow-auth", "admin-password"): ADMIN_PASSWORD, ("mlflow-auth", "flask-secret-key"): "k" * 32}


def _rendered():
    objs = {o["kind"]: o for o in render(GITOPS / "platform" / "mlflow")}
    return objs["Deployment"], objs["ConfigMap"], objs["Ingress"]


class DeploymentMlflow(Service):
    """``mlflow server`` with the container's argv and env; only host, port, workers and paths change."""

    name = "mlflow-deployment"
    package = "mlflow (pip, in .venv: make install)"
    ready_timeout = 120.0

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        deployment, configmap, _ = _rendered()
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


@pytest.fixture(scope="module")
def mlflow_from_deployment(tmp_path_factory):
    with DeploymentMlflow(tmp_path_factory.mktemp("mlflow-deployment")) as server:
        yield server


SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"


def test_the_deployment_runs_basic_auth_with_job_execution_off():
    deployment, _, _ = _rendered()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "--app-name=basic-auth" in container["command"]
    assert any(a.startswith("--artifacts-destination=") for a in container["command"])
    env = {e["name"]: e for e in container["env"]}
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"]["value"] == "false"
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-auth"


def test_anonymous_requests_are_refused(mlflow_from_deployment):
    r = requests.get(mlflow_from_deployment.url + SEARCH, timeout=30)
    assert r.status_code == 401


def test_admin_from_the_secret_is_accepted(mlflow_from_deployment):
    r = requests.get(mlflow_from_deployment.url + SEARCH, auth=("admin", ADMIN_PASSWORD), timeout=30)
    assert r.status_code == 200, r.text
    r = requests.get(mlflow_from_deployment.url + SEARCH, auth=("admin", "wrong"), timeout=30)
    assert r.status_code == 401


def test_probe_path_needs_no_credentials(mlflow_from_deployment):
    deployment, _, _ = _rendered()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    path = container["readinessProbe"]["httpGet"]["path"]
    assert requests.get(mlflow_from_deployment.url + path, timeout=30).status_code == 200


def test_ingress_and_service_hosts_are_allowed_others_are_not(mlflow_from_deployment):
    _, _, ingress = _rendered()
    (host,) = {rule["host"] for rule in ingress["spec"]["rules"]}
    auth = ("admin", ADMIN_PASSWORD)
    for allowed in (host, "mlflow.mlflow.svc.cluster.local:5000", "mlflow.mlflow:5000"):
        r = requests.get(mlflow_from_deployment.url + SEARCH, auth=auth, headers={"Host": allowed}, timeout=30)
        assert r.status_code == 200, (allowed, r.status_code)
    r = requests.get(
        mlflow_from_deployment.url + SEARCH, auth=auth, headers={"Host": "attacker.example.org"}, timeout=30
    )
    assert r.status_code in (400, 403), r.status_code
