"""Evaluate a trained model on the held-out split, with the accuracy gate.

    mlops-model-evaluate --model artifacts/ [--min-accuracy 0.85] [--output metrics.json]
    python -m mlops_model.evaluate --model models:/breast-cancer@champion

Exit status 0 when every gated metric passes, 4 with one line naming the metric, its value
and the threshold when one does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from mlops_model import artifacts
from mlops_model.data import load_split
from mlops_model.errors import GateFailed, InvalidInput, ModelError

__all__ = ["DEFAULT_MIN_ACCURACY", "check_gate", "compute_metrics", "main", "run_gated"]

DEFAULT_MIN_ACCURACY = 0.85


def compute_metrics(estimator, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """accuracy, precision, recall, F1 (positive class 1) and ROC AUC of ``estimator`` on (x, y)."""
    predicted = estimator.predict(x)
    scores = estimator.predict_proba(x)[:, 1]
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, scores)),
    }


def check_gate(metrics: dict[str, float], min_accuracy: float) -> None:
    """Raise GateFailed with one line naming the metric, the value and the threshold."""
    if metrics["accuracy"] < min_accuracy:
        raise GateFailed(
            f"gate failed: accuracy {metrics['accuracy']:.4f} is below the threshold {min_accuracy:.4f} "
            "(--min-accuracy)"
        )


def threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from e
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..1")
    return value


def format_metrics(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4f}" for k, v in metrics.items())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlops-model-evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model directory or MLflow URI (models:/<name>@<alias>)")
    p.add_argument("--min-accuracy", type=threshold, default=DEFAULT_MIN_ACCURACY, help="gate (default %(default)s)")
    p.add_argument("--output", type=Path, help="also write the metrics as JSON here")
    return p


def run_gated(body: Callable[[], dict[str, float]], min_accuracy: float) -> int:
    """Run ``body`` (which raises ModelError, GateFailed included) and turn the outcome into an exit status."""
    try:
        metrics = body()
    except ModelError as e:
        print(str(e), file=sys.stderr)
        return e.exit_code
    print(f"gate passed: accuracy {metrics['accuracy']:.4f} >= {min_accuracy:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def body() -> dict[str, float]:
        loaded = artifacts.load(args.model)
        split = load_split(
            seed=int(loaded.metadata.get("seed", 0)), test_size=float(loaded.metadata.get("test_size", 0.25))
        )
        if split.data_hash != loaded.metadata.get("data_hash"):
            raise InvalidInput(
                f"data hash {split.data_hash[:12]} differs from the model's"
                f" {loaded.metadata.get('data_hash', '?')[:12]}: the model was trained on other data"
            )
        metrics = compute_metrics(loaded.estimator, split.x_test, split.y_test)
        print(f"evaluate: {loaded.source} (version {loaded.version}) {format_metrics(metrics)}")
        if args.output:
            args.output.write_text(json.dumps(metrics, indent=1) + "\n")
        check_gate(metrics, args.min_accuracy)
        return metrics

    return run_gated(body, args.min_accuracy)


if __name__ == "__main__":
    sys.exit(main())
