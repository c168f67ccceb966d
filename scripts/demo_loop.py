#!/usr/bin/env python3
"""make demo, the alert loop: the registered model served, monitored, drifting, alerted on, analysed.

    scripts/demo_loop.py run --run-dir runs/<time> --state runs/cicd    (a stage of scripts/demo.sh)
    scripts/demo_loop.py stop                                            (make demo-stop)

After the CT/CD stage has registered ``<name>@champion`` in the local MLflow (state in runs/cicd/):
MLflow again on that state -> the model server loading ``models:/<name>@champion`` -> Prometheus with
the repository's alert rules -> Alertmanager with the repository's routing -> the alert bridge ->
a GitHub fake standing in for GitHub (GitHub cannot be reached from here). Traffic with an injected
drift makes ModelFeatureDrift / ModelPredictionDrift fire; the bridge's ``aiops-drift`` dispatch
then runs playbooks/drift_analysis.yml through ansible-runner as the drift-analysis workflow would
(provider ``offline``, or ``gemini`` when GEMINI_API_KEY is set), and the report is written to the
run folder. The services keep running for a look around; their process groups are recorded in the
run folder and in runs/demo-loop.json, which ``stop`` (and the next run) reads.

Exit status 75 means skipped (the reason is the last line printed), as scripts/demo.sh expects.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "collections", ROOT / "model" / "src", ROOT / "bridge" / "src"):
    sys.path.insert(0, str(p))

SKIP = 75
# MLflow's client sends usage telemetry from a thread that edits os.environ (nothing leaves this machine
# anyway): off for the processes that load models from the registry.
NO_TELEMETRY = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
# Where the process groups of the running demo are recorded (DEMO_LOOP_STATE_FILE moves it, for tests).
STATE_FILE = Path(os.environ.get("DEMO_LOOP_STATE_FILE") or ROOT / "runs" / "demo-loop.json")
T0 = time.monotonic()


def say(msg: str) -> None:
    print("  [+%5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def skip(reason: str) -> int:
    print(reason, flush=True)
    return SKIP


# -- the GitHub fake as a process of its own (it outlives this script, like the other services) ----


def serve_github_fake(record: Path, port_file: Path) -> int:
    """Run the GitHub fake until SIGTERM; every accepted repository_dispatch is appended to ``record``."""
    from sandbox.bridge import REPOSITORY, GitHubWithOutage  # noqa: PLC0415

    class RecordingGitHub(GitHubWithOutage):
        def _repository_dispatch(self, m, q, body, h):
            out = super()._repository_dispatch(m, q, body, h)
            if out[0] == 204:
                with record.open("a") as f:
                    f.write(json.dumps({"at": time.time(), "body": body}) + "\n")
            return out

    fake = RecordingGitHub()
    fake.start()
    fake.add_repo(REPOSITORY)
    fake.add_workflow(REPOSITORY, ".github/workflows/model-pipeline.yml", "model pipeline")
    port_file.write_text(json.dumps({"url": fake.url, "token": fake.token}))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    fake.stop()
    return 0


class GitHubProcess:
    """The fake above, started as ``demo_loop.py github-fake``; ``dispatches()`` reads its record."""

    name = "github-fake"

    def __init__(self, workdir: Path):
        from sandbox.procs import ManagedProcess  # noqa: PLC0415

        self.workdir = workdir
        self.record = workdir / "dispatches.jsonl"
        self.port_file = workdir / "github-fake.json"
        workdir.mkdir(parents=True, exist_ok=True)
        self.record.write_text("")
        self.port_file.unlink(missing_ok=True)
        argv = [sys.executable, str(Path(__file__).resolve()), "github-fake", str(self.record), str(self.port_file)]
        self.process = ManagedProcess(self.name, argv, workdir / "github-fake.log", cwd=ROOT)

    def start(self) -> GitHubProcess:
        self.process.start()
        self.process.wait_ready(self.port_file.exists, 30, "ready")
        time.sleep(0.2)
        info = json.loads(self.port_file.read_text())
        self.url, self.token = info["url"], info["token"]
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()

    def dispatches(self, _repository: str | None = None) -> list[dict]:
        return [json.loads(line) for line in self.record.read_text().splitlines() if line.strip()]


# -- stopping what a previous run left -------------------------------------------------------------


def stop_recorded(quiet: bool = False) -> int:
    """SIGTERM (then SIGKILL) the process groups recorded by the last run; returns how many were alive."""
    if not STATE_FILE.exists():
        if not quiet:
            print("no demo services recorded (%s): nothing to stop" % STATE_FILE)
        return 0
    state = json.loads(STATE_FILE.read_text())
    alive = {}
    for name, pgid in state.get("pids", {}).items():
        try:
            os.killpg(pgid, signal.SIGTERM)
            alive[name] = pgid
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    while alive and time.monotonic() < deadline:
        for name, pgid in list(alive.items()):
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                alive.pop(name)
        time.sleep(0.1)
    for pgid in alive.values():
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    n = len(state.get("pids", {}))
    if not quiet:
        print("stopped the demo services of %s: %s" % (state.get("run_dir"), ", ".join(sorted(state["pids"]))))
    STATE_FILE.unlink()
    return n


# -- the loop ---------------------------------------------------------------------------------------


def run_analysis(run_dir: Path, payload: dict, env: dict[str, str]) -> tuple[int, str]:
    """playbooks/drift_analysis.yml through ansible-runner, as .github/workflows/drift-analysis.yml runs it."""
    from sandbox.paths import tool_env  # noqa: PLC0415

    runner_dir = run_dir / "runner-drift-analysis"
    cmd = [
        str(Path(sys.executable).parent / "ansible-runner"), "run", str(runner_dir),
        "--project-dir", str(ROOT), "--playbook", "playbooks/drift_analysis.yml",
        "--inventory", str(ROOT / "inventories" / "sandbox" / "hosts.yml"),
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, env=tool_env({**env, "DRIFT_PAYLOAD": json.dumps(payload)}), capture_output=True, text=True, check=False
    )
    (run_dir / "drift-analysis.out").write_text(proc.stdout + proc.stderr)
    return proc.returncode, proc.stdout


def missing_prerequisite(state: Path) -> str | None:
    """Why the loop cannot run here (a missing package or an earlier stage that did not run), or None."""
    from sandbox.procs import BinaryMissing, require_binary  # noqa: PLC0415

    if not (state / "ct" / "ct-result.json").exists():
        return "no registered model: the ct-cd stage did not register one (%s is missing)" % (
            state / "ct" / "ct-result.json"
        )
    if not (state / "mlflow" / "mlflow.db").exists():
        return "no MLflow state in %s: run the ct-cd stage first" % (state / "mlflow")
    try:
        require_binary("/usr/bin/prometheus", "prometheus")
        require_binary("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager")
    except BinaryMissing as e:
        return "alert loop skipped: %s" % e
    if not (ROOT / "playbooks" / "drift_analysis.yml").exists():
        return "alert loop skipped: playbooks/drift_analysis.yml (the drift analysis flow) is not in this checkout"
    return None


def wait_for_dispatch(loop, github, timeout: float = 120) -> dict | None:
    """Print the alerts' states as Prometheus changes them, until the bridge's aiops-drift dispatch arrives."""
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for (name, st), _t in sorted(loop.watch.first.items(), key=lambda kv: kv[1]):
            if (name, st) not in seen:
                seen.add((name, st))
                say("Prometheus: %s %s" % (name, st))
        for d in github.dispatches():
            if d["body"]["event_type"] == "aiops-drift":
                return d
        time.sleep(0.3)
    return None


def write_report(run_dir: Path, github, out: str, title: str) -> Path:
    """The issue the analysis opened in the GitHub fake (or the playbook's output) as markdown."""
    import requests  # noqa: PLC0415

    from sandbox.closed_loop import REPOSITORY  # noqa: PLC0415

    issues = requests.get(
        "%s/repos/%s/issues" % (github.url, REPOSITORY), headers={"Authorization": "Bearer " + github.token}, timeout=10
    ).json()
    report = run_dir / "drift-report.md"
    if issues:
        issue = issues[0]
        report.write_text("# %s\n\n%s\n" % (issue["title"], issue["body"]))
        say("report: issue #%d in the GitHub fake, %r" % (issue["number"], issue["title"]))
    else:
        msgs = [line for line in out.splitlines() if "msg" in line or "->" in line]
        report.write_text("# %s\n\n%s\n" % (title, "\n".join(msgs)))
        say("no issue opened (P2: Slack only); the playbook's output is the report")
    return report


def bridge_env(mlflow_url: str, github_token: str) -> dict[str, str]:
    """The bridge's environment as gitops/platform/bridge's Deployment sets it, and nothing more: its
    Services pointed at the local MLflow (Prometheus: the loop's own), its GitHub token the fake's;
    the local MLflow has no basic auth, so the optional MLflow credentials stay unset."""
    from sandbox.bridge import deployment_env  # noqa: PLC0415

    services = {"mlflow.mlflow": mlflow_url, "kps-prometheus.monitoring": None}
    return deployment_env({("alert-bridge-github", "token"): github_token}, services, mounted=False)


def run(run_dir: Path, state: Path, keep: bool) -> int:  # noqa: PLR0915 - one story, told in order
    import numpy as np  # noqa: PLC0415

    from sandbox.closed_loop import REPOSITORY, ClosedLoop  # noqa: PLC0415
    from sandbox.mlflow_server import MlflowServer  # noqa: PLC0415
    from sandbox.model_server import breast_cancer_rows  # noqa: PLC0415
    from sandbox.procs import ServiceError  # noqa: PLC0415

    reason = missing_prerequisite(state)
    if reason:
        return skip(reason)
    result_file = state / "ct" / "ct-result.json"
    if stop_recorded(quiet=True):
        say("stopped the services the previous demo left running")
    ct = json.loads(result_file.read_text())
    model_uri = "models:/%s@champion" % ct["name"]
    loop_dir = run_dir / "alert-loop"
    started: dict[str, int] = {}

    def record_pids() -> None:
        data = {"run_dir": str(run_dir), "pids": started}
        (run_dir / "demo-loop.pids.json").write_text(json.dumps(data, indent=1))
        STATE_FILE.write_text(json.dumps(data, indent=1))

    try:
        mlflow = MlflowServer(state / "mlflow")
        mlflow.start()
        started["mlflow"] = mlflow.pid
        record_pids()
        say(
            "MLflow %s (the CT/CD stage's registry, %s version %s is @champion)"
            % (mlflow.url, ct["name"], ct["version"])
        )
        github = GitHubProcess(loop_dir / "github").start()
        started["github-fake"] = github.pid
        record_pids()
        say(
            "GitHub fake %s standing in for GitHub (repository %s): it records the dispatches"
            % (github.url, REPOSITORY)
        )
        loop = ClosedLoop(
            loop_dir,
            model_uri,
            github,
            model_env={"MLFLOW_TRACKING_URI": mlflow.url, **NO_TELEMETRY},
            bridge_env=bridge_env(mlflow.url, github.token),
            model_options=["--window", "500", "--min-samples", "200"],
        )
        loop.start(progress=say)  # on failure it stops what it started itself
        started.update(loop.pids())
        record_pids()
    except ServiceError as e:
        stop_recorded(quiet=True)
        print("%s\na service did not start (its log is named above); the others were stopped" % e)
        return 1
    for change in [*loop.rule_changes[:2], "... (%d rules)" % len(loop.rule_changes), *loop.alertmanager_changes]:
        print("             transformation for a short demo: %s" % change)
    rows, _ = breast_cancer_rows()
    n = loop.predict(rows[:300])
    say("sent 300 rows like the training data (%d requests): no alert expected" % n)
    time.sleep(3)
    firing_before = loop.watch.firing()
    shifted = np.asarray(rows) * 1.6
    n = loop.predict(shifted[:500])
    say("injected drift: 500 rows with every feature 60%% larger (%d requests)" % n)
    dispatch = wait_for_dispatch(loop, github)
    if dispatch is None:
        print("no aiops-drift dispatch within 120 s; firing: %s; bridge log: %s" % (loop.watch.firing(),
              loop.bridge.process.log_path))  # fmt: skip
        return 1
    payload = dispatch["body"]["client_payload"]
    alert = payload["alert"]["labels"]["alertname"]
    say(
        "bridge -> GitHub fake: repository_dispatch %s for %s (context from %s, %d redactions)"
        % (dispatch["body"]["event_type"], alert, ", ".join(payload["context"]["sources"]) or "nothing",
           sum(payload["context"]["redactions"].values()))
    )  # fmt: skip
    (run_dir / "dispatch.json").write_text(json.dumps(dispatch["body"], indent=1))

    provider = "gemini" if os.environ.get("GEMINI_API_KEY") else "offline"
    say("drift analysis (playbooks/drift_analysis.yml via ansible-runner, provider %s) ..." % provider)
    env = {
        "MLFLOW_TRACKING_URI": mlflow.url,
        "PROMETHEUS_URL": loop.prometheus.url,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": github.token,
        "AIOPS_PROVIDER": provider,
        "DRIFT_NAMESPACE": "models",
        **NO_TELEMETRY,
    }
    rc, out = run_analysis(run_dir, payload, env)
    if rc != 0:
        print("\n".join(out.splitlines()[-25:]))
        print("the drift analysis failed (rc %d): %s" % (rc, run_dir / "drift-analysis.out"))
        return 1
    report = write_report(run_dir, github, out, "Drift analysis of %s" % ct["name"])
    with report.open("a") as f:
        f.write("\n---\nAlert: %s; dispatch: %s; provider: %s.\n" % (alert, run_dir / "dispatch.json", provider))

    summary = [
        "alert loop: model %s served from the registry, drift injected, %s fired, dispatched by the bridge, "
        "analysed (%s)" % (model_uri, alert, provider),
        "report:      %s" % report,
        "MLflow:      %s" % mlflow.url,
        "Prometheus:  %s (alerts: %s/alerts)" % (loop.prometheus.url, loop.prometheus.url),
        "Alertmanager %s, bridge %s/metrics, model %s" % (loop.alertmanager.url, loop.bridge.url, loop.model.url),
        "GitHub fake: %s (stands in for GitHub; dispatches in %s)" % (github.url, github.record),
    ]
    if firing_before:
        summary.append("note: before the drift already firing: %s" % ", ".join(firing_before))
    loop.watch.stop()
    if keep:
        summary.append("stop:        make demo-stop (process groups in %s)" % (run_dir / "demo-loop.pids.json"))
    else:
        stop_recorded(quiet=True)
        summary.append("services stopped (DEMO_KEEP_RUNNING=0)")
    (run_dir / "alert-loop.summary").write_text("\n".join(summary) + "\n")
    print()
    for line in summary:
        print("  " + line)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="demo_loop.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="the alert loop stage of make demo")
    r.add_argument("--run-dir", type=Path, required=True)
    r.add_argument("--state", type=Path, default=ROOT / "runs" / "cicd", help="the CT/CD stage's state")
    sub.add_parser("stop", help="stop the services the last run left running")
    g = sub.add_parser("github-fake", help=argparse.SUPPRESS)
    g.add_argument("record", type=Path)
    g.add_argument("port_file", type=Path)
    args = p.parse_args(argv)
    if args.command == "stop":
        stop_recorded()
        return 0
    if args.command == "github-fake":
        return serve_github_fake(args.record, args.port_file)
    keep = os.environ.get("DEMO_KEEP_RUNNING", "1") not in ("0", "false", "no")
    return run(args.run_dir.resolve(), args.state.resolve(), keep)


if __name__ == "__main__":
    sys.exit(main())
