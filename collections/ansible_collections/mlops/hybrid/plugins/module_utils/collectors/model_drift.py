# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Context of a model's drift: MLflow (what was trained) and Prometheus (what is served), read-only.

    mlflow = mlflow_client.client_for(uri)
    ctx = model_drift.collect_drift_context(
        mlflow, model_drift.DriftOptions(model_name="breast-cancer", prometheus_url="http://prometheus:9090")
    )

From MLflow: the version behind the alias (or a given version), its run's metrics, parameters and
lineage tags, the accuracy of the versions registered over the last 7/14/30 days, the production
baselines of the same windows (the daily served figures kept by ``collectors.production``), the feature
importances and a summary of the training reference logged with the run (with ``mlflow_optional``,
an MLflow that cannot be read leaves these unknown and says so, and the rules still assess). From the Prometheus HTTP
API: per-feature PSI (top N), prediction PSI, drift share, online accuracy and feedback count, the
distribution of predicted classes, the confidence spread (interquartile range, as the alert rule
computes it), the traffic by hour and the payload statistics (per feature, the live window's mean and
standard deviation beside the training data's, and the share of instances refused for a missing
value). Then the drift policy's assessment (``drift_policy.assess``:
hypothesis, affected features weighted by importance, urgency P0-P2 and the action the flow takes),
the figures as text for the analysis, and the policy's report for when no model is asked. Everything
is redacted.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import drift_policy, production
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.common import positive, redacted
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, OperationTimeout, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import client as mlflow_client
from ansible_collections.mlops.hybrid.plugins.module_utils.prometheus.client import Prometheus, selector

ARTIFACT_DIR = "training"
IMPORTANCES = "feature_importances.json"
REFERENCE = "reference.json"
MAX_ARTIFACT_BYTES = 4 * 1024 * 1024
DEFAULT_WINDOWS = (7, 14, 30)


@dataclass(frozen=True)
class DriftOptions:
    """What :func:`collect_drift_context` reads and how it judges; drift_context's options of the same names."""

    model_name: str
    prometheus_url: str | None = None
    prometheus_token: str | None = None
    alias: str | None = "champion"
    version: int | None = None
    namespace: str | None = None
    windows: tuple = DEFAULT_WINDOWS
    psi_threshold: float = 0.2
    moderate_psi: float = 0.1
    min_accuracy: float = 0.85
    min_feedback: int = 50
    max_confidence_iqr: float = 0.2
    top_features: int = 10
    max_versions: int = 100
    confidence_window: str = "15m"
    traffic_hours: int = 24
    timeout: int = 30
    now: float | None = None
    secrets: tuple = ()
    mlflow_optional: bool = False

    @property
    def thresholds(self):
        return drift_policy.Thresholds(
            psi_threshold=self.psi_threshold,
            moderate_psi=self.moderate_psi,
            min_accuracy=self.min_accuracy,
            min_feedback=self.min_feedback,
            max_confidence_iqr=self.max_confidence_iqr,
        )


# -- Prometheus ---------------------------------------------------------------------------------


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


def payload_figures(prom, sel, order, hours):
    """Per feature: live and training mean and standard deviation, the shift of the mean in training
    deviations, and the share of instances refused for a missing value over the last ``hours`` (or, when
    Prometheus saw no traffic in them, since the server started). Returns (figures, the window).

    ``order`` (feature names, the most drifted first) orders the list; a feature with missing values
    comes before those without.
    """
    stats = {}
    for metric, key in (("model_feature_mean", "mean"), ("model_feature_stddev", "stddev")):
        for labels, v in prom.query("%s%s" % (metric, sel)):
            data = labels.get("data")
            if data in ("live", "training") and not math.isnan(v):
                name = key if data == "live" else "training_%s" % key
                stats.setdefault(labels.get("feature", "?"), {})[name] = v
    window = "%dh" % hours
    missing, received = _missing_counts(prom, sel, "increase(%%s[%s])" % window)
    if not received:  # no traffic inside the window (or too few scrapes yet): the totals since the start
        missing, received = _missing_counts(prom, sel, "%s")
        window = "since the server started"
    rank = {f: i for i, f in enumerate(order)}
    out = []
    for feature in set(stats) | set(missing):
        s = stats.get(feature, {})
        mean, ref_mean, ref_sd = s.get("mean"), s.get("training_mean"), s.get("training_stddev")
        share = missing.get(feature)
        out.append(
            {
                "feature": feature,
                "mean": _round(mean),
                "training_mean": _round(ref_mean),
                "stddev": _round(s.get("stddev")),
                "training_stddev": _round(ref_sd),
                "shift_sd": _round((mean - ref_mean) / ref_sd) if None not in (mean, ref_mean) and ref_sd else None,
                "missing_share": round(share / received, 4) if share is not None and received else None,
            }
        )
    out.sort(key=lambda f: (-(f["missing_share"] or 0.0), rank.get(f["feature"], len(rank)), f["feature"]))
    return out, window


def _missing_counts(prom, sel, over):
    """({feature: instances missing it}, instances received: served plus refused); ``over`` wraps each series."""
    missing = {
        labels.get("feature", "?"): v
        for labels, v in prom.query("sum by (feature) (%s)" % (over % ("model_feature_missing_total%s" % sel)))
        if not math.isnan(v)
    }
    served = prom.one("sum(%s)" % (over % ("model_predictions_total%s" % sel)))
    refused = prom.one("sum(%s)" % (over % ("model_missing_instances_total%s" % sel)))
    return missing, (served or 0.0) + (refused or 0.0)


def _round(value):
    return None if value is None else float("%.4g" % value)


def serving_figures(prom, model_name, *, namespace=None, top_features=10, window="15m", traffic_hours=24, now=None):
    """The online figures of one model, read from Prometheus (``top_features=None``: every feature's PSI)."""
    sel = selector(model_name, namespace)
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
    payload, payload_window = payload_figures(prom, sel, [f for f, _v in psi], traffic_hours)
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
        "payload": payload,
        "payload_window": payload_window,
        "served_version": info[0][0].get("version") if info else None,
    }


# -- MLflow -------------------------------------------------------------------------------------


def _artifact_json(client, run_id, name, workdir):
    path = "%s/%s" % (ARTIFACT_DIR, name)
    listed = {
        a.path: a
        for a in mlflow_client.read("artifacts of run %s" % run_id, client.list_artifacts, run_id, ARTIFACT_DIR)
    }
    entry = listed.get(path)
    if entry is None:
        return None
    if (entry.file_size or 0) > MAX_ARTIFACT_BYTES:
        raise InvalidInput("artifact %s of run %s is larger than %d bytes" % (path, run_id, MAX_ARTIFACT_BYTES))
    local = mlflow_client.read("artifact %s" % path, client.download_artifacts, run_id, path, workdir)
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


def training_figures(
    client, model_name, *, alias=None, version=None, windows=DEFAULT_WINDOWS, max_versions=100, now=None
):
    """The registered version, its run and the accuracy history of the versions of the last days."""
    if version is not None:
        mv = mlflow_client.read(
            "version %s of model %r" % (version, model_name), client.get_model_version, model_name, str(version)
        )
    else:
        mv = mlflow_client.read(
            "alias %r of model %r (register the model and set the alias, or give version)" % (alias, model_name),
            client.get_model_version_by_alias,
            model_name,
            alias,
        )
    run = mlflow_client.read("run %s" % mv.run_id, client.get_run, mv.run_id)
    now_ms = (now or time.time()) * 1000
    versions = mlflow_client.read(
        "versions of model %r" % model_name,
        client.search_model_versions,
        "name='%s'" % model_name.replace("'", "\\'"),
        max_results=max_versions,
    )
    points = []
    for v in versions:
        acc = None
        if v.run_id:
            acc = mlflow_client.read("run %s" % v.run_id, client.get_run, v.run_id).data.metrics.get("accuracy")
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
        "production": production.baselines(client, model_name, windows, now=now),
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
        "production": {},
        "unread": reason,
    }


# -- text ---------------------------------------------------------------------------------------


def traffic_line(traffic):
    """Predictions per hour as one line (the busiest and the quietest hour named), or what is missing."""
    hours = [h for h in traffic if h.get("predictions") is not None]
    if not hours:
        return "traffic by hour: no hourly figures (Prometheus holds less than an hour)"
    busiest = max(hours, key=lambda h: h["predictions"])
    quietest = min(hours, key=lambda h: h["predictions"])
    return "traffic by hour (%d hours, predictions): %s; busiest %s (%s), quietest %s (%s)" % (
        len(hours),
        ", ".join("%s %g" % (h["hour"][11:16], h["predictions"]) for h in hours),
        busiest["hour"],
        busiest["predictions"],
        quietest["hour"],
        quietest["predictions"],
    )


def payload_lines(payload, window):
    """The payload statistics, one line per feature, or what is missing."""
    if not payload:
        return ["payload statistics: none published (a model server that keeps them exports model_feature_mean)"]
    lines = []
    for f in payload:
        parts = []
        if f["mean"] is not None:
            parts.append("mean %s (training %s, shift %s sd)" % (f["mean"], f["training_mean"], f["shift_sd"]))
            parts.append("sd %s (training %s)" % (f["stddev"], f["training_stddev"]))
        elif f["training_mean"] is not None:
            parts.append("no live window yet (training mean %s, sd %s)" % (f["training_mean"], f["training_stddev"]))
        if f["missing_share"] is not None:
            parts.append("missing %.1f%% of instances (%s)" % (f["missing_share"] * 100, window))
        lines.append("payload %s: %s" % (f["feature"], ", ".join(parts)))
    return lines


def production_line(baselines):
    """The served baselines (daily figures kept in MLflow) as one line, or what is missing."""
    kept = {k: b for k, b in (baselines or {}).items() if b.get("days")}
    if not kept:
        return "production baselines: none kept yet (mlops.hybrid.production_baseline logs each day's figures)"
    return "production baselines (daily served figures): " + "; ".join(
        "%s: accuracy mean %s (lowest %s), %s predictions a day, drift share up to %s, over %d days"
        % (k, b["accuracy_mean"], b["accuracy_min"], b["predictions_per_day"], b["drift_share_max"], b["days"])
        for k, b in kept.items()
    )


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
    lines.append(traffic_line(serving.get("traffic_by_hour") or []))
    lines += payload_lines(serving.get("payload"), serving.get("payload_window"))
    lines.append("training metrics: %s" % json.dumps(training["metrics"], sort_keys=True))
    lines.append("training accuracy history: %s" % json.dumps(training["history"], sort_keys=True))
    lines.append(production_line(training.get("production")))
    return "\n".join(lines) + "\n"


def collect_drift_context(client, options):
    """Training and serving figures of ``options.model_name`` with the policy's assessment (``drift_policy``).

    ``client`` (an MLflow client) None, or with ``options.mlflow_optional`` an MLflow that fails, leaves
    the training side unknown (``model.unread`` says why): the rules assess from the serving figures alone.
    """
    o = options
    if not o.model_name:
        raise InvalidInput("model_name is required (the alert's model_name label)")
    if o.version is None and not o.alias:
        raise InvalidInput("give alias (such as champion) or version")
    positive("top_features", o.top_features)
    positive("max_versions", o.max_versions)
    positive("traffic_hours", o.traffic_hours)
    for d in o.windows:
        positive("windows", d)
    if not 0 < o.moderate_psi <= o.psi_threshold:
        raise InvalidInput("moderate_psi must be above 0 and at most psi_threshold")
    training, unread = None, "no MLflow client"
    if client is not None:
        try:
            training = training_figures(
                client,
                o.model_name,
                alias=o.alias,
                version=o.version,
                windows=o.windows,
                max_versions=o.max_versions,
                now=o.now,
            )
        except (InvalidInput, RemoteError, OperationTimeout) as e:
            if not o.mlflow_optional:
                raise
            unread = e.msg
    prom = Prometheus(o.prometheus_url, timeout=o.timeout, token=o.prometheus_token)
    # The assessment counts every feature (how many drifted, and their share of the importance);
    # only the list returned is cut to the top ``top_features``.
    serving = serving_figures(
        prom,
        o.model_name,
        namespace=o.namespace,
        top_features=None,
        window=o.confidence_window,
        traffic_hours=o.traffic_hours,
        now=o.now,
    )
    if training is None:
        training = unread_training(
            o.model_name, o.alias if o.version is None else None, serving["served_version"], unread
        )
    assessment = drift_policy.assess(training, serving, o.thresholds)
    serving["feature_psi"] = serving["feature_psi"][: o.top_features]
    serving["payload"] = serving["payload"][: o.top_features]
    ctx = {
        "model": training,
        "serving": serving,
        "assessment": assessment,
        "report": drift_policy.rule_report(assessment, training),
        "text": text_of(training, serving, assessment),
        "prometheus_url": prom.url,
    }
    extra = [*o.secrets, os.environ.get("MLFLOW_TRACKING_PASSWORD"), os.environ.get("MLFLOW_TRACKING_TOKEN")]
    return redacted(ctx, extra)
