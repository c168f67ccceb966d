"""Processes of the test bench: free loopback ports, start in their own session, stop for sure.

Every service of the bench (MLflow, Prometheus, Alertmanager) is a child process started by
:class:`ManagedProcess`. It runs in a new session so that stopping it reaches its whole process
group (``mlflow server`` forks a uvicorn worker, for example), logs to a file whose tail goes into
every error, and is recorded in :data:`LIVE` until it has been stopped, so a test session can
prove that nothing it started is left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests

LOOPBACK = "127.0.0.1"

# Process-group ids of every service started and not yet stopped, with the command it ran.
LIVE: dict[int, str] = {}


class ServiceError(RuntimeError):
    """A service did not start, did not become ready, or answered with an error."""


class BinaryMissing(ServiceError):
    """A program the service needs is not installed; the message says which package brings it."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def require_binary(path_or_name: str, package: str) -> str:
    """The full path of a program, or :class:`BinaryMissing` naming the Debian package to install."""
    found = path_or_name if os.path.isabs(path_or_name) and os.access(path_or_name, os.X_OK) else None
    found = found or shutil.which(os.path.basename(path_or_name))
    if not found:
        raise BinaryMissing(
            "%s is not installed: install the Debian package %r (as root `make install` installs it)"
            % (path_or_name, package)
        )
    return found


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group still exists (zombies of ours are reaped first)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


class ManagedProcess:
    """One server process: started in its own session, logged to ``log_path``, stopped with its group."""

    def __init__(
        self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        if self.proc is not None:
            raise ServiceError("%s is already started (pid %s)" % (self.name, self.proc.pid))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        LIVE[self.proc.pid] = " ".join(self.argv)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def wait_ready(self, probe: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll ``probe`` until it is true; return the seconds it took. Fails fast if the process exits."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            if not self.running():
                rc = self.proc.returncode if self.proc else None
                raise ServiceError(
                    "%s exited (rc=%s) before %s; log tail (%s):\n%s"
                    % (self.name, rc, what, self.log_path, self.tail())
                )
            if probe():
                return time.monotonic() - start
            if time.monotonic() > deadline:
                raise ServiceError(
                    "%s not %s after %.0fs; log tail (%s):\n%s" % (self.name, what, timeout, self.log_path, self.tail())
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after ``timeout``; idempotent."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            deadline = time.monotonic() + wait
            while group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not group_alive(pgid):
                break
        if group_alive(pgid):
            raise ServiceError("%s (process group %d) survived SIGKILL" % (self.name, pgid))
        LIVE.pop(pgid, None)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers 200; connection errors count as not yet."""
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def port_in_use_error(text: str) -> bool:
    return "address already in use" in text.lower()


class Service:
    """Base of the bench's services: ``start()``, ``stop()``, ``url`` and use as a context manager.

    Subclasses implement ``_argv(port)`` and ``_ready()``; ``start()`` picks a free port, starts
    the process and waits for readiness, trying a new port when the one picked was taken meanwhile.
    """

    name = "service"
    package = ""
    ready_timeout = 30.0
    port_attempts = 3

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = Path(workdir)
        self.env = env
        self.port: int | None = None
        self.process: ManagedProcess | None = None
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServiceError("%s is not started" % self.name)
        return "http://%s:%d" % (LOOPBACK, self.port)

    def _argv(self, port: int) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Write configuration files before the process starts."""

    def start(self) -> Service:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._prepare()
        began = time.monotonic()
        for attempt in range(1, self.port_attempts + 1):
            self.port = free_port()
            log = self.workdir / ("%s.log" % self.name)
            self.process = ManagedProcess(self.name, self._argv(self.port), log, env=self.env, cwd=self.workdir)
            self.process.start()
            try:
                self.process.wait_ready(self._ready, self.ready_timeout, "ready on %s" % self.url)
            except ServiceError as e:
                self.process.stop()
                if attempt < self.port_attempts and port_in_use_error(str(e)):
                    continue
                self.port = None
                raise
            break
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def reap_leftovers() -> dict[int, str]:
    """Kill every process group still recorded in :data:`LIVE`; return those that were alive."""
    leftovers = {pgid: cmd for pgid, cmd in LIVE.items() if group_alive(pgid)}
    for pgid in leftovers:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    LIVE.clear()
    return leftovers
