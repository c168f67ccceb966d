#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gcp_firewall
short_description: Create, update or delete an ingress VPC firewall rule
version_added: 0.1.0
description:
  - Fetches the rule, compares the fields the user set with what exists, and inserts, patches
    or deletes it; returns the rule as it now is.
  - Refuses a source range of C(0.0.0.0/0) or C(::/0) unless O(allow_world=true), and an empty
    O(source_ranges) (which GCP would treat as open to everyone).
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.gcp
options:
  name:
    description: Rule name.
    type: str
    required: true
  state:
    description: Whether the rule exists.
    type: str
    choices: [present, absent]
    default: present
  network:
    description: VPC network name. A rule cannot move between networks.
    type: str
    default: default
  description:
    description: Free text shown in the console.
    type: str
    default: ""
  priority:
    description: Rule priority, 0 (highest) to 65535.
    type: int
    default: 1000
  allowed:
    description: What the rule opens. Required with O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: V(tcp), V(udp), V(icmp), V(esp), V(ah), V(sctp), V(ipip) or V(all).
        type: str
        required: true
      ports:
        description: Ports (V(6443)) or ranges (V(30000-32767)), for tcp, udp and sctp.
        type: list
        elements: str
        default: []
  source_ranges:
    description: CIDRs allowed in, such as the worker's public address as C(a.b.c.d/32). Required with O(state=present).
    type: list
    elements: str
    default: []
  target_tags:
    description: Network tags of the instances the rule applies to; empty applies it to every instance.
    type: list
    elements: str
    default: []
  allow_world:
    description: Accept C(0.0.0.0/0) or C(::/0) in O(source_ranges) (for HTTPS ingress, say).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: full
"""

EXAMPLES = r"""
- name: The k3s API, open only to the worker
  mlops.hybrid.gcp_firewall:
    project: my-project
    name: k3s-api
    allowed: [{protocol: tcp, ports: ["6443"]}]
    source_ranges: ["{{ worker_public_ip }}/32"]
    target_tags: [k3s-server]

- name: HTTPS ingress from anywhere, on purpose
  mlops.hybrid.gcp_firewall:
    project: my-project
    name: k3s-https
    allowed: [{protocol: tcp, ports: ["443"]}]
    source_ranges: [0.0.0.0/0]
    allow_world: true
    target_tags: [k3s-server]
"""

RETURN = r"""
firewall:
  description: The rule as it is after the task (before it, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name: {description: "Rule name.", type: str}
    network: {description: "Network name.", type: str}
    description: {description: "Description.", type: str}
    priority: {description: "Priority.", type: int}
    direction: {description: "INGRESS.", type: str}
    allowed: {description: "Protocols and ports, sorted.", type: list, elements: dict}
    source_ranges: {description: "Source CIDRs, sorted.", type: list, elements: str}
    target_tags: {description: "Target tags, sorted.", type: list, elements: str}
    self_link: {description: "API URL of the rule.", type: str}
action:
  description: V(insert), V(patch), V(delete), or null when nothing needed doing.
  returned: always
  type: str
api_retries:
  description: How many calls were retried after HTTP 429/5xx.
  returned: always
  type: int
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import GCP_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.firewall import FirewallSpec, ensure_firewall
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import GCP_IMPORT_ERROR, HAS_GCP, Connection
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        GCP_ARG_SPEC,
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        network=dict(type="str", default="default"),
        description=dict(type="str", default=""),
        priority=dict(type="int", default=1000),
        allowed=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                protocol=dict(type="str", required=True),
                ports=dict(type="list", elements="str", default=[]),
            ),
        ),
        source_ranges=dict(type="list", elements="str", default=[]),
        target_tags=dict(type="list", elements="str", default=[]),
        allow_world=dict(type="bool", default=False),
    )


def execute(module):
    return ensure_firewall(
        options(FirewallSpec, module.params),
        connection=options(Connection, module.params),
        check_mode=module.check_mode,
    )


def main():
    run_module(argspec(), execute, requires=(("google-cloud-compute", HAS_GCP, GCP_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
