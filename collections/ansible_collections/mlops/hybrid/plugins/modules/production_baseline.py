#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: production_baseline
short_description: Keep a served model's daily figures in MLflow, the production baselines of its drift analysis
version_added: 0.1.0
description:
  - For each complete UTC day of the last O(days) that Prometheus holds traffic for and that is not logged yet,
    reads the model's served figures of that day - mean online accuracy, predictions, labelled feedback, highest
    drift share, mean confidence and the version served - and logs them as metrics of the model's production run
    in MLflow (run C(production/<model_name>) of the experiment C(<model_name>-production), created on first use;
    the day's number since 1970-01-01 is the step).
  - Prometheus keeps 3 days on this cluster; the production run keeps six numbers a day (about 1 KB a day, 30 KB for
    30 days), which is what M(mlops.hybrid.drift_context) reads as the 7, 14 and 30 day production baselines.
  - Run it daily (a day already logged is left as it is, so running it more often changes nothing); a day missed is
    filled in while Prometheus still holds it.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.mlflow
options:
  model_name:
    description: Registered model name, and the C(model_name) label of its metrics.
    type: str
    required: true
  namespace:
    description: The C(namespace) label of its metrics, when several namespaces serve the same name.
    type: str
  prometheus_url:
    description: Prometheus base URL. Read from E(PROMETHEUS_URL) when not set.
    type: str
    required: true
  prometheus_token:
    description: Bearer token for Prometheus.
    type: str
  days:
    description: Complete days before today looked at (1 to 30; what Prometheus retains is what can be read).
    type: int
    default: 3
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads Prometheus and MLflow and reports the days it would log; logs nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: none
requirements:
  - mlflow
  - requests
"""

EXAMPLES = r"""
- name: Keep yesterday's (and any missed day's) served figures
  mlops.hybrid.production_baseline:
    model_name: breast-cancer
    prometheus_url: http://kps-prometheus.monitoring:9090
    tracking_uri: http://mlflow.mlflow:5000
  register: baseline

- name: Show the 7-day production baseline
  ansible.builtin.debug:
    msg: "{{ baseline.baselines['7d'] }}"
"""

RETURN = r"""
run_id:
  description: The model's production run in MLflow, or null when there is none yet (nothing recorded, or check mode).
  returned: always
  type: str
recorded:
  description: The days logged (in check mode, that would be), each with C(day) (YYYY-MM-DD) and its C(figures).
  returned: always
  type: list
  elements: dict
already:
  description: Days that were logged before.
  returned: always
  type: list
  elements: str
without_traffic:
  description: Days Prometheus holds no predictions for (nothing is logged for them).
  returned: always
  type: list
  elements: str
baselines:
  description: Per window (C(7d), C(14d), C(30d)) the C(days) logged in it, C(accuracy_mean), C(accuracy_min),
    C(predictions_per_day), C(drift_share_max), C(confidence_mean) and the C(versions) served.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.mlops.hybrid.plugins.module_utils.args import MLFLOW_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import production
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.common import redacted
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow.client import (
    HAS_MLFLOW,
    MLFLOW_IMPORT_ERROR,
    client_for,
    configure_from_params,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.prometheus.client import Prometheus
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import run_module


def argspec():
    return spec(
        MLFLOW_ARG_SPEC,
        model_name=dict(type="str", required=True),
        namespace=dict(type="str"),
        prometheus_url=dict(type="str", required=True, fallback=(env_fallback, ["PROMETHEUS_URL"])),
        prometheus_token=dict(type="str", no_log=True),
        days=dict(type="int", default=3),
    )


def execute(module):
    p = module.params
    prom = Prometheus(p["prometheus_url"], timeout=p["request_timeout"], token=p["prometheus_token"])
    client = client_for(configure_from_params(p))
    result = production.record_days(
        client, prom, p["model_name"], days=p["days"], namespace=p["namespace"], check_mode=module.check_mode
    )
    result["baselines"] = production.baselines(client, p["model_name"])
    return redacted(result, [p["password"], p["token"], p["prometheus_token"]])


def main():
    run_module(argspec(), execute, requires=(("mlflow", HAS_MLFLOW, MLFLOW_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
