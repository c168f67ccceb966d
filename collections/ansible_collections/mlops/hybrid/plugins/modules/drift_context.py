#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: drift_context
short_description: Collect a model's drift figures from MLflow and Prometheus, with a rule-based assessment
version_added: 0.1.0
description:
  - "From MLflow: the version behind O(alias) (or O(version)), its run's metrics, parameters and lineage tags, the
    accuracy of the versions registered over the last O(windows) days, the feature importances and a summary of the
    training reference logged with the run (C(training/feature_importances.json), C(training/reference.json))."
  - "From the Prometheus HTTP API: per-feature PSI (the top O(top_features)), prediction PSI, drift share, online
    accuracy and labelled feedback, the distribution of predicted classes, the confidence spread (interquartile
    range) and mean, and the traffic by hour."
  - "Then a deterministic assessment: the hypothesis (data drift, concept drift, marginal, possible decay), the
    affected features weighted by importance, the urgency - V(P0) accuracy below O(min_accuracy) with at least
    O(min_feedback) labels, V(P1) drift confirmed without accuracy loss, V(P2) marginal - and the action the drift
    flow takes (V(retrain), V(issue), V(slack)). The action never depends on a language model's answer."
  - Only reads. Bounds what it reads (versions, artifact sizes, features) and replaces secrets in what it returns.
  - The collection lives in C(module_utils/collectors/model_drift.py) and the rules in
    C(module_utils/collectors/drift_policy.py), so that the alert bridge runs the same code.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.mlflow
  - mlops.hybrid.attributes.read_only
options:
  model_name:
    description: Registered model name in MLflow, and the C(model_name) label of its metrics.
    type: str
    required: true
  alias:
    description: Alias of the version served.
    type: str
    default: champion
  version:
    description: Version to read instead of O(alias).
    type: int
  namespace:
    description: C(namespace) label to select the metrics with, when several namespaces serve the model.
    type: str
  prometheus_url:
    description: Base URL of Prometheus. Falls back to E(PROMETHEUS_URL).
    type: str
    required: true
  prometheus_token:
    description: Bearer token for Prometheus, when it sits behind an authenticating proxy.
    type: str
  request_timeout:
    description: Seconds to wait for each request to MLflow (E(MLFLOW_HTTP_REQUEST_TIMEOUT)) and to Prometheus.
  windows:
    description: Days over which the accuracy of registered versions is summarised.
    type: list
    elements: int
    default: [7, 14, 30]
  psi_threshold:
    description: PSI at or above which a feature (or the prediction distribution) has drifted.
    type: float
    default: 0.2
  moderate_psi:
    description: PSI at or above which a feature has moved moderately (marginal drift).
    type: float
    default: 0.1
  min_accuracy:
    description: Accuracy gate; online accuracy below it (with O(min_feedback) labels) is urgency V(P0).
    type: float
    default: 0.85
  min_feedback:
    description: Labelled predictions needed before the online accuracy counts.
    type: int
    default: 50
  max_confidence_iqr:
    description:
      - Spread (interquartile range) of the prediction confidence above which the model is unsure, as the
        C(ModelConfidenceVarianceHigh) alert has it. With stable inputs that is urgency V(P2) with an investigation.
    type: float
    default: 0.2
  top_features:
    description: Features with the highest PSI returned.
    type: int
    default: 10
  max_versions:
    description: Registered versions read at most for the history.
    type: int
    default: 100
  confidence_window:
    description: PromQL range of the confidence spread.
    type: str
    default: 15m
  traffic_hours:
    description: Hours of traffic by hour returned.
    type: int
    default: 24
requirements:
  - mlflow
  - requests
"""

EXAMPLES = r"""
- name: Gather the drift figures of the served model
  mlops.hybrid.drift_context:
    model_name: breast-cancer
    prometheus_url: http://prometheus-operated.monitoring:9090
    tracking_uri: http://mlflow.mlflow:5000
  register: drift

- name: Retrain at P0 (the rule, not the model, decides)
  ansible.builtin.debug:
    msg: "{{ drift.assessment.hypothesis }} -> {{ drift.assessment.action }}"
"""

RETURN = r"""
model:
  description: The registered version (C(name), C(version), C(alias), C(run_id)), its C(metrics), C(params),
    C(lineage) tags, accuracy C(history) per window, C(feature_importances) and C(reference) summary.
  returned: always
  type: dict
serving:
  description: Online figures from Prometheus - C(feature_psi), C(drift_share), C(prediction_psi), C(accuracy),
    C(feedback), C(predictions_by_class), C(prediction_share), C(confidence_iqr), C(confidence_mean),
    C(traffic_by_hour), C(payload) (per feature, the most drifted and those with missing values first - C(mean)
    and C(stddev) of the live window beside C(training_mean) and C(training_stddev), C(shift_sd) the shift of
    the mean in training deviations, C(missing_share) the share of instances refused for a missing value in
    C(payload_window), the last traffic_hours or, without traffic in them, since the server started),
    C(served_version).
  returned: always
  type: dict
assessment:
  description: C(drift_type), C(hypothesis), C(urgency) (P0-P2), C(action) (retrain, issue, slack),
    C(affected_features) (feature, psi, importance), C(missing_features) (features with refused instances),
    C(figures) and C(summary).
  returned: always
  type: dict
report:
  description: The assessment as a report in the form M(mlops.hybrid.llm_analyze) returns (summary, root causes,
    urgency), for when no model is asked.
  returned: always
  type: dict
text:
  description: The figures as plain lines, to give to M(mlops.hybrid.llm_analyze).
  returned: always
  type: str
prometheus_url:
  description: The Prometheus queried.
  returned: always
  type: str
redactions:
  description: Secrets replaced in what is returned, per kind (never the values).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.mlops.hybrid.plugins.module_utils.args import MLFLOW_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors import model_drift as collector
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow.client import (
    HAS_MLFLOW,
    MLFLOW_IMPORT_ERROR,
    client_for,
    configure_from_params,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    return spec(
        MLFLOW_ARG_SPEC,
        model_name=dict(type="str", required=True),
        alias=dict(type="str", default="champion"),
        version=dict(type="int"),
        namespace=dict(type="str"),
        prometheus_url=dict(type="str", required=True, fallback=(env_fallback, ["PROMETHEUS_URL"])),
        prometheus_token=dict(type="str", no_log=True),
        windows=dict(type="list", elements="int", default=[7, 14, 30]),
        psi_threshold=dict(type="float", default=0.2),
        moderate_psi=dict(type="float", default=0.1),
        min_accuracy=dict(type="float", default=0.85),
        min_feedback=dict(type="int", default=50),
        max_confidence_iqr=dict(type="float", default=0.2),
        top_features=dict(type="int", default=10),
        max_versions=dict(type="int", default=100),
        confidence_window=dict(type="str", default="15m"),
        traffic_hours=dict(type="int", default=24),
    )


def execute(module):
    p = module.params
    uri = configure_from_params(p)
    drift = options(
        collector.DriftOptions,
        p,
        windows=tuple(p["windows"]),
        timeout=p["request_timeout"],
        secrets=(p["password"], p["token"], p["prometheus_token"]),
    )
    return collector.collect_drift_context(client_for(uri), drift)


def main():
    run_module(argspec(), execute, requires=(("mlflow", HAS_MLFLOW, MLFLOW_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
