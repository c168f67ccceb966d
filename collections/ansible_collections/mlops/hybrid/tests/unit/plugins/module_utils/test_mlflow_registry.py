from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import client as mc
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import registry as mr


def test_empty_credentials_count_as_unset():
    env = {}
    mc.configure_environment(
        tracking_uri="http://127.0.0.1:5000",
        username="",
        password="",
        token="",
        ca_path="",
        validate_certs=True,
        timeout=10,
        retries=1,
        environ=env,
    )
    assert sorted(env) == [
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
        "MLFLOW_TRACKING_URI",
    ]


def test_environment_carries_credentials_tls_and_bounds(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {}
    mc.configure_environment(
        tracking_uri="https://mlflow.example",
        username="ci",
        password="pw",  # noqa: S106 - a test value
        token=None,
        ca_path=str(ca),
        validate_certs=False,
        timeout=5,
        retries=0,
        environ=env,
    )
    assert env == {
        "MLFLOW_TRACKING_URI": "https://mlflow.example",
        "MLFLOW_TRACKING_USERNAME": "ci",
        "MLFLOW_TRACKING_PASSWORD": "pw",
        "MLFLOW_TRACKING_SERVER_CERT_PATH": str(ca),
        "MLFLOW_TRACKING_INSECURE_TLS": "true",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tracking_uri": ""}, "tracking_uri is not set"),
        ({"timeout": 0}, "request_timeout"),
        ({"retries": -1}, "request_retries"),
        ({"ca_path": "/nonexistent/ca.pem"}, "ca_path /nonexistent/ca.pem does not exist"),
        ({"username": "ci", "password": ""}, "username and password go together"),
        ({"username": "ci", "password": "p", "token": "t"}, "not both"),
    ],
)
def test_environment_refuses_bad_settings(kwargs, message):
    base = {"tracking_uri": "http://127.0.0.1:5000"}
    base.update(kwargs)
    with pytest.raises(InvalidInput) as e:
        mc.configure_environment(environ={}, **base)
    assert message in e.value.msg


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"run_id": None}, "exactly one of run_id and model_uri"),
        ({"model_uri": "runs:/x/model"}, "exactly one of run_id and model_uri"),
        ({"alias": "Latest"}, "not allowed"),
        ({"alias": "V2"}, "not allowed"),
        ({"alias": "blue green"}, "not allowed"),
        ({"metric": "accuracy"}, "go together"),
        ({"tags": {"git_sha": None}}, "null value"),
        ({"name": " "}, "name is empty"),
    ],
)
def test_registration_is_validated(fields, message):
    reg = mr.Registration(**{"name": "bc", "run_id": "r1", **fields})
    with pytest.raises(InvalidInput) as e:
        mr.validate(reg)
    assert message in e.value.msg


def test_history_is_read_in_order_per_alias():
    def record(version, at):
        return json.dumps({"alias": "champion", "version": version, "at": at})

    model = SimpleNamespace(
        tags={
            mr.HISTORY_PREFIX + "champion.000002": record("2", "2026-01-02T00:00:00.000Z"),
            mr.HISTORY_PREFIX + "champion.000001": record("1", "2026-01-01T00:00:00.000Z"),
            mr.HISTORY_PREFIX + "challenger.000001": json.dumps(
                {"alias": "challenger", "version": "3", "at": "2026-01-03"}
            ),
            "owner": "ml-team",
        }
    )
    assert [(h["version"], h["seq"]) for h in mr.history(model, "champion")] == [("1", 1), ("2", 2)]
    assert [h["alias"] for h in mr.history(model)] == ["champion", "champion", "challenger"]
