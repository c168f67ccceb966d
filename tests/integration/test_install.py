"""make install: a second run changes nothing, and a non-root run says what it skips and why."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sandbox.paths import REPO


def _install(tmp_path, extra_env=None, user=None, script="install.sh"):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "VENV": str(REPO / ".venv"),
        **(extra_env or {}),
    }
    argv = [str(REPO / "scripts" / script)]
    if user:
        argv = ["setpriv", "--reuid=%s" % user, "--regid=%s" % user, "--clear-groups", *argv]
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=900)


def test_second_run_changes_nothing(tmp_path):
    first = _install(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    again = _install(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.strip().splitlines() == ["[install] ready: %s" % (REPO / ".venv")]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user")
def test_not_root_says_which_packages_and_tests_are_skipped():
    # pytest's tmp_path sits below a 0700 directory that another user cannot enter.
    with tempfile.TemporaryDirectory(prefix="mlops-install-") as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - the unprivileged user must reach its HOME below it
        home = Path(tmp) / "home"
        home.mkdir()
        os.chown(home, 65534, 65534)
        res = _install(
            Path(tmp), {"MLOPS_SYSTEM_PACKAGES": "git mlops-no-such-package podman"}, "65534", "system-setup.sh"
        )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (
        "SKIPPED: system packages mlops-no-such-package are missing and this is not root: run 'sudo make install'"
        in res.stdout
    )
    assert "without mlops-no-such-package, these tests will be skipped" in res.stdout
    assert "podman" not in res.stdout.split("SKIPPED")[1].splitlines()[0], "an installed package was named missing"
