"""The GCP session: error messages, resource names, retries and their waits, its options."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import (
    MAX_BACKOFF_SECONDS,
    Connection,
    GcpSession,
    explain_error,
    short_name,
)
from ansible_collections.mlops.hybrid.plugins.modules import gcp_firewall


@pytest.mark.parametrize(
    ("code", "reason", "advice"),
    [
        (403, "quotaExceeded", "request a higher quota"),
        (403, "forbidden", "roles/compute.instanceAdmin.v1"),
        (409, "alreadyExists", "the name is in use"),
        (400, "invalid", "gcloud compute zones list"),
        (404, "notFound", "check the project, zone and name"),
        (503, "", "status.cloud.google.com"),
        (403, "", "roles/compute.instanceAdmin.v1"),
    ],
)
def test_explain_error_names_the_reason_and_what_to_do(code, reason, advice):
    errors = [{"reason": reason, "message": "m"}] if reason else []
    e = gexc.from_http_status(code, "the API said no", errors=errors)
    text = explain_error(e, "create instance vm")
    assert text.startswith("create instance vm failed: HTTP %d" % code)
    assert "the API said no" in text and advice in text


def test_short_name():
    assert short_name("https://www.googleapis.com/compute/v1/projects/p/zones/z/machineTypes/e2-small") == "e2-small"
    assert short_name(None) == ""


def test_session_retries_then_gives_up_with_the_attempt_count():
    slept = []
    # no credentials needed to exercise the retry loop: build the session without __init__
    session = GcpSession.__new__(GcpSession)
    session.__dict__.update(retries=2, poll_interval=1.0, sleep=slept.append, api_calls=0, retried=0, project="p")
    calls = []

    def flaky(**_kw):
        calls.append(1)
        raise gexc.from_http_status(429, "Rate Limit Exceeded", errors=[{"reason": "rateLimitExceeded"}])

    with pytest.raises(RemoteError) as info:
        session.call("get instance vm", flaky)
    assert len(calls) == 3 and slept == [1.0, 2.0]
    assert "HTTP 429 rateLimitExceeded" in info.value.msg and "after 3 attempts" in info.value.msg


def test_session_waits_double_from_poll_interval_up_to_the_cap():
    slept = []
    session = GcpSession.__new__(GcpSession)
    session.__dict__.update(retries=6, poll_interval=4.0, sleep=slept.append, api_calls=0, retried=0, project="p")

    def unavailable(**_kw):
        raise gexc.from_http_status(503, "Backend Error", errors=[{"reason": "backendError"}])

    with pytest.raises(RemoteError):
        session.call("list instances", unavailable)
    assert slept == [4.0, 8.0, 16.0, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS]
    assert session.retried == 6 and session.api_calls == 7


@pytest.mark.parametrize(
    "bad", [{"operation_timeout": 0}, {"poll_interval": -1.0}, {"retries": -1}], ids=["timeout", "poll", "retries"]
)
def test_session_refuses_bad_connection_options_before_reading_credentials(bad):
    with pytest.raises(InvalidInput, match="operation_timeout must be > 0"):
        GcpSession(Connection(project="p", **bad))


def test_connection_fields_are_the_gcp_options_with_their_defaults():
    options = gcp_firewall.argspec()
    fields = Connection.__dataclass_fields__
    for name, f in fields.items():
        assert name in options, name
        if name != "project":
            assert f.default == options[name].get("default"), name
