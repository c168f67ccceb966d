"""Helm charts rendered offline from their archives, as ArgoCD's repo server renders them.

    chart = load_chart(archive)                       # helm_python.Chart, cached per archive
    objs = render_chart(chart, values, release="kps", namespace="monitoring", cluster=CLUSTER)
    unknown_values(chart, values)                     # ["prometheus.prometheusSpec.retension", ...]

The Helm v4 SDK (``helm-python-sdk``) does the rendering: ``helm template`` with the release
name, the namespace, the Kubernetes version and the API versions of the cluster, CRDs of the
charts' ``crds/`` directories included (ArgoCD passes ``--include-crds``). The pinned archives are
vendored in ``tests/upstream/charts/`` (see its README); a chart the tree names that is not there
is an error, not a skip.
"""

from __future__ import annotations

import functools
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import yaml

from .k8s_schema import YamlLoader
from .paths import UPSTREAM

__all__ = [
    "CHARTS_DIR",
    "ChartError",
    "chart_archive",
    "chart_defaults",
    "load_chart",
    "render_chart",
    "split_manifests",
    "unknown_values",
]

CHARTS_DIR = UPSTREAM / "charts"
# Where each chart the tree installs is published; the archive name is <chart>-<version>.tgz.
PUBLISHERS = {
    "https://charts.jetstack.io": {"cert-manager"},
    "ghcr.io/kserve/charts": {"kserve-crd", "kserve-resources"},
    "https://prometheus-community.github.io/helm-charts": {"kube-prometheus-stack"},
}
# Helm's own separator regex (pkg/release/util/manifest.go, SplitManifests).
_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


class ChartError(RuntimeError):
    pass


def chart_archive(repo: str, chart: str, version: str) -> Path:
    """The vendored archive of ``chart`` at ``version`` from ``repo``."""
    repo = repo.removeprefix("oci://").rstrip("/")
    if chart not in PUBLISHERS.get(repo, set()):
        raise ChartError("chart %s from %s is not one the platform pins (tests/upstream/README.md)" % (chart, repo))
    path = CHARTS_DIR / ("%s-%s.tgz" % (chart, version))
    if not path.is_file():
        have = sorted(p.name for p in CHARTS_DIR.glob("%s-*.tgz" % chart))
        raise ChartError(
            "%s %s is not vendored in %s (have %s): scripts/refresh-upstream.sh" % (chart, version, CHARTS_DIR, have)
        )
    return path


@functools.cache
def load_chart(path: Path):  # -> helm_python.Chart
    from helm_python import Chart  # noqa: PLC0415 - a test dependency, imported where used

    return Chart.load(str(path))


def split_manifests(text: str) -> list[dict[str, Any]]:
    """Objects of one rendered template, split as Helm splits them."""
    out = []
    for part in _SEPARATOR.split(text):
        if part.strip():
            doc = yaml.load(part, Loader=YamlLoader)  # noqa: S506 - a safe loader (k8s_schema)
            if isinstance(doc, dict) and doc:
                out.append(doc)
    return out


def render_chart(
    chart,
    values: dict[str, Any],
    *,
    release: str,
    namespace: str,
    kube_version: str,
    api_versions: list[str],
    include_crds: bool = True,
) -> list[tuple[str, dict[str, Any]]]:
    """``helm template --include-crds`` of ``chart`` with ``values``: (template path, object) pairs."""
    from helm_python import HelmError, _native  # noqa: PLC0415

    # Chart.render() has no options for the cluster's version and API versions; the SDK's native
    # call takes them (the same JSON options as its lint call: kube_version, api_versions).
    opts = {"name": release, "namespace": namespace, "kube_version": kube_version, "api_versions": api_versions}
    try:
        rendered = json.loads(_native.call_string("helm_render", chart._raw(), json.dumps(values), json.dumps(opts)))
    except HelmError as e:
        raise ChartError("%s %s does not render: %s" % (chart.name, chart.version, e)) from e
    out: list[tuple[str, dict[str, Any]]] = []
    if include_crds:
        for crd in chart.crds:
            out.extend((crd["filename"], o) for o in split_manifests(crd["data"]))
    for name, text in sorted(rendered.items()):
        if name.endswith("NOTES.txt") or not name.endswith((".yaml", ".yml", ".json")):
            continue
        out.extend((name, o) for o in split_manifests(text))
    return out


def _walk_unknown(given: Any, default: Any, path: str, out: list[str]) -> None:
    if not isinstance(given, dict):
        return
    if not isinstance(default, dict) or not default:
        return  # a free-form map in the chart (resources: {}, nodeSelector: {}, config: {}...)
    for key, value in given.items():
        where = "%s.%s" % (path, key) if path else str(key)
        if key not in default:
            out.append(where)
        else:
            _walk_unknown(value, default[key], where, out)


def _with_nulls(base: Any, over: Any) -> Any:
    """Maps merged key by key, keeping keys whose value is null (Helm's coalescing drops them,
    but a key a chart documents as ``key: null`` or ``key: ~`` is still a key it reads)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _with_nulls(base.get(key), value) if key in base else value
        return out
    return over if over is not None else base


def _archive_defaults(path: Path) -> dict[str, Any]:
    """values.yaml of a chart archive with its subcharts' under their names (recursively)."""
    with tarfile.open(path) as tar:
        files = {m.name: m for m in tar.getmembers() if m.isfile()}

        def read(name: str) -> Any:
            return yaml.safe_load(tar.extractfile(files[name]).read()) if name in files else None

        def defaults(prefix: str) -> dict[str, Any]:
            own = read(prefix + "values.yaml") or {}
            subs = {n[len(prefix) + 7 :].split("/", 1)[0] for n in files if n.startswith(prefix + "charts/")}
            merged: dict[str, Any] = {}
            for sub in sorted(subs):
                merged[sub] = defaults("%scharts/%s/" % (prefix, sub))
            return _with_nulls(merged, own)

        top = next(iter(files)).split("/", 1)[0]
        return defaults(top + "/")


@functools.cache
def chart_defaults(path: Path) -> dict[str, Any]:
    """Every value key a chart (archive or directory) and its subcharts define, nulls included."""
    if path.is_dir():
        return yaml.safe_load((path / "values.yaml").read_text()) or {}
    return _archive_defaults(path)


def unknown_values(path: Path, values: dict[str, Any]) -> list[str]:
    """Value paths the chart at ``path`` (with its subcharts) does not define: typos like
    ``retension``. Below a key whose default is an empty map or not a map, anything goes (the
    chart passes it through as Kubernetes fields or configuration)."""
    out: list[str] = []
    _walk_unknown(values, chart_defaults(path), "", out)
    return out
