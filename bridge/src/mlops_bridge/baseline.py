"""Keep the served models' figures of each complete day in MLflow: the production baselines of drift analysis.

    python -m mlops_bridge.baseline [--model breast-cancer ...] [--days 3]

Run daily in the cluster (the CronJob ``production-baseline`` of gitops/platform/bridge), where Prometheus
and MLflow are reached: for each model, each complete UTC day Prometheus still holds and MLflow does not yet
have is logged to the model's production run (``collectors.production``, what the module
``mlops.hybrid.production_baseline`` runs). Prometheus from BRIDGE_PROMETHEUS_URL, MLflow from
MLFLOW_TRACKING_URI with MLFLOW_TRACKING_USERNAME / _PASSWORD, the models from BASELINE_MODELS
(comma-separated). Prints one JSON line per model; exits 1 when a model's figures could not be kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import production
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import MlopsError
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow import client as mlflow_client
from ansible_collections.mlops.hybrid.plugins.module_utils.prometheus.client import Prometheus


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mlops_bridge.baseline", description=__doc__.split("\n\n")[0])
    models = [m for m in os.environ.get("BASELINE_MODELS", "").split(",") if m.strip()]
    p.add_argument("--model", action="append", default=None, help="a model name [BASELINE_MODELS]")
    p.add_argument("--days", type=int, default=int(os.environ.get("BASELINE_DAYS", "3")), help="days looked at")
    p.add_argument("--prometheus-url", default=os.environ.get("BRIDGE_PROMETHEUS_URL"), help="[BRIDGE_PROMETHEUS_URL]")
    p.add_argument("--mlflow-uri", default=os.environ.get("MLFLOW_TRACKING_URI"), help="[MLFLOW_TRACKING_URI]")
    p.set_defaults(env_models=models)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    models = [m.strip() for m in (args.model or args.env_models)]
    if not models:
        print("error: no model named: give --model or BASELINE_MODELS", file=sys.stderr)
        return 2
    failed = 0
    try:
        production.check_days(args.days)
        prom = Prometheus(args.prometheus_url, timeout=30)
        client = mlflow_client.client_for(args.mlflow_uri)
    except MlopsError as e:
        print("error: %s" % e.msg, file=sys.stderr)
        return 2
    for model in models:
        try:
            result = production.record_days(client, prom, model, days=args.days)
        except MlopsError as e:
            failed += 1
            print(json.dumps({"model": model, "error": e.msg}), flush=True)
            continue
        print(json.dumps({"model": model, **result}, sort_keys=True), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
