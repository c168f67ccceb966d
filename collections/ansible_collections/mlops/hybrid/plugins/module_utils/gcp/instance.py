# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Compute Engine VM brought to the state the user asked for.

Fetch -> compare the fields the user set -> create, update or delete -> return the instance as
it now is. Labels, metadata, network tags and the machine type are updated in place (a machine
type change stops the VM, changes it and starts it again); the boot image, disk and network
cannot change after creation and are reported as a warning when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, OperationTimeout
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import GcpSession, short_name

try:
    from google.cloud import compute_v1
except ImportError:  # GcpSession reports the missing library
    compute_v1 = None

__all__ = ["DEFAULT_SCOPES", "InstanceSpec", "ensure_instance", "instance_summary"]

DEFAULT_SCOPES = (
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring.write",
)


@dataclass(frozen=True)
class InstanceSpec:
    """The VM asked for; the fields carry the names of mlops.hybrid.gcp_instance's options.

    ``tags``, ``labels`` and ``metadata`` left at None are not compared nor changed.
    """

    name: str
    zone: str = "us-west1-b"
    state: str = "present"
    machine_type: str = "e2-small"
    image_family: str = "ubuntu-2204-lts"
    image_project: str = "ubuntu-os-cloud"
    disk_size_gb: int = 20
    disk_type: str = "pd-balanced"
    network: str = "default"
    subnetwork: str | None = None
    external_ip: bool = True
    tags: list | None = None
    labels: dict | None = None
    metadata: dict | None = None
    service_account_email: str = "default"
    scopes: list | tuple = DEFAULT_SCOPES


STABLE = ("RUNNING", "TERMINATED", "SUSPENDED")
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"


def _validate(p):
    name = p.name
    if not name or len(name) > 63 or not name[0].isalpha() or name[-1] == "-" or set(name) - set(NAME_CHARS):
        raise InvalidInput(
            "name %r is not a valid instance name: 1-63 lower-case letters, digits and '-', starting with a "
            "letter and not ending with '-'" % name
        )
    if p.disk_size_gb < 10:
        raise InvalidInput("disk_size_gb is %d: the boot disk needs at least 10 GB" % p.disk_size_gb)
    for key, value in (p.labels or {}).items():
        if not key or key != key.lower() or len(key) > 63 or len(str(value)) > 63:
            raise InvalidInput(
                "label %r=%r is not valid: keys and values are lower-case, at most 63 characters" % (key, value)
            )


def instance_summary(inst):
    """The instance as the module returns it (plain data, IPs picked out)."""
    nics = list(inst.network_interfaces)
    nat = [ac.nat_i_p for nic in nics for ac in nic.access_configs if ac.nat_i_p]
    boot = next((d for d in inst.disks if d.boot), None)
    return {
        "name": inst.name,
        "id": str(inst.id),
        "zone": short_name(inst.zone),
        "status": inst.status,
        "machine_type": short_name(inst.machine_type),
        "external_ip": nat[0] if nat else None,
        "internal_ip": nics[0].network_i_p if nics else None,
        "network": short_name(nics[0].network) if nics else None,
        "tags": sorted(inst.tags.items),
        "labels": dict(inst.labels),
        "metadata": {i.key: i.value for i in inst.metadata.items},
        "disk_size_gb": int(boot.disk_size_gb) if boot and boot.disk_size_gb else None,
        "self_link": inst.self_link,
    }


def _compared(summary, p):
    """The fields the user set, as they are in ``summary`` (for changed and diff)."""
    out = {"status": summary["status"] if summary else "ABSENT"}
    if summary is None:
        return out
    out["machine_type"] = summary["machine_type"]
    if p.labels is not None:
        out["labels"] = {k: summary["labels"].get(k) for k in sorted(p.labels)}
    if p.metadata is not None:
        out["metadata"] = {k: summary["metadata"].get(k) for k in sorted(p.metadata)}
    if p.tags is not None:
        out["tags"] = summary["tags"]
    return out


def _desired(p, before):
    status = {"absent": "ABSENT", "stopped": "TERMINATED", "started": "RUNNING"}.get(p.state)
    if status is None:  # present: keep a stopped VM stopped, create a new one running
        status = before["status"] if before else "RUNNING"
    out = {"status": status}
    if status == "ABSENT":
        return out
    out["machine_type"] = p.machine_type
    if p.labels is not None:
        out["labels"] = {k: str(v) for k, v in sorted(p.labels.items())}
    if p.metadata is not None:
        out["metadata"] = {k: str(v) for k, v in sorted(p.metadata.items())}
    if p.tags is not None:
        out["tags"] = sorted(set(p.tags))
    return out


def _new_instance(s, p):
    zone = p.zone
    nic = compute_v1.NetworkInterface(network="projects/%s/global/networks/%s" % (s.project, p.network))
    if p.subnetwork:
        nic.subnetwork = "regions/%s/subnetworks/%s" % (zone.rsplit("-", 1)[0], p.subnetwork)
    if p.external_ip:
        nic.access_configs = [compute_v1.AccessConfig(name="External NAT", type_="ONE_TO_ONE_NAT")]
    labels = {k: str(v) for k, v in (p.labels or {}).items()}
    return compute_v1.Instance(
        name=p.name,
        machine_type="zones/%s/machineTypes/%s" % (zone, p.machine_type),
        disks=[
            compute_v1.AttachedDisk(
                boot=True,
                auto_delete=True,
                initialize_params=compute_v1.AttachedDiskInitializeParams(
                    source_image="projects/%s/global/images/family/%s" % (p.image_project, p.image_family),
                    disk_size_gb=p.disk_size_gb,
                    disk_type="zones/%s/diskTypes/%s" % (zone, p.disk_type),
                    labels=labels,
                ),
            )
        ],
        network_interfaces=[nic],
        tags=compute_v1.Tags(items=sorted(set(p.tags or []))),
        labels=labels,
        metadata=compute_v1.Metadata(
            items=[compute_v1.Items(key=k, value=str(v)) for k, v in sorted((p.metadata or {}).items())]
        ),
        service_accounts=[compute_v1.ServiceAccount(email=p.service_account_email, scopes=list(p.scopes))],
    )


class _Instances:
    def __init__(self, s, p):
        self.s, self.p = s, p
        self.api = s.client("InstancesClient")
        self.where = {"project": s.project, "zone": p.zone, "instance": p.name}

    def get(self):
        return self.s.get_or_none("get instance %s" % self.p.name, self.api.get, **self.where)

    def run(self, verb, action, **body):
        where = {k: v for k, v in self.where.items() if verb != "insert" or k != "instance"}
        op = self.s.mutate("%s instance %s" % (action, self.p.name), getattr(self.api, verb), **where, **body)
        self.s.wait("%s instance %s" % (action, self.p.name), op, zone=self.p.zone)

    def settle(self):
        """Wait while the VM is between states (PROVISIONING, STOPPING, ...)."""
        deadline = self.s.clock() + self.s.timeout
        inst = self.get()
        while inst is not None and inst.status not in STABLE:
            if self.s.clock() >= deadline:
                raise OperationTimeout(
                    "instance %s stayed %s for %ds" % (self.p.name, inst.status, self.s.timeout),
                    {"instance": instance_summary(inst)},
                )
            self.s.sleep(self.s.poll_interval)
            inst = self.get()
        return inst


def _plan(before, desired):
    """The API calls that take ``before`` to ``desired``, in order."""
    if before["status"] == "ABSENT":
        return (
            [] if desired["status"] == "ABSENT" else ["insert"] + (["stop"] if desired["status"] != "RUNNING" else [])
        )
    if desired["status"] == "ABSENT":
        return ["delete"]
    steps = []
    if "labels" in desired and desired["labels"] != before.get("labels"):
        steps.append("setLabels")
    if "metadata" in desired and desired["metadata"] != before.get("metadata"):
        steps.append("setMetadata")
    if "tags" in desired and desired["tags"] != before.get("tags"):
        steps.append("setTags")
    running = before["status"] == "RUNNING"
    if desired["machine_type"] != before["machine_type"]:
        steps += (["stop"] if running else []) + ["setMachineType"]
        running = False
    if desired["status"] == "RUNNING" and not running:
        steps.append("start")
    elif desired["status"] == "TERMINATED" and running:
        steps.append("stop")
    return steps


def _immutable_drift(summary, p):
    warnings = []
    if summary["disk_size_gb"] and summary["disk_size_gb"] != p.disk_size_gb:
        warnings.append(
            "instance %s has a %d GB boot disk, %d GB asked: the disk is not resized by this module "
            "(gcloud compute disks resize), nor is the image, disk type or network changed after creation"
            % (p.name, summary["disk_size_gb"], p.disk_size_gb)
        )
    if summary["network"] and summary["network"] != p.network:
        warnings.append(
            "instance %s is on network %s, %s asked: the network cannot change; delete the instance to move it"
            % (p.name, summary["network"], p.network)
        )
    return warnings


def ensure_instance(vm, *, connection=None, session=None, check_mode=False):
    """Converge one instance (an :class:`InstanceSpec`).

    Returns ``{changed, instance, actions, diff, warnings, api_retries}``. The instance is validated
    before ``session`` (or one built from the ``connection`` options) is used.
    """
    p = vm
    _validate(p)
    s = session or GcpSession(connection)
    vms = _Instances(s, p)
    inst = vms.settle()
    summary = instance_summary(inst) if inst is not None else None
    before = _compared(summary, p)
    desired = _desired(p, summary)
    steps = _plan(before, desired)
    warnings = _immutable_drift(summary, p) if summary and desired["status"] != "ABSENT" else []
    after = dict(before, **desired) if desired["status"] != "ABSENT" else {"status": "ABSENT"}
    result = {
        "changed": bool(steps),
        "actions": steps,
        "diff": {"before": before, "after": after},
        "warnings": warnings,
        "instance": summary,
    }
    if check_mode or not steps:
        result["api_retries"] = s.retried
        return result
    for step in steps:
        if step == "insert":
            vms.run("insert", "create", instance_resource=_new_instance(s, p))
            inst = vms.settle()
        elif step == "delete":
            vms.run("delete", "delete")
        elif step == "setLabels":
            merged = dict(inst.labels, **desired["labels"])
            req = compute_v1.InstancesSetLabelsRequest(labels=merged, label_fingerprint=inst.label_fingerprint)
            vms.run("set_labels", "set labels of", instances_set_labels_request_resource=req)
        elif step == "setMetadata":
            merged = dict({i.key: i.value for i in inst.metadata.items}, **desired["metadata"])
            req = compute_v1.Metadata(
                fingerprint=inst.metadata.fingerprint,
                items=[compute_v1.Items(key=k, value=v) for k, v in sorted(merged.items())],
            )
            vms.run("set_metadata", "set metadata of", metadata_resource=req)
        elif step == "setTags":
            req = compute_v1.Tags(items=desired["tags"], fingerprint=inst.tags.fingerprint)
            vms.run("set_tags", "set tags of", tags_resource=req)
        elif step == "setMachineType":
            req = compute_v1.InstancesSetMachineTypeRequest(
                machine_type="zones/%s/machineTypes/%s" % (p.zone, p.machine_type)
            )
            vms.run("set_machine_type", "change the machine type of", instances_set_machine_type_request_resource=req)
        else:  # stop / start
            vms.run(step, step)
        if step != "delete":
            inst = vms.settle()
    result["instance"] = instance_summary(inst) if steps[-1] != "delete" else None
    result["api_retries"] = s.retried
    return result
