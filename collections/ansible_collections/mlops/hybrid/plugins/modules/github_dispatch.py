#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: github_dispatch
short_description: Start a GitHub Actions workflow (workflow_dispatch) or send a repository_dispatch event
version_added: 0.1.0
description:
  - With O(workflow), runs that workflow of O(repository) on O(ref) with O(inputs) (a C(workflow_dispatch) event;
    the workflow must declare the inputs).
  - With O(event_type), sends a C(repository_dispatch) event carrying O(client_payload); workflows that listen to
    C(repository_dispatch) of that type run.
  - GitHub answers either with 204 and no content, so every dispatch sent is a change; nothing is compared or
    de-duplicated. The request is the one the alert bridge sends (C(module_utils/github/dispatch.py)).
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.github
options:
  workflow:
    description:
      - File name (such as C(model-pipeline.yml)) or id of the workflow to run. Mutually exclusive with O(event_type).
    type: str
  ref:
    description: Branch or tag the workflow runs on; required with O(workflow).
    type: str
  inputs:
    description:
      - The workflow's inputs, by name (at most 10, as the workflow declares them).
      - GitHub takes each value as a string; a boolean goes as V(true) or V(false), a number as its digits. A list
        or a dict is refused before anything is sent.
    type: dict
    default: {}
  event_type:
    description: Type of the C(repository_dispatch) event. Mutually exclusive with O(workflow).
    type: str
  client_payload:
    description: JSON sent with the C(repository_dispatch) event (at most 10 top-level properties).
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for GitHub's answer.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: Sends nothing and reports the dispatch it would send as a change.
  diff_mode:
    support: none
    description: A dispatch has no before and after.
requirements:
  - requests
"""

EXAMPLES = r"""
- name: Retrain the model (workflow_dispatch of the model pipeline)
  mlops.hybrid.github_dispatch:
    repository: "{{ lookup('ansible.builtin.env', 'GITHUB_REPOSITORY') }}"
    workflow: model-pipeline.yml
    ref: main
    inputs:
      force_retrain: true

- name: Tell a pipeline that listens to repository_dispatch (token from GITHUB_TOKEN)
  mlops.hybrid.github_dispatch:
    repository: owner/name
    event_type: retrain-model
    client_payload:
      model_name: breast-cancer
      urgency: P0
"""

RETURN = r"""
event:
  description: V(workflow_dispatch) or V(repository_dispatch).
  returned: always
  type: str
status:
  description: GitHub's HTTP status (204), or null in check mode.
  returned: always
  type: int
  sample: 204
"""

from ansible_collections.mlops.hybrid.plugins.module_utils import rest
from ansible_collections.mlops.hybrid.plugins.module_utils.args import GITHUB_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.github import dispatch
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        GITHUB_ARG_SPEC,
        workflow=dict(type="str"),
        ref=dict(type="str"),
        inputs=dict(type="dict", default={}),
        event_type=dict(type="str"),
        client_payload=dict(type="dict", default={}),
        timeout=dict(type="float", default=10),
    )


def execute(module):
    return dispatch.send_event(options(dispatch.DispatchOptions, module.params), module.check_mode)


def main():
    run_module(
        argspec(),
        execute,
        requires=(("requests", rest.HAS_REQUESTS, rest.REQUESTS_IMPORT_ERROR),),
        mutually_exclusive=[("workflow", "event_type")],
        required_one_of=[("workflow", "event_type")],
        required_by={"workflow": "ref"},
    )


if __name__ == "__main__":
    main()
