"""Every object ArgoCD would apply (the tree and the charts rendered from their pinned archives,
sandbox/argocd.py) validates strictly against the Kubernetes schemas of the cluster's
version or its CRD's schema (vendored under tests/upstream/, plus the CRDs the charts install),
and every chart's values only use keys the chart defines. A wrong field or a wrong type fails:
the planted-defect tests below show it for each kind of schema."""

from __future__ import annotations

import collections
import copy
import functools

import pytest
from helm_python import HelmError

from sandbox.argocd import platform
from sandbox.charts import ChartError, load_chart, render_chart, unknown_values
from sandbox.k8s_schema import KUBERNETES_VERSION, SchemaError, SchemaValidator, describe

PLATFORM = platform()
OBJECTS = [(o.source, o.obj) for o in PLATFORM.objects()]


@functools.cache
def validator() -> SchemaValidator:
    return SchemaValidator(extra_crds=PLATFORM.crds())


def _find(kind, name=None):
    for _, obj in OBJECTS:
        if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name):
            return copy.deepcopy(obj)
    raise LookupError("no %s %s in the tree" % (kind, name))


def test_every_object_validates():
    v = validator()
    invalid = {"%s (%s)" % (describe(o), src): v.errors(o) for src, o in OBJECTS if v.errors(o)}
    assert invalid == {}


def test_validation_summary():
    counts = collections.Counter("%s %s" % (o["apiVersion"], o["kind"]) for _, o in OBJECTS)
    print(
        "\nKubernetes %s schemas + pinned CRDs: %d objects from %d Applications"
        % (KUBERNETES_VERSION, len(OBJECTS), len(PLATFORM.apps))
    )
    for kind, n in sorted(counts.items()):
        print("  %3d  %s" % (n, kind))
    print("charts rendered (version, objects, unknown value keys):")
    for app in PLATFORM.apps:
        for src in app.charts:
            n = sum(1 for o in app.objects if o.source.startswith("chart %s" % src.chart) or src.chart in o.source)
            print("  %-22s %-10s %4d objects  %d unknown keys" % (src.chart, src.version, n, len(src.unknown)))
    assert {"Application", "AppProject", "InferenceService", "PrometheusRule", "PodMonitor", "Prometheus"} <= {
        o["kind"] for _, o in OBJECTS
    }


# --- planted defects: each must be reported, with the path of the field ---------------------------


def _plant(obj, path, value):
    node = obj
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return obj


PLANTED = [
    ("Deployment", "mlflow", ("spec", "replicas"), "two", "spec.replicas"),
    (
        "Deployment",
        "mlflow",
        ("spec", "template", "spec", "containers", 0, "imagePullPolicyy"),
        "Always",
        "imagePullPolicyy",
    ),
    ("Deployment", "mlflow", ("spec", "template", "spec", "containers", 0, "resources", "request"), {}, "request"),
    ("Service", "mlflow", ("spec", "ports", 0, "port"), "http", "spec.ports.0.port"),
    (
        "Deployment",
        "alert-bridge",
        ("spec", "template", "spec", "containers", 0, "resources", "requests", "memroy"),
        "64Mi",
        "memroy",
    ),
    ("Ingress", "mlflow", ("spec", "tls", 0, "host"), "x", "spec.tls.0"),
    ("Application", "monitoring", ("spec", "syncPolicy", "automated", "prunee"), True, "spec.syncPolicy.automated"),
    ("Application", "kserve", ("spec", "sources", 0, "helm", "valueFiles"), "values.yaml", "valueFiles"),
    ("AppProject", "mlops", ("spec", "sourceRepo"), ["*"], "sourceRepo"),
    ("InferenceService", "breast-cancer", ("spec", "predictor", "minReplicas"), "one", "spec.predictor.minReplicas"),
    ("InferenceService", "breast-cancer", ("spec", "predictor", "containers", 0, "port"), 8080, "containers.0"),
    ("InferenceService", "breast-cancer", ("spec", "predictorr"), {}, "predictorr"),
    ("PrometheusRule", "model-rules", ("spec", "groups", 1, "rules", 0, "severity"), "critical", "rules.0"),
    ("PrometheusRule", "model-rules", ("spec", "groups", 1, "rules", 0, "labels"), ["x"], "rules.0.labels"),
    ("PodMonitor", "breast-cancer", ("spec", "podMetricsEndpoints", 0, "interval"), 15, "interval"),
    ("PodMonitor", "breast-cancer", ("spec", "endpoints"), [], "endpoints"),
    ("ClusterIssuer", "letsencrypt", ("spec", "acme", "solvers", 0, "http01", "ingres"), {}, "ingres"),
    ("Deployment", "kserve-controller-manager", ("spec", "template", "spec", "containers", 0, "imagee"), "x", "imagee"),
    ("Prometheus", "kps-prometheus", ("spec", "retention"), "three days", "retention"),
    ("ConfigMap", "model-dashboard", ("metadata", "labels", "grafana_dashboard"), 1, "metadata.labels"),
]


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "reported"), PLANTED, ids=[f"{k}:{p[-1]}" for k, _, p, _, _ in PLANTED]
)
def test_planted_defect_is_reported(kind, name, path, value, reported):
    obj = _plant(_find(kind, name), path, value)
    errors = validator().errors(obj)
    assert errors, "%s with %s=%r passed validation" % (kind, ".".join(map(str, path)), value)
    assert any(reported in e for e in errors), errors
    with pytest.raises(SchemaError):
        validator().check(obj)


def test_unknown_kind_is_an_error_not_a_pass():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert validator().errors(obj) == [
        "no schema for example.com/v1 Widget (Kubernetes %s or the pinned CRDs)" % KUBERNETES_VERSION
    ]


def test_preserve_unknown_fields_is_honoured():
    # Application.spec.source.helm.valuesObject is free-form (x-kubernetes-preserve-unknown-fields).
    app = _find("Application", "kserve")
    app["spec"]["sources"][1]["helm"]["valuesObject"] = {"anything": {"nested": [1, "x"]}}
    assert validator().errors(app) == []


# --- chart values -----------------------------------------------------------------------------------

SOURCES = PLATFORM.charts()


@pytest.mark.parametrize("src", SOURCES, ids=lambda s: "%s:%s" % (s.application, s.chart))
def test_chart_values_use_only_keys_the_chart_defines(src):
    assert src.unknown == ()


def _source(chart):
    return next(s for s in SOURCES if s.chart == chart)


def values_problems(src, values) -> list[str]:
    """Unknown keys, the chart's own values.schema.json, and what the rendered objects break."""
    chart = load_chart(src.path)
    problems = ["unknown value key %s" % k for k in unknown_values(src.path, values)]
    try:
        chart.validate_schema(values)
        objs = render_chart(
            chart, values, release=src.application, namespace="test",
            kube_version=PLATFORM.cluster.kube_version, api_versions=PLATFORM.cluster.api_versions(PLATFORM.crds()),
        )  # fmt: skip
    except (HelmError, ChartError) as e:  # the chart rejects the values: what is looked for
        return [*problems, str(e)]
    return problems + ["%s: %s" % (describe(o), e) for _, o in objs for e in validator().errors(o)]


def test_the_tree_values_have_no_problem():
    for src in SOURCES:
        assert values_problems(src, src.values) == [], src.chart


@pytest.mark.parametrize(
    ("chart", "path", "value", "reported"),
    [
        ("kube-prometheus-stack", ("prometheus", "prometheusSpec", "retension"), "3d", "retension"),
        ("kube-prometheus-stack", ("prometheus", "prometheusSpec", "retention"), "three days", "retention"),
        ("kube-prometheus-stack", ("grafana", "resources", "requests", "memroy"), "1Gi", "memroy"),
        (
            "kube-prometheus-stack",
            ("alertmanager", "alertmanagerSpec", "affinity", "nodeAffinity", "required"),
            {},
            "required",
        ),
        ("cert-manager", ("webhook", "replicaCount"), "1", "replicaCount"),
        ("kserve-resources", ("kserve", "controller", "deploymentModee"), "Standard", "deploymentModee"),
        ("kserve-resources", ("kserve", "controller", "resources", "requests"), "64Mi", "requests"),
    ],
)
def test_planted_values_defect_is_reported(chart, path, value, reported):
    src = _source(chart)
    values = copy.deepcopy(src.values)
    _plant(values, path, value)
    problems = values_problems(src, values)
    assert any(reported in p for p in problems), problems
