"""scripts/demo_loop.py's own contract with scripts/demo.sh: exit 75 and a reason when it cannot run,
and `stop` ending the process groups it recorded. (The whole loop runs in `make demo`; its parts are
tested in tests/e2e/test_closed_loop.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from sandbox.paths import REPO, tool_env

SCRIPT = REPO / "scripts" / "demo_loop.py"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=tool_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_registered_model_the_stage_is_skipped_with_its_reason(tmp_path):
    proc = _run("run", "--run-dir", str(tmp_path / "run"), "--state", str(tmp_path / "empty-state"))
    assert proc.returncode == 75, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == (
        "no registered model: the ct-cd stage did not register one (%s is missing)"
        % (tmp_path / "empty-state" / "ct" / "ct-result.json")
    )
    assert not (tmp_path / "run" / "demo-loop.pids.json").exists()


def test_stop_ends_the_recorded_process_groups(tmp_path):
    sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True)
    state = tmp_path / "demo-loop.json"
    state.write_text(json.dumps({"run_dir": str(tmp_path), "pids": {"sleeper": sleeper.pid}}))
    try:
        proc = _run("stop", env={"DEMO_LOOP_STATE_FILE": str(state)})
        assert proc.returncode == 0, proc.stderr
        assert "stopped the demo services of %s: sleeper" % tmp_path in proc.stdout
        sleeper.wait(timeout=10)
        assert sleeper.returncode == -15  # SIGTERM
        assert not state.exists()
        again = _run("stop", env={"DEMO_LOOP_STATE_FILE": str(state)})
        assert "nothing to stop" in again.stdout
    finally:
        if sleeper.poll() is None:
            os.killpg(sleeper.pid, 9)
            time.sleep(0.1)
