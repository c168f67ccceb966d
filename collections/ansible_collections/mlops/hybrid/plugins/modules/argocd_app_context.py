#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: argocd_app_context
short_description: Collect what an analyst needs about a failing ArgoCD Application, read-only
version_added: 0.1.0
description:
  - From an ArgoCD alert's labels (C(namespace), C(name)), reads the Application (C(argoproj.io/v1alpha1)) through
    the Kubernetes API and returns its sync and health status, its conditions (such as C(SyncError)), its last
    operation (phase, message, and the result of every resource, with the API server's message for those that
    failed) and the resources whose sync failed or whose health is Degraded or Missing.
  - Also reads the events of the Application (what ArgoCD's application controller reported) and of each of those
    resources (events.k8s.io/v1, else core/v1), bounded.
  - Only reads (get on applications.argoproj.io, list on events) and replaces secrets in everything it returns with
    typed placeholders. Returns RV(text), an C(argocd app get)-like text for M(mlops.hybrid.llm_analyze).
  - The logic lives in C(module_utils/collectors/argocd.py) so that the alert bridge runs the same code in-cluster.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.attributes.read_only
  - mlops.hybrid.k8s
options:
  namespace:
    description: Namespace of the Application (the alert's C(namespace) label).
    type: str
    default: argocd
  name:
    description: Name of the Application (the alert's C(name) label).
    type: str
    required: true
  max_resources:
    description: Failing or unhealthy resources returned (and whose events are read) at most.
    type: int
    default: 10
  max_events:
    description: Events read per object at most (0 reads none).
    type: int
    default: 20
  timeout:
    description: Seconds to wait for each API request.
    type: int
    default: 30
requirements:
  - kubernetes
"""

EXAMPLES = r"""
- name: Gather the context of an Application whose sync failed, from its alert
  mlops.hybrid.argocd_app_context:
    namespace: "{{ alert.labels.namespace }}"
    name: "{{ alert.labels.name }}"
  register: app

- name: Analyse it
  mlops.hybrid.llm_analyze:
    logs: "{{ app.text }}"
    context:
      alertname: "{{ alert.labels.alertname }}"
      application: "{{ app.application }}"
  register: analysis
"""

RETURN = r"""
application:
  description: Name of the Application.
  returned: always
  type: str
namespace:
  description: Namespace of the Application.
  returned: always
  type: str
project:
  description: Its AppProject.
  returned: always
  type: str
sources:
  description: Its sources, each as C(repoURL path-or-chart @ targetRevision).
  returned: always
  type: list
  elements: str
destination:
  description: Its destination's C(server), C(name) and C(namespace).
  returned: always
  type: dict
sync_status:
  description: Sync status.
  returned: always
  type: str
  sample: OutOfSync
sync_revision:
  description: The revision the status was compared with.
  returned: always
  type: str
health_status:
  description: Health status.
  returned: always
  type: str
  sample: Degraded
health_message:
  description: The health message, if any.
  returned: always
  type: str
operation:
  description:
    - The last operation with C(phase), C(message), C(started_at), C(finished_at), C(retry_count), C(revision) and
      C(initiated_by); empty when there was none.
  returned: always
  type: dict
conditions:
  description: Conditions with C(type), C(message) and C(last_transition).
  returned: always
  type: list
  elements: dict
troubled_resources:
  description:
    - Resources whose last sync failed (or whose hook failed), then those Degraded or Missing, each with C(group),
      C(kind), C(namespace), C(name), C(status), C(message), C(hook_phase), C(sync_phase) and C(health).
  returned: always
  type: list
  elements: dict
events:
  description: For the Application and each troubled resource, C(object) and its C(events).
  returned: always
  type: list
  elements: dict
text:
  description: All of the above as one C(argocd app get)-like text (redacted).
  returned: always
  type: str
redactions:
  description: Secrets replaced in what is returned, per kind (never the values).
  returned: always
  type: dict
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import K8S_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import argocd as collector
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.pod import core_v1_api_for
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import run_module


def argspec():
    return spec(
        K8S_ARG_SPEC,
        namespace=dict(type="str", default=collector.DEFAULT_NAMESPACE),
        name=dict(type="str", required=True),
        max_resources=dict(type="int", default=collector.DEFAULT_MAX_RESOURCES),
        max_events=dict(type="int", default=collector.DEFAULT_MAX_EVENTS),
        timeout=dict(type="int", default=30),
    )


def execute(module):
    p = module.params
    api = core_v1_api_for(p)
    return collector.collect_application_context(
        api,
        p["namespace"],
        p["name"],
        max_resources=p["max_resources"],
        max_events=p["max_events"],
        timeout=p["timeout"],
        secrets=[p["api_key"]],
    )


def main():
    run_module(argspec(), execute)


if __name__ == "__main__":
    main()
