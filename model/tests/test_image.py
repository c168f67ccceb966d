"""The image: `make model-image` builds it with podman, and the container answers a prediction."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

import pytest
import requests

from mlops_model import artifacts
from model.tests.servers import breast_cancer_rows
from tests.helpers.paths import REPO
from tests.helpers.procs import free_port

pytestmark = [pytest.mark.podman, pytest.mark.slow]

IMAGE = "localhost/mlops-hybrid/model:test"
REVISION = "0123456789abcdef0123456789abcdef01234567"  # a fixed value: HEAD moves while others commit


@pytest.fixture(scope="module")
def image():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: apt-get install podman (make install does it as root)")
    r = subprocess.run(
        ["make", "--no-print-directory", "model-image", f"MODEL_IMAGE={IMAGE}", f"MODEL_REVISION={REVISION}"],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert r.returncode == 0, f"make model-image failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return IMAGE


def inspect(image: str) -> dict:
    out = subprocess.run(["podman", "image", "inspect", image], capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


def test_image_is_labelled_and_runs_as_non_root(image):
    config = inspect(image)["Config"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.revision"] == REVISION
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["mlops-model-serve"]


def test_container_answers_a_prediction(image, model_dir, tmp_path):
    mounted = tmp_path / "models"
    shutil.copytree(model_dir, mounted)
    mounted.chmod(0o755)
    for f in mounted.iterdir():
        f.chmod(0o644)
    port = free_port()
    name = f"mlops-model-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["podman", "run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8080",
         "-v", f"{mounted}:/mnt/models:ro", image],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            logs = subprocess.run(["podman", "logs", name], capture_output=True, text=True, check=False)
            assert time.monotonic() < deadline, f"container not ready:\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
            time.sleep(1)
        rows, _ = breast_cancer_rows()
        r = requests.post(f"{url}/v1/models/breast-cancer:predict", json={"instances": rows[:3].tolist()}, timeout=30)
        assert r.status_code == 200, r.text
        expected = artifacts.load(str(model_dir)).estimator.predict(rows[:3]).tolist()
        assert r.json()["predictions"] == expected
        assert "model_predictions_total" in requests.get(f"{url}/metrics", timeout=10).text
        whoami = subprocess.run(["podman", "exec", name, "id", "-u"], capture_output=True, text=True, check=True)
        assert whoami.stdout.strip() == "10001"
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "5", name], capture_output=True, check=False, timeout=60)
