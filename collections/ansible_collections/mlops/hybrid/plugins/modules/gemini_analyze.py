#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gemini_analyze
short_description: Turn a failure's logs into a short, actionable incident report
version_added: 0.1.0
description:
  - Classifies the failure (tests, lint, SAST, SCA, image scan, secrets, training, model validation,
    Kubernetes crash loops, OOM kills, image pulls, probes, latency, ArgoCD sync, infrastructure) and cuts the
    decisive lines out of logs of any size within a token budget.
  - Replaces secrets with typed placeholders such as C([REDACTED:github_token]) before anything leaves the
    machine, and returns how many of each kind were removed, never the values.
  - Asks the provider for a structured report (root causes with evidence, remediation and confidence, urgency
    P0-P2), validates it, and renders markdown in which HTML and @-mentions from the model are neutralised.
  - The logs are given to the model fenced and declared as data, so text in them cannot steer it.
  - The module only reads and advises. It never changes code or the cluster; people act on the report.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.llm_provider
options:
  logs:
    description:
      - The text to analyse (a CI job log, a tool's output, C(kubectl describe), an alert payload).
      - Ansible echoes options in C(invocation); use O(log_path) or C(no_log) on the task when the raw log may hold
        secrets. What the module returns and sends is redacted.
    type: str
  log_path:
    description: A file on the managed host holding the text to analyse, instead of O(logs).
    type: path
  context:
    description:
      - Facts about the case given to the provider next to the excerpt (workflow, alert labels, commit, metrics).
      - Redacted like the logs. The key C(fingerprint_key) is mixed into the fingerprint; C(drift=true) picks the
        drift specialist's template.
    type: dict
    default: {}
  kind:
    description: The category, or V(auto) to classify the text.
    type: str
    default: auto
    choices: [auto, test, lint, sast, sca, container_scan, secrets, training, model_validation, k8s_crashloop,
              k8s_oom, k8s_image_pull, k8s_probe, k8s_latency, argocd_sync, infra, other]
  template:
    description: The prompt template, or V(auto) to choose it from the category.
    type: str
    default: auto
    choices: [auto, sre, drift, devsecops, testing, ml_engineer]
  max_context_tokens:
    description: Token budget of the excerpt sent to the provider.
    type: int
    default: 2000
  redact:
    description: Replace secrets with typed placeholders in everything sent or returned.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The module changes nothing; in check mode it runs the same analysis.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
"""

EXAMPLES = r"""
- name: Analyse a failed job's log with the offline rules only
  mlops.hybrid.gemini_analyze:
    log_path: "{{ playbook_dir }}/runs/job.log"
    provider: offline
  register: analysis

- name: Ask Gemini (key from GEMINI_API_KEY) about a firing alert, falling back to the rules on failure
  mlops.hybrid.gemini_analyze:
    logs: "{{ alert_payload | to_nice_json }}"
    context:
      alertname: "{{ alert.labels.alertname }}"
      namespace: models
    model: gemini-2.5-flash
  register: analysis

- name: Keep the data on site with a local model
  mlops.hybrid.gemini_analyze:
    logs: "{{ job_log }}"
    provider: openai_compatible
    api_base_url: http://127.0.0.1:11434/v1
    model: llama3.1
"""

RETURN = r"""
category:
  description: The failure's category.
  returned: always
  type: str
  sample: k8s_oom
scores:
  description: Rule score of every category that matched.
  returned: always
  type: dict
excerpt:
  description: The exact redacted text given to the provider.
  returned: always
  type: str
evidence:
  description: The decisive lines (redacted), in their order in the log.
  returned: always
  type: list
  elements: str
report:
  description: The validated report.
  returned: always
  type: dict
  contains:
    summary:
      description: At most three sentences.
      type: str
    root_causes:
      description: One to three causes, each with C(cause), C(evidence), C(remediation) and C(confidence) (0-1).
      type: list
      elements: dict
    urgency:
      description: V(P0) act now, V(P1) today, V(P2) this week.
      type: str
    false_positive:
      description: Whether the finding looks like a false positive.
      type: bool
report_markdown:
  description: The report rendered for GitHub, with a fingerprint marker.
  returned: always
  type: str
redactions:
  description: Number of secrets replaced, per kind (never the values).
  returned: always
  type: dict
  sample: {github_token: 1, url_password: 2}
redaction_count:
  description: Total of RV(redactions).
  returned: always
  type: int
provider_requested:
  description: The provider asked for.
  returned: always
  type: str
provider_used:
  description: The provider that produced the report (V(offline) after a fallback).
  returned: always
  type: str
fallback:
  description: Whether the remote provider failed and the offline rules answered instead.
  returned: always
  type: bool
provider_error:
  description: Why the remote provider failed (redacted), or null.
  returned: always
  type: str
model:
  description: The model that answered.
  returned: always
  type: str
attempts:
  description: Requests made to the remote provider, retries included.
  returned: always
  type: int
template:
  description: The prompt template used.
  returned: always
  type: str
template_version:
  description: Version of that template.
  returned: always
  type: str
fingerprint:
  description: Stable id of this failure (category and decisive lines without volatile parts), for de-duplication.
  returned: always
  type: str
lines_total:
  description: Lines in the analysed text.
  returned: always
  type: int
excerpt_tokens:
  description: Estimated tokens of the excerpt.
  returned: always
  type: int
"""

import copy
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.context import CATEGORIES
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.engine import analyze_text, read_logs
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.prompts import TEMPLATE_CHOICES
from ansible_collections.mlops.hybrid.plugins.module_utils.args import LLM_ARG_SPEC
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import MissingDependency, MlopsError


def argspec():
    spec = copy.deepcopy(LLM_ARG_SPEC)
    spec.update(
        logs=dict(type="str"),
        log_path=dict(type="path"),
        context=dict(type="dict", default={}),
        kind=dict(type="str", default="auto", choices=["auto", *CATEGORIES]),
        template=dict(type="str", default="auto", choices=list(TEMPLATE_CHOICES)),
        max_context_tokens=dict(type="int", default=2000, no_log=False),
        redact=dict(type="bool", default=True),
    )
    return spec


def main():
    module = AnsibleModule(
        argument_spec=argspec(),
        mutually_exclusive=[("logs", "log_path")],
        required_one_of=[("logs", "log_path")],
        supports_check_mode=True,
    )
    p = module.params
    try:
        text = read_logs(p["logs"], p["log_path"])
        result = analyze_text(
            text,
            p["context"],
            p["kind"],
            p["template"],
            p["max_context_tokens"],
            p["redact"],
            p["provider"],
            p["model"],
            p["api_key"],
            p["api_base_url"],
            p["timeout"],
            p["max_retries"],
            p["max_retry_delay"],
            p["fallback_to_offline"],
        )
    except MissingDependency as e:
        module.fail_json(msg=missing_required_lib(e.msg), exception=traceback.format_exc())
    except MlopsError as e:
        module.fail_json(msg=e.msg, exception=traceback.format_exc(), **e.result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
