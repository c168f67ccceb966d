"""mlops.hybrid.gcp_instance, gcp_firewall and gcp_resources_info through Ansible against the Compute fake.

The real google-cloud-compute client talks REST to sandbox/fakes/gcp_compute.py, signed in with a
service-account key made for the test. Each test asserts both what the module returned and what
the fake now holds (and which mutating calls it received).
"""

from __future__ import annotations

import json

import pytest

from sandbox.fakes.gcp_compute import error_body

from .conftest import PROJECT

ZONE = "us-west1-b"
KEY = (PROJECT, ZONE, "k3s-server")


def run_tasks(ansible, tasks):
    """Several module calls in one playbook run (one ansible-runner start); one result per task, in order."""
    play = [
        {
            "name": "tasks under test",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "task %d" % i, module: args, "ignore_errors": True} for i, (module, args) in enumerate(tasks)
            ],
        }
    ]
    path = ansible.workdir / ("tasks-%d.json" % len(list(ansible.workdir.iterdir())))
    path.write_text(json.dumps(play))
    run = ansible.playbook(path)
    return [run.task("task %d" % i) for i in range(len(tasks))]


def vm(gcp_args, **extra):
    args = dict(gcp_args, name="k3s-server", tags=["k3s-server"], labels={"app": "mlops-hybrid"})
    args.update(extra)
    return args


def test_instance_lifecycle(ansible, gcp, gcp_args):
    # ensure absent: nothing there, nothing done
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, state="absent"))
    assert not r.failed, r.res.get("msg")
    assert r.changed is False and r.res["instance"] is None and gcp.mutations() == []

    # check mode create: changed, nothing created
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args), check=True)
    assert r.changed is True and r.res["actions"] == ["insert"]
    assert gcp.instances == {} and gcp.mutations() == []

    # create
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, metadata={"ssh-keys": "ubuntu:ssh-ed25519 AAAA x"}))
    assert not r.failed, r.res.get("msg")
    assert r.changed is True and r.res["actions"] == ["insert"]
    inst = r.res["instance"]
    assert inst["status"] == "RUNNING" and inst["machine_type"] == "e2-small"
    assert (
        inst["external_ip"]
        and inst["external_ip"] == gcp.instances[KEY]["networkInterfaces"][0]["accessConfigs"][0]["natIP"]
    )
    assert inst["internal_ip"] == gcp.instances[KEY]["networkInterfaces"][0]["networkIP"]
    body = gcp.calls("POST", r"/zones/us-west1-b/instances$")[0].body
    assert (
        body["disks"][0]["initializeParams"]["sourceImage"]
        == "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts"
    )
    assert body["disks"][0]["initializeParams"]["diskSizeGb"] == "20"
    assert body["tags"]["items"] == ["k3s-server"] and body["labels"] == {"app": "mlops-hybrid"}
    # the module waited: the insert operation was polled until DONE
    assert len(gcp.calls("GET", r"/zones/us-west1-b/operations/")) >= 2
    assert all(op.data["status"] == "DONE" for op in gcp.operations.values())

    # again: unchanged, no mutating call
    n = len(gcp.mutations())
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, metadata={"ssh-keys": "ubuntu:ssh-ed25519 AAAA x"}))
    assert r.changed is False and r.res["actions"] == [] and len(gcp.mutations()) == n

    # check mode machine type change: changed, the plan is stop/change/start, nothing happened
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium"), check=True, diff=True)
    assert r.changed is True and r.res["actions"] == ["stop", "setMachineType", "start"]
    assert (
        r.res["diff"]["before"]["machine_type"] == "e2-small" and r.res["diff"]["after"]["machine_type"] == "e2-medium"
    )
    assert gcp.instances[KEY]["machineType"].endswith("/e2-small") and len(gcp.mutations()) == n

    # machine type change: stop, setMachineType, start, in that order; running again
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium"))
    assert not r.failed, r.res.get("msg")
    assert r.changed is True and r.res["instance"]["machine_type"] == "e2-medium"
    assert r.res["instance"]["status"] == "RUNNING" and r.res["instance"]["external_ip"]
    verbs = [c.path.rsplit("/", 1)[-1] for c in gcp.mutations()[n:]]
    assert verbs == ["stop", "setMachineType", "start"]
    assert gcp.instances[KEY]["machineType"].endswith("/e2-medium")
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium"))
    assert r.changed is False

    # labels merged, tags set, with the fingerprints the API wants
    r = ansible.module(
        "mlops.hybrid.gcp_instance",
        vm(gcp_args, machine_type="e2-medium", labels={"env": "lab"}, tags=["k3s-server", "https"]),
    )
    assert r.changed is True and r.res["actions"] == ["setLabels", "setTags"]
    assert gcp.instances[KEY]["labels"] == {"app": "mlops-hybrid", "env": "lab"}
    assert gcp.instances[KEY]["tags"]["items"] == ["https", "k3s-server"]

    # stopped, then stopped again
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium", state="stopped"))
    assert (
        r.changed is True and r.res["instance"]["status"] == "TERMINATED" and r.res["instance"]["external_ip"] is None
    )
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium", state="stopped"))
    assert r.changed is False
    # present keeps a stopped VM stopped; started starts it
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium"))
    assert r.changed is False and gcp.instances[KEY]["status"] == "TERMINATED"
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, machine_type="e2-medium", state="started"))
    assert r.changed is True and gcp.instances[KEY]["status"] == "RUNNING"

    # delete: changed, the VM and its boot disk gone; again: unchanged
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, state="absent"), check=True)
    assert r.changed is True and KEY in gcp.instances
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, state="absent"))
    assert r.changed is True and r.res["instance"] is None
    assert gcp.instances == {} and gcp.disks == {}
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, state="absent"))
    assert r.changed is False


def test_immutable_field_difference_is_a_warning(ansible, gcp, gcp_args):
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args)).changed
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, disk_size_gb=50))
    assert r.changed is False
    assert any("20 GB boot disk, 50 GB asked" in w for w in r.res.get("warnings", []))


def test_a_429_then_200_is_retried(ansible, gcp, gcp_args):
    gcp.inject("GET", r"/instances/k3s-server$", 429, times=2)
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args))
    assert not r.failed, r.res.get("msg")
    assert r.changed is True and r.res["api_retries"] == 2
    assert KEY in gcp.instances


def test_persistent_5xx_fails_after_the_retries(ansible, gcp, gcp_args):
    gcp.inject("POST", r"/zones/us-west1-b/instances$", 503, times=10)
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, retries=2))
    assert r.failed
    assert "create instance k3s-server failed: HTTP 503 backendError" in r.res["msg"]
    assert "after 3 attempts" in r.res["msg"]
    assert len(gcp.calls("POST", r"/zones/us-west1-b/instances$")) == 3 and gcp.instances == {}


def test_an_insert_applied_whose_answer_was_lost_converges_to_one_vm(ansible, gcp, gcp_args):
    """Compute Engine applies the insert, then the answer is a 503: the retry carries the same requestId,
    so it gets the first request's operation instead of 409 alreadyExists, and there is one VM."""
    gcp.inject("POST", r"/zones/us-west1-b/instances$", 503, applied=True)
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args))
    assert not r.failed, r.res.get("msg")
    assert r.changed is True and r.res["actions"] == ["insert"] and r.res["api_retries"] == 1
    inserts = gcp.calls("POST", r"/zones/us-west1-b/instances$")
    ids = [c.query.get("requestId") for c in inserts]
    print("insert requests (status answered: 503, then 200):", ids)
    assert len(inserts) == 2 and ids[0] == ids[1] and ids[0] is not None
    assert list(gcp.instances) == [KEY] and r.res["instance"]["status"] == "RUNNING"
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args)).changed is False


def test_every_mutating_call_carries_its_own_request_id(ansible, gcp, gcp_args):
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args)).changed
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, state="stopped")).changed
    fw = rule(gcp_args)
    assert ansible.module("mlops.hybrid.gcp_firewall", fw).changed
    assert ansible.module("mlops.hybrid.gcp_firewall", {**fw, "source_ranges": ["203.0.113.8/32"]}).changed
    assert ansible.module("mlops.hybrid.gcp_firewall", {**fw, "state": "absent"}).changed
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, state="absent")).changed
    mutations = gcp.mutations()
    ids = [(m.method, m.path.rsplit("/", 1)[-1], (m.query.get("requestId") or [None])[0]) for m in mutations]
    print("\n".join("%s %s requestId=%s" % i for i in ids))
    assert len(mutations) >= 6 and all(i[2] for i in ids)
    assert len({i[2] for i in ids}) == len(ids)  # a new id for each call, the same only across retries


@pytest.mark.parametrize(
    ("setup", "extra", "expected"),
    [
        ("quota", {}, ["HTTP 403 quotaExceeded", "Quota 'CPUS' exceeded", "request a higher quota"]),
        ("forbidden", {}, ["HTTP 403 forbidden", "roles/compute.instanceAdmin.v1"]),
        (None, {"zone": "us-west9-z"}, ["HTTP 400 invalid", "Unknown zone", "gcloud compute zones list"]),
        (None, {"machine_type": "e2-huge"}, ["HTTP 400 invalid", "e2-huge", "machine-types list"]),
    ],
    ids=["quota", "permission", "bad-zone", "bad-machine-type"],
)
def test_api_errors_come_back_as_one_clear_message(ansible, gcp, gcp_args, setup, extra, expected):
    if setup == "quota":
        gcp.cpu_quota = 1
    elif setup == "forbidden":
        gcp.forbidden_projects.add(PROJECT)
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, **extra))
    assert r.failed
    for text in expected:
        assert text in r.res["msg"]
    assert "Traceback" not in r.res["msg"] and gcp.instances == {}


def test_quota_reported_by_the_operation_is_one_clear_message(ansible, gcp, gcp_args):
    gcp.cpu_quota, gcp.quota_mode = 1, "operation"
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args))
    assert r.failed
    assert "create instance k3s-server failed: QUOTA_EXCEEDED: Quota 'CPUS' exceeded" in r.res["msg"]
    assert "request a higher quota" in r.res["msg"] and r.res["operation"].startswith("operation-")
    assert gcp.instances == {}


def test_operation_that_never_finishes_times_out_clearly(ansible, gcp, gcp_args):
    gcp.op_polls = 10_000
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, operation_timeout=1))
    assert r.failed
    assert "was still RUNNING after 1s" in r.res["msg"] and "gcloud compute operations describe" in r.res["msg"]
    assert r.res["operation"].startswith("operation-")


INSTANCE_BAD_INPUT = [
    ({"name": "K3s_Server"}, "is not a valid instance name"),
    ({"disk_size_gb": 5}, "at least 10 GB"),
    ({"labels": {"App": "x"}}, "is not valid: keys and values are lower-case"),
    ({"state": "gone"}, "value of state must be one of"),
    ({"operation_timeout": 0}, "operation_timeout must be > 0"),
]


def test_bad_input_is_refused_before_any_call(ansible, gcp, gcp_args):
    results = run_tasks(
        ansible, [("mlops.hybrid.gcp_instance", vm(gcp_args, **extra)) for extra, _ in INSTANCE_BAD_INPUT]
    )
    for (extra, message), r in zip(INSTANCE_BAD_INPUT, results, strict=True):
        assert r.failed and message in r.res["msg"], (extra, r.res.get("msg"))
    assert gcp.mutations() == []


def test_credentials_problems_are_explained_and_secrets_stay_out(ansible, gcp, gcp_args, service_account, tmp_path):
    args = dict(vm(gcp_args), service_account_file=str(tmp_path / "missing.json"))
    r = ansible.module("mlops.hybrid.gcp_instance", args)
    assert r.failed and "service account credentials could not be loaded" in r.res["msg"]

    args = dict(vm(gcp_args), service_account_file=None)
    r = ansible.module("mlops.hybrid.gcp_instance", args)
    assert r.failed and "needs service_account_file or service_account_contents" in r.res["msg"]

    # the key given inline works and never shows up in Ansible's output
    args = dict(vm(gcp_args), service_account_file=None, service_account_contents=service_account[0].read_text())
    r = ansible.module("mlops.hybrid.gcp_instance", args, diff=True)
    assert not r.failed, r.res.get("msg")
    assert r.changed and "PRIVATE KEY" not in r.res["_stdout"]
    assert "ansible@%s.iam.gserviceaccount.com" % PROJECT in gcp.principals

    # a key the API does not trust: 401 explained
    gcp.public_keys.clear()
    r = ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args))
    assert r.failed and "HTTP 401" in r.res["msg"] and "credentials were not accepted" in r.res["msg"]


def test_application_default_credentials_from_the_environment(ansible, gcp, gcp_args, service_account):
    args = {k: v for k, v in vm(gcp_args).items() if k not in ("auth_kind", "service_account_file")}
    r = ansible.module(
        "mlops.hybrid.gcp_instance", args, env={"GOOGLE_APPLICATION_CREDENTIALS": str(service_account[0])}
    )
    assert not r.failed, r.res.get("msg")
    assert r.changed and KEY in gcp.instances


# -- firewall ------------------------------------------------------------------------------------
def rule(gcp_args, **extra):
    args = dict(
        gcp_args,
        name="k3s-api",
        allowed=[{"protocol": "tcp", "ports": ["6443"]}],
        source_ranges=["198.51.100.7/32"],
        target_tags=["k3s-server"],
    )
    args.update(extra)
    return args


def test_firewall_lifecycle(ansible, gcp, gcp_args):
    fw_key = (PROJECT, "k3s-api")
    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args, state="absent"))
    assert r.changed is False and gcp.mutations() == []

    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args), check=True)
    assert r.changed is True and r.res["action"] == "insert" and gcp.firewalls == {}

    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args))
    assert not r.failed, r.res.get("msg")
    assert r.changed is True and r.res["firewall"]["source_ranges"] == ["198.51.100.7/32"]
    assert gcp.firewalls[fw_key]["allowed"] == [{"IPProtocol": "tcp", "ports": ["6443"]}]
    assert len(gcp.calls("GET", r"/global/operations/")) >= 2

    n = len(gcp.mutations())
    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args))
    assert r.changed is False and len(gcp.mutations()) == n

    new = ["198.51.100.7/32", "203.0.113.0/24"]
    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args, source_ranges=new), check=True, diff=True)
    assert r.changed is True and r.res["action"] == "patch"
    assert r.res["diff"]["after"]["source_ranges"] == new and gcp.firewalls[fw_key]["sourceRanges"] == new[:1]

    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args, source_ranges=new))
    assert r.changed is True and gcp.firewalls[fw_key]["sourceRanges"] == new
    assert gcp.mutations()[-1].method == "PATCH"

    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args, state="absent"))
    assert r.changed is True and gcp.firewalls == {}
    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args, state="absent"))
    assert r.changed is False


@pytest.mark.parametrize("world", ["0.0.0.0/0", "::/0"])
def test_firewall_refuses_the_whole_internet_unless_allowed(ansible, gcp, gcp_args, world):
    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args, source_ranges=[world]))
    assert r.failed and "to the whole Internet" in r.res["msg"] and "allow_world: true" in r.res["msg"]
    assert gcp.firewalls == {}
    r = ansible.module(
        "mlops.hybrid.gcp_firewall", rule(gcp_args, name="https", source_ranges=[world], allow_world=True)
    )
    assert not r.failed and r.changed and (PROJECT, "https") in gcp.firewalls


FIREWALL_BAD_INPUT = [
    ({"source_ranges": []}, "source_ranges is empty"),
    ({"source_ranges": ["300.1.1.1/32"]}, "is not a CIDR"),
    ({"allowed": [{"protocol": "tcp", "ports": ["70000"]}]}, "is not a port"),
    ({"allowed": [{"protocol": "tcp", "ports": ["90-80"]}]}, "is not a port"),
    ({"allowed": [{"protocol": "icmp", "ports": ["1"]}]}, "takes no ports"),
    ({"allowed": [{"protocol": "gre"}]}, "is not one of"),
    ({"allowed": []}, "allowed is empty"),
    ({"priority": 70000}, "outside 0-65535"),
]


def test_firewall_bad_input_is_refused_before_any_call(ansible, gcp, gcp_args):
    results = run_tasks(
        ansible, [("mlops.hybrid.gcp_firewall", rule(gcp_args, **extra)) for extra, _ in FIREWALL_BAD_INPUT]
    )
    for (extra, message), r in zip(FIREWALL_BAD_INPUT, results, strict=True):
        assert r.failed and message in r.res["msg"], (extra, r.res.get("msg"))
    assert gcp.requests == []


def test_firewall_name_taken_meanwhile_is_a_clear_conflict(ansible, gcp, gcp_args):
    # someone creates the rule between our read and our insert: the API answers 409
    gcp.inject(
        "POST",
        r"/global/firewalls$",
        409,
        body=error_body(409, "The resource 'projects/%s/global/firewalls/k3s-api' already exists" % PROJECT),
    )
    r = ansible.module("mlops.hybrid.gcp_firewall", rule(gcp_args))
    assert r.failed
    assert "create firewall rule k3s-api failed: HTTP 409 alreadyExists" in r.res["msg"]
    assert "the name is in use" in r.res["msg"]


def test_resources_info_lists_what_still_bills(ansible, gcp, gcp_args):
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args)).changed
    assert ansible.module("mlops.hybrid.gcp_instance", vm(gcp_args, name="other", labels={"app": "else"})).changed
    gcp.add_address(PROJECT, "us-west1", "k3s-ip", {"app": "mlops-hybrid"})
    r = ansible.module("mlops.hybrid.gcp_resources_info", dict(gcp_args, labels={"app": "mlops-hybrid"}), check=True)
    assert not r.failed, r.res.get("msg")
    found = sorted((x["kind"], x["name"], x["scope"]) for x in r.res["resources"])
    assert found == [
        ("address", "k3s-ip", "regions/us-west1"),
        ("disk", "k3s-server", "zones/us-west1-b"),
        ("instance", "k3s-server", "zones/us-west1-b"),
    ]
    assert r.changed is False and r.res["count"] == 3
    # Priced from what the real client read: the VM's machine type and external IPv4, the disk's size and
    # type as the insert asked (gcp_instance's defaults), the reserved address nothing uses.
    cost = r.res["cost"]
    print(*cost["text"], sep="\n")
    instance = next(x for x in r.res["resources"] if x["kind"] == "instance")
    assert instance["external_ip"] == gcp.instances[KEY]["networkInterfaces"][0]["accessConfigs"][0]["natIP"]
    assert [(c["kind"], c["what"], c["monthly"]) for c in cost["lines"]] == [
        ("address", "static IPv4 %s reserved, unused" % gcp.addresses[(PROJECT, "us-west1", "k3s-ip")]["address"], 7.3),
        ("disk", "20 GB pd-balanced", 2.0),
        ("instance", "e2-small", 12.23),
        ("instance", "external IPv4 %s in use" % instance["external_ip"], 3.65),
    ]
    assert (cost["monthly"], cost["table_date"], cost["unpriced"]) == (25.18, "2026-12-03", [])
    r = ansible.module("mlops.hybrid.gcp_resources_info", dict(gcp_args, kinds=["instances"]))
    assert sorted(x["name"] for x in r.res["resources"]) == ["k3s-server", "other"]
