"""The GitHub Actions workflows of .github/workflows as data, for the tests that read or run them.

    doc = workflow("model-pipeline.yml")                   # the YAML, `on` under "on"
    steps = job_steps("model-pipeline.yml", "deploy")      # followed into the reusable workflow it calls
    step = workflow_step("model-pipeline.yml", "deploy", "Bump the image (ansible-runner)")
    resolve(step, step["env"]["CD_APP"], values)           # -> "breast-cancer"

A step of a called workflow carries ``_inputs`` (the calling job's ``with:`` over the declared
defaults) and ``_env`` (the ``env:`` of the workflow that holds it); :func:`resolve` takes
``${{ inputs.* }}`` and ``${{ env.* }}`` from those and every other expression from ``values``,
so what a test runs or checks is what the workflows wire together.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from sandbox.paths import REPO

__all__ = ["EXPR", "LOCAL_REUSABLE", "WORKFLOWS", "job_steps", "resolve", "workflow", "workflow_step"]

WORKFLOWS = REPO / ".github" / "workflows"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
LOCAL_REUSABLE = re.compile(r"^\./\.github/workflows/[\w.-]+\.ya?ml$")


def workflow(name: str, docs: dict[str, dict] | None = None) -> dict[str, Any]:
    """The workflow ``name`` (from ``docs`` when given, else from the file), ``on`` under "on"."""
    if docs is not None:
        return docs[name]
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as True
    return doc


def job_steps(name: str, job: str, docs: dict[str, dict] | None = None) -> list[dict[str, Any]]:
    """The steps of ``job``, followed into the local reusable workflow the job calls."""
    spec = workflow(name, docs)["jobs"][job]
    if "uses" not in spec:
        return [{**step, "_inputs": {}, "_env": workflow(name, docs).get("env") or {}} for step in spec["steps"]]
    assert LOCAL_REUSABLE.match(spec["uses"]), "%s/%s calls %s" % (name, job, spec["uses"])
    called_name = spec["uses"].rsplit("/", 1)[1]
    called = workflow(called_name, docs)
    declared = called["on"]["workflow_call"].get("inputs") or {}
    inputs = {k: str(v["default"]) for k, v in declared.items() if "default" in v}
    given = {k: str(v) for k, v in (spec.get("with") or {}).items()}
    assert set(given) <= set(declared), "%s/%s passes inputs %s does not declare" % (name, job, called_name)
    inputs.update(given)
    return [
        {**step, "_inputs": inputs, "_env": called.get("env") or {}}
        for called_job in called["jobs"].values()
        for step in called_job["steps"]
    ]


def workflow_step(name: str, job: str, step_name: str, docs: dict[str, dict] | None = None) -> dict[str, Any]:
    for step in job_steps(name, job, docs):
        if step.get("name") == step_name:
            return step
    raise AssertionError("no step %r in job %r of %s" % (step_name, job, name))


def resolve(step: dict[str, Any], raw: Any, values: dict[str, str], key: str = "") -> str:
    """``raw`` with ``${{ inputs.x }}`` and ``${{ env.X }}`` from the workflows and the rest from ``values``."""

    def sub(match):
        expr = match.group(1)
        scope, _dot, name = expr.partition(".")
        if scope == "inputs" and name in step["_inputs"]:
            return resolve(step, step["_inputs"][name], values, key)
        if scope == "env" and name in step["_env"]:
            return str(step["_env"][name])
        assert expr in values, "step %r sets %s from %r: give %r a local value" % (step.get("name"), key, raw, expr)
        return values[expr]

    return EXPR.sub(sub, str(raw))
