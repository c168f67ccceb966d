#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gcp_instance
short_description: Create, update, start, stop or delete a Compute Engine VM
version_added: 0.1.0
description:
  - Fetches the instance, compares the fields the user set with what exists, and creates,
    updates or deletes it; returns the instance as it now is, with its external and internal IP.
  - Labels and metadata are merged (keys not named are left as they are); network tags are set
    exactly; a machine type change stops the VM, changes the type and starts it again.
  - The boot image, disk and network are set at creation only; a difference is reported as a
    warning.
  - Waits for each operation by polling it, with a bounded timeout, and retries HTTP 429/5xx.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.gcp
options:
  name:
    description: Instance name (lower-case letters, digits and C(-), starting with a letter).
    type: str
    required: true
  zone:
    description: The zone of the instance.
    type: str
    default: us-west1-b
  state:
    description:
      - V(present) creates the instance (running) if needed and keeps a stopped one stopped.
      - V(started) and V(stopped) also set its run state; V(absent) deletes it and its boot disk.
    type: str
    choices: [present, absent, started, stopped]
    default: present
  machine_type:
    description: Machine type name.
    type: str
    default: e2-small
  image_family:
    description: Image family of the boot disk, used at creation.
    type: str
    default: ubuntu-2204-lts
  image_project:
    description: Project that publishes O(image_family).
    type: str
    default: ubuntu-os-cloud
  disk_size_gb:
    description: Boot disk size in GB, used at creation (at least 10).
    type: int
    default: 20
  disk_type:
    description: Boot disk type, used at creation.
    type: str
    default: pd-balanced
  network:
    description: VPC network name.
    type: str
    default: default
  subnetwork:
    description: Subnetwork name in the zone's region, for custom-mode networks.
    type: str
  external_ip:
    description: Give the VM an ephemeral external address (the WSL2 worker reaches the API through it).
    type: bool
    default: true
  tags:
    description: Network tags, which firewall rules target. Set exactly when given.
    type: list
    elements: str
  labels:
    description: Labels, merged into the instance's labels when given. Also set on the boot disk at creation.
    type: dict
  metadata:
    description: Metadata items such as C(ssh-keys), merged into the instance's metadata when given.
    type: dict
  service_account_email:
    description: Service account the VM runs as.
    type: str
    default: default
  scopes:
    description: OAuth scopes of that service account on the VM, used at creation.
    type: list
    elements: str
    default:
      - https://www.googleapis.com/auth/logging.write
      - https://www.googleapis.com/auth/monitoring.write
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: full
"""

EXAMPLES = r"""
- name: The k3s control plane VM
  mlops.hybrid.gcp_instance:
    project: my-project
    auth_kind: serviceaccount
    service_account_file: ~/.config/gcloud/mlops-hybrid.json
    name: k3s-server
    machine_type: e2-small
    tags: [k3s-server]
    labels: {app: mlops-hybrid}
    metadata:
      ssh-keys: "ubuntu:{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
  register: vm

- name: Stop it for the night
  mlops.hybrid.gcp_instance:
    project: my-project
    name: k3s-server
    state: stopped
"""

RETURN = r"""
instance:
  description: The instance as it is after the task (before it, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: "Instance name.", type: str}
    id: {description: "Numeric id as a string.", type: str}
    zone: {description: "Zone name.", type: str}
    status: {description: "RUNNING, TERMINATED, ... as the API reports it.", type: str}
    machine_type: {description: "Machine type name.", type: str}
    external_ip: {description: "Ephemeral external address, null while stopped or without one.", type: str}
    internal_ip: {description: "Address on the VPC network.", type: str}
    network: {description: "Network name.", type: str}
    tags: {description: "Network tags.", type: list, elements: str}
    labels: {description: "Labels.", type: dict}
    metadata: {description: "Metadata items.", type: dict}
    disk_size_gb: {description: "Boot disk size.", type: int}
    self_link: {description: "API URL of the instance.", type: str}
actions:
  description: The API calls made (or that would be made in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [stop, setMachineType, start]
api_retries:
  description: How many calls were retried after HTTP 429/5xx.
  returned: always
  type: int
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import GCP_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.instance import (
    DEFAULT_SCOPES,
    InstanceSpec,
    ensure_instance,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import GCP_IMPORT_ERROR, HAS_GCP, Connection
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        GCP_ARG_SPEC,
        name=dict(type="str", required=True),
        zone=dict(type="str", default="us-west1-b"),
        state=dict(type="str", choices=["present", "absent", "started", "stopped"], default="present"),
        machine_type=dict(type="str", default="e2-small"),
        image_family=dict(type="str", default="ubuntu-2204-lts"),
        image_project=dict(type="str", default="ubuntu-os-cloud"),
        disk_size_gb=dict(type="int", default=20),
        disk_type=dict(type="str", default="pd-balanced"),
        network=dict(type="str", default="default"),
        subnetwork=dict(type="str"),
        external_ip=dict(type="bool", default=True),
        tags=dict(type="list", elements="str"),
        labels=dict(type="dict"),
        metadata=dict(type="dict"),
        service_account_email=dict(type="str", default="default"),
        scopes=dict(type="list", elements="str", default=list(DEFAULT_SCOPES)),
    )


def execute(module):
    return ensure_instance(
        options(InstanceSpec, module.params),
        connection=options(Connection, module.params),
        check_mode=module.check_mode,
    )


def main():
    run_module(argspec(), execute, requires=(("google-cloud-compute", HAS_GCP, GCP_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
