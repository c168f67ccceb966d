"""Firewall rules: the allowed list normalised, the rule validated before any API call."""

from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.firewall import (
    FirewallSpec,
    ensure_firewall,
    normalize_allowed,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import Connection
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options
from ansible_collections.mlops.hybrid.plugins.modules import gcp_firewall


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


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"source_ranges": ["0.0.0.0/0"]}, "to the whole Internet"),
        ({"source_ranges": []}, "source_ranges is empty"),
        ({"allowed": []}, "allowed is empty"),
        ({"priority": -1}, "outside 0-65535"),
    ],
)
def test_rule_is_refused_before_a_session_is_built(extra, message):
    rule = dataclasses.replace(
        FirewallSpec(name="k3s-api", allowed=[{"protocol": "tcp", "ports": ["6443"]}], source_ranges=["1.2.3.4/32"]),
        **extra,
    )
    # no credentials and no endpoint: a session would fail; validation comes first
    with pytest.raises(InvalidInput, match=message):
        ensure_firewall(rule, connection=Connection(project="p", operation_timeout=0))


def test_spec_fields_are_the_module_options_with_their_defaults():
    params = {name: option.get("default") for name, option in gcp_firewall.argspec().items()}
    params["name"] = "k3s-api"
    assert options(FirewallSpec, params) == FirewallSpec(name="k3s-api")
    assert set(FirewallSpec.__dataclass_fields__) | set(Connection.__dataclass_fields__) == set(params)
