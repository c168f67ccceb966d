"""The image: `make bridge-image` builds it with podman; the container, non-root on a read-only root
filesystem with the spool on a volume, dispatches an alert to the GitHub fake and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from sandbox.bridge import REPOSITORY, WEBHOOK_TOKEN, alert, bridge_image, github_fake, wait_until, webhook_body
from sandbox.procs import free_port, http_ok

pytestmark = [pytest.mark.podman, pytest.mark.slow]

IMAGE = "localhost/mlops-hybrid/bridge:test"
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def image():
    return bridge_image(IMAGE, REVISION)


def test_image_is_labelled_and_runs_as_non_root(image):
    config = json.loads(subprocess.run(["podman", "image", "inspect", image], capture_output=True, check=True).stdout)
    config = config[0]["Config"]
    assert config["Labels"]["org.opencontainers.image.revision"] == REVISION
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["mlops-bridge"]


def test_container_dispatches_and_stops_on_sigterm(image, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    os.chown(spool, 10001, 10001)
    token = tmp_path / "token"
    token.write_text(WEBHOOK_TOKEN)
    token.chmod(0o644)
    port = free_port()
    name = f"mlops-bridge-test-{uuid.uuid4().hex[:8]}"
    with github_fake() as github:
        subprocess.run(
            ["podman", "run", "-d", "--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp",
             "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
             "-v", f"{spool}:/var/spool/alert-bridge", "-v", f"{token}:/var/run/secrets/alert-bridge/token:ro",
             "-e", "BRIDGE_HOST=127.0.0.1", "-e", f"BRIDGE_PORT={port}",
             "-e", "BRIDGE_TOKEN_FILE=/var/run/secrets/alert-bridge/token", "-e", "BRIDGE_KUBERNETES=off",
             "-e", f"GITHUB_API_URL={github.url}", "-e", f"GITHUB_REPOSITORY={REPOSITORY}",
             "-e", f"GITHUB_TOKEN={github.token}", image],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until(lambda: http_ok(url + "/healthz"), 60, "the container's /healthz")
            import requests  # noqa: PLC0415

            a = alert("ModelPodOOMKilled", namespace="models", pod="p-1")
            r = requests.post(
                url + "/alerts/operational",
                json=webhook_body([a]),
                headers={"Authorization": "Bearer " + WEBHOOK_TOKEN},
                timeout=10,
            )
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            got = wait_until(lambda: github.dispatches(REPOSITORY), 30, "a dispatch from the container")
            assert got[0]["event_type"] == "aiops-alert"
            assert got[0]["client_payload"]["alert"]["fingerprint"] == a["fingerprint"]
            status = subprocess.run(
                ["podman", "exec", name, "cat", "/proc/1/status"], capture_output=True, text=True, check=True
            ).stdout
            rss = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
            print("\nbridge container RSS after one dispatch: %d MiB" % (int(rss) // 1024))
            subprocess.run(["podman", "stop", "-t", "20", name], check=True, capture_output=True, timeout=60)
            state = subprocess.run(
                ["podman", "inspect", "-f", "{{.State.ExitCode}}", name], capture_output=True, text=True, check=True
            )
            assert state.stdout.strip() == "0"  # SIGTERM: a clean exit, not a kill after the grace period
            logs = subprocess.run(["podman", "logs", name], capture_output=True, text=True, check=False)
            assert "stopped; 0 alerts stay spooled" in logs.stdout + logs.stderr
        finally:
            subprocess.run(["podman", "rm", "-f", name], capture_output=True, check=False, timeout=60)
