"""ArgoCD's objects exactly as the argocd_bootstrap role applies them: the pinned release manifest
with every object the role renders merged in the way server-side apply merges field sets.

    objs = argocd_applied()          # install.yaml + the role's patches (tolerations, requests...)
    role = role_objects(tmp_dir)     # what render.yml renders, read from argocd_bootstrap_render_dir

The role's objects come from Ansible itself (``tasks_from: render.yml`` with a render directory),
so a change of the role's templates or variables is what the budget and placement tests see.
Merging follows server-side apply's schema for these fields: maps merge key by key; lists whose
items are maps with a ``name`` (containers, initContainers, env, volumes, volumeMounts) merge item
by item on ``name``; other lists and scalars are replaced by the applier that sets them.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .k8s_schema import YamlLoader
from .paths import REPO, UPSTREAM

__all__ = ["ROLE_DEFAULTS", "argocd_applied", "install_manifest", "role_objects", "ssa_merge"]

ROLE_DEFAULTS = yaml.safe_load((REPO / "roles" / "argocd_bootstrap" / "defaults" / "main.yml").read_text())
FORK_URL = "https://git.example.com/someone/mlops-hybrid.git"


@functools.cache
def _install_manifest() -> tuple[dict[str, Any], ...]:
    path = UPSTREAM / ("argocd-%s" % ROLE_DEFAULTS["argocd_bootstrap_version"]) / "install.yaml"
    return tuple(d for d in yaml.load_all(path.read_text(), Loader=YamlLoader) if d)


def install_manifest() -> list[dict[str, Any]]:
    """The pinned ArgoCD release manifest's objects (deep copies)."""
    return copy.deepcopy(list(_install_manifest()))


def _keyed(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def ssa_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = ssa_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and _keyed(base) and _keyed(patch):
        by_name = {i["name"]: i for i in base}
        out = [ssa_merge(i, next((p for p in patch if p["name"] == i["name"]), {})) for i in base]
        out.extend(copy.deepcopy(p) for p in patch if p["name"] not in by_name)
        return out
    return copy.deepcopy(patch)


_PLAY = [
    {
        "name": "argocd_bootstrap render",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Render",
                "ansible.builtin.include_role": {"name": "argocd_bootstrap", "tasks_from": "render.yml"},
            }
        ],
    }
]


def role_objects(out_dir: Path, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The objects render.yml renders (secret values redacted), with ``extra`` role variables."""
    play = out_dir / "render-play.json"
    play.write_text(json.dumps(_PLAY))
    from .ansible_run import AnsibleHarness  # noqa: PLC0415 - ansible_runner loads only when asked

    variables = {
        "argocd_bootstrap_repo_url": FORK_URL,
        "argocd_bootstrap_render_dir": str(out_dir / "rendered"),
        **(extra or {}),
    }
    run = AnsibleHarness(out_dir / "ansible").playbook(play, extravars=variables, timeout=300)
    if not run.ok:
        raise RuntimeError("argocd_bootstrap render.yml failed:\n%s" % run.stdout[-3000:])
    return [yaml.safe_load(p.read_text()) for p in sorted((out_dir / "rendered").glob("*.yaml"))]


@functools.cache
def argocd_applied() -> tuple[dict[str, Any], ...]:
    """install.yaml with the role's objects for the same kind/name merged in, plus the role's others."""
    with tempfile.TemporaryDirectory() as tmp:
        role = role_objects(Path(tmp))
    namespace = ROLE_DEFAULTS["argocd_bootstrap_namespace"]
    objs = []
    for obj in install_manifest():  # deep copies
        if obj["kind"] not in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            obj["metadata"].setdefault("namespace", namespace)
        objs.append(obj)
    index = {(o["kind"], o["metadata"]["name"]): i for i, o in enumerate(objs)}
    for obj in role:
        key = (obj["kind"], obj["metadata"]["name"])
        if key in index:
            objs[index[key]] = ssa_merge(objs[index[key]], obj)
        else:
            objs.append(obj)
    return tuple(objs)
