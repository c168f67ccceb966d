"""Serving: the same trained model served three ways, requests interleaved from one load generator.

    make bench-serving      (needs .venv-mlserver for MLServer; make creates it)

(a) our KServe predictor with all monitoring on, (b) the same with monitoring off, (c) MLServer's
scikit-learn runtime (mlserver 1.7.1 + mlserver-sklearn, default settings, own virtualenv), all
on this machine and all answering the same KServe V2 request (one row of 30 FP64 features,
outputs predict and predict_proba). One asyncio load generator (aiohttp, keep-alive) runs short
time slices against the three servers in turn, round after round, so machine noise hits all
three alike. Reported per concurrency (1, 8, 32): throughput, p50 and p99 latency.
Targets: (a)/(b) throughput >= 0.90, (a) >= (c), p99 of (a) < 50 ms at concurrency 8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "model" / "src")]

from mlops_model.train import main as train_main  # noqa: E402
from sandbox.model_server import ModelServerProcess, breast_cancer_rows  # noqa: E402
from sandbox.procs import Service, free_port, http_ok  # noqa: E402

MODEL_NAME = "breast-cancer"
MLSERVER_VENV = REPO / ".venv-mlserver"


class MLServerProcess(Service):
    """``mlserver start`` on a model repository holding our model.joblib, default settings."""

    name = "mlserver"
    ready_timeout = 180.0

    def __init__(self, workdir: Path, model_file: Path):
        super().__init__(workdir, None)
        self.model_file = model_file

    def _prepare(self) -> None:
        model = self.workdir / "models" / MODEL_NAME
        model.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.model_file, model / "model.joblib")
        settings = {"name": MODEL_NAME, "implementation": "mlserver_sklearn.SKLearnModel",
                    "parameters": {"uri": "./model.joblib", "version": "v1"}}  # fmt: skip
        (model / "model-settings.json").write_text(json.dumps(settings))

    def _argv(self, port: int) -> list[str]:
        settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": free_port(), "metrics_port": free_port()}
        (self.workdir / "settings.json").write_text(json.dumps(settings))
        return [str(MLSERVER_VENV / "bin" / "mlserver"), "start", str(self.workdir)]

    def _ready(self) -> bool:
        return http_ok(f"{self.url}/v2/models/{MODEL_NAME}/ready")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")


def bodies() -> list[bytes]:
    rows, _ = breast_cancer_rows()
    return [
        json.dumps({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": row.tolist()}],
                    "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}).encode()
        for row in rows
    ]  # fmt: skip


async def slice_(session: aiohttp.ClientSession, url: str, payloads: list[bytes], concurrency: int,
                 seconds: float, tally: Tally | None) -> int:  # fmt: skip
    """Run ``concurrency`` workers against ``url`` for ``seconds``; record into ``tally`` (None: warm-up)."""
    end = time.perf_counter() + seconds
    headers = {"content-type": "application/json"}
    sent = 0

    async def worker(offset: int) -> None:
        nonlocal sent
        i = offset
        while time.perf_counter() < end:
            body = payloads[i % len(payloads)]
            i += concurrency
            t0 = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as r:
                await r.read()
                ok = r.status == 200
            sent += 1
            if tally is not None:
                if ok:
                    tally.latencies.append(time.perf_counter() - t0)
                else:
                    tally.errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    if tally is not None:
        tally.seconds += time.perf_counter() - start
    return sent


async def run(targets: dict[str, str], levels: list[int], rounds: int, seconds: float) -> dict:
    payloads = bodies()
    results: dict[int, dict[str, Tally]] = {}
    sent: dict[str, int] = dict.fromkeys(targets, 0)
    sessions = {
        name: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30))
        for name in targets
    }
    try:
        for name, url in targets.items():  # warm-up: imports, first connections, JIT-free caches
            sent[name] += await slice_(sessions[name], url, payloads, 8, 1.0, None)
        for c in levels:
            results[c] = {name: Tally() for name in targets}
            for r in range(rounds):
                order = list(targets) if r % 2 == 0 else list(reversed(targets))
                for name in order:
                    sent[name] += await slice_(sessions[name], targets[name], payloads, c, seconds, results[c][name])
    finally:
        for s in sessions.values():
            await s.close()
    return {"results": results, "sent": sent}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", default="1,8,32", help="concurrency levels (default %(default)s)")
    p.add_argument("--rounds", type=int, default=12, help="rounds of slices per level (default %(default)s)")
    p.add_argument("--seconds", type=float, default=0.5, help="length of one slice (default %(default)s)")
    args = p.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    if not (MLSERVER_VENV / "bin" / "mlserver").exists():
        print(
            f"{MLSERVER_VENV}/bin/mlserver is missing: run `make bench-serving` (it creates the venv)", file=sys.stderr
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        work = Path(tmp)
        model_dir = work / "model"
        assert train_main(["--output-dir", str(model_dir)]) == 0
        servers = {
            "(a) ours, monitoring on": ModelServerProcess(work / "a", str(model_dir)),
            "(b) ours, monitoring off": ModelServerProcess(work / "b", str(model_dir), extra=["--monitoring", "off"]),
            "(c) MLServer sklearn": MLServerProcess(work / "c", model_dir / "model.joblib"),
        }
        try:
            for server in servers.values():
                server.start()
            targets = {name: f"{s.url}/v2/models/{MODEL_NAME}/infer" for name, s in servers.items()}
            out = asyncio.run(run(targets, levels, args.rounds, args.seconds))
            metrics_a = servers["(a) ours, monitoring on"].metrics()
            metrics_b = servers["(b) ours, monitoring off"].metrics()
        finally:
            for server in servers.values():
                server.stop()
    return report(out, levels, args, metrics_a, metrics_b)


def sample_sum(metrics: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(prefix))


def report(out: dict, levels: list[int], args, metrics_a: str, metrics_b: str) -> int:
    results = out["results"]
    names = list(next(iter(results.values())))
    a, b, c = names
    print(f"serving bench: {args.rounds} rounds x {args.seconds:.1f} s slices per server and level, interleaved;"
          " V2 REST, one row per request")  # fmt: skip
    print(f"{'conc':>4}  {'server':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for level in levels:
        for name in names:
            t = results[level][name]
            print(f"{level:>4}  {name:<26} {t.throughput:8.1f} {t.pct(50):8.2f} {t.pct(99):8.2f} {t.errors:6d}")
    print()
    met = True
    for level in levels:
        r = results[level]
        ab = r[a].throughput / r[b].throughput
        ac = r[a].throughput / r[c].throughput
        met_ab, met_ac = ab >= 0.90, ac >= 1.0
        met = met and met_ab and met_ac
        print(f"conc {level:>2}: RATIO (a)/(b) throughput {ab:.3f} (target >= 0.90: {'met' if met_ab else 'NOT met'});"
              f" RATIO (a)/(c) throughput {ac:.2f} (target >= 1: {'met' if met_ac else 'NOT met'})")  # fmt: skip
    if 8 in results:
        p99 = results[8][a].pct(99)
        met = met and p99 < 50
        print(f"p99 of (a) at concurrency 8: {p99:.2f} ms (target < 50 ms: {'met' if p99 < 50 else 'NOT met'})")
    # Server-side time inside predict (parsing, scikit-learn, monitoring), from KServe's own histogram:
    # the cost of monitoring without the queueing and machine noise that the client-side numbers carry.
    per_call = [
        sample_sum(m, "request_predict_seconds_sum{") / sample_sum(m, "request_predict_seconds_count{") * 1e6
        for m in (metrics_a, metrics_b)
    ]
    print(f"server-side predict mean (request_predict_seconds): (a) {per_call[0]:.0f} us, (b) {per_call[1]:.0f} us;"
          f" monitoring adds {per_call[0] - per_call[1]:.0f} us per request")  # fmt: skip
    predicted = sample_sum(metrics_a, "model_predictions_total{")
    psi_published = "model_feature_psi{" in metrics_a
    print(f"check: (a) counted {predicted:.0f} predictions of {out['sent'][a]} sent; PSI published: {psi_published}")
    errors = sum(t.errors for r in results.values() for t in r.values())
    return 0 if errors == 0 and predicted == out["sent"][a] and psi_published else 1


if __name__ == "__main__":
    sys.exit(main())
