"""Plain-Python parts of the GCP module_utils: error messages, firewall normalisation, instance plans."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp import GcpSession, explain_error, short_name
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp_firewall import normalize_allowed
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp_instance import _plan


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


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([{"protocol": "TCP", "ports": [6443, "443"]}], [{"protocol": "tcp", "ports": ["443", "6443"]}]),
        (
            [{"protocol": "udp", "ports": ["51820"]}, {"protocol": "tcp", "ports": ["22"]}],
            [{"protocol": "tcp", "ports": ["22"]}, {"protocol": "udp", "ports": ["51820"]}],
        ),
        ([{"protocol": "icmp", "ports": []}], [{"protocol": "icmp", "ports": []}]),
        ([{"protocol": "tcp", "ports": ["30000-32767"]}], [{"protocol": "tcp", "ports": ["30000-32767"]}]),
    ],
)
def test_normalize_allowed(given, expected):
    assert normalize_allowed(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        [{"protocol": "tcp", "ports": ["0"]}],
        [{"protocol": "tcp", "ports": ["65536"]}],
        [{"protocol": "tcp", "ports": ["20-10"]}],
        [{"protocol": "tcp", "ports": ["ssh"]}],
        [{"protocol": "icmp", "ports": ["8"]}],
        [{"protocol": "gre", "ports": []}],
    ],
)
def test_normalize_allowed_refuses(given):
    with pytest.raises(InvalidInput):
        normalize_allowed(given)


RUNNING = {"status": "RUNNING", "machine_type": "e2-small", "labels": {"a": "1"}}


@pytest.mark.parametrize(
    ("before", "desired", "steps"),
    [
        ({"status": "ABSENT"}, {"status": "RUNNING"}, ["insert"]),
        ({"status": "ABSENT"}, {"status": "TERMINATED"}, ["insert", "stop"]),
        ({"status": "ABSENT"}, {"status": "ABSENT"}, []),
        (RUNNING, {"status": "ABSENT"}, ["delete"]),
        (RUNNING, {"status": "RUNNING", "machine_type": "e2-small", "labels": {"a": "1"}}, []),
        (RUNNING, {"status": "RUNNING", "machine_type": "e2-medium"}, ["stop", "setMachineType", "start"]),
        (RUNNING, {"status": "TERMINATED", "machine_type": "e2-medium"}, ["stop", "setMachineType"]),
        (dict(RUNNING, status="TERMINATED"), {"status": "TERMINATED", "machine_type": "e2-medium"}, ["setMachineType"]),
        (RUNNING, {"status": "RUNNING", "machine_type": "e2-small", "labels": {"a": "2"}}, ["setLabels"]),
        (dict(RUNNING, status="TERMINATED"), {"status": "RUNNING", "machine_type": "e2-small"}, ["start"]),
    ],
)
def test_instance_plan(before, desired, steps):
    assert _plan(before, desired) == steps


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
