#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: workflow_failure_context
short_description: Collect why a GitHub Actions run failed, through the API only
version_added: 0.1.0
description:
  - From a workflow run id, reads through the GitHub REST API the run, its failed jobs and steps, the failing step's
    log (from the run's log archive, else the job's log), the lines around each file location named in the findings
    (a Bandit C(Location:), a C(file.py:12:) of pytest or ruff) at the failing commit, and the last successful run of
    the same workflow on the same branch with the commits between the two.
  - Never checks out or runs anything from the failing revision; file contents are read as data through the
    contents API. Only GET requests are made; the log archive's signed URL is fetched without the token.
  - Bounds what it reads (archive bytes, log lines and bytes, files, commits, runs scanned) and replaces secrets in
    everything it returns with typed placeholders.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.attributes.read_only
  - mlops.hybrid.github
options:
  run_id:
    description: Id of the workflow run (C(github.event.workflow_run.id) in a C(workflow_run) workflow).
    type: int
    required: true
  max_log_bytes:
    description: Bytes of the failing step's log returned at most (its end).
    type: int
    default: 262144
  max_log_lines:
    description: Lines of the failing step's log returned at most (its end).
    type: int
    default: 2000
  max_archive_bytes:
    description: Bytes of the run's log archive downloaded at most; a larger archive is refused.
    type: int
    default: 52428800
  max_files:
    description: File locations named in the findings that are read at most.
    type: int
    default: 5
  file_context_lines:
    description: Lines shown before and after each location.
    type: int
    default: 6
  max_commits:
    description: Commits since the last successful run returned at most.
    type: int
    default: 20
  timeout:
    description: Seconds to wait for each request.
    type: int
    default: 30
requirements:
  - PyGithub
  - requests
"""

EXAMPLES = r"""
- name: Read the failed run that triggered this workflow_run workflow
  mlops.hybrid.workflow_failure_context:
    run_id: "{{ lookup('ansible.builtin.env', 'TRIAGE_RUN_ID') }}"
    repository: "{{ lookup('ansible.builtin.env', 'GITHUB_REPOSITORY') }}"
  register: failure

- name: Analyse the failing step
  mlops.hybrid.llm_analyze:
    logs: "{{ failure.log }}"
    context:
      workflow: "{{ failure.run.name }}"
      step: "{{ failure.failing_step }}"
      files: "{{ failure.files }}"
  register: analysis
"""

RETURN = r"""
run:
  description: The run with C(id), C(name), C(workflow_id), C(path), C(event), C(head_sha), C(head_branch),
    C(conclusion) and C(url); C(pull_requests) (the numbers of the pull requests the run belongs to),
    C(default_branch) (the repository's) and C(on_default_branch).
  returned: always
  type: dict
failed_jobs:
  description: Failed jobs with C(id), C(name), C(conclusion), C(url) and their failed C(steps) (C(number), C(name),
    C(conclusion)).
  returned: always
  type: list
  elements: dict
failing_job:
  description: Name of the job whose log was read, or null.
  returned: always
  type: str
failing_step:
  description: Name of the failing step, or null.
  returned: always
  type: str
log:
  description: The end of the failing step's log, runner timestamps and colours removed (redacted).
  returned: always
  type: str
log_source:
  description: Where the log came from (C(run log archive) or C(job log)), or null.
  returned: always
  type: str
log_truncated:
  description: Whether the log was cut to the bounds.
  returned: always
  type: bool
files:
  description: Each location named in the findings with C(path), C(line), C(found) and, when found, C(start),
    C(end) and a numbered C(excerpt) read at the failing commit.
  returned: always
  type: list
  elements: dict
last_success:
  description: The last successful run of the same workflow on the same branch (C(id), C(head_sha), C(url)), or null.
  returned: always
  type: dict
commits_since_success:
  description: Commits between that run and the failing one (C(sha), C(message) first line), oldest first.
  returned: always
  type: list
  elements: dict
redactions:
  description: Secrets replaced in what is returned, per kind (never the values).
  returned: always
  type: dict
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import GITHUB_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import workflow as collector
from ansible_collections.mlops.hybrid.plugins.module_utils.github import client
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import run_module


def argspec():
    return spec(
        GITHUB_ARG_SPEC,
        run_id=dict(type="int", required=True),
        max_log_bytes=dict(type="int", default=262144),
        max_log_lines=dict(type="int", default=2000),
        max_archive_bytes=dict(type="int", default=52428800),
        max_files=dict(type="int", default=5),
        file_context_lines=dict(type="int", default=6),
        max_commits=dict(type="int", default=20),
        timeout=dict(type="int", default=30),
    )


def execute(module):
    p = module.params
    gh = client.connect(
        token=p["github_token"], api_url=p["github_api_url"], timeout=p["timeout"], retries=client.DEFAULT_RETRIES
    )
    return collector.collect_workflow_failure_context(
        client.repository(gh, p["repository"]),
        p["run_id"],
        token=p["github_token"],
        max_log_bytes=p["max_log_bytes"],
        max_log_lines=p["max_log_lines"],
        max_archive_bytes=p["max_archive_bytes"],
        max_files=p["max_files"],
        file_context_lines=p["file_context_lines"],
        max_commits=p["max_commits"],
        timeout=p["timeout"],
    )


def main():
    run_module(argspec(), execute, requires=(("PyGithub", client.HAS_PYGITHUB, client.PYGITHUB_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
