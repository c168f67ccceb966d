"""The predictor pod KServe v0.20.0 creates for an InferenceService in Standard (raw Deployment)
mode, derived step by step as its controller and webhooks build it, and its main container run
with podman as the kubelet would run it.

    config = IsvcConfig.from_configmap(inferenceservice_configmap(objects))  # what the kserve chart applies
    pod = predictor_pod(isvc, config)                  # {"metadata": ..., "spec": ...}
    container = main_container(pod)                    # "kserve-container", every field resolved
    with PodmanPod(pod, images={"ghcr.io/acme/model": "localhost/acme/model:test"}) as run:
        run.wait_ready()                               # the readiness probe, as the kubelet runs it
        requests.get(run.url(8080) + "/v2/health/live")

Every step names the upstream function it follows (kserve/kserve at v0.20.0, paths under pkg/;
Kubernetes where the API server or the kubelet acts). Only the custom-container predictor is
derived; a spec that makes KServe do more (a storageUri or storage spec, a ServingRuntime model,
logger, batcher or model agent, several nodes) raises NotModelled naming the upstream code that
would act, rather than derive a pod KServe would not create.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shlex
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from ansible_collections.mlops.hybrid.plugins.module_utils.gitops import image_ref
from sandbox.k8s_schema import YamlLoader
from sandbox.paths import UPSTREAM
from sandbox.procs import LOOPBACK, free_port

__all__ = [
    "CONTAINER_NAME",
    "KSERVE_VERSION",
    "IsvcConfig",
    "NotModelled",
    "PodNotReady",
    "PodmanPod",
    "inferenceservice_configmap",
    "main_container",
    "podman_run_argv",
    "predictor_pod",
    "probe_url",
]

KSERVE_VERSION = "v0.20.0"
ISVC_CRD = UPSTREAM / ("kserve-%s" % KSERVE_VERSION) / "serving.kserve.io_inferenceservices.yaml"
CONFIGMAP = "inferenceservice-config"  # constants.InferenceServiceConfigMapName
# pkg/constants/constants.go
CONTAINER_NAME = "kserve-container"  # InferenceServiceContainerName
ISVC_LABEL = "serving.kserve.io/inferenceservice"  # InferenceServicePodLabelKey
COMPONENT_LABEL = "component"  # KServiceComponentLabel
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
STORAGE_URI_ENV = "STORAGE_URI"  # CustomSpecStorageUriEnvVarKey
MULTI_MODEL_ENV = "MULTI_MODEL_SERVER"  # CustomSpecMultiModelServerEnvVarKey
ISVC_NAME_ENV = "INFERENCE_SERVICE_NAME"  # InferenceServiceNameEnvVarKey
ENABLE_METRIC_AGGREGATION = "serving.kserve.io/enable-metric-aggregation"
SET_PROMETHEUS_ANNOTATION = "serving.kserve.io/enable-prometheus-scraping"
DEFAULT_POD_PROMETHEUS_PORT = "9091"  # DefaultPodPrometheusPort
# ServiceAnnotationDisallowedList (constants.go), to which the ConfigMap's list is appended.
DISALLOWED_ANNOTATIONS = (
    "autoscaling.knative.dev/min-scale",
    "autoscaling.knative.dev/max-scale",
    "internal.serving.kserve.io/storage-initializer-sourceuri",
    "kubectl.kubernetes.io/last-applied-configuration",
    "modelFormat",
)
# The implementations of PredictorSpec besides a custom container (apis/serving/v1beta1/predictor.go).
FRAMEWORKS = ("sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "pmml", "lightgbm",
              "paddle", "model")  # fmt: skip
SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@functools.cache
def pod_spec_fields() -> frozenset[str]:
    """The fields of v1beta1.PodSpec (apis/serving/v1beta1/podspec.go), read from the vendored CRD:
    WorkerSpec is that PodSpec inline plus pipelineParallelSize and tensorParallelSize (predictor.go)."""
    crd = yaml.load(ISVC_CRD.read_text(), Loader=YamlLoader)  # noqa: S506 - a safe loader (k8s_schema)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    worker = spec["predictor"]["properties"]["workerSpec"]["properties"]
    return frozenset(worker) - {"pipelineParallelSize", "tensorParallelSize"}


def inferenceservice_configmap(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """KServe's inferenceservice-config ConfigMap among ``objects`` (what the kserve chart renders)."""
    found = [o for o in objects if o.get("kind") == "ConfigMap" and o["metadata"]["name"] == CONFIGMAP]
    if len(found) != 1:
        raise LookupError("%d %s ConfigMaps among %d objects" % (len(found), CONFIGMAP, len(objects)))
    return found[0]


class NotModelled(NotImplementedError):
    """The spec makes KServe do something this derivation does not follow (the message says what)."""


class PodNotReady(AssertionError):
    """The container exited, or its readiness probe did not pass in time; the message holds its log."""


@dataclass(frozen=True)
class IsvcConfig:
    """The parts of inferenceservice-config that shape the predictor pod."""

    resource: dict[str, str] = field(default_factory=dict)  # cpuLimit, memoryLimit, cpuRequest, memoryRequest
    default_deployment_mode: str = ""
    auto_mount_service_account_token: bool = False
    metrics_aggregator: dict[str, str] = field(default_factory=dict)
    disallowed_annotations: tuple[str, ...] = ()

    @classmethod
    def from_configmap(cls, configmap: dict[str, Any]) -> IsvcConfig:
        """apis/serving/v1beta1/configmap.go: NewInferenceServicesConfig, NewDeployConfig,
        NewSecurityConfig, and newMetricsAggregator (webhook/admission/pod/metrics_aggregate_injector.go)."""
        data = configmap.get("data") or {}

        def key(name: str) -> dict[str, Any]:
            return json.loads(data[name]) if name in data else {}

        isvc = key("inferenceService")
        disallowed: tuple[str, ...] = ()
        if "inferenceService" in data:  # the defaults apply only when the key is there
            disallowed = DISALLOWED_ANNOTATIONS + tuple(isvc.get("serviceAnnotationDisallowedList") or ())
        mode = key("deploy").get("defaultDeploymentMode", "")
        return cls(
            resource={k: v for k, v in (isvc.get("resource") or {}).items() if v},
            default_deployment_mode={"RawDeployment": "Standard", "Serverless": "Knative"}.get(mode, mode),
            auto_mount_service_account_token=bool(key("security").get("autoMountServiceAccountToken", False)),
            metrics_aggregator={k: str(v) for k, v in key("metricsAggregator").items()},
            disallowed_annotations=disallowed,
        )


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def _set_env(container: dict[str, Any], name: str, value: str) -> None:
    """controller/v1beta1/inferenceservice/utils/utils.go AddEnvVarToPodSpec: overwrite or append."""
    env = container.setdefault("env", [])
    for e in env:
        if e["name"] == name:
            e["value"] = value
            return
    env.append({"name": name, "value": value})


def _default_isvc(isvc: dict[str, Any], config: IsvcConfig) -> str:
    """The defaulting webhook, apis/serving/v1beta1/inference_service_defaults.go
    InferenceServiceDefaulter.Default -> DefaultInferenceService; returns the deployment mode."""
    annotations = isvc["metadata"].setdefault("annotations", {})
    mode = annotations.get(DEPLOYMENT_MODE)
    if mode is not None:
        mode = {"RawDeployment": "Standard", "Serverless": "Knative"}.get(mode, mode)
        annotations[DEPLOYMENT_MODE] = mode
    elif config.default_deployment_mode in ("Standard", "ModelMesh"):
        mode = annotations[DEPLOYMENT_MODE] = config.default_deployment_mode
    mode = mode or config.default_deployment_mode or "Knative"
    predictor = isvc["spec"]["predictor"]
    frameworks = [k for k in FRAMEWORKS if predictor.get(k) is not None]
    if frameworks:
        raise NotModelled(
            "predictor %s: a ServingRuntime predictor (setPredictorModelDefaults, Predictor.reconcileModel, "
            "buildPodSpec) is not derived here, only a custom container" % frameworks
        )
    containers = predictor.get("containers") or []
    if not containers:
        raise NotModelled("predictor without containers: validateExactlyOneImplementation rejects it")
    # CustomPredictor.Default (predictor_custom.go): the only (or unnamed first) container is the
    # model server, and its resources get the ConfigMap's defaults (setResourceRequirementDefaults).
    if len(containers) == 1 or not containers[0].get("name"):
        containers[0]["name"] = CONTAINER_NAME
    resources = containers[0].setdefault("resources", {})
    requests_, limits = resources.setdefault("requests", {}), resources.setdefault("limits", {})
    for key, into, name in (("cpuRequest", requests_, "cpu"), ("memoryRequest", requests_, "memory"),
                            ("cpuLimit", limits, "cpu"), ("memoryLimit", limits, "memory")):  # fmt: skip
        if key in config.resource:
            into.setdefault(name, config.resource[key])
    # disableAutomountServiceAccountToken: only when the ConfigMap's security key says so.
    if not config.auto_mount_service_account_token:
        predictor.setdefault("automountServiceAccountToken", False)
    return mode


def _refuse_what_is_not_modelled(isvc: dict[str, Any], container: dict[str, Any] | None) -> None:
    predictor = isvc["spec"]["predictor"]
    checks = [
        (predictor.get("logger"), "logger: addLoggerAnnotations and the agent sidecar (AgentInjector.InjectAgent)"),
        (predictor.get("batcher"), "batcher: addBatcherAnnotations and AgentInjector.InjectAgent"),
        (_env(predictor["containers"][0]).get(MULTI_MODEL_ENV) == "true",
         "MULTI_MODEL_SERVER: IsMMSPredictor, addAgentAnnotations and the model agent"),
        (container is not None and STORAGE_URI_ENV in _env(container),
         "STORAGE_URI: CustomPredictor.GetStorageUri and the storage initializer (InjectStorageInitializer)"),
        (predictor.get("storageUris"), "storageUris: NewRawKubeReconciler -> CommonStorageInitialization"),
        (predictor.get("workerSpec"), "workerSpec: multi-node (Predictor.reconcileWorker)"),
    ]  # fmt: skip
    for present, what in checks:
        if present:
            raise NotModelled("predictor sets %s, which this derivation does not follow" % what)


def _build_predictor(isvc: dict[str, Any], config: IsvcConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """controller/v1beta1/inferenceservice/components/predictor.go Predictor.buildPredictorResources
    (the custom-container branch) and buildObjectMeta: the pod's metadata and spec."""
    name = isvc["metadata"]["name"]
    predictor = isvc["spec"]["predictor"]
    annotations = {
        k: v for k, v in (isvc["metadata"].get("annotations") or {}).items() if k not in config.disallowed_annotations
    }
    # CustomPredictor.GetContainer: the container named kserve-container.
    container = next((copy.deepcopy(c) for c in predictor["containers"] if c.get("name") == CONTAINER_NAME), None)
    _refuse_what_is_not_modelled(isvc, container)
    if container is None:
        raise NotModelled("no container is named %s: GetContainer returns nil and the reconcile fails" % CONTAINER_NAME)
    spec = {k: copy.deepcopy(v) for k, v in predictor.items() if k in pod_spec_fields()}
    spec["containers"][0] = container
    for c in spec["containers"]:  # INFERENCE_SERVICE_NAME on every container (collocation too)
        _set_env(c, ISVC_NAME_ENV, name)
    predictor_annotations = {
        k: v for k, v in (predictor.get("annotations") or {}).items() if k not in config.disallowed_annotations
    }
    suffix = "-%s" % predictor["name"] if predictor.get("name") else ""
    metadata = {
        "name": "%s%s-predictor" % (name, suffix),  # constants.PredictorServiceName
        "namespace": isvc["metadata"].get("namespace", "default"),
        "labels": {**(isvc["metadata"].get("labels") or {}), **(predictor.get("labels") or {}),
                   ISVC_LABEL: name, COMPONENT_LABEL: "predictor"},
        "annotations": {**annotations, **predictor_annotations},
    }  # fmt: skip
    return metadata, spec


def _default_raw_pod(metadata: dict[str, Any], spec: dict[str, Any]) -> None:
    """reconcilers/deployment/deployment_reconciler.go createRawDefaultDeployment -> setDefaultPodSpec."""
    metadata["labels"]["app"] = "isvc." + metadata["name"]  # constants.GetRawServiceLabel
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec["containers"]:
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("imagePullPolicy", "IfNotPresent")
        if c["name"] in (CONTAINER_NAME, "transformer-container") and c.get("readinessProbe") is None:
            port = c["ports"][0]["containerPort"] if c.get("ports") else 8080
            c["readinessProbe"] = {"tcpSocket": {"port": port}, "timeoutSeconds": 1, "periodSeconds": 10,
                                   "successThreshold": 1, "failureThreshold": 3}  # fmt: skip


def _admit(metadata: dict[str, Any], spec: dict[str, Any], config: IsvcConfig) -> None:
    """What admission adds when the Deployment's pod is created: the Kubernetes API server's defaults
    and service-account token, then KServe's pod mutator (webhook/admission/pod/mutator.go
    Mutator.mutate, for pods with the serving.kserve.io/inferenceservice label)."""
    for c in spec["containers"]:
        # k8s.io/kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Probe, SetDefaults_HTTPGetAction,
        # and ContainerPort.protocol's default.
        for probe in (c.get(k) for k in ("readinessProbe", "livenessProbe", "startupProbe")):
            if probe:
                for k, v in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                             ("failureThreshold", 3), ("initialDelaySeconds", 0)):  # fmt: skip
                    probe.setdefault(k, v)
                if "httpGet" in probe:
                    probe["httpGet"].setdefault("path", "/")
                    probe["httpGet"].setdefault("scheme", "HTTP")
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")
        # plugin/pkg/admission/serviceaccount (ServiceAccount admission): the API token volume,
        # unless the pod opts out.
        if spec.get("automountServiceAccountToken") is not False:
            c.setdefault("volumeMounts", []).append(
                {"name": "kube-api-access", "mountPath": SERVICE_ACCOUNT_MOUNT, "readOnly": True}
            )
    # InjectGKEAcceleratorSelector: a node selector for pods with nvidia.com/gpu limits.
    gke = metadata["annotations"].get("serving.kserve.io/gke-accelerator")
    if gke and any("nvidia.com/gpu" in (c.get("resources", {}).get("limits") or {}) for c in spec["containers"]):
        spec.setdefault("nodeSelector", {})["cloud.google.com/gke-accelerator"] = gke
    # InjectStorageInitializer, SetIstioCniSecurityContext, InjectAgent and InjectModelcar act on the
    # storage, logger, batcher and agent annotations _refuse_what_is_not_modelled has ruled out.
    # InjectMetricsAggregator: the aggregation annotations, and Prometheus' when scraping is enabled
    # (its queue-proxy environment exists in Knative mode only).
    annotations = metadata["annotations"]
    aggregate = annotations.setdefault(
        ENABLE_METRIC_AGGREGATION, config.metrics_aggregator.get("enableMetricAggregation", "")
    )
    scrape = annotations.setdefault(
        SET_PROMETHEUS_ANNOTATION, config.metrics_aggregator.get("enablePrometheusScraping", "")
    )
    if scrape == "true":
        annotations["prometheus.io/port"] = "9088" if aggregate == "true" else DEFAULT_POD_PROMETHEUS_PORT
        annotations["prometheus.io/path"] = "/metrics"


def predictor_pod(isvc: dict[str, Any], config: IsvcConfig) -> dict[str, Any]:
    """The predictor pod KServe creates for ``isvc`` (a rendered InferenceService, not changed)."""
    isvc = copy.deepcopy(isvc)
    mode = _default_isvc(isvc, config)
    if mode != "Standard":
        raise NotModelled("deployment mode %s: only Standard (raw Deployment) is derived here" % mode)
    metadata, spec = _build_predictor(isvc, config)
    _default_raw_pod(metadata, spec)
    _admit(metadata, spec, config)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def main_container(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == CONTAINER_NAME]
    return container


# --- running it -------------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_FACTORS = {None: 1, "m": 0.001, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}  # fmt: skip


def quantity(text: str | int | float) -> float:
    """A Kubernetes resource quantity (``768Mi``, ``200m``, ``1``) as a number."""
    m = _QUANTITY.match(str(text))
    if not m:
        raise ValueError("%r is not a resource quantity this helper reads" % text)
    return float(m[1]) * _FACTORS[m[2]]


def _security(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """The container's effective security context: its own fields over the pod's (Kubernetes'
    PodSecurityContext fields that a SecurityContext can override)."""
    pod_sc = pod["spec"].get("securityContext") or {}
    shared = ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "seLinuxOptions", "appArmorProfile")
    return {**{k: pod_sc[k] for k in shared if k in pod_sc}, **(container.get("securityContext") or {})}


def _named_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError("probe names port %r, which the container does not declare" % port)


def _env_flags(c: dict[str, Any]) -> list[str]:
    if c.get("envFrom"):
        raise NotModelled("envFrom is not given to podman")
    flags = []
    for e in c.get("env") or []:
        if "valueFrom" in e:
            raise NotModelled("env %s comes from %s: not given to podman" % (e["name"], list(e["valueFrom"])))
        flags += ["--env", "%s=%s" % (e["name"], e.get("value", ""))]
    return flags


def _security_flags(sc: dict[str, Any], image_user: str) -> list[str]:
    flags = []
    user = sc.get("runAsUser")
    if user is not None:
        flags += ["--user", "%d:%d" % (user, sc["runAsGroup"]) if "runAsGroup" in sc else str(user)]
    if sc.get("runAsNonRoot"):
        # The kubelet refuses to start a container that would run as root (verifyRunAsNonRoot).
        uid = str(user) if user is not None else image_user.split(":", maxsplit=1)[0]
        if not uid.isdigit() or int(uid) == 0:
            raise PodNotReady("runAsNonRoot, but the container runs as %r: the kubelet refuses to start it" % uid)
    if sc.get("readOnlyRootFilesystem"):
        flags.append("--read-only")
    if sc.get("allowPrivilegeEscalation") is False:
        flags += ["--security-opt", "no-new-privileges"]
    caps = sc.get("capabilities") or {}
    flags += [f for cap in caps.get("drop") or [] for f in ("--cap-drop", cap)]
    flags += [f for cap in caps.get("add") or [] for f in ("--cap-add", cap)]
    seccomp = (sc.get("seccompProfile") or {}).get("type", "RuntimeDefault")
    if seccomp == "Unconfined":
        flags += ["--security-opt", "seccomp=unconfined"]
    elif seccomp != "RuntimeDefault":
        raise NotModelled("seccompProfile %s is not given to podman" % seccomp)
    return flags


def _volume_flags(pod: dict[str, Any], c: dict[str, Any], volumes: dict[str, str]) -> list[str]:
    """A host directory for each mounted PersistentVolumeClaim or emptyDir (``volumes``: volume name to
    directory), and the pod's fsGroup as a supplementary group, as the kubelet adds it; other volume
    kinds (Secrets, ConfigMaps, projected tokens) raise NotModelled."""
    declared = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    flags = []
    for m in c.get("volumeMounts") or []:
        volume = declared.get(m["name"])
        if volume is None:
            raise PodNotReady("volume mount %s names no volume of the pod: the API server refuses it" % m["name"])
        if not {"persistentVolumeClaim", "emptyDir"} & set(volume) or m["name"] not in volumes:
            raise NotModelled("volume %s (%s) is not given to podman" % (m["name"], sorted(set(volume) - {"name"})))
        flags += ["--volume", "%s:%s:%s" % (volumes[m["name"]], m["mountPath"], "ro" if m.get("readOnly") else "rw")]
    group = (pod["spec"].get("securityContext") or {}).get("fsGroup")
    if flags and group is not None:
        flags += ["--group-add", str(group)]
    return flags


def fs_group_volume(path: Path, pod: dict[str, Any]) -> str:
    """A host directory as the kubelet leaves a volume for the pod's fsGroup (SetVolumeOwnership: the
    group set, setgid, group read-write); returns its path."""
    path.mkdir(parents=True, exist_ok=True)
    group = (pod["spec"].get("securityContext") or {}).get("fsGroup")
    if group is not None:
        os.chown(path, -1, group)
        path.chmod(0o2770)
    return str(path)


def podman_run_argv(
    pod: dict[str, Any],
    image: str,
    name: str,
    host_ports: dict[int, int],
    image_user: str = "",
    volumes: dict[str, str] | None = None,
) -> list[str]:
    """``podman run`` for the pod's main container: the image (as substituted), command and args,
    env, published ports, user, read-only root, capabilities, no-new-privileges, seccomp, limits,
    and the claims and emptyDirs it mounts as the host directories in ``volumes``.
    Fields podman cannot give (env from Secrets, other volumes) raise NotModelled."""
    c = main_container(pod)
    argv = ["podman", "run", "-d", "--name", name, "--pull", "never", "--hostname", pod["metadata"]["name"],
            "--stop-timeout", str(pod["spec"]["terminationGracePeriodSeconds"]), *_env_flags(c),
            *_volume_flags(pod, c, volumes or {})]  # fmt: skip
    for p in c.get("ports") or []:
        port = p["containerPort"]
        argv += ["--publish", "%s:%d:%d/%s" % (LOOPBACK, host_ports[port], port, p.get("protocol", "TCP").lower())]
    argv += _security_flags(_security(pod, c), image_user)
    limits = (c.get("resources") or {}).get("limits") or {}
    if "memory" in limits:
        argv += ["--memory", str(int(quantity(limits["memory"])))]
    if "cpu" in limits:
        argv += ["--cpus", "%g" % quantity(limits["cpu"])]
    if c.get("workingDir"):
        argv += ["--workdir", c["workingDir"]]
    if c.get("command"):
        argv += ["--entrypoint", json.dumps(c["command"])]
    return [*argv, image, *(str(a) for a in c.get("args") or [])]


def probe_url(container: dict[str, Any], probe: dict[str, Any], host_ports: dict[int, int]) -> str:
    """The URL the kubelet's HTTP probe asks, on the port podman published."""
    get = probe["httpGet"]
    port = host_ports[_named_port(container, get["port"])]
    return "%s://%s:%d%s" % (get.get("scheme", "HTTP").lower(), LOOPBACK, port, get.get("path", "/"))


class PodmanPod:
    """The pod's main container under podman, its image substituted by repository name."""

    def __init__(
        self,
        pod: dict[str, Any],
        images: dict[str, str],
        ready_timeout: float = 120.0,
        volumes: dict[str, str] | None = None,
    ):
        self.pod = pod
        self.volumes = volumes or {}
        self.container = main_container(pod)
        self.image = self._substitute(self.container["image"], images)
        self.name = "mlops-predictor-%s" % uuid.uuid4().hex[:8]
        self.host_ports = {p["containerPort"]: free_port() for p in self.container.get("ports") or []}
        self.ready_timeout = ready_timeout
        self.argv: list[str] = []

    @staticmethod
    def _substitute(image: str, images: dict[str, str]) -> str:
        repository = image_ref.parse(image).name
        if repository not in images:
            raise KeyError("the pod runs %s; no local image stands in for %s (have %s)" % (image, repository, images))
        return images[repository]

    def start(self) -> PodmanPod:
        user = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{.Config.User}}", self.image],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()  # fmt: skip
        self.argv = podman_run_argv(
            self.pod, self.image, self.name, self.host_ports, image_user=user, volumes=self.volumes
        )
        print("\n" + shlex.join(self.argv))
        r = subprocess.run(self.argv, capture_output=True, text=True, check=False, timeout=120)
        if r.returncode != 0:
            raise PodNotReady("podman run failed (%d): %s" % (r.returncode, r.stderr.strip()))
        return self

    def url(self, container_port: int) -> str:
        return "http://%s:%d" % (LOOPBACK, self.host_ports[container_port])

    def logs(self) -> str:
        r = subprocess.run(["podman", "logs", self.name], capture_output=True, text=True, check=False, timeout=60)
        return (r.stdout + r.stderr)[-4000:]

    def inspect(self) -> dict[str, Any]:
        out = subprocess.run(["podman", "inspect", self.name], capture_output=True, text=True, check=True).stdout
        return json.loads(out)[0]

    def running(self) -> bool:
        return bool(self.inspect()["State"]["Running"])

    def wait_ready(self) -> float:
        """Run the readiness probe as the kubelet does (initial delay, period, timeout, success
        threshold) until it passes; PodNotReady with the container's log if the container exits
        or the probe has not passed within ``ready_timeout``. Returns the seconds it took."""
        probe = self.container["readinessProbe"]
        if "httpGet" not in probe:
            raise NotModelled("readiness probe %s: only httpGet is run here" % sorted(probe))
        url = probe_url(self.container, probe, self.host_ports)
        start = time.monotonic()
        time.sleep(probe["initialDelaySeconds"])
        successes = 0
        while True:
            began = time.monotonic()
            if not self.running():
                state = self.inspect()["State"]
                raise PodNotReady("the container exited (code %s) before %s passed; its log:\n%s"
                                  % (state.get("ExitCode"), url, self.logs()))  # fmt: skip
            try:
                ok = 200 <= requests.get(url, timeout=probe["timeoutSeconds"]).status_code < 400
            except requests.RequestException:
                ok = False
            successes = successes + 1 if ok else 0
            if successes >= probe["successThreshold"]:
                return time.monotonic() - start
            if time.monotonic() - start > self.ready_timeout:
                raise PodNotReady("%s did not pass within %.0fs; the container's log:\n%s"
                                  % (url, self.ready_timeout, self.logs()))  # fmt: skip
            time.sleep(max(0.0, probe["periodSeconds"] - (time.monotonic() - began)))

    def stop(self) -> None:
        subprocess.run(["podman", "rm", "-f", "-t", "5", self.name], capture_output=True, check=False, timeout=60)

    def __enter__(self) -> PodmanPod:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
