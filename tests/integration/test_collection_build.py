"""The collection builds into a tarball that installs on its own and whose modules load."""

from __future__ import annotations

import json
import subprocess
import tarfile

import pytest

from sandbox.paths import COLLECTION, tool_env

MODULES = sorted(p.stem for p in (COLLECTION / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def _run(args, env, cwd):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("galaxy")
    env = tool_env({"ANSIBLE_COLLECTIONS_PATH": str(work / "collections")})
    built = _run(["ansible-galaxy", "collection", "build", "--output-path", str(work), str(COLLECTION)], env, work)
    assert built.returncode == 0, built.stderr
    tarballs = list(work.glob("mlops-hybrid-*.tar.gz"))
    assert len(tarballs) == 1, built.stdout
    inst = _run(
        ["ansible-galaxy", "collection", "install", "--no-deps", "-p", str(work / "collections"), str(tarballs[0])],
        env,
        work,
    )
    assert inst.returncode == 0, inst.stderr
    return work, tarballs[0], env


def test_tarball_holds_the_collection_and_nothing_ignored(installed):
    _work, tarball, _env = installed
    with tarfile.open(tarball) as tf:
        names = tf.getnames()
        manifest = json.load(tf.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "mlops"
    assert manifest["collection_info"]["name"] == "hybrid"
    assert "kubernetes.core" in manifest["collection_info"]["dependencies"]
    assert "meta/runtime.yml" in names
    for module in MODULES:
        assert "plugins/modules/%s.py" % module in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/output")]


@pytest.mark.parametrize("module", MODULES)
def test_every_module_documents_and_loads_from_the_installed_tarball(installed, module, tmp_path):
    work, _tarball, env = installed
    doc = _run(["ansible-doc", "--json", "mlops.hybrid.%s" % module], env, tmp_path)
    assert doc.returncode == 0, doc.stderr
    data = json.loads(doc.stdout)["mlops.hybrid.%s" % module]
    assert str(work / "collections") in data["doc"]["filename"]
    assert data["doc"]["short_description"]


def test_installed_module_runs(installed, tmp_path):
    _work, _tarball, env = installed
    res = _run(["ansible", "localhost", "-m", "mlops.hybrid.preflight", "-a", "binaries=sh"], env, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout
