"""Every kustomize directory of gitops/ renders, and the app-of-apps is wired as ArgoCD needs it."""

from __future__ import annotations

import pytest

from tests.helpers.gitops import GITOPS, REPO_URL, applications, kustomize_dirs, render, render_all
from tests.helpers.paths import REPO

DIRS = kustomize_dirs()
# Dependency order of the components (issue: cert-manager -> KServe -> monitoring -> MLflow -> bridge -> model).
WAVES = ["cert-manager", "kserve", "monitoring", "mlflow", "alert-bridge", "model-breast-cancer"]


def test_the_tree_has_its_directories():
    names = {str(d.relative_to(GITOPS)) for d in DIRS}
    assert {
        "bootstrap",
        "apps",
        "platform/cert-manager",
        "platform/mlflow",
        "platform/monitoring",
        "platform/bridge",
        "models/breast-cancer",
    } <= names


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


def _sync_wave(app):
    return int(app["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


def test_root_application_syncs_the_apps_directory():
    (root,) = [o for o in render_all()[GITOPS / "bootstrap"] if o["kind"] == "Application"]
    assert root["spec"]["source"] == {"repoURL": REPO_URL, "targetRevision": "main", "path": "gitops/apps"}


def test_one_application_per_component_in_dependency_order():
    apps = {a["metadata"]["name"]: a for a in applications() if a["metadata"]["name"] != "root"}
    assert sorted(apps) == sorted(WAVES)
    waves = [_sync_wave(apps[name]) for name in WAVES]
    assert waves == sorted(waves) and len(set(waves)) == len(waves), dict(zip(WAVES, waves, strict=True))


@pytest.mark.parametrize("app", applications(), ids=lambda a: a["metadata"]["name"])
def test_application_syncs_automatically_within_the_project(app):
    spec = app["spec"]
    assert spec["project"] == "mlops"
    policy = spec["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert policy["retry"]["limit"] >= 3 and policy["retry"]["backoff"]["maxDuration"]
    assert spec["destination"]["server"] == "https://kubernetes.default.svc"
    assert "resources-finalizer.argocd.argoproj.io" in app["metadata"]["finalizers"]


@pytest.mark.parametrize("app", applications(), ids=lambda a: a["metadata"]["name"])
def test_application_sources_are_allowed_and_exist(app):
    (project,) = [o for o in render_all()[GITOPS / "bootstrap"] if o["kind"] == "AppProject"]
    allowed_repos = set(project["spec"]["sourceRepos"])
    allowed_destinations = {d["namespace"] for d in project["spec"]["destinations"]}
    assert app["spec"]["destination"]["namespace"] in allowed_destinations
    sources = app["spec"].get("sources") or [app["spec"]["source"]]
    for src in sources:
        assert src["repoURL"] in allowed_repos, "%s is not in the project's sourceRepos" % src["repoURL"]
        assert src["targetRevision"] not in ("", "HEAD", "*", "latest"), "unpinned %s" % src
        if src.get("path"):
            assert src["repoURL"] == REPO_URL
            assert (REPO / src["path"] / "kustomization.yaml").is_file(), "%s has no kustomization" % src["path"]


def test_project_does_not_allow_everything():
    (project,) = [o for o in render_all()[GITOPS / "bootstrap"] if o["kind"] == "AppProject"]
    spec = project["spec"]
    assert "*" not in spec["sourceRepos"]
    assert all(d["namespace"] != "*" and d["server"] != "*" for d in spec["destinations"])
    assert all(r["kind"] != "*" for r in spec["clusterResourceWhitelist"])
