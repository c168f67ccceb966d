"""One fake secret of every kind the redactor knows, planted in logs and context by the tests."""

from __future__ import annotations

SECRETS = {
    "github_token": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "google_api_key": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "gcp_service_account": "0123456789abcdef0123456789abcdef01234567",
    "private_key": "MIIEowIBAAKCAQEA7bq9xW3hZ8dPq0f1",
    "aws_access_key_id": "AKIAQ3EGRZBN7EXAMPL2",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "slack_token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack_webhook": "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer_token": "abcdefghijklmnop1234",
    "basic_auth": "dXNlcjpwYXNzd29yZDEyMw==",
    "url_password": "S3cretPw",
    "env_secret": "Sup3rS3cretPassw0rd!",
    "kubeconfig_key_data": "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=",
    "kubeconfig_token": "abcdef.0123456789abcdef",
    "k3s_token": "K10abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567::server:"
    "0123456789abcdef0123456789abcdef",
    "generic_secret": "Zk9xQ2d3R1pNb3V4S2pQeF9yV2hTdTJmQ0VnTmxBc1k",
}

S = SECRETS
# A failing CI log with every secret on an error line, so each one lands in the excerpt.
LOG = "\n".join(
    [
        "Run pytest",
        "ERROR: clone failed with GH=%s" % S["github_token"],
        "ERROR: gemini key=%s rejected" % S["google_api_key"],
        'ERROR: credentials.json {"type": "service_account", "private_key_id": "%s",' % S["gcp_service_account"],
        'ERROR: "private_key": "-----BEGIN PRIVATE KEY-----\\n%s\\nabcDEF123==\\n-----END PRIVATE KEY-----\\n"'
        % S["private_key"],
        "ERROR: AWS_KEY_ID %s aws_secret_access_key = %s" % (S["aws_access_key_id"], S["aws_secret_access_key"]),
        "ERROR: slack bot %s hook https://hooks.slack.com/services/%s" % (S["slack_token"], S["slack_webhook"]),
        "ERROR: id_token %s" % S["jwt"],
        "ERROR: curl -H 'Authorization: Bearer %s' failed" % S["bearer_token"],
        "ERROR: curl -H 'Authorization: Basic %s' failed" % S["basic_auth"],
        "ERROR: MLFLOW_TRACKING_URI=postgresql://mlflow:%s@db:5432/mlflow unreachable" % S["url_password"],
        "ERROR: env dump DB_PASSWORD=%s" % S["env_secret"],
        "ERROR: kubeconfig client-key-data: %s" % S["kubeconfig_key_data"],
        "    token: %s" % S["kubeconfig_token"],
        "ERROR: k3s join with %s failed" % S["k3s_token"],
        'ERROR: signing = "%s"' % S["generic_secret"],
        "E       assert 2.5 == 2.0",
        "FAILED tests/test_features.py::test_mean - assert 2.5 == 2.0",
        "1 failed, 3 passed in 0.12s",
    ]
)
CONTEXT = {"workflow": "ci", "env": "DB_PASSWORD=%s" % S["env_secret"], "token_hint": "Bearer %s" % S["bearer_token"]}


def leaked(text: str) -> list[str]:
    """The kinds whose value appears in ``text``."""
    return [kind for kind, value in SECRETS.items() if value in text]
