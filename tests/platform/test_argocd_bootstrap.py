"""argocd_bootstrap without a cluster: its objects rendered by Ansible and validated against the
ArgoCD v3.5.1 CRD schemas, for this repository and for a fork, and the pinned release manifest
fetched and verified by sha256. Field ownership and placement: test_argocd_field_ownership.py."""

from __future__ import annotations

import copy
import hashlib
import json

import jsonschema
import pytest
import yaml

from sandbox.ansible_run import AnsibleHarness
from sandbox.k8s_schema import SchemaValidator
from sandbox.paths import REPO, UPSTREAM

ARGOCD = UPSTREAM / "argocd-v3.5.1"
PINNED_SHA256 = "795a3a972224da6a7f9d32c3e946445f062b60fb46028476715affeb688236e3"
SECRET = "ghp_0123456789abcdefTESTSECRETVALUE"
# (repository, revision): this repository on its branch, a fork on a commit, a fork over SSH.
REPOSITORIES = [
    ("https://github.com/mlops-hybrid/mlops-hybrid.git", "main"),
    ("https://github.com/a-fork/mlops-hybrid.git", "3f2c1e0b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"),
    ("git@gitlab.example.com:team/platform.git", "v1.2.0"),
]


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


@pytest.fixture(scope="module", params=REPOSITORIES, ids=["upstream", "fork", "fork-ssh"])
def rendered(request, tmp_path_factory):
    repo_url, revision = request.param
    tmp_path = tmp_path_factory.mktemp("render")
    out = tmp_path / "rendered"
    run = run_role(
        AnsibleHarness(tmp_path / "ansible"),
        tmp_path,
        "render.yml",
        {
            "argocd_bootstrap_repo_url": repo_url,
            "argocd_bootstrap_revision": revision,
            "argocd_bootstrap_repo_password": SECRET,
            "argocd_bootstrap_render_dir": str(out),
        },
    )
    assert run.ok, run.stdout[-3000:]
    docs = {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.yaml"))}
    return run, docs, repo_url, revision


def one(docs: dict, kind: str) -> dict:
    (doc,) = [d for d in docs.values() if d["kind"] == kind]
    return doc


def test_objects_validate_against_the_argocd_crds(rendered):
    _run, docs, _repo_url, _revision = rendered
    kinds = [d["kind"] for d in docs.values()]
    # the placement patch first (test_argocd_field_ownership.py), then what ArgoCD is handed
    assert kinds[-4:] == ["ConfigMap", "Secret", "AppProject", "Application"]
    assert set(kinds[:-4]) == {"Deployment", "StatefulSet"}
    schemas = {"Application": crd_schema("application-crd.yaml"), "AppProject": crd_schema("appproject-crd.yaml")}
    strict = SchemaValidator()  # unknown fields are errors, as the API server's pruning would drop them
    for doc in docs.values():
        if doc["kind"] in schemas:
            jsonschema.validate(doc, schemas[doc["kind"]])
            strict.check(doc)
    app, project = one(docs, "Application"), one(docs, "AppProject")
    # the root Application renders the gitops/bootstrap chart, and its project allows it
    assert app["spec"]["source"]["path"] == "gitops/bootstrap"
    assert (REPO / app["spec"]["source"]["path"] / "Chart.yaml").is_file()
    assert app["spec"]["project"] == project["metadata"]["name"]
    assert app["spec"]["destination"] in project["spec"]["destinations"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # the health customisation the platform's sync waves rely on
    cm = one(docs, "ConfigMap")
    assert (
        "hs.status = obj.status.health.status" in cm["data"]["resource.customizations.health.argoproj.io_Application"]
    )


def test_the_repository_is_the_one_setting(rendered):
    """A fork sets argocd_bootstrap_repo_url only: the root Application, the values it hands the
    bootstrap chart, the project and the credentials all follow it."""
    _run, docs, repo_url, revision = rendered
    app, project, secret = one(docs, "Application"), one(docs, "AppProject"), one(docs, "Secret")
    source = app["spec"]["source"]
    assert (source["repoURL"], source["targetRevision"]) == (repo_url, revision)
    assert source["helm"]["valuesObject"] == {"repoURL": repo_url, "targetRevision": revision}
    assert project["spec"]["sourceRepos"] == [repo_url]
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    # the chart declares exactly the values it is handed (its templates require them)
    chart_values = yaml.safe_load((REPO / source["path"] / "values.yaml").read_text())
    assert set(source["helm"]["valuesObject"]) <= set(chart_values)
    upstream = REPOSITORIES[0][0]
    if repo_url != upstream:
        assert upstream not in json.dumps(list(docs.values()))


def test_the_schema_check_can_fail(rendered):
    _run, docs, _repo_url, _revision = rendered
    app = copy.deepcopy(one(docs, "Application"))
    app["spec"]["syncPolicy"]["automated"]["prune"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(app, crd_schema("application-crd.yaml"))
    del app["spec"]["destination"]
    app["spec"]["syncPolicy"]["automated"]["prune"] = True
    with pytest.raises(jsonschema.ValidationError, match="destination"):
        jsonschema.validate(app, crd_schema("application-crd.yaml"))
    # a misspelt field is refused by the strict check
    app = copy.deepcopy(one(docs, "Application"))
    app["spec"]["source"]["helm"]["valueObject"] = app["spec"]["source"]["helm"].pop("valuesObject")
    assert any("valueObject" in e for e in SchemaValidator().errors(app))


def test_repository_secret_is_labelled_and_never_shown(rendered):
    run, docs, _repo_url, _revision = rendered
    secret = one(docs, "Secret")
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
