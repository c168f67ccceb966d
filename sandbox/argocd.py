"""The platform as ArgoCD would apply it: the root Application's chart rendered with the repository
it is given, every Application it yields rendered in turn (Helm charts from the vendored archives
with their values, the cluster's Kubernetes version and API versions; kustomize directories with
the Application's ``kustomize.images``), recursively, as ArgoCD's repo server does.

    p = platform()                                  # this repository, every image pinned
    p = platform("https://example.com/fork.git")    # what a fork's bootstrap yields
    for app in p.apps: app.name, app.wave, app.namespace, app.objects, app.charts
    p.objects()                                     # every object applied, hooks included
    p = platform(root=clone, released=False)        # another checkout's tree (gitops/ under root)

``released=True`` renders the tree as it is once the pipelines have pushed the project's images
(a test digest for any image that has none yet); ``released=False`` renders it as committed.

Objects without a namespace get the Application's destination namespace when their kind is
namespaced, as ArgoCD sets it. Helm hooks become ArgoCD hooks (``pre-*`` PreSync, ``post-*``
PostSync); Helm ``test`` hooks are not applied by ArgoCD and are left out.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .charts import chart_archive, load_chart, render_chart, unknown_values
from .cluster import Cluster, cluster
from .paths import REPO

__all__ = [
    "BOOTSTRAP",
    "REPO_URL",
    "AppRender",
    "Applied",
    "ChartSource",
    "Platform",
    "RenderError",
    "application_wave",
    "hook_of",
    "merge_values",
    "platform",
    "render_bootstrap",
]

GITOPS = REPO / "gitops"
BOOTSTRAP = GITOPS / "bootstrap"
# The repository this checkout is published as; a fork passes its own (argocd_bootstrap_repo_url).
REPO_URL = "https://github.com/mlops-hybrid/mlops-hybrid.git"
TEST_TAG = "v1-test"

# Kinds of Kubernetes that are not namespaced (`kubectl api-resources --namespaced=false` of
# Kubernetes 1.31); custom kinds take their scope from their CRD.
CLUSTER_SCOPED = {
    "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "ComponentStatus",
    "CSIDriver", "CSINode", "CustomResourceDefinition", "FlowSchema", "IngressClass", "IPAddress",
    "MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PriorityClass",
    "PriorityLevelConfiguration", "RuntimeClass", "ServiceCIDR", "StorageClass",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
    "VolumeAttachment",
}  # fmt: skip


class RenderError(RuntimeError):
    pass


@dataclass(frozen=True)
class ChartSource:
    application: str
    repo: str
    chart: str
    version: str
    values: dict[str, Any]
    value_files: tuple[Path, ...]
    unknown: tuple[str, ...]  # value paths the chart does not define
    path: Path  # the chart's archive (or directory, for this repository's own charts)


@dataclass
class Applied:
    obj: dict[str, Any]
    source: str  # "chart kube-prometheus-stack 88.2.0 (templates/...)" or "gitops/platform/mlflow"
    hook: str | None = None  # PreSync / PostSync / Sync / ... for hooks, None for plain resources

    @property
    def kind(self) -> str:
        return self.obj["kind"]

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.obj["metadata"].get("namespace")


@dataclass
class AppRender:
    app: dict[str, Any]
    parent: str | None
    objects: list[Applied] = field(default_factory=list)
    charts: list[ChartSource] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.app["metadata"]["name"]

    @property
    def wave(self) -> int:
        return application_wave(self.app)

    @property
    def namespace(self) -> str:
        return self.app["spec"]["destination"].get("namespace", "")

    @property
    def sync_options(self) -> set[str]:
        return set((self.app["spec"].get("syncPolicy") or {}).get("syncOptions") or [])


@dataclass
class Platform:
    repo_url: str
    revision: str
    cluster: Cluster
    bootstrap: list[Applied]
    apps: list[AppRender]

    def app(self, name: str) -> AppRender:
        for a in self.apps:
            if a.name == name:
                return a
        raise KeyError("no Application %r (have %s)" % (name, [a.name for a in self.apps]))

    def objects(self) -> list[Applied]:
        return [*self.bootstrap, *(o for a in self.apps for o in a.objects)]

    def applications(self) -> list[dict[str, Any]]:
        return [o.obj for o in self.objects() if o.kind == "Application"]

    def charts(self) -> list[ChartSource]:
        return [c for a in self.apps for c in a.charts]

    def crds(self) -> list[dict[str, Any]]:
        return [o.obj for o in self.objects() if o.kind == "CustomResourceDefinition"]

    def namespaced(self, obj: dict[str, Any]) -> bool:
        """Whether the API server keeps ``obj``'s kind in a namespace (CRD scope, or built-in)."""
        return _namespaced(
            obj, {(c["spec"]["group"], c["spec"]["names"]["kind"]): c["spec"]["scope"] for c in self.crds()}
        )


def _namespaced(obj: dict[str, Any], scopes: dict[tuple[str, str], str]) -> bool:
    key = (obj["apiVersion"].rpartition("/")[0], obj["kind"])
    return scopes[key] == "Namespaced" if key in scopes else obj["kind"] not in CLUSTER_SCOPED


def application_wave(obj: dict[str, Any]) -> int:
    return int((obj["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0"))


def hook_of(obj: dict[str, Any]) -> str | None:
    """The ArgoCD hook phase of an object, ``"skip"`` for Helm test hooks, None for resources."""
    annotations = obj["metadata"].get("annotations") or {}
    if annotations.get("argocd.argoproj.io/hook"):
        return annotations["argocd.argoproj.io/hook"]
    helm = {h.strip() for h in annotations.get("helm.sh/hook", "").split(",") if h.strip()}
    if not helm:
        return None
    if helm <= {"test", "test-success", "test-failure"}:
        return "skip"
    if any(h.startswith("pre-") for h in helm):
        return "PreSync"
    return "PostSync"


def merge_values(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of value layers: maps merge key by key, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _kubectl() -> Path:
    from .gitops import kubectl  # noqa: PLC0415 - gitops imports this module

    return kubectl()


def _kustomize(directory: Path, images: list[str], root: Path = REPO) -> list[dict[str, Any]]:
    """``kustomize build`` of a directory of the tree under ``root`` after ``kustomize edit set image``
    of each override (what ArgoCD does with ``spec.source.kustomize.images``), in a scratch copy."""
    gitops = root / "gitops"
    with tempfile.TemporaryDirectory() as tmp:
        copy_root = Path(tmp) / "gitops"
        shutil.copytree(gitops, copy_root)
        target = copy_root / directory.relative_to(gitops)
        if images:
            kfile = target / "kustomization.yaml"
            doc = yaml.safe_load(kfile.read_text())
            entries = {e["name"]: e for e in doc.get("images", [])}
            for spec in images:
                entries[_image_entry(spec)["name"]] = _image_entry(spec)
            doc["images"] = list(entries.values())
            kfile.write_text(yaml.safe_dump(doc, sort_keys=False))
        proc = subprocess.run(
            [str(_kubectl()), "kustomize", str(target)], capture_output=True, text=True, check=False, timeout=120
        )
    if proc.returncode != 0:
        raise RenderError("kustomize build %s failed: %s" % (directory.relative_to(root), proc.stderr.strip()))
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def _image_entry(spec: str) -> dict[str, str]:
    """``name=newName:tag@digest`` (kustomize edit set image syntax) as a kustomization entry."""
    name, _, new = spec.partition("=")
    if not new:
        name, new = name.split(":", 1)[0].split("@", 1)[0], name
    entry = {"name": name}
    new, _, digest = new.partition("@")
    tail = new.rsplit("/", 1)[-1]
    if ":" in tail:
        new, tag = new.rsplit(":", 1)
        entry["newTag"] = tag
    if new != name:
        entry["newName"] = new
    if digest:
        entry["digest"] = digest
    return entry


class _Renderer:
    def __init__(self, repo_url: str, revision: str, cl: Cluster, api_versions: list[str], overrides: dict, *,
                 root: Path = REPO):  # fmt: skip
        self.repo_url, self.revision, self.cluster = repo_url, revision, cl
        self.api_versions, self.overrides, self.root = api_versions, overrides, root
        self.scopes: dict[tuple[str, str], str] = {}  # (group, kind) -> scope, from the CRDs seen

    def local(self, src: dict[str, Any], app: str) -> Path:
        if src["repoURL"] != self.repo_url:
            raise RenderError("%s: %s is not the repository being deployed (%s)" % (app, src["repoURL"], self.repo_url))
        if src.get("targetRevision") != self.revision:
            raise RenderError(
                "%s: follows %r, not the revision being deployed %r" % (app, src.get("targetRevision"), self.revision)
            )
        return self.root / src["path"] if src.get("path") else self.root

    def values_of(self, helm: dict[str, Any], refs: dict[str, dict], chart_dir: Path | None, app: str):
        files: list[Path] = []
        for f in helm.get("valueFiles", []):
            if f.startswith("$"):
                ref, _, rest = f.partition("/")
                if ref[1:] not in refs:
                    raise RenderError("%s: value file %r names no declared $ref (%s)" % (app, f, sorted(refs)))
                files.append(self.local(refs[ref[1:]], app) / rest)
            elif chart_dir is not None:
                files.append(chart_dir / f)
            else:
                raise RenderError("%s: value file %r of a repository chart needs a $ref" % (app, f))
        values: dict[str, Any] = {}
        for f in files:
            if not f.is_file():
                raise RenderError("%s: value file %s does not exist" % (app, f))
            values = merge_values(values, yaml.safe_load(f.read_text()) or {})
        if helm.get("values"):
            values = merge_values(values, yaml.safe_load(helm["values"]) or {})
        values = merge_values(values, helm.get("valuesObject") or {})
        return values, tuple(files)

    def render_app(self, app: dict[str, Any], parent: str | None) -> AppRender:
        name, spec = app["metadata"]["name"], app["spec"]
        out = AppRender(app, parent)
        sources = spec.get("sources") or [spec["source"]]
        refs = {s["ref"]: s for s in sources if s.get("ref")}
        namespace = spec["destination"].get("namespace", "")
        for src in sources:
            helm = src.get("helm") or {}
            release = helm.get("releaseName") or name
            if src.get("chart"):
                path = chart_archive(src["repoURL"], src["chart"], str(src["targetRevision"]))
                chart = load_chart(path)
                values, files = self.values_of(helm, refs, None, name)
                label = "chart %s %s" % (src["chart"], src["targetRevision"])
            elif src.get("path"):
                directory = self.local(src, name)
                if (directory / "Chart.yaml").is_file():
                    path = directory
                    chart = load_chart(directory)
                    values, files = self.values_of(helm, refs, directory, name)
                    values = merge_values(values, self.overrides.get(name, {}))
                    label = "chart %s" % src["path"]
                elif (directory / "kustomization.yaml").is_file():
                    images = list((src.get("kustomize") or {}).get("images") or [])
                    for obj in _kustomize(directory, images, self.root):
                        out.objects.append(self.applied(obj, src["path"], namespace))
                    continue
                else:
                    raise RenderError("%s: %s is neither a chart nor a kustomization" % (name, src["path"]))
            else:
                continue  # a $values ref only
            out.charts.append(
                ChartSource(name, src["repoURL"], chart.name, chart.version, values, files,
                            tuple(unknown_values(path, values)), path)
            )  # fmt: skip
            for template, obj in render_chart(
                chart, values, release=release, namespace=namespace,
                kube_version=self.cluster.kube_version, api_versions=self.api_versions,
                include_crds=not helm.get("skipCrds", False),
            ):  # fmt: skip
                out.objects.append(self.applied(obj, "%s (%s)" % (label, template), namespace))
        out.objects = [o for o in out.objects if o.hook != "skip"]
        return out

    def applied(self, obj: dict[str, Any], source: str, namespace: str) -> Applied:
        obj = copy.deepcopy(obj)
        if obj["kind"] == "CustomResourceDefinition":
            self.scopes[(obj["spec"]["group"], obj["spec"]["names"]["kind"])] = obj["spec"]["scope"]
        meta = obj.setdefault("metadata", {})
        if namespace and not meta.get("namespace") and _namespaced(obj, self.scopes):
            meta["namespace"] = namespace
        return Applied(obj, source, hook_of(obj))

    def walk(self, objs: list[Applied], parent: str | None) -> list[AppRender]:
        out = []
        for o in objs:
            if o.kind == "Application":
                app = self.render_app(o.obj, parent)
                out.append(app)
                out.extend(self.walk(app.objects, app.name))
        return out


def render_bootstrap(
    repo_url: str, revision: str, values: dict[str, Any] | None = None, root: Path = REPO
) -> list[Applied]:
    """The gitops/bootstrap chart as the role's root Application renders it (``valuesObject``)."""
    r = _Renderer(repo_url, revision, cluster(), list(cluster().builtin), {}, root=root)
    chart = load_chart(root / BOOTSTRAP.relative_to(REPO))
    given = values if values is not None else {"repoURL": repo_url, "targetRevision": revision}
    return [
        r.applied(obj, "chart gitops/bootstrap (%s)" % template, "argocd")
        for template, obj in render_chart(
            chart, given, release="mlops-bootstrap", namespace="argocd",
            kube_version=cluster().kube_version, api_versions=list(cluster().builtin),
        )
    ]  # fmt: skip


def _release_pins(root: Path = REPO) -> dict[str, Any]:
    """The image pins the pipelines would write: a test digest for every image still without one."""
    values = yaml.safe_load((root / "gitops" / "apps" / "values.yaml").read_text()) or {}
    images = {}
    for key, image in (values.get("images") or {}).items():
        if not image.get("digest"):
            digest = "sha256:" + hashlib.sha256(("test image " + key).encode()).hexdigest()
            images[key] = {"tag": TEST_TAG, "digest": digest}
    return {"images": images} if images else {}


@functools.cache
def platform(repo_url: str = REPO_URL, revision: str = "main", released: bool = True, root: Path = REPO) -> Platform:
    """The tree under ``root`` (this checkout by default; its gitops/ folder) as ArgoCD renders it."""
    cl = cluster()
    overrides = {"root": _release_pins(root)} if released else {}
    bootstrap = render_bootstrap(repo_url, revision, root=root)
    # Two passes: the second with the API versions of a cluster that has every CRD the platform
    # installs (what the repo server sees once the earlier waves have synced).
    api_versions = list(cl.builtin)
    for _ in range(2):
        r = _Renderer(repo_url, revision, cl, api_versions, overrides, root=root)
        apps = r.walk(bootstrap, None)
        crds = [o.obj for a in apps for o in a.objects if o.kind == "CustomResourceDefinition"]
        api_versions = cl.api_versions(crds + _argocd_crds())
    return Platform(repo_url, revision, cl, bootstrap, apps)


def _argocd_crds() -> list[dict[str, Any]]:
    """The CRDs the ArgoCD release manifest installs (Application, AppProject, ApplicationSet)."""
    from .argocd_install import install_manifest  # noqa: PLC0415 - it imports this module's peers

    return [o for o in install_manifest() if o["kind"] == "CustomResourceDefinition"]
