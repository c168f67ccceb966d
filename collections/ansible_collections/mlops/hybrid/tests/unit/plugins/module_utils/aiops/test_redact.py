from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import redact as r

# One planted secret per kind (all fake), the kind the placeholder must name, and a line around it.
PLANTED = {
    "github_token": "export GH=ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "google_api_key": "key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "gcp_service_account": '"private_key_id": "0123456789abcdef0123456789abcdef01234567",',
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9xW3hZ8dPq0f1\nabcDEF123==\n"
    "-----END RSA PRIVATE KEY-----",
    "aws_access_key_id": "AWS_KEY_ID AKIAQ3EGRZBN7EXAMPL2 in use",
    "aws_secret_access_key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "slack_token": "bot xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack_webhook": "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "jwt": "id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer_token": "Authorization: Bearer abcdefghijklmnop1234",
    "basic_auth": "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==",
    "url_password": "MLFLOW_TRACKING_URI=postgresql://mlflow:S3cretPw@db:5432/mlflow",
    "env_secret": "DB_PASSWORD=Sup3rS3cretPassw0rd!",
    "kubeconfig_key_data": "    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=",
    "kubeconfig_token": "    token: abcdef.0123456789abcdef",
    "k3s_token": "K10abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567::server:"
    "0123456789abcdef0123456789abcdef",
    "generic_secret": 'signing = "Zk9xQ2d3R1pNb3V4S2pQeF9yV2hTdTJmQ0VnTmxBc1k"',
}
VALUES = {
    "github_token": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "google_api_key": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "gcp_service_account": "0123456789abcdef0123456789abcdef01234567",
    "private_key": "MIIEowIBAAKCAQEA7bq9xW3hZ8dPq0f1",
    "aws_access_key_id": "AKIAQ3EGRZBN7EXAMPL2",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "slack_token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack_webhook": "XXXXXXXXXXXXXXXXXXXXXXXX",
    "jwt": "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer_token": "abcdefghijklmnop1234",
    "basic_auth": "dXNlcjpwYXNzd29yZDEyMw==",
    "url_password": "S3cretPw",
    "env_secret": "Sup3rS3cretPassw0rd!",
    "kubeconfig_key_data": "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=",
    "kubeconfig_token": "abcdef.0123456789abcdef",
    "k3s_token": "K10abcdef0123456789abcdef",
    "generic_secret": "Zk9xQ2d3R1pNb3V4S2pQeF9yV2hTdTJmQ0VnTmxBc1k",
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_every_kind_is_replaced_by_its_typed_placeholder(kind):
    out, counts = r.redact("before\n%s\nafter" % PLANTED[kind])
    assert VALUES[kind] not in out
    assert "[REDACTED:%s]" % kind in out
    assert counts.get(kind, 0) >= 1
    assert out.startswith("before\n") and out.endswith("\nafter")


def test_all_kinds_together_counts_and_no_values():
    text = "\n".join(PLANTED.values())
    out, counts = r.redact(text)
    for value in VALUES.values():
        assert value not in out
    assert set(PLANTED) <= set(counts)
    assert all(isinstance(n, int) and n > 0 for n in counts.values())
    assert not any(v in str(counts) for v in VALUES.values())


def test_redaction_is_idempotent():
    once, _counts = r.redact("\n".join(PLANTED.values()))
    twice, counts = r.redact(once)
    assert twice == once and counts == {}


@pytest.mark.parametrize(
    "text",
    [
        "commit 9c1f0a7e3b2d4c5f6a7b8c9d0e1f2a3b4c5d6e7f",
        "image ghcr.io/example/iris@sha256:4f0c2a9e6b1d7c3e8a5f2b9d0c6e1a7f3b8d2c5e9a0f4b7c1d6e3a8f2b5c9d0e",
        "E       assert 2.5 == 2.0",
        "password: ${{ secrets.DB_PASSWORD }}",
        "TOKEN=",
        "Secret Type: GitHub Token",
    ],
)
def test_ordinary_lines_are_left_alone(text):
    assert r.redact(text) == (text, {})


def test_known_values_and_nested_objects():
    obj = {"a": ["token is hunter2-value", {"b": "ok"}], "n": 3}
    out, counts = r.redact_obj(obj, extra=["hunter2-value"])
    assert out == {"a": ["token is [REDACTED:known_secret]", {"b": "ok"}], "n": 3}
    assert counts == {"known_secret": 1}
    assert r.merge_counts({"a": 1}, {"a": 2, "b": 1}, None) == {"a": 3, "b": 1}
