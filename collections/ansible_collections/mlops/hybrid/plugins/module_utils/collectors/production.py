# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A model's production baselines: its served figures of each day, kept in MLflow, read back for 7/14/30 days.

    record_days(mlflow, prom, "breast-cancer", days=3)            # each complete UTC day Prometheus holds
    baselines(mlflow, "breast-cancer", windows=(7, 14, 30))        # the days of the last 7, 14 and 30 days

Prometheus keeps 3 days on this cluster (its 5 GiB volume holds every series of the stack; 30 days of them
would need about ten times that). What the baselines need is a handful of numbers a day, so each complete
day's figures (``DAILY``: accuracy, predictions, labelled feedback, highest drift share, mean confidence,
and the version served) are logged as metrics of one MLflow run per model, ``production/<model>`` in the
experiment ``<model>-production``, the day's number (days since 1970-01-01 UTC) as the step. Six metric
rows a day: about 1 KB a day in MLflow's database, 30 KB for 30 days, against the 4 GB Prometheus may use.
A day already logged is not logged again, so recording is idempotent and a day missed is filled in while
Prometheus still holds it.
"""

from __future__ import annotations

import math
import time

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import client as mlflow_client
from ansible_collections.mlops.hybrid.plugins.module_utils.prometheus.client import selector

DAY = 86400
# Metric key -> PromQL over the day that ends at the query's time (%(s)s: the model's selector).
DAILY = {
    "production_accuracy": "min(avg_over_time(model_accuracy%(s)s[1d]))",
    "production_predictions": "sum(increase(model_predictions_total%(s)s[1d]))",
    "production_feedback": "sum(increase(model_feedback_total%(s)s[1d]))",
    "production_drift_share_max": "max(max_over_time(model_drift_share%(s)s[1d]))",
    "production_confidence_mean": "sum(increase(model_prediction_confidence_sum%(s)s[1d]))"
    " / sum(increase(model_prediction_confidence_count%(s)s[1d]))",
}
# Every metric of a day: the figures and the version served (a label of model_info, read by served_version).
KEYS = (*DAILY, "production_version")
RUN_TAG = "mlops.hybrid.production"


def day_number(t):
    """Days since 1970-01-01 UTC of the time ``t`` (seconds)."""
    return int(t // DAY)


def day_label(n):
    return time.strftime("%Y-%m-%d", time.gmtime(n * DAY))


def served_version(prom, sel, at):
    """The version label of model_info over the day ending at ``at`` (the last one seen), or None."""
    rows = prom.query("max by (version) (max_over_time(model_info%s[1d]))" % sel, at=at)
    versions = [labels.get("version") for labels, _v in rows if labels.get("version")]
    return max(versions, key=lambda v: (len(v), v)) if versions else None


def daily_figures(prom, model_name, day, namespace=None):
    """The served figures of the UTC day ``day`` (a day number), or None when Prometheus has no traffic for it."""
    sel = selector(model_name, namespace)
    end = (day + 1) * DAY - 0.001  # the day's last millisecond: a range selector includes both its ends
    out = {}
    for key, promql in DAILY.items():
        rows = [v for _l, v in prom.query(promql % {"s": sel}, at=end) if not math.isnan(v)]  # NaN: no data
        if rows:
            out[key] = round(rows[0], 6)
    if not out.get("production_predictions"):
        return None
    version = served_version(prom, sel, end)
    if version is not None and version.isdigit():
        out["production_version"] = int(version)
    return out


def _experiment(client, model_name, create):
    name = "%s-production" % model_name
    exp = mlflow_client.read("experiment %s" % name, client.get_experiment_by_name, name)
    if exp is None and create:
        return mlflow_client.read("experiment %s" % name, client.create_experiment, name)
    return exp.experiment_id if exp is not None else None


def production_run(client, model_name, create=False):
    """The id of the model's production run (found by its tag), created when ``create``; else None when absent."""
    exp_id = _experiment(client, model_name, create)
    if exp_id is None:
        return None
    found = mlflow_client.read(
        "the production run of %s" % model_name,
        client.search_runs,
        [exp_id],
        filter_string="tags.`%s` = '%s'" % (RUN_TAG, model_name.replace("'", "\\'")),
        max_results=1,
    )
    if found:
        return found[0].info.run_id
    if not create:
        return None
    run = mlflow_client.read(
        "a production run for %s" % model_name,
        client.create_run,
        exp_id,
        run_name="production/%s" % model_name,
        tags={RUN_TAG: model_name},
    )
    return run.info.run_id


def logged_days(client, run_id, key="production_predictions"):
    """{day number: value} of a metric of the production run."""
    history = mlflow_client.read("metric %s of run %s" % (key, run_id), client.get_metric_history, run_id, key)
    return {m.step: m.value for m in history}


def record_days(client, prom, model_name, *, days=3, namespace=None, now=None, check_mode=False):
    """Log the figures of each complete UTC day of the last ``days`` that has traffic and is not logged yet.

    Returns {changed, run_id, recorded: [{day, figures}], already: [days], without_traffic: [days]}.
    """
    check_days(days)
    from mlflow.entities import Metric  # noqa: PLC0415 (mlflow is checked by the module)

    today = day_number(now or time.time())
    run_id = production_run(client, model_name, create=False)
    done = logged_days(client, run_id) if run_id else {}
    recorded, already, quiet = [], [], []
    for day in range(today - days, today):
        if day in done:
            already.append(day_label(day))
            continue
        figures = daily_figures(prom, model_name, day, namespace)
        if figures is None:
            quiet.append(day_label(day))
            continue
        recorded.append({"day": day_label(day), "figures": figures})
        if not check_mode:
            run_id = run_id or production_run(client, model_name, create=True)
            stamp = (day + 1) * DAY * 1000 - 1
            metrics = [Metric(k, float(v), stamp, day) for k, v in sorted(figures.items())]
            mlflow_client.read("logging the figures of %s" % day_label(day), client.log_batch, run_id, metrics=metrics)
    return {
        "changed": bool(recorded),
        "run_id": run_id,
        "recorded": recorded,
        "already": already,
        "without_traffic": quiet,
    }


def baselines(client, model_name, windows=(7, 14, 30), now=None):
    """Per window (``"7d"``...): the days logged in it and their figures (mean and lowest accuracy, predictions
    a day, highest drift share, mean confidence, versions served), from the production run; {} without one."""
    run_id = production_run(client, model_name, create=False)
    if run_id is None:
        return {}
    by_key = {key: logged_days(client, run_id, key) for key in KEYS}
    today = day_number(now or time.time())
    out = {}
    for width in windows:
        days = sorted(d for d in by_key["production_predictions"] if today - width <= d < today)

        def values(key, days=days):
            return [by_key[key][d] for d in days if d in by_key[key]]

        acc, preds = values("production_accuracy"), values("production_predictions")
        drift, conf = values("production_drift_share_max"), values("production_confidence_mean")
        out["%dd" % width] = {
            "days": len(days),
            "accuracy_mean": round(sum(acc) / len(acc), 4) if acc else None,
            "accuracy_min": round(min(acc), 4) if acc else None,
            "predictions_per_day": round(sum(preds) / len(preds), 1) if preds else None,
            "drift_share_max": round(max(drift), 4) if drift else None,
            "confidence_mean": round(sum(conf) / len(conf), 4) if conf else None,
            "versions": sorted({int(v) for v in values("production_version")}),
        }
    return out


def check_days(days):
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 30:
        raise InvalidInput("days must be an integer from 1 to 30 (Prometheus keeps 3 days here), got %r" % (days,))
    return days
