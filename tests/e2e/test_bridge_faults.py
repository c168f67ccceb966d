"""The bridge under faults: GitHub down for 30 s, a flood of 1,000 alerts in 10 s, SIGKILL and restart.

The outage goes through the real Alertmanager with the repository's routing (short group timers);
the flood and the kill are posted straight at the bridge, as Alertmanager would post them. Figures
are printed (run with -s); the test asserts what must hold: nothing lost, limits kept.
"""

from __future__ import annotations

import os
import time

import pytest
import requests

from sandbox.bridge import BridgeProcess, alert, github_fake, wait_until, webhook_body
from sandbox.closed_loop import REPOSITORY, fast_alertmanager_config
from sandbox.procs import BinaryMissing
from sandbox.prometheus import Alertmanager

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def github():
    with github_fake() as fake:
        yield fake


def _delivered(github) -> list[dict]:
    return github.dispatches(REPOSITORY)


def test_github_down_for_30s_loses_nothing(tmp_path, github):
    env = {"BRIDGE_RATE_BURST": "10", "BRIDGE_RETRY_BASE_SECONDS": "1", "BRIDGE_RETRY_MAX_SECONDS": "8"}
    with BridgeProcess(tmp_path / "bridge", github.url, REPOSITORY, github.token, env=env) as bridge:
        config, _changes = fast_alertmanager_config(bridge.url, bridge.token_file)
        try:
            am = Alertmanager(tmp_path / "am", config)
        except BinaryMissing as e:
            pytest.skip(str(e))
        with am:
            github.outage(30)
            began = time.monotonic()
            fired = [
                am.fire("ModelHighLatency", {"aiops": "alert", "severity": "warning", "model_name": "m1"}),
                am.fire("ModelPodOOMKilled", {"aiops": "alert", "severity": "critical", "pod": "p-1"}),
                am.fire("ModelPodCrashLooping", {"aiops": "alert", "severity": "critical", "pod": "p-2"}),
                am.fire("ModelFeatureDrift", {"aiops": "drift", "severity": "warning", "model_name": "m1"}),
                am.fire("ModelPredictionDrift", {"aiops": "drift", "severity": "warning", "model_name": "m1"}),
            ]
            wait_until(lambda: bridge.metrics().get("bridge_spool_depth") == len(fired), 20, "5 alerts spooled")
            wait_until(lambda: time.monotonic() - began > 30, 40, "the end of the outage")
            assert _delivered(github) == []
            attempts_during = github.refused_during_outage
            recovered_at = time.monotonic()
            got = wait_until(lambda: len(_delivered(github)) >= len(fired) and _delivered(github), 60, "delivery")
            after = time.monotonic() - recovered_at
        names = sorted(d["client_payload"]["alert"]["labels"]["alertname"] for d in got)
        assert names == sorted(a["labels"]["alertname"] for a in fired)
        types = sorted(d["event_type"] for d in got)
        assert types == ["aiops-alert"] * 3 + ["aiops-drift"] * 2
        m = bridge.metrics()
        print(
            "\noutage 30s: %d attempts refused with 503 during it (backoff 1s..8s with jitter); all %d alerts "
            "delivered %.1fs after GitHub came back; max attempts %d; spool depth now %d"
            % (attempts_during, len(got), after, max(d["client_payload"]["bridge"]["attempt"] for d in got),
               m["bridge_spool_depth"])
        )  # fmt: skip
        assert m["bridge_spool_depth"] == 0
        assert m['bridge_dispatch_failures_total{reason="retry"}'] == attempts_during


def _rss(pid: int) -> int:
    for line in open("/proc/%d/status" % pid).read().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS for %d" % pid)


def _flood(bridge, identities: int, repeats: int, per_request: int, seconds: float, tag: str) -> dict[str, int]:
    """``identities * repeats`` alerts in requests of ``per_request``, spread over ``seconds``."""
    alerts = [
        alert("ModelPodCrashLooping", namespace="models", pod="%s-%d" % (tag, i % identities))
        for i in range(identities * repeats)
    ]
    totals = {"accepted": 0, "deduplicated": 0, "rate_limited": 0}
    session = requests.Session()
    session.headers["Authorization"] = "Bearer %s" % bridge.token
    requests_n = len(alerts) // per_request
    start = time.monotonic()
    for n in range(requests_n):
        chunk = alerts[n * per_request : (n + 1) * per_request]
        r = session.post(bridge.url + "/alerts/operational", json=webhook_body(chunk), timeout=10)
        assert r.status_code == 200, r.text
        for k in totals:
            totals[k] += r.json()[k]
        pause = start + seconds * (n + 1) / requests_n - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    totals["seconds"] = time.monotonic() - start
    return totals


def test_a_flood_of_1000_alerts_in_10s_holds_dedup_rate_limit_and_memory(tmp_path, github):
    # Default limits: 6 dispatches a minute, burst 3, dedup window 600 s; the dedup table is bounded.
    with BridgeProcess(tmp_path / "bridge", github.url, REPOSITORY, github.token) as bridge:
        pid = bridge.process.proc.pid
        rss_start = _rss(pid)
        began = time.monotonic()
        first = _flood(bridge, identities=200, repeats=5, per_request=10, seconds=10, tag="a")
        rss_first = _rss(pid)
        # Two more floods of alerts never seen before: memory must level off, not grow with the alerts.
        second = _flood(bridge, identities=1000, repeats=1, per_request=10, seconds=10, tag="b")
        rss_second = _rss(pid)
        third = _flood(bridge, identities=1000, repeats=1, per_request=10, seconds=10, tag="c")
        rss_third = _rss(pid)
        elapsed = time.monotonic() - began
        time.sleep(2)
        delivered = len(_delivered(github))
        health = requests.get(bridge.url + "/healthz", timeout=5).json()
    print(
        "\nflood 1: 1000 alerts (200 distinct x5) in %.1fs: accepted %d, deduplicated %d, rate-limited %d"
        % (first["seconds"], first["accepted"], first["deduplicated"], first["rate_limited"])
    )
    for n, f in ((2, second), (3, third)):
        print(
            "flood %d: 1000 new alerts in %.1fs: accepted %d, deduplicated %d, rate-limited %d"
            % (n, f["seconds"], f["accepted"], f["deduplicated"], f["rate_limited"])
        )
    print(
        "dispatches sent: %d; bridge RSS: %d MiB at start, %d after flood 1, %d after flood 2, %d after flood 3"
        % (delivered, rss_start, rss_first, rss_second, rss_third)
    )
    # Only accepted alerts are remembered (a refused one gets its chance at Alertmanager's next
    # notification): each of the accepted identities' four repeats is a duplicate, the rest refused.
    assert first["deduplicated"] == 4 * first["accepted"]
    assert first["accepted"] + first["deduplicated"] + first["rate_limited"] == 1000
    # Burst 3 plus 6 a minute: over the floods' ~30 s at most 3 + 3 accepted, whatever the flood.
    accepted = first["accepted"] + second["accepted"] + third["accepted"]
    assert 3 <= accepted <= 3 + 6 * elapsed / 60
    assert delivered == accepted
    assert health["spool_depth"] == 0
    assert health["dedup_entries"] <= 10000


def test_sigkill_then_restart_delivers_the_spool(tmp_path, github):
    with BridgeProcess(tmp_path / "bridge", github.url, REPOSITORY, github.token) as bridge:
        github.outage(3600)
        alerts = [alert("ModelPodOOMKilled", namespace="models", pod="p-%d" % i) for i in range(3)]
        r = bridge.post("operational", webhook_body(alerts))
        assert r.json()["accepted"] == 3
        wait_until(lambda: github.refused_during_outage >= 1, 10, "a first delivery attempt")
        pid = bridge.process.proc.pid
        bridge.kill()
        assert not os.path.exists("/proc/%d/status" % pid) or "zombie" in open("/proc/%d/status" % pid).read()
        on_disk = sorted(p.name for p in bridge.spool_dir.glob("*.json"))
        assert len(on_disk) == 3
        github.outage(0)
        began = time.monotonic()
        bridge.restart()
        got = wait_until(lambda: len(_delivered(github)) >= 3 and _delivered(github), 20, "spooled alerts delivered")
        took = time.monotonic() - began
        assert "(3 recovered)" in bridge.process.tail(80)
    fingerprints = sorted(d["client_payload"]["alert"]["fingerprint"] for d in got)
    assert fingerprints == sorted(a["fingerprint"] for a in alerts)
    print("\nSIGKILL with 3 alerts spooled: restarted, 3 recovered, all delivered %.1fs after the restart" % took)
