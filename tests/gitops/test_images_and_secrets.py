"""Images are pinned (a tag, never latest; the project's own images also by digest), and gitops/
holds no secret: Secrets are referenced by name and documented in gitops/README.md."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.helpers.gitops import GITOPS, chart_sources, kustomize_dirs, render_all

PROJECT_REGISTRY = "ghcr.io/mlops-hybrid/"
IMAGE = re.compile(r"^(?P<name>[a-z0-9./_-]+?)(:(?P<tag>[\w][\w.-]{0,127}))?(@(?P<digest>sha256:[0-9a-f]{64}))?$")
README = GITOPS / "README.md"


def image_problems(image: str) -> list[str]:
    """What is wrong with how ``image`` is pinned (empty when it is pinned well enough)."""
    m = IMAGE.match(image)
    if not m:
        return ["%s: not an image reference" % image]
    problems = []
    if not m["tag"]:
        problems.append("%s: no tag" % image)
    elif m["tag"] == "latest":
        problems.append("%s: the latest tag is not a pin" % image)
    if m["name"].startswith(PROJECT_REGISTRY) and not m["digest"]:
        problems.append("%s: built by this project, so it must be pinned by digest too" % image)
    return problems


def _images(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for value in node:
            yield from _images(value)


def _tree_images():
    return sorted({img for objs in render_all().values() for o in objs for img in _images(o)})


def test_every_image_is_pinned():
    images = _tree_images()
    print("\n" + "\n".join("  " + i for i in images))
    assert images, "no image found in the rendered tree"
    problems = [p for image in images for p in image_problems(image)]
    assert problems == []


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("ghcr.io/mlflow/mlflow", "no tag"),
        ("ghcr.io/mlflow/mlflow:latest", "latest tag is not a pin"),
        ("ghcr.io/mlops-hybrid/model:1.2.0", "pinned by digest too"),
        ("ghcr.io/mlops-hybrid/model@sha256:" + "a" * 64, "no tag"),
        ("ghcr.io/Mlops/x:1 2", "not an image reference"),
    ],
)
def test_unpinned_images_are_reported(image, problem):
    assert any(problem in p for p in image_problems(image)), image_problems(image)


def test_chart_values_set_no_unpinned_image():
    for src in chart_sources():
        for image in _images(src.values):
            assert image_problems(image) == [], src.chart


def test_images_entries_pin_tag_and_digest():
    entries = []
    for directory in kustomize_dirs():
        doc = yaml.safe_load((directory / "kustomization.yaml").read_text())
        entries.extend((directory, e) for e in doc.get("images", []))
    assert any(e["name"] == PROJECT_REGISTRY + "model" for _, e in entries)
    for directory, entry in entries:
        assert set(entry) == {"name", "newTag", "digest"}, (directory, entry)
        assert not image_problems("%s:%s@%s" % (entry["name"], entry["newTag"], entry["digest"]))


# --- secrets -------------------------------------------------------------------------------------

# A Secret may be committed only when it carries no credential: ArgoCD repository declarations.
CREDENTIAL_FREE_KEYS = {"name", "type", "url", "enableOCI", "project"}
TOKEN_PATTERNS = [
    re.compile(p)
    for p in (
        r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
        r"github_pat_[A-Za-z0-9_]{40,}",
        r"AIza[0-9A-Za-z_-]{35}",  # Google API keys (Gemini)
        r"xox[abpr]-[0-9A-Za-z-]{10,}",  # Slack
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"(?i)\b(password|passwd|secret|token)\s*[:=]\s*['\"]?[A-Za-z0-9+/_-]{12,}",
    )
]


def secret_problems(obj) -> list[str]:
    if obj.get("kind") != "Secret":
        return []
    data = {**obj.get("data", {}), **obj.get("stringData", {})}
    labels = obj["metadata"].get("labels", {})
    if labels.get("argocd.argoproj.io/secret-type") == "repository" and set(data) <= CREDENTIAL_FREE_KEYS:
        return []
    return ["Secret %s commits %s: create it in the cluster instead" % (obj["metadata"]["name"], sorted(data))]


def test_no_secret_is_committed():
    objs = [o for objs in render_all().values() for o in objs]
    assert [p for o in objs for p in secret_problems(o)] == []


def test_a_committed_credential_is_reported():
    planted = {"kind": "Secret", "metadata": {"name": "x", "labels": {"argocd.argoproj.io/secret-type": "repository"}}}
    planted["stringData"] = {"url": "https://github.com/a/b", "password": "hunter2"}
    assert secret_problems(planted)


def _files():
    return [p for p in GITOPS.rglob("*") if p.is_file() and p.suffix in {".yaml", ".yml", ".json", ".md"}]


def test_no_token_like_string_in_the_tree():
    found = [
        (str(p.relative_to(GITOPS)), pat.pattern)
        for p in _files()
        for pat in TOKEN_PATTERNS
        if pat.search(p.read_text())
    ]
    assert found == []


def test_token_patterns_catch_a_planted_token():
    planted = "env:\n  GITHUB_TOKEN: ghp_" + "x1" * 18 + "\n"
    assert any(p.search(planted) for p in TOKEN_PATTERNS)


def _referenced_secrets():
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                refs.add(node["secretKeyRef"]["name"])
            if isinstance(node.get("secret"), dict) and "secretName" in node["secret"]:
                refs.add(node["secret"]["secretName"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for objs in render_all().values():
        walk(objs)
    for src in chart_sources():
        refs.update(src.values.get("alertmanager", {}).get("alertmanagerSpec", {}).get("secrets", []))
        existing = src.values.get("grafana", {}).get("admin", {}).get("existingSecret")
        if existing:
            refs.add(existing)
    return refs


def test_every_referenced_secret_is_documented():
    refs = _referenced_secrets()
    assert {"mlflow-auth", "alert-bridge-token", "alert-bridge-github", "grafana-admin"} <= refs
    readme = README.read_text()
    missing = sorted(name for name in refs if "`%s`" % name not in readme)
    assert missing == [], "gitops/README.md does not say how to create %s" % missing
