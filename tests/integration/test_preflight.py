"""mlops.hybrid.preflight through Ansible: read-only, check mode, clear failure messages."""

from __future__ import annotations

import socket

import pytest


def test_reports_present_and_missing_binaries(ansible):
    res = ansible.module(
        "mlops.hybrid.preflight", {"binaries": ["sh", "no-such-binary-xyz"], "fail_on_missing": False}
    ).res
    assert res["changed"] is False
    assert res["ok"] is False
    assert res["missing"] == ["no-such-binary-xyz"]
    sh = next(c for c in res["checks"] if c["name"] == "sh")
    assert sh["ok"] and sh["detail"].endswith("/sh") and sh["hint"] == ""


def test_fails_with_a_message_that_says_what_to_install(ansible):
    r = ansible.module("mlops.hybrid.preflight", {"binaries": ["no-such-binary-xyz"], "python_modules": ["json"]})
    assert r.failed
    assert "binary no-such-binary-xyz: not on PATH" in r.res["msg"]
    assert "apt-get install no-such-binary-xyz" in r.res["msg"]
    assert "json" not in r.res["missing"]


@pytest.mark.parametrize("check", [False, True])
def test_port_in_use_is_reported_in_both_modes(ansible, check):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = ansible.module(
            "mlops.hybrid.preflight", {"free_ports": [port], "fail_on_missing": False}, check=check
        ).res
    assert res["changed"] is False
    assert res["missing"] == ["port %d" % port]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"free_ports": [70000]}, "out of range"),
        ({"min_python": "three"}, "is not a version"),
        ({"min_memory_mb": "lots"}, "min_memory_mb"),
        ({"no_such_option": 1}, "Unsupported parameters"),
    ],
)
def test_bad_input_is_refused_clearly(ansible, args, message):
    r = ansible.module("mlops.hybrid.preflight", args)
    assert r.failed
    assert message in r.res["msg"]
