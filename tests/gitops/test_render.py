"""The platform renders as ArgoCD renders it: the bootstrap chart with the repository it is given,
the app-of-apps chart it yields, and every Application's sources (kustomize directories of this
repository, Helm charts from their pinned archives); and the app of apps is wired as ArgoCD needs."""

from __future__ import annotations

import pytest

from sandbox.argocd import REPO_URL, RenderError, _Renderer, platform, render_bootstrap
from sandbox.gitops import GITOPS, kustomize_dirs, render
from sandbox.paths import REPO

DIRS = kustomize_dirs()


def test_the_tree_has_its_directories():
    names = {str(d.relative_to(GITOPS)) for d in DIRS}
    assert {
        "platform/cert-manager",
        "platform/mlflow",
        "platform/monitoring",
        "platform/bridge",
        "models/breast-cancer",
    } <= names
    assert (GITOPS / "bootstrap" / "Chart.yaml").is_file() and (GITOPS / "apps" / "Chart.yaml").is_file()


@pytest.mark.parametrize("directory", DIRS, ids=[str(d.relative_to(GITOPS)) for d in DIRS])
def test_directory_renders(directory):
    objs = render(directory)
    kinds = sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objs)
    print("%s: %d objects: %s" % (directory.relative_to(REPO), len(objs), ", ".join(kinds)))
    assert objs, "%s renders no object" % directory


def test_a_broken_kustomization_fails_to_render(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(RuntimeError, match=r"missing\.yaml"):
        render(tmp_path)


def test_every_application_renders():
    p = platform()
    for app in p.apps:
        print("%-20s wave %d -> %-12s %3d objects" % (app.name, app.wave, app.namespace, len(app.objects)))
    names = {a.name for a in p.apps}
    assert {"root", "cert-manager", "kserve", "monitoring", "mlflow", "alert-bridge", "model-breast-cancer"} == names
    assert all(a.objects for a in p.apps)


def test_root_application_hands_the_repository_on():
    (root,) = [o.obj for o in render_bootstrap(REPO_URL, "main") if o.kind == "Application"]
    assert root["spec"]["source"] == {
        "repoURL": REPO_URL,
        "targetRevision": "main",
        "path": "gitops/apps",
        "helm": {"valuesObject": {"repoURL": REPO_URL, "targetRevision": "main"}},
    }


def test_bootstrap_without_a_repository_does_not_render():
    with pytest.raises(RuntimeError, match="repoURL: the Git repository ArgoCD follows"):
        render_bootstrap(REPO_URL, "main", values={})


def test_unreleased_images_render_no_application():
    # As committed, before the pipelines pushed an image: no Application that would sync a placeholder.
    names = {a.name for a in platform(released=False).apps}
    assert "model-breast-cancer" not in names and "alert-bridge" not in names
    assert {"cert-manager", "kserve", "monitoring", "mlflow"} <= names


def test_released_images_reach_kustomize_by_digest():
    p = platform()
    (isvc,) = [o.obj for o in p.app("model-breast-cancer").objects if o.kind == "InferenceService"]
    image = isvc["spec"]["predictor"]["containers"][0]["image"]
    assert image.startswith("ghcr.io/mlops-hybrid/model:v1-test@sha256:"), image


def test_an_application_from_another_repository_is_refused():
    with pytest.raises(RenderError, match="not the repository being deployed"):
        r = _Renderer(REPO_URL, "main", platform().cluster, [], {})
        r.local({"repoURL": "https://github.com/someone/else.git", "targetRevision": "main", "path": "x"}, "app")


@pytest.mark.parametrize("app", [a for a in platform().apps if a.parent], ids=lambda a: a.name)
def test_application_syncs_automatically_within_the_project(app):
    spec = app.app["spec"]
    assert spec["project"] == "mlops"
    policy = spec["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert policy["retry"]["limit"] >= 3 and policy["retry"]["backoff"]["maxDuration"]
    assert spec["destination"]["server"] == "https://kubernetes.default.svc"
    assert "resources-finalizer.argocd.argoproj.io" in app.app["metadata"]["finalizers"]


def _project():
    (project,) = [o.obj for o in platform().bootstrap if o.kind == "AppProject"]
    return project


@pytest.mark.parametrize("app", platform().apps, ids=lambda a: a.name)
def test_application_sources_are_allowed_and_pinned(app):
    project = _project()
    allowed_repos = set(project["spec"]["sourceRepos"])
    allowed_destinations = {d["namespace"] for d in project["spec"]["destinations"]}
    assert app.namespace in allowed_destinations
    for src in app.app["spec"].get("sources") or [app.app["spec"]["source"]]:
        assert src["repoURL"] in allowed_repos, "%s is not in the project's sourceRepos" % src["repoURL"]
        assert src["targetRevision"] not in ("", "HEAD", "*", "latest"), "unpinned %s" % src


def test_project_does_not_allow_everything():
    spec = _project()["spec"]
    assert "*" not in spec["sourceRepos"]
    assert all(d["namespace"] != "*" and d["server"] != "*" for d in spec["destinations"])
    assert all(r["kind"] != "*" for r in spec["clusterResourceWhitelist"])


def test_every_cluster_scoped_kind_applied_is_whitelisted():
    p = platform()
    allowed = {(r["group"], r["kind"]) for r in _project()["spec"]["clusterResourceWhitelist"]}
    used = {
        (o.obj["apiVersion"].rpartition("/")[0], o.kind)
        for a in p.apps
        if a.parent
        for o in a.objects
        if not p.namespaced(o.obj)
    }
    assert used - allowed == set()
