"""The image: `make model-image` builds it with podman from a freshly trained model, which it carries
read-only at /opt/model; the container serves it with nothing mounted. A missing or incomplete
bundle stops the build before podman runs."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
import uuid

import pytest
import requests

from mlops_model import artifacts
from sandbox.model_server import breast_cancer_rows
from sandbox.paths import REPO
from sandbox.procs import free_port

pytestmark = [pytest.mark.podman, pytest.mark.slow]

IMAGE = "localhost/mlops-hybrid/model:test"
REVISION = "0123456789abcdef0123456789abcdef01234567"  # a fixed value: HEAD moves while others commit


def make_model_image(bundle, image: str = IMAGE) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "model-image", f"MODEL_IMAGE={image}", f"MODEL_REVISION={REVISION}",
         f"MODEL_BUNDLE={bundle}"],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def image(model_dir):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: apt-get install podman (make install does it as root)")
    r = make_model_image(model_dir)
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
    # A training directory is no registered version: the labels say so instead of guessing.
    assert labels["io.mlops-hybrid.model.version"] == "local"
    assert labels["io.mlops-hybrid.model.name"] == labels["io.mlops-hybrid.model.uri"] == "unknown"
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["mlops-model-serve"]
    assert "MODEL_SOURCE=/opt/model" in config["Env"]


def test_the_model_is_baked_in_read_only_and_owned_by_root(image, model_dir):
    listing = subprocess.run(
        ["podman", "run", "--rm", "--user", "0", "--entrypoint", "/bin/sh", image, "-c",
         "cd /opt/model && stat -c 'stat %u:%g %a %n' . * && sha256sum * | sed 's/^/sum /'"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.splitlines()  # fmt: skip
    modes = {f[3]: (f[1], f[2]) for f in map(str.split, listing) if f[0] == "stat"}
    sums = {f[2]: f[1] for f in map(str.split, listing) if f[0] == "sum"}
    assert sums == {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in model_dir.iterdir()}
    assert modes.pop(".")[0] == "0:0"
    assert modes == dict.fromkeys(sums, ("0:0", "444"))
    # The server's user can change nothing there: both attempts fail, the files stay as they were.
    attempt = subprocess.run(
        ["podman", "run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
         "touch /opt/model/new; rm -f /opt/model/model.joblib; test ! -e /opt/model/new -a -e /opt/model/model.joblib"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert attempt.returncode == 0 and attempt.stderr.count("Permission denied") == 2, attempt.stderr


@pytest.mark.parametrize("remove", [None, "model.joblib"])
def test_a_missing_or_incomplete_bundle_stops_the_build_before_podman(model_dir, tmp_path, remove):
    bundle = tmp_path / "bundle"
    if remove:
        shutil.copytree(model_dir, bundle)
        (bundle / remove).unlink()
    r = make_model_image(bundle, image="localhost/mlops-hybrid/model:never-built")
    assert r.returncode != 0
    assert "make model-bundle MODEL_URI=models:/<name>/<version>" in r.stderr
    assert "podman build" not in r.stdout + r.stderr
    assert "does not exist" in r.stderr if remove is None else "model.joblib is missing" in r.stderr


def test_container_answers_a_prediction(image, model_dir):
    port = free_port()
    name = f"mlops-model-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["podman", "run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8080", image],
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
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        assert "model_predictions_total" in metrics
        trained_at = artifacts.read_json(model_dir / "metadata.json")["revision"]  # the training run's revision
        assert f'model_info{{model_name="breast-cancer",revision="{trained_at}",version="local"}} 1.0' in metrics
        whoami = subprocess.run(["podman", "exec", name, "id", "-u"], capture_output=True, text=True, check=True)
        assert whoami.stdout.strip() == "10001"
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "5", name], capture_output=True, check=False, timeout=60)
