"""Every lint gate of `make test` fails the run on a planted finding.

A scratch clone of the committed tree gets one violation at a time; the gate's own make target
must exit non-zero and name the finding, and must pass again once the violation is gone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sandbox.paths import REPO, tool_env

WORKFLOW_HEAD = """---
name: planted
on:
  pull_request_target:
permissions: {}
jobs:
  planted:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
"""

PLANTED = {
    "yamllint": ("inventories/sandbox/group_vars/planted.yml", "---\nkey: value  \nkey: twice\n", "duplication of key"),
    "ansible-lint": (
        "playbooks/planted.yml",
        "---\n- name: Planted\n  hosts: localhost\n  tasks:\n    - name: Run a shell without need\n"
        "      shell: echo hi\n",
        "fqcn",
    ),
    "ruff": ("tests/lint/planted_module.py", "import os\n\n\ndef f(x):\n    return eval(x)\n", "S307"),
    "actionlint": (
        ".github/workflows/planted.yml",
        WORKFLOW_HEAD + "      - run: echo ${{ github.event.pull_request.title }}\n",
        "potentially untrusted",
    ),
    "zizmor": (
        ".github/workflows/planted.yml",
        WORKFLOW_HEAD + "      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.head_ref }}\n",
        "unpinned",
    ),
}


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A clone of the committed tree, sharing the set-up (.venv, .tools) of this checkout."""
    dest = tmp_path_factory.mktemp("gates") / "repo"
    _git("clone", "--quiet", "--no-hardlinks", str(REPO), str(dest), cwd=REPO)
    for name in (".venv", ".tools"):
        (dest / name).symlink_to(REPO / name)
    return dest


def _make(target: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        check=False,
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize("gate", list(PLANTED))
def test_gate_fails_on_a_planted_finding_and_passes_without_it(scratch, gate):
    path, content, needle = PLANTED[gate]
    target = scratch / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    try:
        bad = _make(gate, scratch)
    finally:
        target.unlink()
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0, "%s passed with a planted finding:\n%s" % (gate, out[-3000:])
    assert needle.lower() in out.lower(), out[-3000:]
    good = _make(gate, scratch)
    assert good.returncode == 0, "%s fails on the clean tree:\n%s" % (gate, (good.stdout + good.stderr)[-3000:])
