"""Every rendered object validates against the Kubernetes schemas or its CRD's schema (from
../shared/upstream/), and every chart's values against what is known of the chart. A wrong field
or a wrong type fails: the planted-defect tests below show it for each kind of schema."""

from __future__ import annotations

import collections
import copy
import functools

import pytest

from tests.helpers.charts import CHARTS, chart_key
from tests.helpers.gitops import GITOPS, chart_sources, render_all
from tests.helpers.k8s_schema import KUBERNETES_VERSION, SchemaError, SchemaValidator, describe, format_errors

OBJECTS = [(d, o) for d, objs in render_all().items() for o in objs]


@functools.cache
def validator() -> SchemaValidator:
    return SchemaValidator()


def _find(kind, name=None):
    for _, obj in OBJECTS:
        if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name):
            return copy.deepcopy(obj)
    raise LookupError("no %s %s in the tree" % (kind, name))


@pytest.mark.parametrize(
    ("directory", "obj"), OBJECTS, ids=["%s:%s" % (d.relative_to(GITOPS), describe(o)) for d, o in OBJECTS]
)
def test_object_validates(directory, obj):
    validator().check(obj)


def test_validation_summary():
    counts = collections.Counter("%s %s" % (o["apiVersion"], o["kind"]) for _, o in OBJECTS)
    v = validator()
    invalid = [describe(o) for _, o in OBJECTS if v.errors(o)]
    print(
        "\nKubernetes %s schemas + pinned CRDs: %d objects in %d directories"
        % (KUBERNETES_VERSION, len(OBJECTS), len(render_all()))
    )
    for kind, n in sorted(counts.items()):
        print("  %3d  %s" % (n, kind))
    assert not invalid
    assert {"Application", "AppProject", "InferenceService", "PrometheusRule", "PodMonitor"} <= {
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

SOURCES = chart_sources()


@pytest.mark.parametrize("src", SOURCES, ids=lambda s: "%s:%s" % (s.application, s.chart))
def test_chart_is_known_and_pinned(src):
    info = CHARTS.get(chart_key(src.repo, src.chart))
    assert info is not None, "chart %s from %s is not described in tests/helpers/charts.py" % (src.chart, src.repo)
    assert src.version == info.version, "%s pinned at %s, described at %s" % (src.chart, src.version, info.version)


def _values_errors(src):
    info = CHARTS[chart_key(src.repo, src.chart)]
    return format_errors(validator().schema_validator(info.schema).iter_errors(src.values))


@pytest.mark.parametrize("src", SOURCES, ids=lambda s: "%s:%s" % (s.application, s.chart))
def test_chart_values_validate(src):
    assert _values_errors(src) == []


def _source(chart):
    return next(s for s in SOURCES if s.chart == chart)


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
        ("cert-manager", ("webhook", "replicaCount"), "1", "webhook.replicaCount"),
        ("kserve-resources", ("kserve", "controller", "deploymentMode"), "RawDeploymentt", "deploymentMode"),
    ],
)
def test_planted_values_defect_is_reported(chart, path, value, reported):
    src = copy.deepcopy(_source(chart))
    _plant(src.values, path, value)
    errors = _values_errors(src)
    assert any(reported in e for e in errors), errors
