"""Train the classifier, evaluate it on the held-out split and apply the accuracy gate.

    mlops-model-train --output-dir artifacts/ [--min-accuracy 0.85] [--seed 42]
    python -m mlops_model.train ...

Always writes the model directory (see mlops_model.artifacts). With MLFLOW_TRACKING_URI set it
also logs params, metrics, the model (signature and input example), feature importances and the
training reference to an MLflow run, and prints the run id and model URI. Exit status 4 with one
line naming the metric, its value and the threshold when the gate fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlops_model import __version__, artifacts
from mlops_model.data import DATASET, DEFAULT_SEED, DEFAULT_TEST_SIZE, Split, load_split
from mlops_model.drift import DEFAULT_BINS
from mlops_model.errors import GateFailed
from mlops_model.evaluate import (
    DEFAULT_MIN_ACCURACY,
    check_gate,
    compute_metrics,
    format_metrics,
    run_gated,
    threshold,
)
from mlops_model.reference import build_reference

__all__ = ["build_estimator", "main", "train"]

DEFAULT_EXPERIMENT = "breast-cancer"


def build_estimator(seed: int, c: float, max_iter: int) -> Pipeline:
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=c, max_iter=max_iter, random_state=seed)),
        ]
    )


def feature_importances(estimator: Pipeline, names: list[str]) -> dict[str, float]:
    """|coefficient| on standardised features, normalised to sum to 1, largest first."""
    weights = np.abs(estimator.named_steps["classify"].coef_).sum(axis=0)
    weights = weights / weights.sum()
    return dict(sorted(zip(names, (float(w) for w in weights), strict=True), key=lambda kv: -kv[1]))


def train(args: argparse.Namespace) -> tuple[dict[str, float], Path, dict]:
    split = load_split(seed=args.seed, test_size=args.test_size)
    estimator = build_estimator(args.seed, args.c, args.max_iter).fit(split.x_train, split.y_train)
    metrics = compute_metrics(estimator, split.x_test, split.y_test)
    params = {
        "dataset": DATASET,
        "seed": args.seed,
        "test_size": args.test_size,
        "estimator": "StandardScaler+LogisticRegression",
        "C": args.c,
        "max_iter": args.max_iter,
        "drift_bins": args.bins,
        "train_rows": int(split.x_train.shape[0]),
        "test_rows": int(split.x_test.shape[0]),
    }
    out = write_directory(args.output_dir, estimator, split, metrics, params, args.bins)
    return metrics, out, params


def write_directory(out: Path, estimator: Pipeline, split: Split, metrics: dict, params: dict, bins: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, out / artifacts.MODEL_FILE)
    build_reference(split.x_train, split.y_train, split.feature_names, split.class_names, bins).save(out)
    artifacts.write_json(out / "metrics.json", metrics)
    artifacts.write_json(out / "feature_importances.json", feature_importances(estimator, split.feature_names))
    artifacts.write_json(
        out / artifacts.METADATA_FILE,
        {
            **params,
            "data_hash": split.data_hash,
            "feature_names": split.feature_names,
            "class_names": split.class_names,
            "package_version": __version__,
            "revision": artifacts.revision(),
        },
    )
    return out


def log_to_mlflow(out: Path, metrics: dict, params: dict, experiment: str, gate_passed: bool) -> tuple[str, str]:
    """Log one run; returns (run id, model URI)."""
    import mlflow  # noqa: PLC0415 (heavy, and only needed with a tracking server)
    import mlflow.sklearn  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    metadata = artifacts.read_json(out / artifacts.METADATA_FILE)
    estimator = joblib.load(out / artifacts.MODEL_FILE)
    split = load_split(seed=params["seed"], test_size=params["test_size"])
    example = pd.DataFrame(split.x_train[:5], columns=split.feature_names)
    signature = mlflow.models.infer_signature(example, estimator.predict_proba(split.x_train[:5]))
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(
            {
                "data_hash": metadata["data_hash"],
                "git_sha": metadata["revision"],
                "gate": "passed" if gate_passed else "failed",
            }
        )
        # MLflow checks the input example against the model with a DataFrame; the pipeline is fitted
        # on arrays (the server's fast path), so scikit-learn would warn about feature names.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="X has feature names", category=UserWarning)
            info = mlflow.sklearn.log_model(
                estimator,
                name=artifacts.MLFLOW_MODEL_NAME,
                signature=signature,
                input_example=example,
                serialization_format="pickle",
            )
        mlflow.log_artifacts(str(out), artifact_path=artifacts.MLFLOW_ARTIFACT_PATH)
    return run.info.run_id, info.model_uri


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlops-model-train", description=__doc__.split("\n\n")[0])
    p.add_argument("--output-dir", type=Path, default=Path("artifacts"), help="model directory (default %(default)s)")
    p.add_argument("--min-accuracy", type=threshold, default=DEFAULT_MIN_ACCURACY, help="gate (default %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--test-size", type=float, default=DEFAULT_TEST_SIZE)
    p.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength (default %(default)s)")
    p.add_argument("--max-iter", type=int, default=1000)
    p.add_argument("--bins", type=int, default=DEFAULT_BINS, help="drift reference bins per feature")
    p.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="MLflow experiment (default %(default)s)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def body() -> dict[str, float]:
        metrics, out, params = train(args)
        print(f"train: {format_metrics(metrics)}")
        print(f"train: wrote {out} (data hash {artifacts.read_json(out / artifacts.METADATA_FILE)['data_hash'][:12]})")
        gate_error = None
        try:
            check_gate(metrics, args.min_accuracy)
        except GateFailed as e:
            gate_error = e
        if os.environ.get(artifacts.ENV_TRACKING_URI):
            run_id, uri = log_to_mlflow(out, metrics, params, args.experiment, gate_error is None)
            print(f"train: mlflow run {run_id} model {uri}")
        if gate_error is not None:
            raise gate_error
        return metrics

    return run_gated(body, args.min_accuracy)


if __name__ == "__main__":
    sys.exit(main())
