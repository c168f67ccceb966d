"""A fork deploys itself: bootstrapped with its own repository URL (argocd_bootstrap_repo_url, the
one setting), nothing ArgoCD is handed or renders from there on names the upstream repository.
The role runs through Ansible; its root Application's values render the bootstrap chart, whose
root renders the app of apps, whose Applications render their sources, as ArgoCD would."""

from __future__ import annotations

import json

from sandbox.argocd import REPO_URL, platform, render_bootstrap
from sandbox.argocd_install import role_objects

FORK = "https://git.example.org/someone/mlops-hybrid-fork.git"
REVISION = "0123456789abcdef0123456789abcdef01234567"


def test_a_fork_bootstraps_with_no_upstream_url_left(tmp_path):
    role = role_objects(tmp_path, {"argocd_bootstrap_repo_url": FORK, "argocd_bootstrap_revision": REVISION})
    (root,) = [o for o in role if o["kind"] == "Application"]
    values = root["spec"]["source"]["helm"]["valuesObject"]
    assert values == {"repoURL": FORK, "targetRevision": REVISION}
    bootstrap = render_bootstrap(FORK, REVISION, values=values)
    p = platform(FORK, REVISION)
    applied = [*role, *(o.obj for o in bootstrap), *(o.obj for o in p.objects())]
    text = json.dumps(applied)
    repo_urls = sorted(
        {s["repoURL"] for a in p.applications() for s in a["spec"].get("sources") or [a["spec"]["source"]]}
    )
    print(
        "\n%d objects applied for the fork; upstream URL occurrences: %d; fork URL occurrences: %d; repoURLs: %s"
        % (len(applied), text.count(REPO_URL), text.count(FORK), repo_urls)
    )
    assert text.count(REPO_URL) == 0
    assert FORK in repo_urls and {a["metadata"]["name"] for a in p.applications()} >= {"root", "model-breast-cancer"}
    # Every Application of the fork follows the fork at the bootstrapped revision.
    for app in p.applications():
        for src in app["spec"].get("sources") or [app["spec"]["source"]]:
            if src.get("path") or src.get("ref"):
                assert (src["repoURL"], src["targetRevision"]) == (FORK, REVISION), app["metadata"]["name"]


def test_the_project_allows_only_the_fork():
    (project,) = [o.obj for o in render_bootstrap(FORK, REVISION) if o.kind == "AppProject"]
    assert FORK in project["spec"]["sourceRepos"] and REPO_URL not in project["spec"]["sourceRepos"]
