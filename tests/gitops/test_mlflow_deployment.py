"""MLflow started from the Deployment of gitops/platform/mlflow: its own command line and
environment (the Secret values replaced by test ones, paths moved into tmp_path), so the flags,
the basic-auth app with the admin password from the Secret, the allowed hosts and the unprotected
probe path are proven on the same MLflow version the image pins."""

from __future__ import annotations

import pytest
import requests

from sandbox.mlflow_deployment import ADMIN_PASSWORD, SEARCH, DeploymentMlflow, rendered

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def mlflow_from_deployment(tmp_path_factory):
    with DeploymentMlflow(tmp_path_factory.mktemp("mlflow-deployment")) as server:
        yield server


def test_the_deployment_runs_basic_auth_with_job_execution_off():
    deployment, _, _ = rendered()
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
    deployment, _, _ = rendered()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    path = container["readinessProbe"]["httpGet"]["path"]
    assert requests.get(mlflow_from_deployment.url + path, timeout=30).status_code == 200


def test_ingress_and_service_hosts_are_allowed_others_are_not(mlflow_from_deployment):
    _, _, ingress = rendered()
    (host,) = {rule["host"] for rule in ingress["spec"]["rules"]}
    auth = ("admin", ADMIN_PASSWORD)
    for allowed in (host, "mlflow.mlflow.svc.cluster.local:5000", "mlflow.mlflow:5000"):
        r = requests.get(mlflow_from_deployment.url + SEARCH, auth=auth, headers={"Host": allowed}, timeout=30)
        assert r.status_code == 200, (allowed, r.status_code)
    r = requests.get(
        mlflow_from_deployment.url + SEARCH, auth=auth, headers={"Host": "attacker.example.org"}, timeout=30
    )
    assert r.status_code in (400, 403), r.status_code
