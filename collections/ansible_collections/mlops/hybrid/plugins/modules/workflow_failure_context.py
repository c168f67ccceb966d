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
  - From a workflow run id, reads through the GitHub REST API the run, its failed jobs and steps, and every distinct
    failure (RV(failures)) - each failed step's log (from the run's log archive, else the job's log), its category
    and fingerprint as M(mlops.hybrid.llm_analyze) gives them, the lines around each file location named in its
    findings (a Bandit C(Location:), a C(file.py:12:) of pytest or ruff) at the failing commit. Matrix legs (or
    jobs) that fail the same way, by fingerprint, are one failure naming every job.
  - Then the last successful run of the same workflow on the same branch, the commits between the two, and what
    changed in the configuration since (RV(configuration_changes)) - the workflow file's diff, the patches of
    requirement, lock and manifest files, the action pins and the commits the runner resolved them to, the runner
    image, and for two dispatched runs their run names (a workflow's C(run-name) can carry its inputs).
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
  max_failures:
    description: Distinct failures returned at most (in the order of the jobs); the others are counted in
      RV(failures_omitted).
    type: int
    default: 5
  max_diff_lines:
    description: Lines of each diff or patch in RV(configuration_changes) at most (their start).
    type: int
    default: 80
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

- name: Analyse each failure
  mlops.hybrid.llm_analyze:
    logs: "{{ item.log }}"
    context:
      workflow: "{{ failure.run.name }}"
      job: "{{ item.jobs | first }}"
      step: "{{ item.step }}"
      files: "{{ item.files }}"
      configuration_changes: "{{ failure.configuration_changes }}"
      fingerprint_key: "{{ failure.run.name }}"
  loop: "{{ failure.failures }}"
  register: analyses
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
failures:
  description:
    - Each distinct failure, in the order of the jobs - C(jobs) (every job that failed this way, matrix legs
      folded) and their C(job_urls), C(step) (null when the job failed outside a step), C(log) (its end, runner
      timestamps and colours removed, redacted), C(log_source), C(log_truncated), C(files) (as RV(files)),
      C(category) and C(fingerprint) (those M(mlops.hybrid.llm_analyze) gives the log with the same names and the
      workflow as C(fingerprint_key)).
  returned: always
  type: list
  elements: dict
failures_omitted:
  description: Distinct failures beyond O(max_failures), not returned.
  returned: always
  type: int
configuration_changes:
  description:
    - What changed between the last successful run and this one beyond the code, or null when there is no
      successful run. C(compared_with) (the green run), C(workflow_file) (C(path) and unified C(diff), null when
      unchanged), C(dependency_files) (C(path), C(status), C(patch)), C(action_pins) (C(action), C(before),
      C(after) - the ref in the workflow file, or the ref and the commit the runner resolved it to),
      C(runner_image) (C(before), C(after), null when unchanged), C(inputs) (the run names of two dispatched runs,
      null when equal or not dispatched), C(unchanged) and C(unavailable) (the aspects that did not change, and
      those that could not be read, such as the runner image of a run whose logs expired).
  returned: always
  type: dict
failing_job:
  description: Name of the (first) job of the first failure, or null.
  returned: always
  type: str
failing_step:
  description: Name of the first failure's step, or null.
  returned: always
  type: str
log:
  description: The end of the first failure's log, runner timestamps and colours removed (redacted).
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
  description: Each location named in the first failure's findings with C(path), C(line), C(found) and, when
    found, C(start), C(end) and a numbered C(excerpt) read at the failing commit.
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
        max_failures=dict(type="int", default=5),
        max_diff_lines=dict(type="int", default=80),
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
        max_failures=p["max_failures"],
        max_diff_lines=p["max_diff_lines"],
        timeout=p["timeout"],
    )


def main():
    run_module(argspec(), execute, requires=(("PyGithub", client.HAS_PYGITHUB, client.PYGITHUB_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
