"""Run a playbook, or one module as a one-task playbook, through ansible-runner.

Module tests go through Ansible for real (argument spec, check mode, no_log, the JSON
protocol): never a call into ``main()``. The result keeps every event so a test can assert what
Ansible printed as well as what the module returned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from .paths import REPO, SANDBOX_INVENTORY, tool_env

RESULT_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}


@dataclass
class TaskResult:
    task: str
    host: str
    event: str
    res: dict[str, Any]

    @property
    def changed(self) -> bool:
        return bool(self.res.get("changed"))

    @property
    def failed(self) -> bool:
        return self.event in ("runner_on_failed", "runner_on_unreachable")


@dataclass
class RunResult:
    rc: int
    status: str
    stdout: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tasks(self) -> list[TaskResult]:
        out = []
        for e in self.events:
            if e.get("event") in RESULT_EVENTS:
                d = e.get("event_data", {})
                out.append(TaskResult(d.get("task", ""), d.get("host", ""), e["event"], d.get("res", {})))
        return out

    def task(self, name: str) -> TaskResult:
        matches = [t for t in self.tasks if t.task == name]
        if not matches:
            raise AssertionError("no result for task %r; tasks: %s" % (name, [t.task for t in self.tasks]))
        return matches[-1]

    @property
    def stats(self) -> dict[str, Any]:
        for e in reversed(self.events):
            if e.get("event") == "playbook_on_stats":
                return e.get("event_data", {})
        return {}

    def changed_count(self) -> int:
        return sum(self.stats.get("changed", {}).values())

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.status == "successful"


class AnsibleHarness:
    """Runs in its own private data directory (one per test)."""

    def __init__(self, workdir: Path, inventory: Path | str = SANDBOX_INVENTORY):
        self.workdir = Path(workdir)
        self.inventory = inventory
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def playbook(
        self,
        playbook: Path | str,
        *,
        check: bool = False,
        diff: bool = False,
        extravars: dict[str, Any] | None = None,
        inventory: Path | str | None = None,
        limit: str | None = None,
        env: dict[str, str] | None = None,
        verbosity: int = 0,
        timeout: int | None = 600,
    ) -> RunResult:
        self._n += 1
        pdd = self.workdir / ("runner-%d" % self._n)
        pdd.mkdir(parents=True, exist_ok=True)
        cmdline = []
        if check:
            cmdline.append("--check")
        if diff:
            cmdline.append("--diff")
        r = ansible_runner.run(
            private_data_dir=str(pdd),
            project_dir=str(REPO),
            playbook=str(playbook),
            inventory=str(inventory or self.inventory),
            extravars=extravars or {},
            limit=limit,
            cmdline=" ".join(cmdline) or None,
            envvars=tool_env(env),
            quiet=True,
            verbosity=verbosity,
            timeout=timeout,
        )
        stdout = r.stdout.read() if r.stdout else ""
        return RunResult(rc=r.rc, status=r.status, stdout=stdout, events=list(r.events))

    def module(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        check: bool = False,
        diff: bool = False,
        host: str = "localhost",
        no_log: bool = False,
        env: dict[str, str] | None = None,
        extravars: dict[str, Any] | None = None,
    ) -> TaskResult:
        """Run one module on one host and return its result (failed or not)."""
        self._n += 1
        play = [
            {
                "name": "module under test",
                "hosts": host,
                "gather_facts": False,
                "tasks": [{"name": name, name: args or {}, "no_log": no_log, "ignore_errors": True}],
            }
        ]
        path = self.workdir / ("module-%d.yml" % self._n)
        path.write_text(json.dumps(play, indent=1))
        run = self.playbook(path, check=check, diff=diff, env=env, extravars=extravars)
        last = run.task(name)
        last.res.setdefault("_stdout", run.stdout)
        return last
