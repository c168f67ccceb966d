"""The vendored upstream files are the ones pinned: every file is listed in SHA256SUMS with its
checksum, ArgoCD's manifest is the one the role verifies, and every chart and version the tree
names has its archive here. Nothing of the project reads outside the repository."""

from __future__ import annotations

import hashlib
import subprocess

import yaml

from sandbox.argocd import platform
from sandbox.paths import REPO, UPSTREAM


def _sums() -> dict[str, str]:
    out = {}
    for line in (UPSTREAM / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(None, 1)
        out[path.removeprefix("./")] = digest
    return out


def test_every_vendored_file_matches_its_checksum():
    sums = _sums()
    files = sorted(
        str(p.relative_to(UPSTREAM))
        for p in UPSTREAM.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    )
    assert files == sorted(sums)
    bad = [f for f in files if hashlib.sha256((UPSTREAM / f).read_bytes()).hexdigest() != sums[f]]
    assert bad == []


def test_the_argocd_manifest_is_the_one_the_role_verifies():
    defaults = yaml.safe_load((REPO / "roles" / "argocd_bootstrap" / "defaults" / "main.yml").read_text())
    path = "argocd-%s/install.yaml" % defaults["argocd_bootstrap_version"]
    assert _sums()[path] == defaults["argocd_bootstrap_manifest_sha256"]


def test_every_chart_the_tree_pins_is_vendored():
    pinned = {(c.chart, c.version) for c in platform().charts() if c.path.suffix == ".tgz"}
    assert {"cert-manager", "kserve-crd", "kserve-resources", "kube-prometheus-stack"} == {c for c, _ in pinned}
    for chart, version in pinned:
        assert "charts/%s-%s.tgz" % (chart, version) in _sums()


def test_nothing_reads_outside_the_repository():
    found = subprocess.run(
        ["git", "grep", "-n", "-E", r"\.\./shared|parent / \"shared\"", "--", ":!*.md"],
        cwd=REPO, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    assert found == ""
