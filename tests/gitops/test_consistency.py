"""Names that must agree across files: the model's pods and what scrapes and alerts on them, the
bridge's Service and what Alertmanager calls, the token Secret both mount."""

from __future__ import annotations

from urllib.parse import urlsplit

from sandbox.gitops import (
    GITOPS,
    alertmanager_config_from_gitops,
    chart_sources,
    prometheus_rules_from_gitops,
    render,
)


def _by_kind(directory):
    out = {}
    for obj in render(GITOPS / directory):
        out.setdefault(obj["kind"], []).append(obj)
    return out


def test_podmonitor_scrapes_the_predictor_container():
    objs = _by_kind("models/breast-cancer")
    (isvc,), (monitor,) = objs["InferenceService"], objs["PodMonitor"]
    (container,) = isvc["spec"]["predictor"]["containers"]
    assert monitor["spec"]["selector"]["matchLabels"] == {
        "serving.kserve.io/inferenceservice": isvc["metadata"]["name"]
    }
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    (port,) = [p for p in container["ports"] if p["name"] == endpoint["port"]]
    annotations = isvc["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port["containerPort"])
    assert annotations["prometheus.io/path"] == endpoint["path"] == "/metrics"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MODEL_PORT"] == str(port["containerPort"])
    assert env["MODEL_NAME"] == isvc["metadata"]["name"]


def test_pod_alerts_select_the_predictor_container_and_namespace():
    (isvc,) = _by_kind("models/breast-cancer")["InferenceService"]
    (container,) = isvc["spec"]["predictor"]["containers"]
    exprs = {
        r["alert"]: r["expr"] for g in prometheus_rules_from_gitops()["groups"] for r in g["rules"] if "alert" in r
    }
    for name in ("ModelPodCrashLooping", "ModelPodOOMKilled"):
        assert 'container="%s"' % container["name"] in exprs[name]
        assert 'namespace="%s"' % isvc["metadata"]["namespace"] in exprs[name]
        assert '"(.+)-predictor-.+"' in exprs[name]


def test_alertmanager_calls_the_bridge_service_with_the_secret_the_bridge_mounts():
    objs = _by_kind("platform/bridge")
    (service,), (deployment,) = objs["Service"], objs["Deployment"]
    hooks = [h for r in alertmanager_config_from_gitops()["receivers"] for h in r.get("webhook_configs", [])]
    assert len(hooks) == 2
    (port,) = service["spec"]["ports"]
    for hook in hooks:
        url = urlsplit(hook["url"])
        assert url.hostname == "%s.%s.svc.cluster.local" % (
            service["metadata"]["name"],
            service["metadata"]["namespace"],
        )
        assert url.port == port["port"]
    (monitoring,) = [s for s in chart_sources() if s.chart == "kube-prometheus-stack"]
    (am_secret,) = monitoring.values["alertmanager"]["alertmanagerSpec"]["secrets"]
    mounted = {v["secret"]["secretName"] for v in deployment["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert am_secret in mounted
    for hook in hooks:
        assert hook["http_config"]["authorization"]["credentials_file"].startswith(
            "/etc/alertmanager/secrets/%s/" % am_secret
        )


def test_bridge_reaches_prometheus_by_the_chart_service_name():
    (deployment,) = _by_kind("platform/bridge")["Deployment"]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    (monitoring,) = [s for s in chart_sources() if s.chart == "kube-prometheus-stack"]
    url = urlsplit(env["BRIDGE_PROMETHEUS_URL"])
    assert url.hostname == "%s-prometheus.monitoring.svc" % monitoring.values["fullnameOverride"]
    assert url.port == 9090


def _monitoring_values():
    (monitoring,) = [s for s in chart_sources() if s.chart == "kube-prometheus-stack"]
    return monitoring.values


def test_components_k3s_runs_in_its_own_process_are_not_scraped_nor_alerted_on():
    # k3s embeds controller-manager, scheduler, proxy and etcd: no endpoint to scrape, so their
    # "down" alerts would fire forever if the chart's targets and rule groups stayed on.
    values = _monitoring_values()
    for component in ("kubeControllerManager", "kubeScheduler", "kubeProxy", "kubeEtcd"):
        assert values[component]["enabled"] is False, component
    rules = values["defaultRules"]["rules"]
    for group in ("etcd", "kubeControllerManager", "kubeSchedulerAlerting", "kubeSchedulerRecording", "kubeProxy"):
        assert rules[group] is False, group


def test_short_retention_and_selectors_open_to_the_tree():
    spec = _monitoring_values()["prometheus"]["prometheusSpec"]
    assert spec["retention"] in {"1d", "2d", "3d", "4d", "5d", "6d", "7d"}
    for key in ("ruleSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues"):
        assert spec[key] is False, "the model's %s would be ignored" % key


def test_dashboard_configmap_carries_the_sidecar_label():
    sidecar = _monitoring_values()["grafana"]["sidecar"]["dashboards"]
    (cm,) = _by_kind("platform/monitoring")["ConfigMap"]
    assert cm["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
    assert cm["metadata"]["annotations"][sidecar["folderAnnotation"]] == "Models"
