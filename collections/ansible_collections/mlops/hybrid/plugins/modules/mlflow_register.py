#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mlflow_register
short_description: Register a model version in MLflow, gate it on a metric and move an alias
version_added: 0.1.0
description:
  - Registers the model of an MLflow run (or a model URI) under a name, writes lineage tags on the
    version (git revision, data hash, image and digest, pipeline run URL...) and points an alias,
    C(champion) by default, at it. Aliases only; the deprecated stages are never used.
  - Optional gate - with O(metric) and O(min_value), a run whose metric is below the threshold
    fails the task with the metric, its value and the threshold, and nothing is registered.
  - Every alias move is recorded on the registered model (tag C(mlops.alias_history.<alias>.<n>),
    a JSON record of who, what, when and the previous version) and the history is returned, so
    which version served when can be answered later.
  - Idempotent - a source already registered returns its existing version and changes only what
    differs (tags, alias).
  - Requests are bounded by O(request_timeout) and O(request_retries); a server that does not
    answer fails the task within seconds with the address it tried.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.mlflow
requirements:
  - mlflow (or mlflow-skinny) >= 2.9
options:
  name:
    description: The registered model's name.
    type: str
    required: true
  run_id:
    description: The run whose logged model to register (the model named O(artifact_path)).
    type: str
  model_uri:
    description:
      - The model to register instead of O(run_id) - C(runs:/<run id>/<path>), a logged model
        C(models:/m-<id>), or a storage URI such as C(s3://bucket/model).
    type: str
  artifact_path:
    description: Name (artifact path) of the model logged in the run.
    type: str
    default: model
  alias:
    description: Alias to point at the version; V(null) or an empty string registers without moving an alias.
    type: str
    default: champion
  tags:
    description: Lineage tags to set on the version, such as C(git_sha), C(data_hash), C(image), C(image_digest).
    type: dict
    default: {}
  description:
    description: Description of the version.
    type: str
  metric:
    description: A metric of the run to gate on; requires O(min_value).
    type: str
  min_value:
    description: The lowest acceptable value of O(metric).
    type: float
  actor:
    description:
      - Who moves the alias, for the audit record. Defaults to E(GITHUB_ACTOR), else the user running the module.
    type: str
  reason:
    description: Why the alias moves (a pipeline run URL, a ticket...), for the audit record.
    type: str
    default: ""
  wait_timeout:
    description: Seconds to wait for a new version to become READY.
    type: int
    default: 60
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads the registry and the run (the gate is applied) and reports what would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: full
"""

EXAMPLES = r"""
- name: Register the run's model and make it the champion if accuracy is at least 0.9
  mlops.hybrid.mlflow_register:
    name: breast-cancer
    run_id: "{{ train_run_id }}"
    metric: accuracy
    min_value: 0.9
    tags:
      git_sha: "{{ lookup('ansible.builtin.env', 'GITHUB_SHA') }}"
      data_hash: "{{ data_hash }}"
      pipeline_run_url: "{{ run_url }}"
    reason: "{{ run_url }}"
    tracking_uri: https://mlflow.example.org
  register: registered

- name: Roll back by pointing the alias at an earlier run's version
  mlops.hybrid.mlflow_register:
    name: breast-cancer
    run_id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
    reason: rollback after INC-42
"""

RETURN = r"""
name:
  description: The registered model.
  returned: always
  type: str
version:
  description: The version registered from the source; null when check mode would create it.
  returned: always
  type: str
model_uri:
  description: C(models:/<name>/<version>).
  returned: always
  type: str
alias:
  description: The alias moved.
  returned: always
  type: str
alias_uri:
  description: C(models:/<name>@<alias>).
  returned: always
  type: str
previous_version:
  description: The version the alias pointed to before, or null.
  returned: always
  type: str
run_id:
  description: The run the model comes from.
  returned: always
  type: str
source:
  description: The source the version was registered from.
  returned: always
  type: str
gate:
  description: The gate's metric, value, threshold and verdict; null without a gate.
  returned: always
  type: dict
tags:
  description: The version's tags.
  returned: always
  type: dict
actions:
  description: What was (or in check mode would be) done.
  returned: always
  type: list
  elements: str
history:
  description: Every recorded alias move of the model, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    alias:
      description: The alias.
      type: str
    version:
      description: The version it was pointed at.
      type: str
    previous_version:
      description: The version it pointed at before.
      type: str
    actor:
      description: Who moved it.
      type: str
    at:
      description: When (UTC, ISO 8601).
      type: str
    reason:
      description: Why.
      type: str
    run_id:
      description: The run of the version.
      type: str
    lineage:
      description: The lineage tags at the time.
      type: dict
"""

import getpass
import os

from ansible_collections.mlops.hybrid.plugins.module_utils.args import MLFLOW_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow.client import (
    HAS_MLFLOW,
    MLFLOW_IMPORT_ERROR,
    client_for,
    configure_from_params,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow.registry import Registration, register
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        MLFLOW_ARG_SPEC,
        name=dict(type="str", required=True),
        run_id=dict(type="str"),
        model_uri=dict(type="str"),
        artifact_path=dict(type="str", default="model"),
        alias=dict(type="str", default="champion"),
        tags=dict(type="dict", default={}),
        description=dict(type="str"),
        metric=dict(type="str"),
        min_value=dict(type="float"),
        actor=dict(type="str"),
        reason=dict(type="str", default=""),
        wait_timeout=dict(type="int", default=60),
    )


def execute(module):
    p = module.params
    reg = options(
        Registration,
        p,
        alias=p["alias"] or None,
        actor=p["actor"] or os.environ.get("GITHUB_ACTOR") or getpass.getuser(),
        check_mode=module.check_mode,
    )
    uri = configure_from_params(p)
    return register(reg, client_for(uri), uri)


def main():
    run_module(
        argspec(),
        execute,
        requires=(("mlflow", HAS_MLFLOW, MLFLOW_IMPORT_ERROR),),
        mutually_exclusive=[("run_id", "model_uri")],
        required_one_of=[("run_id", "model_uri")],
        required_together=[("metric", "min_value")],
    )


if __name__ == "__main__":
    main()
