#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_analyze
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
  - The provider is Gemini, any OpenAI-compatible endpoint (Ollama, vLLM, LiteLLM) or the offline rules. The module
    was called C(mlops.hybrid.gemini_analyze) before; that name still works until 2.0.0.
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
      - The keys C(step), C(job), C(workflow) and C(workflow_file) (the failing step's, job's and workflow's names,
        as M(mlops.hybrid.workflow_failure_context) finds them) weigh in the category with the log, the step most;
        a tool named there (Bandit, Trivy, pip-audit, gitleaks) says the category whatever the log says.
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
    choices: [auto, sre, drift, devsecops, testing, ml_engineer, deployment]
  max_context_tokens:
    description:
      - Token budget of the excerpt sent to the provider (about four characters a token).
      - A log that fits is sent whole. A longer one is cut to its decisive lines, its first and last
        lines and windows around the decisive lines widened to the budget; each cut is marked with
        the lines it left out.
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
  mlops.hybrid.llm_analyze:
    log_path: "{{ playbook_dir }}/runs/job.log"
    provider: offline
  register: analysis

- name: Ask Gemini (key from GEMINI_API_KEY) about a firing alert, falling back to the rules on failure
  mlops.hybrid.llm_analyze:
    logs: "{{ alert_payload | to_nice_json }}"
    context:
      alertname: "{{ alert.labels.alertname }}"
      namespace: models
    model: gemini-2.5-flash
  register: analysis

- name: Keep the data on site with a local model
  mlops.hybrid.llm_analyze:
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
category_basis:
  description:
    - What named the category. V(rules) (the log's rules, the tools' command lines, the step, job and workflow names
      in O(context)), V(kind) (given), V(vocabulary) (no rule matched; the words of the failing lines did, a weaker
      ground) or V(none) (V(other)).
  returned: always
  type: str
  sample: rules
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

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.engine import Analysis, analyze_text, read_logs
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.prompts import TEMPLATE_CHOICES
from ansible_collections.mlops.hybrid.plugins.module_utils.args import LLM_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        LLM_ARG_SPEC,
        logs=dict(type="str"),
        log_path=dict(type="path"),
        context=dict(type="dict", default={}),
        kind=dict(type="str", default="auto", choices=["auto", *CATEGORIES]),
        template=dict(type="str", default="auto", choices=list(TEMPLATE_CHOICES)),
        max_context_tokens=dict(type="int", default=2000, no_log=False),
        redact=dict(type="bool", default=True),
    )


def execute(module):
    text = read_logs(logs=module.params["logs"], log_path=module.params["log_path"])
    return analyze_text(text, options(Analysis, module.params))


def main():
    run_module(argspec(), execute, mutually_exclusive=[("logs", "log_path")], required_one_of=[("logs", "log_path")])


if __name__ == "__main__":
    main()
