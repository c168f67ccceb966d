"""The model's InferenceService against the image it names: the predictor container KServe v0.20.0
creates from gitops/models/breast-cancer in Standard mode (tests/helpers/kserve.py, with the
inferenceservice-config of the kserve Application as ArgoCD applies it) run with podman on the
image `make model-image` builds, until its readiness probe passes and it answers a V2 prediction.

The image comes from a freshly trained model (MODEL_BUNDLE) and, end to end, from a version
registered in the test bench's MLflow server and fetched with `make model-bundle`. An image without
its model, or a spec that points the server elsewhere, never becomes ready.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import uuid

import numpy as np
import pytest
import requests

from mlops_model import artifacts
from mlops_model.train import main as train_main
from sandbox.argocd import platform
from sandbox.gitops import GITOPS, render
from sandbox.model_server import breast_cancer_rows
from sandbox.paths import REPO
from tests.helpers.kserve import (
    KSERVE_VERSION,
    IsvcConfig,
    NotModelled,
    PodmanPod,
    PodNotReady,
    fs_group_volume,
    inferenceservice_configmap,
    main_container,
    podman_run_argv,
    predictor_pod,
)

MODEL_DIR = GITOPS / "models" / "breast-cancer"
FEEDBACK_MOUNT = {"name": "feedback", "mountPath": "/var/lib/model-feedback"}
REPOSITORY = "ghcr.io/mlops-hybrid/model"
LOCAL = "localhost/mlops-hybrid/model"
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def isvc():
    (obj,) = [o for o in render(MODEL_DIR) if o["kind"] == "InferenceService"]
    return obj


@pytest.fixture(scope="module")
def kserve():
    """The kserve Application as ArgoCD applies it (the chart archives with the platform's values)."""
    return platform().app("kserve")


@pytest.fixture(scope="module")
def config(kserve):
    return IsvcConfig.from_configmap(inferenceservice_configmap([o.obj for o in kserve.objects]))


@pytest.fixture(scope="module")
def pod(isvc, config):
    return predictor_pod(isvc, config)


# --- the derivation, on the real manifest and on variants of it --------------------------------------


def test_the_derivation_follows_the_kserve_release_the_platform_installs(kserve):
    assert {c.chart: c.version for c in kserve.charts} == {
        "kserve-crd": KSERVE_VERSION,
        "kserve-resources": KSERVE_VERSION,
    }


def test_kserve_adds_only_its_name_variable_and_pod_defaults(isvc, pod):
    (declared,) = isvc["spec"]["predictor"]["containers"]
    container = main_container(pod)
    assert container["image"] == declared["image"]
    assert container["env"] == [*declared["env"], {"name": "INFERENCE_SERVICE_NAME", "value": "breast-cancer"}]
    assert "command" not in container and "args" not in container  # the image's entrypoint runs
    # No storageUri: no storage initializer, no model volume; no service-account token either. The one
    # volume is the feedback claim, mounted where the server is told to keep the labels.
    assert "initContainers" not in pod["spec"]
    assert container["volumeMounts"] == declared["volumeMounts"] == [FEEDBACK_MOUNT]
    assert pod["spec"]["volumes"] == isvc["spec"]["predictor"]["volumes"]
    assert {"name": "MODEL_FEEDBACK_DIR", "value": FEEDBACK_MOUNT["mountPath"]} in container["env"]
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert container["resources"] == declared["resources"]  # nothing left for the chart's defaults to fill
    assert container["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080, "scheme": "HTTP"}
    assert pod["metadata"]["labels"]["serving.kserve.io/inferenceservice"] == "breast-cancer"


def test_the_feedback_volume_is_the_claim_the_model_directory_declares(isvc, pod):
    """The claim the pod mounts is the PersistentVolumeClaim rendered beside it (same name, same
    namespace), on k3s's local-path class, writable by the server's group."""
    (claim,) = [o for o in render(MODEL_DIR) if o["kind"] == "PersistentVolumeClaim"]
    (volume,) = pod["spec"]["volumes"]
    assert volume == {"name": "feedback", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
    assert claim["metadata"]["namespace"] == pod["metadata"]["namespace"] == isvc["metadata"]["namespace"]
    assert claim["spec"]["storageClassName"] == "local-path" and claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pod["spec"]["securityContext"]["fsGroup"] == pod["spec"]["securityContext"]["runAsGroup"]


def test_kserve_leaves_the_scrape_annotations_and_the_podmonitor_port_alone(isvc, pod):
    (monitor,) = [o for o in render(MODEL_DIR) if o["kind"] == "PodMonitor"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    ports = {p["name"]: p["containerPort"] for p in main_container(pod)["ports"]}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports[endpoint["port"]])
    assert all(pod["metadata"]["labels"][k] == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())


def _edit(isvc, change):
    variant = copy.deepcopy(isvc)
    change(variant["spec"]["predictor"], variant["metadata"])
    return variant


def _container(predictor):
    return predictor["containers"][0]


def test_chart_defaults_fill_only_what_the_container_leaves_out(isvc, config):
    def no_resources(p, _m):
        del _container(p)["resources"]

    c = main_container(predictor_pod(_edit(isvc, no_resources), config))
    assert c["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}


def test_kserve_probes_the_first_port_when_no_readiness_probe_is_given(isvc, config):
    def no_probe(p, _m):
        del _container(p)["readinessProbe"]
        _container(p)["ports"] = [{"containerPort": 9000}]

    c = main_container(predictor_pod(_edit(isvc, no_probe), config))
    assert c["readinessProbe"] == {"tcpSocket": {"port": 9000}, "timeoutSeconds": 1, "periodSeconds": 10,
                                   "successThreshold": 1, "failureThreshold": 3, "initialDelaySeconds": 0}  # fmt: skip


def test_prometheus_scraping_in_the_chart_would_rewrite_the_port_annotation(isvc, config):
    scraping = IsvcConfig(**{**config.__dict__, "metrics_aggregator": {"enablePrometheusScraping": "true"}})
    assert predictor_pod(isvc, scraping)["metadata"]["annotations"]["prometheus.io/port"] == "9091"


def test_the_service_account_token_is_mounted_unless_the_pod_opts_out(isvc, config):
    def default_token(p, _m):
        del p["automountServiceAccountToken"]

    c = main_container(predictor_pod(_edit(isvc, default_token), config))
    assert [m["mountPath"] for m in c["volumeMounts"]] == [
        FEEDBACK_MOUNT["mountPath"],
        "/var/run/secrets/kubernetes.io/serviceaccount",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, m: _container(p)["env"].append({"name": "STORAGE_URI", "value": "s3://b/m"}), "storage initializer"),
        (lambda p, m: p.update(storageUris=[{"uri": "s3://b/m", "mountPath": "/mnt/models"}]), "storageUris"),
        (lambda p, m: p.update(sklearn={"storageUri": "s3://b/m"}), "ServingRuntime predictor"),
        (lambda p, m: p.update(logger={"mode": "all"}), "logger"),
        (lambda p, m: m["annotations"].update({"serving.kserve.io/deploymentMode": "Knative"}), "mode Knative"),
        (lambda p, m: _container(p).update(name="server"), "no container is named kserve-container"),
    ],
)
def test_what_kserve_would_add_and_is_not_derived_is_refused(isvc, config, change, message):
    variant = _edit(isvc, change)
    if message.startswith("no container"):
        variant["spec"]["predictor"]["containers"].append({"name": "sidecar", "image": "busybox:1"})
    with pytest.raises(NotModelled, match=message):
        predictor_pod(variant, config)


# --- the pod, run -------------------------------------------------------------------------------------


def _make(*targets_and_vars: str) -> None:
    r = subprocess.run(
        ["make", "--no-print-directory", *targets_and_vars, f"MODEL_REVISION={REVISION}"],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert r.returncode == 0, "make %s failed:\n%s\n%s" % (
        " ".join(targets_and_vars),
        r.stdout[-3000:],
        r.stderr[-3000:],
    )


def _image(bundle, tag: str) -> str:
    image = "%s:%s" % (LOCAL, tag)
    _make("model-image", "MODEL_IMAGE=%s" % image, "MODEL_BUNDLE=%s" % bundle)
    return image


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: apt-get install podman (make install does it as root)")
    out = tmp_path_factory.mktemp("predictor-model") / "artifacts"
    assert train_main(["--output-dir", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def trained_image(trained):
    return _image(trained, "pod-test")


def infer_v2(run: PodmanPod, port: int, rows: np.ndarray) -> list[int]:
    body = {"id": uuid.uuid4().hex, "inputs": [
        {"name": "input-0", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}]}  # fmt: skip
    r = requests.post(run.url(port) + "/v2/models/breast-cancer/infer", json=body, timeout=30)
    assert r.status_code == 200, r.text
    (predict,) = [o for o in r.json()["outputs"] if o["name"] == "predict"]
    return predict["data"]


def serve_and_predict(pod, image: str, model_dir, feedback: str) -> tuple[PodmanPod, str]:
    """Run the derived container on ``image`` (``feedback``: the host directory of its claim): the limits
    podman applied, the liveness probe, a V2 prediction equal to the estimator's own; returns the run and
    the server's /metrics."""
    container = main_container(pod)
    port = container["ports"][0]["containerPort"]
    with PodmanPod(pod, images={REPOSITORY: image}, volumes={"feedback": feedback}) as run:
        seconds = run.wait_ready()
        host = run.inspect()["HostConfig"]
        assert host["Memory"] == 768 * 2**20 and host["NanoCpus"] == 10**9
        assert host["ReadonlyRootfs"] is True and "no-new-privileges" in host["SecurityOpt"]
        assert run.inspect()["Config"]["User"] == "10001:10001"
        live = container["livenessProbe"]["httpGet"]
        assert requests.get(run.url(live["port"]) + live["path"], timeout=5).status_code == 200
        rows = _rows()
        expected = artifacts.load(str(model_dir)).estimator.predict(rows).tolist()
        got = infer_v2(run, port, rows)
        print("ready after %.1fs; V2 prediction of %d rows: %s" % (seconds, len(rows), got))
        assert got == expected and set(got) == {0, 1}
        metrics = requests.get(run.url(port) + "/metrics", timeout=10).text
    return run, metrics


def _rows() -> np.ndarray:
    """Four rows of each class."""
    rows, labels = breast_cancer_rows()
    return rows[np.concatenate([np.flatnonzero(labels == 0)[:4], np.flatnonzero(labels == 1)[:4]])]


@pytest.mark.podman
@pytest.mark.slow
def test_the_predictor_pod_serves_the_baked_model_and_keeps_feedback_across_pods(pod, trained_image, trained, tmp_path):
    claim = fs_group_volume(tmp_path / "claim", pod)
    run, metrics = serve_and_predict(pod, trained_image, trained, claim)
    assert "--read-only" in run.argv and not {"--tmpfs", "--mount"} & set(run.argv)
    assert run.argv[run.argv.index("--volume") + 1] == "%s:%s:rw" % (claim, FEEDBACK_MOUNT["mountPath"])
    assert 'model_info{model_name="breast-cancer"' in metrics and 'version="local"' in metrics

    # Labels given to one pod are kept on the claim; the next pod (a rollout, a crash) exports them.
    port = main_container(pod)["ports"][0]["containerPort"]
    rows, labels = breast_cancer_rows()
    with PodmanPod(pod, images={REPOSITORY: trained_image}, volumes={"feedback": claim}) as first:
        first.wait_ready()
        url = first.url(port) + "/v1/models/breast-cancer"
        r = requests.post(url + ":predict", json={"instances": rows[:5].tolist()}, timeout=30)
        assert r.status_code == 200, r.text
        r = requests.post(
            url + ":feedback", json={"request_id": r.json()["request_id"], "labels": labels[:5].tolist()}, timeout=30
        )
        assert r.status_code == 200 and r.json()["kept"] == 5, r.text
    with PodmanPod(pod, images={REPOSITORY: trained_image}, volumes={"feedback": claim}) as second:
        second.wait_ready()
        exported = requests.get(second.url(port) + "/v1/models/breast-cancer:feedback", timeout=30)
        assert exported.status_code == 200, exported.text
    lines = exported.text.strip().splitlines()
    print("kept across pods: %d rows; header %s" % (len(lines) - 1, lines[0][:80]))
    assert len(lines) == 1 + 5


def test_podman_is_given_the_claim_as_a_directory_and_nothing_else(pod):
    with pytest.raises(NotModelled, match=r"volume feedback \(\['persistentVolumeClaim'\]\)"):
        podman_run_argv(pod, "x", "n", {8080: 1})  # no directory stands in for the claim
    secret = copy.deepcopy(pod)
    secret["spec"]["volumes"] = [{"name": "feedback", "secret": {"secretName": "s"}}]
    with pytest.raises(NotModelled, match="secret"):
        podman_run_argv(secret, "x", "n", {8080: 1}, volumes={"feedback": "/tmp"})
    argv = podman_run_argv(pod, "x", "n", {8080: 1}, volumes={"feedback": "/srv/claim"})
    assert argv[argv.index("--volume") + 1] == "/srv/claim:/var/lib/model-feedback:rw"
    assert argv[argv.index("--group-add") + 1] == "10001"  # the pod's fsGroup


@pytest.fixture(scope="module")
def image_without_model(trained_image, tmp_path_factory):
    """The trained image with /opt/model removed: what an image built without its bundle would be."""
    image = "%s:no-model" % LOCAL
    context = tmp_path_factory.mktemp("no-model")
    (context / "Containerfile").write_text("FROM %s\nUSER 0\nRUN rm -rf /opt/model\nUSER 10001:10001\n" % trained_image)
    subprocess.run(["podman", "build", "-q", "-t", image, str(context)], check=True, capture_output=True, timeout=600)
    return image


@pytest.mark.podman
@pytest.mark.slow
@pytest.mark.parametrize("defect", ["image without /opt/model", "MODEL_SOURCE=/mnt/models in the spec"])
def test_a_pod_without_its_model_never_becomes_ready(
    isvc, config, pod, trained_image, image_without_model, defect, tmp_path
):
    image = trained_image
    if defect.startswith("image"):
        image = image_without_model
    else:

        def storage_path(p, _m):  # the path KServe's storage initializer would fill, with no storageUri
            _container(p)["env"].append({"name": "MODEL_SOURCE", "value": "/mnt/models"})

        pod = predictor_pod(_edit(isvc, storage_path), config)
    volumes = {"feedback": fs_group_volume(tmp_path / "claim", pod)}
    with (
        PodmanPod(pod, images={REPOSITORY: image}, ready_timeout=60, volumes=volumes) as run,
        pytest.raises(PodNotReady) as e,
    ):
        run.wait_ready()
    print(e.value)
    assert "/mnt/models" in str(e.value) if "MODEL_SOURCE" in defect else "/opt/model" in str(e.value)
    assert "does not exist" in str(e.value)  # the server's own message, from the container's log


@pytest.mark.podman
@pytest.mark.services
@pytest.mark.slow
def test_make_model_bundle_fetches_a_registered_version_that_the_pod_serves(
    pod, mlflow_tracking, trained_image, tmp_path, capsys
):
    import mlflow  # noqa: PLC0415

    # Trained and registered as the CT pipeline does it (the image fixture above checked podman).
    assert train_main(["--output-dir", str(tmp_path / "m"), "--experiment", mlflow_tracking.unique()]) == 0
    run_id = capsys.readouterr().out.split("mlflow run ")[1].split()[0]
    name = mlflow_tracking.unique("model")
    version = mlflow.register_model("runs:/%s/model" % run_id, name).version
    uri = "models:/%s/%s" % (name, version)
    bundle = tmp_path / "bundle"
    _make("model-bundle", "MODEL_URI=%s" % uri, "MODEL_BUNDLE=%s" % bundle)  # MLFLOW_TRACKING_URI from the env
    assert json.loads((bundle / artifacts.BUNDLE_FILE).read_text())["uri"] == uri

    image = _image(bundle, "registry-test")
    inspect = ["podman", "image", "inspect", "--format", "{{json .Config.Labels}}", image]
    labels = json.loads(subprocess.run(inspect, capture_output=True, text=True, check=True).stdout)
    assert (labels["io.mlops-hybrid.model.name"], labels["io.mlops-hybrid.model.version"]) == (name, version)
    assert labels["io.mlops-hybrid.model.uri"] == uri
    _, metrics = serve_and_predict(pod, image, bundle, fs_group_volume(tmp_path / "claim", pod))
    assert 'version="%s"' % version in metrics  # the pod says which registered version it serves
