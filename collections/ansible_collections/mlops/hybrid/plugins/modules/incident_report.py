#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: incident_report
short_description: Post an incident report to a GitHub issue, a commit or pull request, and Slack
version_added: 0.1.0
description:
  - Takes the registered result of M(mlops.hybrid.llm_analyze), validates its report again, renders it (HTML and
    @-mentions neutralised, secrets redacted) and posts it.
  - "GitHub issue: de-duplicated by the failure's fingerprint. An open issue with the same fingerprint gets a
    comment instead of a twin; a report already posted there (same digest) is not posted again."
  - Labels and assignees come from a per-category mapping (security findings to the security team, training and
    validation to the ML team, cluster failures to SRE), which O(routing) overrides.
  - Slack gets a short summary through an incoming webhook, with links to what was posted on GitHub. When every
    GitHub target already holds the report, Slack is not posted to again.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.github
options:
  analysis:
    description:
      - The registered result of M(mlops.hybrid.llm_analyze) (C(category), C(report), C(evidence),
        C(fingerprint), C(provider_used), C(fallback)).
      - Exactly one of O(analysis) and O(analyses).
    type: dict
  analyses:
    description:
      - Several results of M(mlops.hybrid.llm_analyze), posted as one report with a section each - typically the
        C(results) of llm_analyze looped over the RV(mlops.hybrid.workflow_failure_context#module:failures) of a run,
        whose C(item) (C(jobs), C(step)) heads each section.
      - Results with the same fingerprint are one section naming every place. The issue is de-duplicated on every
        fingerprint (an open issue carrying any of them gets the comment); a new one gets the labels, assignees
        and team lines of every category.
    type: list
    elements: dict
  title:
    description: Issue title. Defaults to the category and the first sentence of the summary.
    type: str
  github_issue:
    description: Open (or comment on) a GitHub issue in O(repository).
    type: bool
    default: true
  commit_sha:
    description: Also comment on this commit.
    type: str
  pull_request:
    description: Also comment on this pull request (its number).
    type: int
  slack_webhook_url:
    description:
      - Slack incoming webhook URL. Read from E(SLACK_WEBHOOK_URL) when not set. No Slack post when unset.
    type: str
  routing:
    description:
      - Per-category C(labels) and C(assignees) (lists), keyed by category or C(default), over the built-in
        mapping.
    type: dict
    default: {}
  labels:
    description: Labels added to every new issue.
    type: list
    elements: str
    default: []
  dedup_label:
    description: Label every report issue carries; the de-duplication search is limited to it.
    type: str
    default: aiops
  meta:
    description: Facts shown under the report (workflow run URL, alert name, commit).
    type: dict
    default: {}
  teams:
    description:
      - GitHub handles per team, mentioned under the report of a category that goes to that team
        (C(security) for SAST, SCA, container scans and secrets; C(ml) for training and model validation;
        C(platform) for the cluster, ArgoCD and infrastructure; C(dev) for tests and linters).
      - A user (C(alice)) or a team (C(acme/ml)), with or without C(@). Only these handles are ever mentioned.
      - Read from E(AIOPS_TEAMS) (JSON, what the workflows set from the repository variable of the same name) when
        not set; the playbooks pass C(hybrid_aiops_teams) of the inventory when it is defined.
    type: dict
attributes:
  check_mode:
    support: full
    description: Reads GitHub and reports every action it would take; posts nothing.
  diff_mode:
    support: full
    description: The diff shows the text that is (or would be) posted.
"""

EXAMPLES = r"""
- name: Report a failed workflow run (one issue per distinct failure, comments on repeats)
  mlops.hybrid.incident_report:
    analysis: "{{ analysis }}"
    repository: "{{ lookup('env', 'GITHUB_REPOSITORY') }}"
    commit_sha: "{{ lookup('env', 'GITHUB_SHA') }}"
    meta:
      run: "{{ run_url }}"
    routing:
      secrets: {labels: [security, P0], assignees: [sec-oncall]}
      model_validation: {labels: [ml], assignees: [ml-lead]}

- name: Only tell Slack (webhook from SLACK_WEBHOOK_URL)
  mlops.hybrid.incident_report:
    analysis: "{{ analysis }}"
    github_issue: false
"""

RETURN = r"""
actions:
  description: What was (or in check mode would be) done, one entry per target.
  returned: always
  type: list
  elements: dict
  contains:
    target:
      description: V(issue), V(commit), V(pull_request) or V(slack).
      type: str
    action:
      description: V(create), V(comment), V(post) or V(none) (already there).
      type: str
    number:
      description: Issue or pull request number.
      type: int
    url:
      description: URL of the issue.
      type: str
    comment_url:
      description: URL of the comment posted.
      type: str
issue_number:
  description: Number of the issue created or commented on, or null.
  returned: always
  type: int
issue_url:
  description: URL of that issue, or null.
  returned: always
  type: str
fingerprint:
  description: The (first) failure's fingerprint.
  returned: always
  type: str
fingerprints:
  description: The fingerprint of every failure of the report, in its order.
  returned: always
  type: list
  elements: str
title:
  description: Issue title.
  returned: always
  type: str
body:
  description: The markdown posted to GitHub (redacted, neutralised).
  returned: always
  type: str
slack_text:
  description: The Slack message (without links).
  returned: always
  type: str
redactions:
  description: Secrets removed from the posted text, per kind.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import incident
from ansible_collections.mlops.hybrid.plugins.module_utils.args import GITHUB_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        GITHUB_ARG_SPEC,
        analysis=dict(type="dict"),
        analyses=dict(type="list", elements="dict"),
        title=dict(type="str"),
        github_issue=dict(type="bool", default=True),
        commit_sha=dict(type="str"),
        pull_request=dict(type="int"),
        slack_webhook_url=dict(type="str", no_log=True, fallback=(env_fallback, ["SLACK_WEBHOOK_URL"])),
        routing=dict(type="dict", default={}),
        labels=dict(type="list", elements="str", default=[]),
        dedup_label=dict(type="str", default="aiops"),
        meta=dict(type="dict", default={}),
        teams=dict(type="dict", fallback=(env_fallback, ["AIOPS_TEAMS"])),
    )


def execute(module):
    result = incident.report_incident(options(incident.IncidentOptions, module.params), module.check_mode)
    if result["changed"]:
        result["diff"] = dict(before="", after=result["body"])
    return result


def main():
    run_module(
        argspec(), execute, mutually_exclusive=[("analysis", "analyses")], required_one_of=[("analysis", "analyses")]
    )


if __name__ == "__main__":
    main()
