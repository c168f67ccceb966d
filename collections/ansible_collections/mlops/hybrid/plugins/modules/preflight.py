#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Check that a host can run a stage of the platform
version_added: 0.1.0
description:
  - Read-only checks of binaries, Python modules, memory, cgroup v2, free ports and the Python
    version, each returned with a hint that says what to install or change.
  - Playbooks use the result to run or skip a stage and to say why.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.attributes.read_only
options:
  binaries:
    description: Executables that must be on C(PATH).
    type: list
    elements: str
    default: []
  python_modules:
    description: Python modules that must be importable by the module's interpreter.
    type: list
    elements: str
    default: []
  min_memory_mb:
    description: Minimum total memory in MiB.
    type: int
  require_cgroup_v2:
    description: Require the unified cgroup v2 hierarchy (k3s needs it).
    type: bool
    default: false
  free_ports:
    description: TCP ports on 127.0.0.1 that must not be in use.
    type: list
    elements: int
    default: []
  min_python:
    description: Minimum Python version of the interpreter, such as C(3.11).
    type: str
  fail_on_missing:
    description:
      - Fail when a check does not pass. With V(false) the module reports and the play decides.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Check the sandbox prerequisites without failing
  mlops.hybrid.preflight:
    binaries: [prometheus, alertmanager, podman]
    python_modules: [mlflow, sklearn]
    free_ports: [5000]
    fail_on_missing: false
  register: preflight

- name: Refuse to install k3s on a host without cgroup v2
  mlops.hybrid.preflight:
    require_cgroup_v2: true
    min_memory_mb: 1800
"""

RETURN = r"""
ok:
  description: Whether every check passed.
  returned: always
  type: bool
checks:
  description: One entry per check.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What was checked.
      type: str
    kind:
      description: One of V(binary), V(python_module), V(memory), V(cgroup), V(port), V(python).
      type: str
    ok:
      description: Whether it passed.
      type: bool
    detail:
      description: What was found.
      type: str
    hint:
      description: What to do when it did not pass.
      type: str
missing:
  description: Names of the checks that did not pass.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.preflight import evaluate, run_checks
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import run_module


def argspec():
    return dict(
        binaries=dict(type="list", elements="str", default=[]),
        python_modules=dict(type="list", elements="str", default=[]),
        min_memory_mb=dict(type="int"),
        require_cgroup_v2=dict(type="bool", default=False),
        free_ports=dict(type="list", elements="int", default=[]),
        min_python=dict(type="str"),
        fail_on_missing=dict(type="bool", default=True),
    )


def execute(module):
    p = module.params
    checks = run_checks(
        binaries=p["binaries"],
        python_modules=p["python_modules"],
        min_memory_mb=p["min_memory_mb"],
        require_cgroup_v2=p["require_cgroup_v2"],
        free_ports=p["free_ports"],
        min_python=p["min_python"],
    )
    return evaluate(checks, fail_on_missing=p["fail_on_missing"])


def main():
    run_module(argspec(), execute)


if __name__ == "__main__":
    main()
