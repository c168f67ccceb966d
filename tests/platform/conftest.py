"""Fixtures of the platform tests: the Compute fake and a service account it trusts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.fakes.gcp_compute import FakeCompute

PROJECT = "mlops-test-project"


@pytest.fixture
def service_account(tmp_path) -> tuple[Path, str]:
    """A service-account key file made for the test (path, private key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path / "sa.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": "ansible@%s.iam.gserviceaccount.com" % PROJECT,
                "client_id": "100000000000000000001",
                "token_uri": "http://127.0.0.1:9/token",
            }
        )
    )
    path.chmod(0o600)
    return path, pem, public


@pytest.fixture
def gcp(service_account):
    """The Compute fake, started, trusting the test's service account; stopped afterwards."""
    fake = FakeCompute(op_polls=2)
    fake.trust_key(service_account[2])
    with fake:
        yield fake


@pytest.fixture
def gcp_args(gcp, service_account) -> dict:
    """Options every GCP module gets in these tests."""
    return {
        "project": PROJECT,
        "auth_kind": "serviceaccount",
        "service_account_file": str(service_account[0]),
        "api_endpoint": gcp.endpoint,
        "poll_interval": 0.05,
        "operation_timeout": 30,
    }
