"""Context of an alert, gathered where the data lives and redacted before it leaves the cluster.

The collection's collectors do the work (one implementation, shared with the Ansible modules
``pod_context`` and ``drift_context``):

- operational alerts (``route == "operational"``): the pod named by the alert's ``namespace`` and
  ``pod`` labels, or else the first pod of the InferenceService ``model_name`` (label
  ``serving.kserve.io/inferenceservice``), read with the ServiceAccount (logs of the current and the
  previous container, events, statuses, limits); and the model's serving figures from Prometheus
  (p95 latency, request rate, share of slow predictions).
- ArgoCD alerts (labels ``name`` and ``project``, as ArgoCD's metrics carry them: ArgoCDAppSyncFailed,
  ArgoCDAppDegraded, ArgoCDAppOutOfSync): the Application read with the ServiceAccount (sync and health
  status, conditions, the last operation with each resource's result) and the events of the
  Application and of the resources that failed to sync or are unhealthy.
- drift alerts: ``drift_context``'s collector: the champion's training figures from MLflow
  (MLFLOW_TRACKING_URI, credentials from MLFLOW_TRACKING_USERNAME / _PASSWORD), the serving figures
  from Prometheus, and the rule-based assessment (urgency, action, hypothesis, affected features),
  dispatched as ``context.assessment``: the drift workflow acts on it without reaching the cluster.
  An MLflow that cannot be read leaves the training side unknown (a note says why) and the rules
  still assess from Prometheus; without Prometheus there is no assessment.

Every source is optional: what cannot be read becomes a note in the context, never a lost alert.
Everything returned, the alert's own labels and annotations included, goes through the
collection's redaction.
"""

from __future__ import annotations

import logging
from typing import Any

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.redact import merge_counts, redact_obj
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import argocd, model_drift, pod
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import MlopsError
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import client as mlflow_client
from ansible_collections.mlops.hybrid.plugins.module_utils.prometheus.client import Prometheus, selector

from .config import Settings

__all__ = ["ContextGatherer", "redact_alert"]

LOG = logging.getLogger("mlops_bridge.context")
ISVC_LABEL = "serving.kserve.io/inferenceservice"
POD_TAIL_LINES = 100
POD_LOG_BYTES = 16 * 1024
POD_EVENTS = 20
APP_RESOURCES = 10  # failing resources of an Application whose events are read
# The affected features listed in the dispatched assessment (the text lists the top PSIs as well).
ASSESSMENT_FEATURES = 5


def redact_alert(alert: dict[str, Any], secrets: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, int]]:
    """The alert with every label and annotation value redacted, and the counts per kind."""
    return redact_obj(alert, extra=[s for s in secrets if s])


def _selector(labels: dict[str, str]) -> str:
    return selector(labels["model_name"], labels.get("namespace"))


class ContextGatherer:
    """Gathers and redacts the context of one spooled alert; clients are created once, lazily."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._core_v1 = None
        self._kube_error: str | None = None
        self._mlflow = None
        self.secrets = (settings.token, settings.github_token)

    # -- clients ---------------------------------------------------------------------------------
    def core_v1(self):
        if self.settings.kubernetes == "off":
            raise MlopsError("Kubernetes context is off (BRIDGE_KUBERNETES=off)")
        if self._core_v1 is None and self._kube_error is None:
            try:
                self._core_v1 = pod.core_v1_api(kubeconfig=self.settings.kubeconfig)
            except MlopsError as e:
                self._kube_error = str(e)
        if self._core_v1 is None:
            raise MlopsError(self._kube_error)
        return self._core_v1

    def prometheus(self) -> Prometheus:
        if not self.settings.prometheus_url:
            raise MlopsError("no Prometheus configured (BRIDGE_PROMETHEUS_URL)")
        return Prometheus(self.settings.prometheus_url, timeout=self.settings.context_timeout)

    # -- sources ---------------------------------------------------------------------------------
    def _pod_name(self, labels: dict[str, str]) -> tuple[str, str] | None:
        namespace = labels.get("namespace")
        if not namespace:
            return None
        if labels.get("pod"):
            return namespace, labels["pod"]
        if not labels.get("model_name"):
            return None
        pods = self.core_v1().list_namespaced_pod(
            namespace,
            label_selector="%s=%s" % (ISVC_LABEL, labels["model_name"]),
            limit=10,
            _request_timeout=self.settings.context_timeout,
        )
        items = sorted(pods.items or [], key=lambda p: p.metadata.name)
        if not items:
            raise MlopsError("no pod labelled %s=%s in %s" % (ISVC_LABEL, labels["model_name"], namespace))
        troubled = [
            p for p in items if any(not s.ready or s.restart_count for s in (p.status.container_statuses or []))
        ]
        return namespace, (troubled or items)[0].metadata.name

    def pod_text(self, labels: dict[str, str]) -> tuple[str, dict[str, Any]] | None:
        target = self._pod_name(labels)
        if target is None:
            return None
        ctx = pod.collect_pod_context(
            self.core_v1(),
            target[0],
            target[1],
            container=labels.get("container"),
            tail_lines=POD_TAIL_LINES,
            max_log_bytes=POD_LOG_BYTES,
            max_events=POD_EVENTS,
            timeout=self.settings.context_timeout,
            secrets=self.secrets,
        )
        return ctx["text"], {"redactions": ctx["redactions"]}

    def application_text(self, labels: dict[str, str]) -> tuple[str, dict[str, Any]] | None:
        target = argocd.application_of(labels)
        if target is None:
            return None
        ctx = argocd.collect_application_context(
            self.core_v1(),
            target[0],
            target[1],
            max_resources=APP_RESOURCES,
            max_events=POD_EVENTS,
            timeout=self.settings.context_timeout,
            secrets=self.secrets,
        )
        return ctx["text"], {"redactions": ctx["redactions"]}

    def serving_text(self, labels: dict[str, str]) -> str | None:
        if not labels.get("model_name"):
            return None
        prom = self.prometheus()
        sel = _selector(labels)
        queries = {
            "p95 prediction latency (s, 5m)": (
                "histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket%s[5m])))" % sel
            ),
            "predictions per second (5m)": "sum(rate(request_predict_seconds_count%s[5m]))" % sel,
            "share of predictions slower than 500 ms (5m)": "max(model:request_predict_slow:ratio_rate5m%s)" % sel,
        }
        lines = ["Prometheus (%s), model %s:" % (prom.url, labels["model_name"])]
        for what, promql in queries.items():
            value = prom.one(promql)
            lines.append("  %s: %s" % (what, "no data" if value is None else "%.4g" % value))
        return "\n".join(lines)

    def mlflow(self):
        if self._mlflow is None:
            self._mlflow = mlflow_client.client_for(self.settings.mlflow_uri)
        return self._mlflow

    def drift_text(self, labels: dict[str, str]) -> tuple[str, dict[str, Any]]:
        if not labels.get("model_name"):
            raise MlopsError("the drift alert has no model_name label")
        prom = self.prometheus()  # no Prometheus, no figures to assess
        notes = []
        client = None
        if self.settings.mlflow_uri:
            try:
                client = self.mlflow()
            except MlopsError as e:
                notes.append("mlflow: not read (%s)" % e)
        else:
            notes.append("mlflow: not read (no MLFLOW_TRACKING_URI)")
        ctx = model_drift.collect_drift_context(
            client,
            model_drift.DriftOptions(
                model_name=labels["model_name"],
                prometheus_url=prom.url,
                namespace=labels.get("namespace"),
                timeout=self.settings.context_timeout,
                secrets=self.secrets,
                mlflow_optional=True,
            ),
        )
        if ctx["model"].get("unread") and client is not None:
            notes.append("mlflow: not read (%s)" % ctx["model"]["unread"])
        a = ctx["assessment"]
        assessment = {
            **{k: a[k] for k in ("drift_type", "urgency", "action", "hypothesis", "figures")},
            "affected_features": a["affected_features"][:ASSESSMENT_FEATURES],
            "model": ctx["model"]["name"],
            "version": ctx["model"]["version"],
        }
        more = {"redactions": ctx["redactions"], "assessment": assessment, "report": ctx["report"], "notes": notes}
        return ctx["text"], more

    # -- the whole context -----------------------------------------------------------------------
    def gather(self, route: str, labels: dict[str, str]) -> dict[str, Any]:
        """``{"text", "sources", "notes", "redactions", "assessment"?, "report"?}`` for one alert; never raises."""
        parts: list[str] = []
        sources: list[str] = []
        notes: list[str] = []
        extra: dict[str, Any] = {}
        earlier: list[dict[str, int]] = []  # what the collectors already redacted

        def attempt(name: str, fn) -> None:
            try:
                out = fn()
            except (MlopsError, OSError, ValueError, KeyError) as e:
                notes.append("%s: not gathered (%s)" % (name, str(e)[:300]))
                LOG.warning("context %s for %s not gathered: %s", name, labels.get("alertname"), e)
                return
            except Exception as e:  # the kubernetes client raises its own ApiException and urllib3 errors
                notes.append("%s: not gathered (%s: %s)" % (name, type(e).__name__, str(e)[:200]))
                LOG.warning("context %s for %s not gathered: %r", name, labels.get("alertname"), e)
                return
            if out is None:
                return
            if isinstance(out, tuple):
                out, more = out
                earlier.append(more.get("redactions") or {})
                notes.extend(more.get("notes") or [])
                extra.update({k: more[k] for k in ("assessment", "report") if more.get(k)})
            parts.append(out)
            sources.append(name)

        if route == "drift":
            attempt("drift", lambda: self.drift_text(labels))
        else:
            attempt("prometheus", lambda: self.serving_text(labels))
            if self.settings.kubernetes != "off":
                attempt("pod", lambda: self.pod_text(labels))
                attempt("argocd", lambda: self.application_text(labels))
        text = "\n\n".join(parts)
        if len(text) > self.settings.context_max_chars:
            keep = self.settings.context_max_chars
            text = text[: keep // 4] + "\n[... cut ...]\n" + text[-(keep - keep // 4) :]
        ctx, counts = redact_obj(
            {"text": text, "sources": sources, "notes": notes, **extra}, extra=[s for s in self.secrets if s]
        )
        ctx["redactions"] = dict(sorted(merge_counts(counts, *earlier).items()))
        return ctx
