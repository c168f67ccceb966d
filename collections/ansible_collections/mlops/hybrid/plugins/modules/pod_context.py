#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pod_context
short_description: Collect what an analyst needs about a failing pod, read-only
version_added: 0.1.0
description:
  - From an alert's labels (namespace, pod, container), reads the pod through the Kubernetes API and returns the
    container statuses (state, waiting reason such as CrashLoopBackOff, last termination reason such as OOMKilled
    and exit code, restarts), requests and limits, the node, the logs of the current and the previous container and
    the pod's events (events.k8s.io/v1, else core/v1).
  - Only reads (get and list on pods, pods/log and events). Bounds what it reads - log lines and bytes (applied by
    the API server and again here) and events (paged) - and replaces secrets in everything it returns with typed
    placeholders.
  - Also returns RV(text), a C(kubectl describe)-like text for M(mlops.hybrid.llm_analyze).
  - The logic lives in C(module_utils/collectors/pod.py) so that the alert bridge runs the same code in-cluster.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.attributes.read_only
  - mlops.hybrid.k8s
options:
  namespace:
    description: Namespace of the pod (the alert's C(namespace) label).
    type: str
    required: true
  pod:
    description: Name of the pod (the alert's C(pod) label).
    type: str
    required: true
  container:
    description: Container whose logs are read. Defaults to the first container that is not ready or restarted.
    type: str
  tail_lines:
    description: Log lines read from each container (the last ones).
    type: int
    default: 200
  max_log_bytes:
    description: Bytes read from each container's log at most.
    type: int
    default: 65536
  max_events:
    description: Events read at most (0 reads none).
    type: int
    default: 50
  previous:
    description: Read the log of the previous (terminated) container too.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each API request.
    type: int
    default: 30
requirements:
  - kubernetes
"""

EXAMPLES = r"""
- name: Gather the context of a crash-looping predictor from its alert
  mlops.hybrid.pod_context:
    namespace: "{{ alert.labels.namespace }}"
    pod: "{{ alert.labels.pod }}"
    container: "{{ alert.labels.container | default(omit) }}"
  register: pod

- name: Analyse it
  mlops.hybrid.llm_analyze:
    logs: "{{ pod.text }}"
    context:
      alertname: "{{ alert.labels.alertname }}"
      last_termination_reason: "{{ pod.last_termination_reason }}"
  register: analysis
"""

RETURN = r"""
namespace:
  description: Namespace of the pod.
  returned: always
  type: str
pod:
  description: Name of the pod.
  returned: always
  type: str
node:
  description: Node the pod runs on.
  returned: always
  type: str
phase:
  description: Phase of the pod.
  returned: always
  type: str
  sample: Running
container:
  description: The container whose logs were read.
  returned: always
  type: str
containers:
  description: Every container with C(name), C(image), C(ready), C(restart_count), C(state), C(last_state),
    C(limits) and C(requests).
  returned: always
  type: list
  elements: dict
restart_count:
  description: Restarts of RV(container).
  returned: always
  type: int
waiting_reason:
  description: Why RV(container) waits, or null.
  returned: always
  type: str
  sample: CrashLoopBackOff
last_termination_reason:
  description: Why RV(container) last terminated, or null.
  returned: always
  type: str
  sample: OOMKilled
last_exit_code:
  description: Exit code of that termination, or null.
  returned: always
  type: int
  sample: 137
limits:
  description: Resource limits of RV(container).
  returned: always
  type: dict
requests:
  description: Resource requests of RV(container).
  returned: always
  type: dict
logs:
  description:
    - C(current) and C(previous) logs of RV(container), each with C(text), C(lines) and C(truncated) (redacted);
      C(previous) is null when there is no terminated container.
  returned: always
  type: dict
events:
  description: Events of the pod with C(type), C(reason), C(message), C(count), C(last_seen) and C(source).
  returned: always
  type: list
  elements: dict
events_api:
  description: API the events came from (C(events.k8s.io/v1) or C(v1)).
  returned: always
  type: str
events_truncated:
  description: Whether more events existed than O(max_events).
  returned: always
  type: bool
text:
  description: All of the above as one C(kubectl describe)-like text (redacted).
  returned: always
  type: str
redactions:
  description: Secrets replaced in what is returned, per kind (never the values).
  returned: always
  type: dict
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import K8S_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import pod as collector
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import run_module


def argspec():
    return spec(
        K8S_ARG_SPEC,
        namespace=dict(type="str", required=True),
        pod=dict(type="str", required=True),
        container=dict(type="str"),
        tail_lines=dict(type="int", default=200),
        max_log_bytes=dict(type="int", default=65536),
        max_events=dict(type="int", default=50),
        previous=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
    )


def execute(module):
    p = module.params
    api = collector.core_v1_api_for(p)
    return collector.collect_pod_context(
        api,
        p["namespace"],
        p["pod"],
        container=p["container"],
        tail_lines=p["tail_lines"],
        max_log_bytes=p["max_log_bytes"],
        max_events=p["max_events"],
        previous=p["previous"],
        timeout=p["timeout"],
        secrets=[p["api_key"]],
    )


def main():
    run_module(argspec(), execute)


if __name__ == "__main__":
    main()
