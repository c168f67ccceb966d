# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Context of a model's drift: MLflow (what was trained) and Prometheus (what is served), read-only.

    client = mlflow_registry.client_for(uri)
    ctx = drift.collect_drift_context(client, "http://prometheus:9090", "breast-cancer")

From MLflow: the version behind the alias (or a given version), its run's metrics, parameters and
lineage tags, the accuracy of the versions registered over the last 7/14/30 days, the feature
importances and a summary of the training reference logged with the run (with ``mlflow_optional``,
an MLflow that cannot be read leaves these unknown and says so, and the rules still assess). From the Prometheus HTTP
API: per-feature PSI (top N), prediction PSI, drift share, online accuracy and feedback count, the
distribution of predicted classes, the confidence spread (interquartile range, as the alert rule
computes it) and the traffic by hour. Then a deterministic assessment (hypothesis, affected features
weighted by importance, urgency P0-P2 and the action the flow takes), the figures as text for the
analysis, and an engine report built from them for when no model is asked. Everything is redacted.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time

from ..aiops import report as report_mod
from ..errors import InvalidInput, MissingDependency, OperationTimeout, RemoteError
from .common import positive, redacted

try:
    import requests

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

try:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    HAS_MLFLOW = True
except ImportError:
    HAS_MLFLOW = False

    class MlflowException(Exception):
        """Placeholder so that ``except MlflowException`` works without mlflow."""


ARTIFACT_DIR = "training"
IMPORTANCES = "feature_importances.json"
REFERENCE = "reference.json"
MAX_ARTIFACT_BYTES = 4 * 1024 * 1024
DEFAULT_WINDOWS = (7, 14, 30)
ACTIONS = {"P0": "retrain", "P1": "issue", "P2": "slack"}


# -- Prometheus ---------------------------------------------------------------------------------


class Prometheus:
    """GET-only client of the Prometheus HTTP API (``/api/v1/query`` and ``/api/v1/query_range``)."""

    def __init__(self, url, timeout=30, session=None, headers=None):
        if not HAS_REQUESTS:
            raise MissingDependency("requests")
        if not url or not url.startswith(("http://", "https://")):
            raise InvalidInput("prometheus_url must be an http(s):// URL, got %r" % (url,))
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.headers = headers or {}

    def _get(self, path, params):
        try:
            r = self.session.get(self.url + path, params=params, headers=self.headers, timeout=self.timeout)
        except requests.Timeout as e:
            raise OperationTimeout("Prometheus at %s did not answer within %ss" % (self.url, self.timeout)) from e
        except requests.RequestException as e:
            raise RemoteError(
                "cannot reach Prometheus at %s (%s): check prometheus_url" % (self.url, type(e).__name__)
            ) from e
        try:
            doc = r.json()
        except ValueError as e:
            raise RemoteError("Prometheus at %s answered %s with no JSON" % (self.url, r.status_code)) from e
        if r.status_code != 200 or doc.get("status") != "success":
            raise RemoteError(
                "Prometheus refused %s: %s %s" % (params.get("query"), doc.get("errorType"), doc.get("error"))
            )
        return doc["data"]

    def query(self, promql, at=None):
        """[(labels, value)] of an instant vector (or a scalar as one unlabelled sample)."""
        params = {"query": promql}
        if at is not None:
            params["time"] = "%.3f" % at
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(s["metric"], float(s["value"][1])) for s in data["result"]]

    def one(self, promql):
        values = [v for _l, v in self.query(promql) if not math.isnan(v)]
        return values[0] if values else None

    def query_range(self, promql, start, end, step):
        data = self._get("/api/v1/query_range", {"query": promql, "start": start, "end": end, "step": step})
        return [(s["metric"], [(float(t), float(v)) for t, v in s["values"]]) for s in data["result"]]


def _selector(model_name, namespace=None):
    sel = 'model_name="%s"' % model_name.replace("\\", "\\\\").replace('"', '\\"')
    if namespace:
        sel += ',namespace="%s"' % namespace.replace('"', '\\"')
    return "{%s}" % sel


def _confidence(prom, sel, over):
    """(75th percentile, 25th percentile, mean) of the prediction confidence; ``over`` wraps each series."""
    bucket = over % ("model_prediction_confidence_bucket%s" % sel)
    q = "histogram_quantile(%s, sum by (le) (" + bucket + "))"
    q75, q25 = prom.one(q % "0.75"), prom.one(q % "0.25")
    mean = prom.one(
        "sum(%s) / sum(%s)"
        % (over % ("model_prediction_confidence_sum%s" % sel), over % ("model_prediction_confidence_count%s" % sel))
    )
    return q75, q25, mean


def serving_figures(prom, model_name, namespace=None, top_features=10, window="15m", traffic_hours=24, now=None):
    """The online figures of one model, read from Prometheus (``top_features=None``: every feature's PSI)."""
    sel = _selector(model_name, namespace)
    psi = sorted(
        ((labels.get("feature", "?"), v) for labels, v in prom.query("model_feature_psi%s" % sel) if not math.isnan(v)),
        key=lambda kv: -kv[1],
    )
    share = prom.one("max(model_drift_share%s)" % sel)
    if not psi and share is None:
        raise InvalidInput(
            "Prometheus at %s has no model_feature_psi or model_drift_share series for %s: check model_name "
            "(and namespace) and that Prometheus scrapes the model server" % (prom.url, sel)
        )
    classes = {
        labels.get("class", "?"): v for labels, v in prom.query("sum by (class) (model_predictions_total%s)" % sel)
    }
    total = sum(classes.values())
    q75, q25, mean_conf = _confidence(prom, sel, "rate(%%s[%s])" % window)
    if q75 is None:  # no traffic inside the window (or too few scrapes yet): the totals since the start
        q75, q25, mean_conf = _confidence(prom, sel, "%s")
        window = "since the server started"
    end = now or time.time()
    traffic = []
    for _labels, values in prom.query_range(
        "sum(increase(model_predictions_total%s[1h]))" % sel, end - traffic_hours * 3600, end, 3600
    ):
        traffic = [
            {"hour": time.strftime("%Y-%m-%dT%H:00Z", time.gmtime(t)), "predictions": round(v, 1)} for t, v in values
        ]
    info = prom.query("model_info%s" % sel)
    return {
        "feature_psi": [{"feature": f, "psi": round(v, 4)} for f, v in psi[:top_features]],
        "features_observed": len(psi),
        "drift_share": share,
        "prediction_psi": prom.one("max(model_prediction_psi%s)" % sel),
        "accuracy": prom.one("min(model_accuracy%s)" % sel),
        "feedback": prom.one("sum(model_feedback_total%s)" % sel),
        "predictions_by_class": {k: int(v) for k, v in sorted(classes.items())},
        "prediction_share": {k: round(v / total, 4) for k, v in sorted(classes.items())} if total else {},
        "confidence_iqr": round(q75 - q25, 4) if q75 is not None and q25 is not None else None,
        "confidence_mean": round(mean_conf, 4) if mean_conf is not None else None,
        "confidence_window": window,
        "traffic_by_hour": traffic,
        "served_version": info[0][0].get("version") if info else None,
    }


# -- MLflow -------------------------------------------------------------------------------------


def registry_client(tracking_uri):
    """An MLflow client of ``tracking_uri`` (tracking and registry); ``mlflow-skinny`` is enough.

    Credentials, TLS and bounded waits come from the variables the client reads on each request
    (MLFLOW_TRACKING_USERNAME / _PASSWORD or _TOKEN, MLFLOW_HTTP_REQUEST_TIMEOUT, ...).
    """
    if not HAS_MLFLOW:
        raise MissingDependency("mlflow-skinny")
    if not tracking_uri:
        raise InvalidInput("no MLflow tracking URI given (MLFLOW_TRACKING_URI)")
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _mlflow(what, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except MlflowException as e:
        code = getattr(e, "error_code", "")
        if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
            raise InvalidInput("MLflow has no %s: %s" % (what, getattr(e, "message", e)), {"error_code": code}) from e
        raise RemoteError("MLflow failed to read %s: %s" % (what, str(getattr(e, "message", e))[:400])) from e


def _artifact_json(client, run_id, name, workdir):
    path = "%s/%s" % (ARTIFACT_DIR, name)
    listed = {a.path: a for a in _mlflow("artifacts of run %s" % run_id, client.list_artifacts, run_id, ARTIFACT_DIR)}
    entry = listed.get(path)
    if entry is None:
        return None
    if (entry.file_size or 0) > MAX_ARTIFACT_BYTES:
        raise InvalidInput("artifact %s of run %s is larger than %d bytes" % (path, run_id, MAX_ARTIFACT_BYTES))
    local = _mlflow("artifact %s" % path, client.download_artifacts, run_id, path, workdir)
    with open(local, encoding="utf-8") as f:
        return json.load(f)


def _reference_summary(ref):
    if not ref:
        return None
    return {
        "rows": ref.get("rows"),
        "features": len(ref.get("feature_names", [])),
        "bins": ref.get("bins"),
        "class_proportions": dict(
            zip(ref.get("class_names", []), [round(p, 4) for p in ref.get("class_proportions", [])], strict=False)
        ),
    }


def training_figures(client, model_name, alias=None, version=None, windows=DEFAULT_WINDOWS, max_versions=100, now=None):
    """The registered version, its run and the accuracy history of the versions of the last days."""
    if version is not None:
        mv = _mlflow(
            "version %s of model %r" % (version, model_name), client.get_model_version, model_name, str(version)
        )
    else:
        mv = _mlflow(
            "alias %r of model %r (register the model and set the alias, or give version)" % (alias, model_name),
            client.get_model_version_by_alias,
            model_name,
            alias,
        )
    run = _mlflow("run %s" % mv.run_id, client.get_run, mv.run_id)
    now_ms = (now or time.time()) * 1000
    versions = _mlflow(
        "versions of model %r" % model_name,
        client.search_model_versions,
        "name='%s'" % model_name.replace("'", "\\'"),
        max_results=max_versions,
    )
    points = []
    for v in versions:
        acc = None
        if v.run_id:
            acc = _mlflow("run %s" % v.run_id, client.get_run, v.run_id).data.metrics.get("accuracy")
        points.append((int(v.creation_timestamp or 0), int(v.version), acc))
    history = {}
    for days in windows:
        accs = [a for ts, _v, a in sorted(points) if a is not None and ts >= now_ms - days * 86400000]
        history["%dd" % days] = {
            "versions": len(accs),
            "min": round(min(accs), 4) if accs else None,
            "max": round(max(accs), 4) if accs else None,
            "mean": round(sum(accs) / len(accs), 4) if accs else None,
            "first": round(accs[0], 4) if accs else None,
            "last": round(accs[-1], 4) if accs else None,
        }
    workdir = tempfile.mkdtemp(prefix="drift-context-")
    try:
        importances = _artifact_json(client, mv.run_id, IMPORTANCES, workdir) or {}
        reference = _artifact_json(client, mv.run_id, REFERENCE, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    tags = run.data.tags
    return {
        "name": model_name,
        "version": int(mv.version),
        "alias": alias if version is None else None,
        "run_id": mv.run_id,
        "metrics": {k: round(v, 4) for k, v in sorted(run.data.metrics.items())},
        "params": dict(sorted(run.data.params.items())),
        "lineage": {k: tags[k] for k in ("git_sha", "data_hash", "gate") if k in tags},
        "history": history,
        "feature_importances": {k: round(float(v), 4) for k, v in importances.items()},
        "reference": _reference_summary(reference),
    }


def unread_training(model_name, alias, served_version, reason):
    """What is known of the training side when MLflow could not be read: its name and the served version."""
    return {
        "name": model_name,
        "version": served_version or "unknown",
        "alias": alias,
        "run_id": None,
        "metrics": {},
        "params": {},
        "lineage": {},
        "history": {},
        "feature_importances": {},
        "reference": None,
        "unread": reason,
    }


# -- assessment ---------------------------------------------------------------------------------


def assess(training, serving, psi_threshold=0.2, moderate_psi=0.1, min_accuracy=0.85, min_feedback=50):
    """Hypothesis, affected features, urgency and action from the figures, by fixed rules.

    P0: online accuracy below ``min_accuracy`` with enough labelled feedback (retrain now).
    P1: drift confirmed (drift share >= 0.5 or prediction PSI >= ``psi_threshold``) without accuracy loss.
    P2: marginal (a feature at or above ``moderate_psi``) or nothing significant.
    """
    imp = training.get("feature_importances") or {}
    drifted = [f for f in serving["feature_psi"] if f["psi"] >= psi_threshold]
    moderate = [f for f in serving["feature_psi"] if moderate_psi <= f["psi"] < psi_threshold]
    affected = sorted(
        ({"feature": f["feature"], "psi": f["psi"], "importance": imp.get(f["feature"])} for f in drifted or moderate),
        key=lambda f: -(f["psi"] * (f["importance"] or 0.0) + f["psi"] * 1e-6),
    )
    share = serving["drift_share"] or 0.0
    pred_psi = serving["prediction_psi"] or 0.0
    acc, feedback = serving["accuracy"], serving["feedback"] or 0
    accuracy_low = acc is not None and feedback >= min_feedback and acc < min_accuracy
    input_drift = share >= 0.5 or len(drifted) > 0
    weight = round(sum(imp.get(f["feature"], 0.0) for f in drifted), 4) if imp else None
    figures = []
    if acc is not None:
        figures.append("online accuracy %.3f over %d labelled predictions (gate %.2f)" % (acc, feedback, min_accuracy))
    figures.append(
        "drift share %.2f (%d of %d features at PSI >= %.2f)"
        % (share, len(drifted), serving["features_observed"], psi_threshold)
    )
    figures.append("prediction PSI %.3f" % pred_psi)
    if weight is not None and drifted:
        figures.append("drifted features carry %.0f%% of the model's importance" % (weight * 100))
    top = ", ".join("%s (PSI %.2f)" % (f["feature"], f["psi"]) for f in affected[:3])

    if accuracy_low and input_drift:
        kind, urgency = "data drift with accuracy loss", "P0"
        hypothesis = (
            "Data drift has degraded the model: inputs moved away from the training data (%s) and accuracy "
            "fell below the gate." % (top or "several features")
        )
    elif accuracy_low:
        kind, urgency = "concept drift", "P0"
        hypothesis = (
            "Concept drift: accuracy fell below the gate while the inputs still look like the training data, "
            "so the relation between features and label changed."
        )
    elif input_drift or pred_psi >= psi_threshold:
        kind, urgency = "data drift", "P1"
        hypothesis = "Data drift without accuracy loss (yet): %s shifted%s." % (
            top or "the prediction distribution",
            ""
            if acc is not None and feedback >= min_feedback
            else "; too little labelled feedback to measure accuracy",
        )
    elif moderate:
        kind, urgency = "marginal drift", "P2"
        hypothesis = "Marginal drift: %s moved moderately; no feature crossed the drift threshold." % top
    else:
        kind, urgency = "no significant drift", "P2"
        hypothesis = "No significant drift: every feature's PSI is below %.2f." % moderate_psi
    hist = (training.get("history") or {}).get("30d") or {}
    if hist.get("versions", 0) >= 2 and hist["first"] is not None and hist["last"] < hist["first"] - 0.02:
        hypothesis += " Training accuracy also declined over 30 days (%.3f -> %.3f): possible model decay." % (
            hist["first"],
            hist["last"],
        )
    summary = "%s Figures: %s." % (hypothesis, "; ".join(figures))
    return {
        "drift_type": kind,
        "hypothesis": hypothesis,
        "urgency": urgency,
        "action": ACTIONS[urgency],
        "affected_features": affected,
        "figures": figures,
        "summary": summary,
    }


def _remediation(assessment, training):
    if assessment["urgency"] == "P0":
        return (
            "Retrain on recent labelled data (the pipeline is dispatched) and compare it with version %s before "
            "promoting; roll back to the previous champion if the new model does not pass the gate."
            % training["version"]
        )
    if assessment["urgency"] == "P1":
        return (
            "Check the upstream data for the affected features, collect labels for the shifted traffic, "
            "and plan a retrain."
        )
    return "Keep watching the drift gauges; no action needed unless the shift grows."


def text_of(training, serving, assessment):
    """The figures as plain lines: what the analysis reads as its data."""
    lines = [
        "drift detected: %s for model %s version %s"
        % (assessment["drift_type"], training["name"], training["version"]),
        "urgency by rule: %s (action %s)" % (assessment["urgency"], assessment["action"]),
        "hypothesis: %s" % assessment["hypothesis"],
    ]
    lines.append(
        "served figures: drift share %s, prediction PSI %s, accuracy %s over %s labelled predictions"
        % (serving["drift_share"], serving["prediction_psi"], serving["accuracy"], serving["feedback"])
    )
    if training.get("unread"):
        lines.append(
            "training figures: not read from MLflow (%s): importances and accuracy history unknown" % training["unread"]
        )
    lines += ["figure: %s" % f for f in assessment["figures"]]
    lines += ["psi %s %.4f" % (f["feature"], f["psi"]) for f in serving["feature_psi"]]
    lines.append("prediction share: %s" % json.dumps(serving["prediction_share"], sort_keys=True))
    lines.append("confidence IQR %s, mean %s" % (serving["confidence_iqr"], serving["confidence_mean"]))
    lines.append("training metrics: %s" % json.dumps(training["metrics"], sort_keys=True))
    lines.append("training accuracy history: %s" % json.dumps(training["history"], sort_keys=True))
    return "\n".join(lines) + "\n"


def collect_drift_context(
    mlflow_client,
    prometheus_url,
    model_name,
    alias="champion",
    version=None,
    namespace=None,
    windows=DEFAULT_WINDOWS,
    psi_threshold=0.2,
    moderate_psi=0.1,
    min_accuracy=0.85,
    min_feedback=50,
    top_features=10,
    max_versions=100,
    confidence_window="15m",
    traffic_hours=24,
    timeout=30,
    prometheus_headers=None,
    now=None,
    secrets=(),
    mlflow_optional=False,
):
    """Training and serving figures of ``model_name`` with a rule-based assessment (see ``assess``).

    ``mlflow_client`` None, or with ``mlflow_optional`` an MLflow that fails, leaves the training side
    unknown (``model.unread`` says why): the rules assess from the serving figures alone.
    """
    if not model_name:
        raise InvalidInput("model_name is required (the alert's model_name label)")
    if version is None and not alias:
        raise InvalidInput("give alias (such as champion) or version")
    positive("top_features", top_features)
    positive("max_versions", max_versions)
    positive("traffic_hours", traffic_hours)
    for d in windows:
        positive("windows", d)
    if not 0 < moderate_psi <= psi_threshold:
        raise InvalidInput("moderate_psi must be above 0 and at most psi_threshold")
    training, unread = None, "no MLflow client"
    if mlflow_client is not None:
        try:
            training = training_figures(mlflow_client, model_name, alias, version, windows, max_versions, now)
        except (InvalidInput, RemoteError, OperationTimeout) as e:
            if not mlflow_optional:
                raise
            unread = e.msg
    prom = Prometheus(prometheus_url, timeout, headers=prometheus_headers)
    # The assessment counts every feature (how many drifted, and their share of the importance);
    # only the list returned is cut to the top ``top_features``.
    serving = serving_figures(prom, model_name, namespace, None, confidence_window, traffic_hours, now)
    if training is None:
        training = unread_training(model_name, alias if version is None else None, serving["served_version"], unread)
    assessment = assess(training, serving, psi_threshold, moderate_psi, min_accuracy, min_feedback)
    serving["feature_psi"] = serving["feature_psi"][:top_features]
    first = assessment["affected_features"][0] if assessment["affected_features"] else None
    rep = report_mod.validate(
        {
            "summary": assessment["summary"],
            "root_causes": [
                {
                    "cause": "%s: %s" % (assessment["drift_type"].capitalize(), assessment["hypothesis"]),
                    "evidence": "; ".join(assessment["figures"]),
                    "remediation": _remediation(assessment, training),
                    "confidence": 0.7 if assessment["urgency"] != "P2" else 0.5,
                }
            ]
            + (
                [
                    {
                        "cause": "Most affected feature: %s" % first["feature"],
                        "evidence": "PSI %.3f, importance %s" % (first["psi"], first["importance"]),
                        "remediation": "Compare its live distribution with the training reference; check its source.",
                        "confidence": 0.5,
                    }
                ]
                if first
                else []
            ),
            "urgency": assessment["urgency"],
            "false_positive": False,
        }
    )
    ctx = {
        "model": training,
        "serving": serving,
        "assessment": assessment,
        "report": rep,
        "text": text_of(training, serving, assessment),
        "prometheus_url": prom.url,
    }
    extra = [*secrets, os.environ.get("MLFLOW_TRACKING_PASSWORD"), os.environ.get("MLFLOW_TRACKING_TOKEN")]
    return redacted(ctx, extra)
