"""Every Molecule scenario, run for real with the podman driver.

Scenarios are found on disk: a role's own (roles/*/molecule/*/molecule.yml, run from the role) and
those that test roles together (molecule/*/molecule.yml, run from the repository root), so a new
scenario is tested without touching this file. Each one runs the whole `molecule test` sequence in
a Debian 12 container with systemd as PID 1, built once by scripts/molecule-image.sh; the test
passes only if molecule exits 0 and its own report says that create, converge, idempotence, verify
and destroy ran and succeeded, and the idempotence run's recap shows no change. Run with `-s` to
see molecule's recap; on failure it is in the assertion message and the whole log in tmp_path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from sandbox.paths import REPO, VENV_BIN, tool_env

pytestmark = [pytest.mark.podman, pytest.mark.slow]

IMAGE_SCRIPT = REPO / "scripts" / "molecule-image.sh"
REQUIRED_STEPS = ("create", "converge", "idempotence", "verify", "destroy")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "default ➜ idempotence: Executed: Successful" in molecule's DETAILS section (">" without colour).
STEP_LINE = re.compile(r"^(?P<scenario>\S+) (?:➜|>) (?P<step>[a-z_]+): Executed: (?P<outcome>\w+)", re.M)
IDEMPOTENCE_START = re.compile(r"(?:➜|>) idempotence\]?:? Executing")
IDEMPOTENCE_END = re.compile(r"(?:➜|>) idempotence\]?:? Executed")
# "node-1 : ok=7 changed=0 unreachable=0 failed=0" in a play recap, drawn inside molecule's box.
HOST_RECAP = re.compile(
    r"^\W*(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=\d+", re.M
)


def _scenarios() -> list[tuple[Path, str]]:
    """(directory molecule runs in, scenario name): the role's for its own, the root for the others."""
    own = sorted((REPO / "roles").glob("*/molecule/*/molecule.yml"))
    together = sorted(REPO.glob("molecule/*/molecule.yml"))
    return [(m.parents[2], m.parent.name) for m in own + together]


def _scenario_id(project_dir: Path, scenario: str) -> str:
    """node_baseline/default for a role's scenario, k3s_cluster for one at the root."""
    return scenario if project_dir == REPO else "%s/%s" % (project_dir.name, scenario)


def _why_podman_cannot_run() -> str | None:
    if os.geteuid() != 0:
        return (
            "Molecule scenarios run rootful podman containers with systemd and this test runs as uid %d, "
            "not root: run the suite as root (sudo make test)" % os.geteuid()
        )
    if shutil.which("podman") is None:
        return "podman is not installed: run 'make install' as root (it installs podman and runc)"
    name = subprocess.run([str(IMAGE_SCRIPT), "--name"], capture_output=True, text=True, check=True).stdout.strip()
    image_present = subprocess.run(["podman", "image", "exists", name], check=False).returncode == 0
    if not image_present and shutil.which("debootstrap") is None:
        return "debootstrap is not installed and %s is not built: run 'make install' as root" % name
    return None


@pytest.fixture(scope="session")
def molecule_image() -> str:
    """The reference of the platform image, built on first use and cached by podman after that."""
    reason = _why_podman_cannot_run()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(
        [str(IMAGE_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False, env=tool_env()
    )
    print(proc.stderr, end="")
    assert proc.returncode == 0, "scripts/molecule-image.sh failed:\n%s" % proc.stderr[-4000:]
    return proc.stdout.strip().splitlines()[-1]


def _section(log: str, title: str) -> str:
    start = log.rfind(title)
    return log[start:] if start >= 0 else ""


def _idempotence_recap(log: str) -> list[tuple[str, int]]:
    """Host and `changed` count of the PLAY RECAP printed while the idempotence step ran."""
    start = IDEMPOTENCE_START.search(log)
    end = IDEMPOTENCE_END.search(log, start.end()) if start else None
    if not (start and end):
        return []
    return [(m["host"], int(m["changed"])) for m in HOST_RECAP.finditer(log, start.end(), end.start())]


@pytest.mark.parametrize(("project_dir", "scenario"), _scenarios(), ids=[_scenario_id(*s) for s in _scenarios()])
def test_molecule_scenario(molecule_image, project_dir, scenario, tmp_path):
    env = tool_env(
        {
            "MOLECULE_IMAGE": molecule_image,
            "MOLECULE_INSTANCE_ID": "t%s" % uuid.uuid4().hex[:8],
            "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "ephemeral"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "NO_COLOR": "1",
            "PY_COLORS": "0",
        }
    )
    proc = subprocess.run(
        [str(VENV_BIN / "molecule"), "test", "-s", scenario],
        cwd=project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=3600,
        check=False,
    )
    log = ANSI.sub("", proc.stdout)
    (tmp_path / "molecule.log").write_text(log)
    steps: dict[str, list[str]] = {}
    for m in STEP_LINE.finditer(_section(log, "DETAILS")):
        if m["scenario"] == scenario:
            steps.setdefault(m["step"], []).append(m["outcome"])
    idempotence = _idempotence_recap(log)
    recap = _section(log, "DETAILS").strip() or log[-6000:]
    report = "%s, image %s, full log %s\n%s\nidempotence recap: %s" % (
        _scenario_id(project_dir, scenario),
        molecule_image,
        tmp_path / "molecule.log",
        recap,
        idempotence,
    )
    print(report)

    assert proc.returncode == 0, "molecule test exited %d\n%s" % (proc.returncode, report)
    for step in REQUIRED_STEPS:
        outcomes = steps.get(step, ["did not run"])
        assert set(outcomes) == {"Successful"}, "step %s: %s\n%s" % (step, ", ".join(outcomes), report)
    assert idempotence, "no play recap found in the idempotence step\n%s" % report
    assert all(changed == 0 for _, changed in idempotence), "the second converge changed something\n%s" % report
