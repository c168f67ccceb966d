#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gcp_resources_info
short_description: List what still bills in a GCP project (instances, disks, addresses) and what it costs
version_added: 0.1.0
description:
  - Lists instances, persistent disks and reserved addresses across all zones and regions of a
    project, optionally only those carrying all the given labels. Read-only.
  - Prices what it finds from a pinned, dated table of Google's on-demand list prices (E2 machine types per
    hour, persistent disks per GB-month, external IPv4 per hour, in us-west1, us-central1 and us-east1),
    with and without the free tier (one e2-micro and 30 GB-months of standard disk); see C(cost).
  - C(site.yml) ends with it (what the running platform costs) and the teardown too (what still bills).
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.gcp
options:
  kinds:
    description: Which kinds of resources to list.
    type: list
    elements: str
    default: [addresses, disks, instances]
  labels:
    description: Only resources that carry all these labels.
    type: dict
    default: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
"""

EXAMPLES = r"""
- name: Anything of ours still billing
  mlops.hybrid.gcp_resources_info:
    project: my-project
    labels: {app: mlops-hybrid}
  register: left
"""

RETURN = r"""
resources:
  description: One entry per resource found.
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: "V(instance), V(disk) or V(address).", type: str}
    name: {description: "Resource name.", type: str}
    scope: {description: "C(zones/NAME) or C(regions/NAME).", type: str}
    status: {description: "Status as the API reports it.", type: str}
    labels: {description: "Labels.", type: dict}
    self_link: {description: "API URL.", type: str}
    detail: {description: "Machine type for instances, empty otherwise.", type: str}
    external_ip: {description: "An instance's external IPv4 address, empty without one.", type: str}
    size_gb: {description: "A disk's provisioned size.", type: int}
    disk_type: {description: "A disk's type (V(pd-standard), V(pd-balanced), V(pd-ssd)).", type: str}
    address: {description: "A reserved address.", type: str}
    address_type: {description: "V(EXTERNAL) or V(INTERNAL) (internal addresses do not bill).", type: str}
cost:
  description:
    - What the resources found cost at the list prices of C(table_date) (in C(currency)) - C(hourly), C(monthly)
      (730 hours) and C(monthly_after_free_tier); C(lines) (kind, name, scope, what, hourly, monthly) for each
      machine type running, disk, external IPv4 in use and reserved address; C(unpriced) (kind, name, scope,
      reason) for what the table has no price for; C(text), the same as sentences.
    - A stopped VM bills its disk and any reserved address, not its machine type.
  returned: always
  type: dict
count:
  description: Number of resources found.
  returned: always
  type: int
api_retries:
  description: How many calls were retried after HTTP 429/5xx.
  returned: always
  type: int
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import GCP_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.resources import KINDS, ResourceQuery, list_resources
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import GCP_IMPORT_ERROR, HAS_GCP, Connection
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        GCP_ARG_SPEC,
        kinds=dict(type="list", elements="str", default=sorted(KINDS)),
        labels=dict(type="dict", default={}),
    )


def execute(module):
    return list_resources(options(ResourceQuery, module.params), connection=options(Connection, module.params))


def main():
    run_module(argspec(), execute, requires=(("google-cloud-compute", HAS_GCP, GCP_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
