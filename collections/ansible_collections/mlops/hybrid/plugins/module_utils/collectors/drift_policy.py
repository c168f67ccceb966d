# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift policy: a model's figures in, a decision out, by fixed rules (no I/O, no language model).

    decision = drift_policy.assess(training, serving, drift_policy.Thresholds(min_accuracy=0.9))
    decision["urgency"], decision["action"]   # "P0", "retrain"
    report = drift_policy.rule_report(decision, training)

``training`` and ``serving`` are what ``collectors/model_drift.py`` reads from MLflow and Prometheus.
The decision is a dict: ``drift_type``, ``hypothesis``, ``urgency`` (P0-P2), ``action`` (retrain,
issue, slack), ``affected_features`` (feature, psi, importance), ``figures`` (the reasons, as
sentences) and ``summary``. drift_context returns it as ``assessment``, the alert bridge dispatches it
as ``context.assessment`` and playbooks/drift_analysis.yml acts on its fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import report as report_mod

__all__ = ["ACTIONS", "DEFAULT_THRESHOLDS", "Thresholds", "assess", "investigation", "remediation", "rule_report"]

ACTIONS = {"P0": "retrain", "P1": "issue", "P2": "slack"}


@dataclass(frozen=True)
class Thresholds:
    """The figures the rules compare with (drift_context's options of the same names)."""

    psi_threshold: float = 0.2
    moderate_psi: float = 0.1
    min_accuracy: float = 0.85
    min_feedback: int = 50
    # The spread (interquartile range) of the prediction confidence above which the model is unsure,
    # as the ModelConfidenceVarianceHigh rule has it (gitops/platform/monitoring/model-rules.yaml).
    max_confidence_iqr: float = 0.2


DEFAULT_THRESHOLDS = Thresholds()


def assess(training, serving, thresholds=DEFAULT_THRESHOLDS):
    """Hypothesis, affected features, urgency and action from the figures, by fixed rules.

    P0: online accuracy below ``min_accuracy`` with enough labelled feedback (retrain now).
    P1: drift confirmed (drift share >= 0.5 or prediction PSI >= ``psi_threshold``) without accuracy loss.
    P2: the model unsure (confidence spread above ``max_confidence_iqr``) with stable inputs, marginal drift
    (a feature at or above ``moderate_psi``) or nothing significant; P2 says what to investigate.
    A wide confidence spread is named in the hypothesis of any urgency.
    """
    psi_threshold, moderate_psi = thresholds.psi_threshold, thresholds.moderate_psi
    min_accuracy, min_feedback = thresholds.min_accuracy, thresholds.min_feedback
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
    iqr = serving.get("confidence_iqr")
    unsure = iqr is not None and iqr > thresholds.max_confidence_iqr
    if iqr is not None:
        figures.append(
            "confidence IQR %.3f (limit %.2f), mean confidence %s"
            % (iqr, thresholds.max_confidence_iqr, serving.get("confidence_mean"))
        )
    if weight is not None and drifted:
        figures.append("drifted features carry %.0f%% of the model's importance" % (weight * 100))
    lacking = missing_features(serving, figures)
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
    elif unsure:
        kind, urgency = "confidence spread", "P2"
        hypothesis = (
            "The model is unsure: the confidence spread (IQR %.3f) is above %.2f while no feature crossed the "
            "drift threshold%s. Inputs the training data covered thinly (a new segment or source) or labels "
            "changing can do this before accuracy falls."
            % (iqr, thresholds.max_confidence_iqr, "; %s moved moderately" % top if moderate else "")
        )
    elif moderate:
        kind, urgency = "marginal drift", "P2"
        hypothesis = "Marginal drift: %s moved moderately; no feature crossed the drift threshold." % top
    else:
        kind, urgency = "no significant drift", "P2"
        hypothesis = "No significant drift: every feature's PSI is below %.2f." % moderate_psi
    if unsure and kind != "confidence spread":
        hypothesis += " The model is also unsure: confidence IQR %.3f is above %.2f." % (
            iqr,
            thresholds.max_confidence_iqr,
        )
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
        "missing_features": lacking,
        "figures": figures,
        "summary": summary,
    }


def missing_features(serving, figures):
    """The features with instances refused for a missing value (most first), named in ``figures``."""
    lacking = [f for f in serving.get("payload") or [] if f.get("missing_share")]
    if lacking:
        figures.append(
            "instances refused for a missing value: %s"
            % ", ".join("%s %.1f%%" % (f["feature"], f["missing_share"] * 100) for f in lacking[:3])
        )
    return [f["feature"] for f in lacking]


def remediation(assessment, training):
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
    return investigation(assessment)


def investigation(assessment):
    """What to look at for a P2, and how: the checks that decide between noise and an early drift."""
    steps = []
    feats = [f["feature"] for f in assessment["affected_features"][:3]]
    if feats:
        steps.append(
            "compare the live distribution of %s with the training reference (drift_context's feature PSI and "
            "payload statistics, the model_feature_psi and model_feature_mean gauges)" % ", ".join(feats)
        )
    if assessment.get("missing_features"):
        steps.append(
            "find why requests lack %s (model_feature_missing_total): the upstream source or the client that "
            "builds the request" % ", ".join(assessment["missing_features"][:3])
        )
    if assessment["drift_type"] == "confidence spread":
        steps.append(
            "look at the confidence histogram (model_prediction_confidence_bucket) for a second mode of low "
            "confidence, and at which requests fall in it"
        )
    steps += [
        "check the traffic by hour (model_predictions_total) for a new source or a time-of-day pattern",
        "collect labels for the low-confidence predictions and measure their accuracy against the gate",
        "escalate to a retrain (P0) if that accuracy is below the gate, or a feature crosses the drift threshold",
    ]
    return "Investigate: " + "; ".join("(%d) %s" % (n, step) for n, step in enumerate(steps, 1)) + "."


def rule_report(assessment, training):
    """The assessment as an engine report (summary, root causes, urgency), for when no language model answers."""
    first = assessment["affected_features"][0] if assessment["affected_features"] else None
    return report_mod.validate(
        {
            "summary": assessment["summary"],
            "root_causes": [
                {
                    "cause": "%s: %s" % (assessment["drift_type"].capitalize(), assessment["hypothesis"]),
                    "evidence": "; ".join(assessment["figures"]),
                    "remediation": remediation(assessment, training),
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
