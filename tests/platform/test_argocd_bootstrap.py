"""argocd_bootstrap without a cluster: its objects rendered by Ansible and validated against the
ArgoCD v3.5.1 CRD schemas, and the pinned release manifest fetched and verified by sha256."""

from __future__ import annotations

import copy
import hashlib
import json

import jsonschema
import pytest
import yaml

from tests.helpers.paths import REPO, UPSTREAM

ARGOCD = UPSTREAM / "argocd-v3.5.1"
PINNED_SHA256 = "795a3a972224da6a7f9d32c3e946445f062b60fb46028476715affeb688236e3"
SECRET = "ghp_0123456789abcdefTESTSECRETVALUE"


def crd_schema(name: str) -> dict:
    crd = yaml.safe_load((ARGOCD / name).read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    return version["schema"]["openAPIV3Schema"]


def run_role(ansible, tmp_path, tasks_from, extra):
    play = [
        {
            "name": "argocd_bootstrap " + tasks_from,
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Run " + tasks_from,
                    "ansible.builtin.include_role": {"name": "argocd_bootstrap", "tasks_from": tasks_from},
                    "vars": extra,
                }
            ],
        }
    ]
    path = tmp_path / ("play-%s-%d.json" % (tasks_from, len(list(tmp_path.iterdir()))))
    path.write_text(json.dumps(play))
    return ansible.playbook(path)


@pytest.fixture
def rendered(ansible, tmp_path):
    out = tmp_path / "rendered"
    run = run_role(
        ansible,
        tmp_path,
        "render.yml",
        {
            "argocd_bootstrap_repo_url": "https://github.com/mlops-hybrid/mlops-hybrid.git",
            "argocd_bootstrap_repo_password": SECRET,
            "argocd_bootstrap_render_dir": str(out),
        },
    )
    assert run.ok, run.stdout[-3000:]
    docs = {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.yaml"))}
    return run, docs


def test_objects_validate_against_the_argocd_crds(rendered):
    _run, docs = rendered
    kinds = [d["kind"] for d in docs.values()]
    assert kinds == ["ConfigMap", "Secret", "AppProject", "Application"]
    schemas = {"Application": crd_schema("application-crd.yaml"), "AppProject": crd_schema("appproject-crd.yaml")}
    for doc in docs.values():
        if doc["kind"] in schemas:
            jsonschema.validate(doc, schemas[doc["kind"]])
    app = next(d for d in docs.values() if d["kind"] == "Application")
    project = next(d for d in docs.values() if d["kind"] == "AppProject")
    # the root Application points at gitops/bootstrap of this repository, and its project allows it
    assert app["spec"]["source"]["path"] == "gitops/bootstrap"
    assert (REPO / app["spec"]["source"]["path"] / "kustomization.yaml").is_file()
    assert app["spec"]["project"] == project["metadata"]["name"]
    assert app["spec"]["source"]["repoURL"] in project["spec"]["sourceRepos"]
    assert app["spec"]["destination"] in project["spec"]["destinations"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # the health customisation the platform's sync waves rely on
    cm = next(d for d in docs.values() if d["kind"] == "ConfigMap")
    assert (
        "hs.status = obj.status.health.status" in cm["data"]["resource.customizations.health.argoproj.io_Application"]
    )


def test_the_schema_check_can_fail(rendered):
    _run, docs = rendered
    app = copy.deepcopy(next(d for d in docs.values() if d["kind"] == "Application"))
    app["spec"]["syncPolicy"]["automated"]["prune"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(app, crd_schema("application-crd.yaml"))
    del app["spec"]["destination"]
    app["spec"]["syncPolicy"]["automated"]["prune"] = True
    with pytest.raises(jsonschema.ValidationError, match="destination"):
        jsonschema.validate(app, crd_schema("application-crd.yaml"))


def test_repository_secret_is_labelled_and_never_shown(rendered):
    run, docs = rendered
    secret = next(d for d in docs.values() if d["kind"] == "Secret")
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert set(secret["stringData"]) == {"type", "url", "username", "password"}
    assert set(secret["stringData"].values()) == {"REDACTED"}
    assert SECRET not in run.stdout
    assert all(SECRET not in json.dumps(e) for e in run.events)


def test_manifest_is_fetched_and_verified(ansible, tmp_path):
    cache = tmp_path / "cache"
    url = (ARGOCD / "install.yaml").as_uri()
    assert hashlib.sha256((ARGOCD / "install.yaml").read_bytes()).hexdigest() == PINNED_SHA256
    extra = {"argocd_bootstrap_manifest_url": url, "argocd_bootstrap_cache_dir": str(cache)}
    run = run_role(ansible, tmp_path, "manifest.yml", extra)
    assert run.ok, run.stdout[-3000:]
    assert run.task("Download the ArgoCD release manifest and verify its sha256").changed
    assert hashlib.sha256((cache / "install.yaml").read_bytes()).hexdigest() == PINNED_SHA256
    again = run_role(ansible, tmp_path, "manifest.yml", extra)
    assert again.ok and not again.task("Download the ArgoCD release manifest and verify its sha256").changed

    other = tmp_path / "other"
    bad = run_role(
        ansible, tmp_path, "manifest.yml", dict(extra, argocd_bootstrap_cache_dir=str(other),
                                                argocd_bootstrap_manifest_sha256="0" * 64)
    )  # fmt: skip
    assert not bad.ok
    assert "did not match" in bad.task("Download the ArgoCD release manifest and verify its sha256").res["msg"]
    assert not (other / "install.yaml").exists()
