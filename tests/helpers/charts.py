"""What the tests know of the Helm charts the tree installs (they cannot be downloaded here).

For each pinned chart: the value keys the tree may set, with their types (a key not listed is an
error, so a typo such as ``prometheusSpec.retension`` fails), and the workloads the chart runs,
with the value paths of their requests and placement, for the memory budget. Kubernetes-typed
values (resources, affinity, tolerations) are checked against the core schemas.

The keys come from each chart's values.yaml at the pinned version; extend a table only after
checking the key there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .k8s_schema import RESOURCE_NAMES_SCHEMA, core_definition

__all__ = ["CHARTS", "ChartInfo", "Component", "chart_key", "values_schema"]

BOOL = {"type": "boolean"}
STR = {"type": "string"}
INT = {"type": "integer"}
STR_LIST = {"type": "array", "items": STR}
ANY_OBJECT = {"type": "object"}  # free-form by the chart's own design (configs, ini files)
STR_MAP = {"type": "object", "additionalProperties": STR}


def k8s(name: str) -> dict[str, Any]:
    return core_definition("io.k8s.api.core.v1." + name)


def k8s_list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": k8s(name)}


RESOURCES = {"allOf": [k8s("ResourceRequirements"), RESOURCE_NAMES_SCHEMA]}
AFFINITY = k8s("Affinity")
TOLERATIONS = k8s_list("Toleration")
PLACEMENT = {"nodeSelector": STR_MAP, "affinity": AFFINITY, "tolerations": TOLERATIONS}


def values_schema(tree: Any) -> dict[str, Any]:
    """A strict JSON schema from a nested dict of known keys whose leaves are JSON schemas."""
    if isinstance(tree, dict) and not any(k in tree for k in ("type", "$ref", "enum", "allOf")):
        return {
            "type": "object",
            "properties": {k: values_schema(v) for k, v in tree.items()},
            "additionalProperties": False,
        }
    return tree


@dataclass(frozen=True)
class Component:
    """A workload of a chart: where its values put requests and placement (dotted value paths)."""

    name: str
    prefix: str  # value path holding resources / nodeSelector / affinity ("" for the top level)
    replicas: str | None = None  # value path of the replica count, None when always 1
    daemonset: bool = False  # one pod on every node
    sidecars: tuple[tuple[str, int], ...] = ()  # (value path of the resources, how many containers)

    def path(self, key: str) -> str:
        return "%s.%s" % (self.prefix, key) if self.prefix else key


@dataclass(frozen=True)
class ChartInfo:
    repo: str
    chart: str
    version: str
    keys: dict[str, Any]
    components: tuple[Component, ...] = field(default=())

    @property
    def schema(self) -> dict[str, Any]:
        return values_schema(self.keys)


def chart_key(repo: str, chart: str) -> tuple[str, str]:
    return repo.removeprefix("oci://").rstrip("/"), chart


_CERT_MANAGER = ChartInfo(
    repo="https://charts.jetstack.io",
    chart="cert-manager",
    version="v1.19.4",
    keys={
        "crds": {"enabled": BOOL, "keep": BOOL},
        "global": {"leaderElection": {"namespace": STR}, "priorityClassName": STR},
        "replicaCount": INT,
        **PLACEMENT,
        "resources": RESOURCES,
        "prometheus": {"enabled": BOOL, "servicemonitor": {"enabled": BOOL}},
        "webhook": {"replicaCount": INT, "resources": RESOURCES, **PLACEMENT},
        "cainjector": {"enabled": BOOL, "replicaCount": INT, "resources": RESOURCES, **PLACEMENT},
        "startupapicheck": {"enabled": BOOL, "resources": RESOURCES, **PLACEMENT},
    },
    components=(
        Component("cert-manager controller", "", replicas="replicaCount"),
        Component("cert-manager webhook", "webhook", replicas="webhook.replicaCount"),
        Component("cert-manager cainjector", "cainjector", replicas="cainjector.replicaCount"),
    ),
)

_KSERVE_CRD = ChartInfo(repo="ghcr.io/kserve/charts", chart="kserve-crd", version="v0.20.0", keys={})

_KSERVE = ChartInfo(
    repo="ghcr.io/kserve/charts",
    chart="kserve-resources",
    version="v0.20.0",
    keys={
        "kserve": {
            "controller": {
                "deploymentMode": {"enum": ["Standard", "Knative"]},
                "gateway": {
                    "domain": STR,
                    "disableIngressCreation": BOOL,
                    "disableIstioVirtualHost": BOOL,
                    "urlScheme": STR,
                },
                "resources": RESOURCES,
                **PLACEMENT,
            },
            "metricsaggregator": {
                "enableMetricAggregation": {"enum": ["true", "false"]},
                "enablePrometheusScraping": {"enum": ["true", "false"]},
            },
        }
    },
    components=(Component("KServe controller", "kserve.controller"),),
)

_PROM_SPEC = {
    **PLACEMENT,
    "resources": RESOURCES,
    "retention": {"type": "string", "pattern": r"^[0-9]+(ms|s|m|h|d|w|y)$"},
    "retentionSize": {"type": "string", "pattern": r"^[0-9]+(B|KB|MB|GB|TB|PB|EB)$"},
    "scrapeInterval": STR,
    "evaluationInterval": STR,
    "ruleSelectorNilUsesHelmValues": BOOL,
    "serviceMonitorSelectorNilUsesHelmValues": BOOL,
    "podMonitorSelectorNilUsesHelmValues": BOOL,
    "probeSelectorNilUsesHelmValues": BOOL,
    "storageSpec": {"volumeClaimTemplate": {"spec": k8s("PersistentVolumeClaimSpec")}},
}
_AM_SPEC = {
    **PLACEMENT,
    "resources": RESOURCES,
    "retention": {"type": "string", "pattern": r"^[0-9]+(ms|s|m|h)$"},
    "secrets": STR_LIST,
    "storage": {"volumeClaimTemplate": {"spec": k8s("PersistentVolumeClaimSpec")}},
}
_DEFAULT_RULE_GROUPS = (
    "alertmanager etcd configReloaders general k8sContainerCpuUsageSecondsTotal k8sContainerMemoryCache "
    "k8sContainerMemoryRss k8sContainerMemorySwap k8sContainerResource k8sContainerMemoryWorkingSetBytes "
    "k8sPodOwner kubeApiserverAvailability kubeApiserverBurnrate kubeApiserverHistogram kubeApiserverSlos "
    "kubeControllerManager kubelet kubeProxy kubePrometheusGeneral kubePrometheusNodeRecording kubernetesApps "
    "kubernetesResources kubernetesStorage kubernetesSystem kubeSchedulerAlerting kubeSchedulerRecording "
    "kubeStateMetrics network node nodeExporterAlerting nodeExporterRecording prometheus prometheusOperator windows"
).split()

_KUBE_PROMETHEUS_STACK = ChartInfo(
    repo="https://prometheus-community.github.io/helm-charts",
    chart="kube-prometheus-stack",
    version="88.2.0",
    keys={
        "fullnameOverride": STR,
        "crds": {"enabled": BOOL},
        "defaultRules": {
            "create": BOOL,
            "rules": {name: BOOL for name in _DEFAULT_RULE_GROUPS},
            "disabled": {"type": "object", "additionalProperties": BOOL},
        },
        "kubeControllerManager": {"enabled": BOOL},
        "kubeScheduler": {"enabled": BOOL},
        "kubeProxy": {"enabled": BOOL},
        "kubeEtcd": {"enabled": BOOL},
        "kubelet": {"enabled": BOOL},
        "coreDns": {"enabled": BOOL},
        "kubeApiServer": {"enabled": BOOL},
        "prometheusOperator": {
            "admissionWebhooks": {"enabled": BOOL, "certManager": {"enabled": BOOL}},
            "resources": RESOURCES,
            **PLACEMENT,
            "prometheusConfigReloader": {"resources": RESOURCES},
        },
        "prometheus": {"enabled": BOOL, "prometheusSpec": _PROM_SPEC},
        "alertmanager": {"enabled": BOOL, "alertmanagerSpec": _AM_SPEC, "config": ANY_OBJECT},
        "grafana": {
            "enabled": BOOL,
            **PLACEMENT,
            "resources": RESOURCES,
            "admin": {"existingSecret": STR, "userKey": STR, "passwordKey": STR},
            "persistence": {"enabled": BOOL},
            "sidecar": {
                "resources": RESOURCES,
                "dashboards": {
                    "enabled": BOOL,
                    "label": STR,
                    "labelValue": STR,
                    "searchNamespace": STR,
                    "folderAnnotation": STR,
                    "provider": {"foldersFromFilesStructure": BOOL},
                },
                "datasources": {"enabled": BOOL},
            },
        },
        "kube-state-metrics": {**PLACEMENT, "resources": RESOURCES},
        "prometheus-node-exporter": {**PLACEMENT, "resources": RESOURCES},
    },
    components=(
        Component("Prometheus Operator", "prometheusOperator"),
        Component(
            "Prometheus",
            "prometheus.prometheusSpec",
            sidecars=(("prometheusOperator.prometheusConfigReloader.resources", 1),),
        ),
        Component(
            "Alertmanager",
            "alertmanager.alertmanagerSpec",
            sidecars=(("prometheusOperator.prometheusConfigReloader.resources", 1),),
        ),
        # Two sidecars by default in this chart: dashboards and datasources.
        Component("Grafana", "grafana", sidecars=(("grafana.sidecar.resources", 2),)),
        Component("kube-state-metrics", "kube-state-metrics"),
        Component("node-exporter", "prometheus-node-exporter", daemonset=True),
    ),
)

CHARTS: dict[tuple[str, str], ChartInfo] = {
    chart_key(c.repo, c.chart): c for c in (_CERT_MANAGER, _KSERVE_CRD, _KSERVE, _KUBE_PROMETHEUS_STACK)
}
