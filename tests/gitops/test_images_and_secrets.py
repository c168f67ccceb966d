"""Images are pinned (a tag, never latest; the project's own images also by digest), every digest
in the tree is a real one (never all zeros or another placeholder), every image of the project is
built, pushed and pinned by a workflow of .github/workflows (read from the workflows themselves),
and gitops/ holds no secret: Secrets are referenced by name and documented in gitops/README.md."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.yaml import edit_text
from sandbox.argocd import platform
from sandbox.gitops import GITOPS, chart_sources, kustomize_dirs, render_all
from sandbox.paths import REPO
from tests.helpers import workflows

OWNER = "mlops-hybrid"  # github.repository_owner of the repository this checkout is published as
PROJECT_REGISTRY = "ghcr.io/%s/" % OWNER
IMAGE = re.compile(r"^(?P<name>[a-z0-9./_-]+?)(:(?P<tag>[\w][\w.-]{0,127}))?(@(?P<digest>sha256:[0-9a-f]{64}))?$")
README = GITOPS / "README.md"
VALUES = GITOPS / "apps" / "values.yaml"
CD_PLAYBOOK = "playbooks/cd.yml"
IMAGE_WORKFLOW = "./.github/workflows/image.yml"


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
    if m["digest"] and is_placeholder(m["digest"]):
        problems.append("%s: the digest is a placeholder" % image)
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


def test_every_image_is_pinned():
    """As ArgoCD applies the tree once the pipelines have pinned the project's images."""
    images = sorted({img for applied in platform().objects() for img in _images(applied.obj)})
    print("\n" + "\n".join("  " + i for i in images))
    assert any(i.startswith(PROJECT_REGISTRY + "model:") for i in images), "the model is not deployed"
    assert any(i.startswith(PROJECT_REGISTRY + "bridge:") for i in images), "the bridge is not deployed"
    problems = [p for image in images for p in image_problems(image)]
    assert problems == []


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("ghcr.io/mlflow/mlflow", "no tag"),
        ("ghcr.io/mlflow/mlflow:latest", "latest tag is not a pin"),
        ("ghcr.io/mlops-hybrid/model:1.2.0", "pinned by digest too"),
        ("ghcr.io/mlops-hybrid/model@sha256:" + "a" * 64, "no tag"),
        ("ghcr.io/mlops-hybrid/model:0.1.0@sha256:" + "0" * 64, "placeholder"),
        ("ghcr.io/Mlops/x:1 2", "not an image reference"),
    ],
)
def test_unpinned_images_are_reported(image, problem):
    assert any(problem in p for p in image_problems(image)), image_problems(image)


def test_chart_values_set_no_unpinned_image():
    for src in chart_sources():
        for image in _images(src.values):
            assert image_problems(image) == [], src.chart


# --- digests -------------------------------------------------------------------------------------

DIGEST_TEXT = re.compile(r"sha256:([0-9a-fA-F]{64})(?![0-9a-fA-F])")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()  # the digest of nothing: never an image


def is_placeholder(digest: str) -> bool:
    """A digest nobody computed: one or two distinct digits, a short run repeated, or that of no bytes."""
    hexpart = digest.removeprefix("sha256:").lower()
    if len(set(hexpart)) <= 2 or hexpart == EMPTY_SHA256:
        return True
    return any(hexpart == hexpart[:period] * (64 // period) for period in (4, 8, 16, 32))


def tree_files(root: Path = REPO) -> list[Path]:
    """The files of the tree as Git sees it (tracked, and untracked ones not ignored), tests aside."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return sorted(
        root / name for name in set(listed) if name and "tests" not in Path(name).parts[:-1] and (root / name).is_file()
    )


def placeholder_digests(files: list[Path], root: Path = REPO) -> list[str]:
    found = []
    for path in files:
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for m in DIGEST_TEXT.finditer(text):
            if is_placeholder(m.group(0)):
                line = text.count("\n", 0, m.start()) + 1
                found.append("%s:%d: %s" % (path.relative_to(root), line, m.group(0)))
    return found


def test_no_placeholder_digest_anywhere_in_the_tree():
    files = tree_files()
    assert any(p.name == "values.yaml" and p.parent == VALUES.parent for p in files)
    assert placeholder_digests(files) == []


@pytest.mark.parametrize(
    ("digest", "placeholder"),
    [
        ("sha256:" + "0" * 64, True),
        ("sha256:" + "ab" * 32, True),
        ("sha256:" + "deadbeef" * 8, True),
        ("sha256:" + "0123456789abcdef" * 4, True),
        ("sha256:" + EMPTY_SHA256, True),
        ("sha256:" + hashlib.sha256(b"an image manifest").hexdigest(), False),
    ],
)
def test_placeholder_digests_are_recognised(digest, placeholder):
    assert is_placeholder(digest) is placeholder


def test_a_planted_zero_digest_is_found_with_its_place(tmp_path):
    planted = tmp_path / "gitops" / "kustomization.yaml"
    planted.parent.mkdir()
    planted.write_text("images:\n  - name: x\n    newTag: 0.1.0\n    digest: sha256:%s\n" % ("0" * 64))
    (tmp_path / "real.yaml").write_text("digest: sha256:%s\n" % hashlib.sha256(b"x").hexdigest())
    found = placeholder_digests([planted, tmp_path / "real.yaml"], tmp_path)
    assert found == ["gitops/kustomization.yaml:4: sha256:" + "0" * 64]


def test_the_image_pins_live_in_the_apps_values_and_are_empty_or_real():
    """Kustomizations name no pin of the project's images: the values of the app-of-apps do."""
    for directory in kustomize_dirs():
        doc = yaml.safe_load((directory / "kustomization.yaml").read_text()) or {}
        names = [e.get("newName") or e.get("name") for e in doc.get("images") or []]
        assert not [n for n in names if n.startswith(PROJECT_REGISTRY)], directory
    images = yaml.safe_load(VALUES.read_text())["images"]
    assert set(images) >= {"model", "bridge"}
    for key, image in images.items():
        assert {"repository", "tag", "digest"} <= set(image), key
        assert image["repository"].startswith(PROJECT_REGISTRY), key
        if image["digest"]:
            assert not image_problems("%s:%s@%s" % (image["repository"], image["tag"], image["digest"])), key


# --- every image of the project is built, pushed and pinned by a workflow ------------------------


@dataclass(frozen=True)
class Publication:
    """A workflow that builds, scans and pushes ``image`` and then pins it in ``paths``."""

    workflow: str
    image: str
    app: str
    paths: tuple[str, ...]


def load_workflows() -> dict[str, dict]:
    return {p.name: workflows.workflow(p.name) for p in sorted(workflows.WORKFLOWS.glob("*.yml"))}


def image_workflow_problems(doc: dict) -> list[str]:
    """Whether the reusable image workflow builds once, scans that build and pushes that build."""
    (job,) = doc["jobs"].values()
    steps = job["steps"]
    builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action@")]
    if len(builds) != 1:
        return ["image.yml has %d build steps, not one" % len(builds)]
    build = builds[0]["with"]
    layout = re.fullmatch(r"type=oci,dest=(.+),tar=false", str(build.get("outputs", "")))
    if build.get("push") is not False or not layout:
        return ["image.yml does not build into an OCI layout without pushing"]
    gates = [
        s
        for s in steps
        if s.get("uses", "").startswith("aquasecurity/trivy-action@")
        and s["with"].get("input") == layout.group(1)
        and s["with"].get("exit-code") == "1"
        and "CRITICAL" in s["with"].get("severity", "")
    ]
    pushes = [
        s for s in steps if "skopeo copy" in s.get("run", "") and s.get("env", {}).get("LAYOUT") == layout.group(1)
    ]
    problems = []
    if not gates:
        problems.append("image.yml has no Trivy gate on the built layout")
    if not pushes:
        problems.append("image.yml does not push the built layout")
    elif gates and steps.index(pushes[0]) < steps.index(gates[0]):
        problems.append("image.yml pushes before the Trivy gate")
    elif job["outputs"].get("digest") != "${{ steps.%s.outputs.digest }}" % pushes[0].get("id"):
        problems.append("image.yml's digest is not the pushed one")
    return problems


class _Upstream(dict):
    """The outputs of earlier jobs (a version, a run id): any value does for naming the image."""

    def __contains__(self, key):
        return True

    def __missing__(self, key):
        return "1"


def image_name(step: dict) -> str:
    """The name the image workflow's naming step gives, run with bash as GitHub runs it."""
    context = _Upstream({"github.repository_owner": OWNER})
    env = {key: workflows.resolve(step, raw, context, key) for key, raw in step["env"].items()}
    fd, name = tempfile.mkstemp(prefix="github-output-")
    os.close(fd)
    out = Path(name)
    try:
        env.update({"GITHUB_OUTPUT": str(out), "GITHUB_SHA": "0" * 40, "RUNNER_TEMP": "/tmp", "PATH": "/usr/bin:/bin"})
        subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=env, check=True)
        return dict(line.split("=", 1) for line in out.read_text().splitlines())["image"]
    finally:
        out.unlink()


def cd_default_paths() -> list[str]:
    (play,) = yaml.safe_load((REPO / CD_PLAYBOOK).read_text())
    return play["vars"]["cd_default_paths"]


def publications(docs: dict[str, dict]) -> tuple[list[Publication], list[str]]:
    """What the workflows publish, read from their YAML; and why a publishing chain does not count."""
    found, problems = [], []
    image_flaws = image_workflow_problems(docs["image.yml"]) if "image.yml" in docs else ["there is no image.yml"]
    for name, doc in docs.items():
        for job_name, job in doc["jobs"].items():
            if job.get("uses") != IMAGE_WORKFLOW:
                continue
            if image_flaws:
                problems.extend("%s/%s: %s" % (name, job_name, p) for p in image_flaws)
                continue
            image = image_name(workflows.workflow_step(name, job_name, "Name the image", docs))
            pushed = {"needs.%s.outputs.%s" % (job_name, k): "<%s>" % k for k in ("image", "tag", "digest")}
            bumps = []
            for step_job, step in _steps_after(docs, name, job_name):
                env = step.get("env") or {}
                try:
                    wired = {
                        k: workflows.resolve(step, env.get(k, ""), pushed, k)
                        for k in ("CD_IMAGE", "CD_TAG", "CD_DIGEST")
                    }
                    paths = (
                        workflows.resolve(step, env["CD_PATHS"], {}, "CD_PATHS").split(",")
                        if "CD_PATHS" in env
                        else cd_default_paths()
                    )
                    app = workflows.resolve(step, env.get("CD_APP", ""), {}, "CD_APP")
                except AssertionError as e:
                    problems.append("%s/%s: %s" % (name, step_job, str(e).splitlines()[0]))
                    continue
                if wired != {"CD_IMAGE": "<image>", "CD_TAG": "<tag>", "CD_DIGEST": "<digest>"}:
                    problems.append("%s/%s bumps %s, not what %s pushed" % (name, step_job, wired, job_name))
                    continue
                bumps.append(Publication(name, image, app, tuple(p.strip() for p in paths)))
            if not bumps:
                problems.append("%s: %s is pushed by job %s but no job after it bumps it" % (name, image, job_name))
            found.extend(bumps)
    return found, problems


def _steps_after(docs: dict[str, dict], name: str, job_name: str):
    """(job, step) of the jobs that need ``job_name`` and run the CD playbook."""
    for other, job in docs[name]["jobs"].items():
        needs = job.get("needs") or []
        if job_name in ([needs] if isinstance(needs, str) else needs):
            for step in workflows.job_steps(name, other, docs):
                if "--playbook %s" % CD_PLAYBOOK in step.get("run", ""):
                    yield other, step


def project_images() -> set[str]:
    """The project's images the tree names: ghcr.io/mlops-hybrid/* in gitops/, values.yaml's repositories."""
    names = set()
    pattern = re.compile(re.escape(PROJECT_REGISTRY) + r"[a-z0-9]+(?:[._/-][a-z0-9]+)*")
    for path in GITOPS.rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".yml", ".json", ".tpl", ".md"}:
            names.update(pattern.findall(path.read_text()))
    for image in (yaml.safe_load(VALUES.read_text()).get("images") or {}).values():
        names.update(image[k] for k in ("repository", "name") if image.get(k))
    return names


def unpublished(images: set[str], pubs: list[Publication]) -> list[str]:
    """The images no workflow builds, pushes and bumps in a file that names them."""
    problems = []
    for image in sorted(images):
        pins = [p for p in pubs if p.image == image]
        if not pins:
            problems.append("%s: no workflow builds, pushes and bumps it" % image)
        for pub in pins:
            for path in pub.paths:
                try:
                    matches = edit_text((REPO / path).read_text(), path, image=image, tag="t").matches
                except (OSError, InvalidInput) as e:
                    matches, why = [], getattr(e, "msg", str(e))
                else:
                    why = "it does not name the image"
                if not matches:
                    problems.append("%s: %s bumps %s, but %s" % (image, pub.workflow, path, why))
    return problems


def test_every_project_image_is_built_pushed_and_bumped_by_a_workflow():
    pubs, problems = publications(load_workflows())
    for pub in pubs:
        print("  %s: %s -> %s (app %s)" % (pub.workflow, pub.image, ", ".join(pub.paths), pub.app))
    assert problems == []
    images = project_images()
    assert {PROJECT_REGISTRY + "model", PROJECT_REGISTRY + "bridge"} <= images
    assert unpublished(images, pubs) == []
    assert {(p.image, p.app, p.paths) for p in pubs} >= {
        (PROJECT_REGISTRY + "model", "breast-cancer", ("gitops/apps/values.yaml",)),
        (PROJECT_REGISTRY + "bridge", "bridge", ("gitops/apps/values.yaml",)),
    }


def _without_step(doc: dict, predicate) -> dict:
    doc = copy.deepcopy(doc)
    (job,) = doc["jobs"].values()
    job["steps"] = [s for s in job["steps"] if not predicate(s)]
    return doc


def _second_build(docs: dict) -> None:
    steps = docs["image.yml"]["jobs"]["image"]["steps"]
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action@"))
    steps.append({**copy.deepcopy(build), "name": "Build and push", "with": {**build["with"], "push": True}})


def _planted(change):
    docs = copy.deepcopy(load_workflows())
    change(docs)
    pubs, problems = publications(docs)
    return pubs, problems, unpublished(project_images(), pubs)


@pytest.mark.parametrize(
    ("plant", "problem", "missing"),
    [
        # image.yml scans one build and pushes none: nothing counts as published.
        (
            lambda d: d.update({"image.yml": _without_step(d["image.yml"], lambda s: s.get("id") == "push")}),
            "does not push the built layout",
            ["model", "bridge"],
        ),
        (
            lambda d: d.update({"image.yml": _without_step(d["image.yml"], lambda s: "trivy" in s.get("uses", ""))}),
            "no Trivy gate",
            ["model", "bridge"],
        ),
        (_second_build, "2 build steps", ["model", "bridge"]),
        # The bridge is pushed but never bumped.
        (lambda d: d["bridge-image.yml"]["jobs"].pop("deploy"), "no job after it bumps it", ["bridge"]),
        # ... or bumped in a file that does not hold it, or to a digest it did not push.
        (
            lambda d: d["bridge-image.yml"]["jobs"]["deploy"]["with"].update(
                paths="gitops/platform/bridge/kustomization.yaml"
            ),
            None,
            ["bridge"],
        ),
        (
            lambda d: d["model-pipeline.yml"]["jobs"]["deploy"]["with"].update(digest="sha256:" + "1" * 64),
            "not what image pushed",
            ["model"],
        ),
    ],
    ids=["no-push", "no-scan", "second-build", "no-bump", "wrong-file", "wrong-digest"],
)
def test_a_planted_gap_in_the_pipelines_is_found(plant, problem, missing):
    _pubs, problems, gaps = _planted(plant)
    if problem:
        assert any(problem in p for p in problems), problems
    assert sorted(g.split(":")[0] for g in gaps) == sorted({PROJECT_REGISTRY + m for m in missing}), gaps


def test_an_image_no_workflow_publishes_is_found():
    pubs, _problems = publications(load_workflows())
    gaps = unpublished(project_images() | {PROJECT_REGISTRY + "exporter"}, pubs)
    assert gaps == [PROJECT_REGISTRY + "exporter: no workflow builds, pushes and bumps it"]


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
