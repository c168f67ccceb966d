"""Process handling of the bench: a service's whole process group goes, even one ignoring SIGTERM."""

from __future__ import annotations

import socket
import sys

import pytest

from sandbox.procs import LIVE, ManagedProcess, ServiceError, free_port, group_alive

pytestmark = pytest.mark.services


def test_stop_reaches_forked_children(tmp_path):
    # The parent forks a child that would outlive it, as `mlflow server` forks uvicorn.
    proc = ManagedProcess("forker", ["/bin/sh", "-c", "sleep 300 & echo started; wait"], tmp_path / "forker.log")
    proc.start()
    proc.wait_ready(lambda: "started" in proc.tail(), 10, "started")
    assert proc.pid in LIVE
    proc.stop(timeout=5)
    assert not group_alive(proc.pid)
    assert proc.pid not in LIVE
    proc.stop()  # idempotent


def test_stop_escalates_to_sigkill(tmp_path):
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(300)"
    )
    proc = ManagedProcess("stubborn", [sys.executable, "-c", code], tmp_path / "stubborn.log")
    proc.start()
    proc.wait_ready(lambda: "up" in proc.tail(), 20, "up")
    proc.stop(timeout=0.5)
    assert not group_alive(proc.pid)
    assert proc.proc.returncode == -9


def test_early_exit_reports_rc_and_log(tmp_path):
    proc = ManagedProcess("fails", ["/bin/sh", "-c", "echo cannot bind >&2; exit 3"], tmp_path / "fails.log")
    proc.start()
    with pytest.raises(ServiceError, match=r"(?s)exited \(rc=3\).*cannot bind"):
        proc.wait_ready(lambda: False, 10, "ready")
    proc.stop()
    assert proc.pid not in LIVE


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
    assert 1024 < port < 65536
