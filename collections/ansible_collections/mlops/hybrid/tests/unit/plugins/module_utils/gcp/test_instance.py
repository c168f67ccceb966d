"""Instances: the plan from what is to what is asked, the VM validated before any API call."""

from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.instance import InstanceSpec, _plan, ensure_instance
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import Connection
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options
from ansible_collections.mlops.hybrid.plugins.modules import gcp_instance

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


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"name": "K3s_Server"}, "is not a valid instance name"),
        ({"disk_size_gb": 5}, "at least 10 GB"),
        ({"labels": {"App": "x"}}, "keys and values are lower-case"),
    ],
)
def test_instance_is_refused_before_a_session_is_built(extra, message):
    vm = InstanceSpec(**dict({"name": "k3s-server"}, **extra))
    with pytest.raises(InvalidInput, match=message):
        ensure_instance(vm, connection=Connection(project="p", operation_timeout=0))


def test_spec_fields_are_the_module_options_with_their_defaults():
    params = {name: option.get("default") for name, option in gcp_instance.argspec().items()}
    params["name"] = "k3s-server"
    assert options(InstanceSpec, params) == InstanceSpec(name="k3s-server", scopes=list(InstanceSpec.scopes))
    assert set(InstanceSpec.__dataclass_fields__) | set(Connection.__dataclass_fields__) == set(params)
