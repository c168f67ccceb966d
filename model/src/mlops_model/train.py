"""Train the classifier, evaluate it on the held-out split and apply the accuracy gate.

    mlops-model-train --output-dir artifacts/ [--min-accuracy 0.85] [--seed 42]
    mlops-model-train --feedback runs:/<run id>/feedback/feedback.csv [--feedback-holdout 0.3]
    python -m mlops_model.train ...

Always writes the model directory (see mlops_model.artifacts). With MLFLOW_TRACKING_URI set it
also logs params, metrics, the training data set (an MLflow dataset, context ``training``), the
model (signature and input example), feature importances and the training reference to an MLflow
run, and prints the run id and model URI. Exit status 4 with one line naming the metric, its value
and the threshold when the gate fails.

``--feedback`` (a file or an MLflow URI, as ``mlops-model-feedback export`` wrote it) adds labelled
production traffic: a share of it (``--feedback-holdout``, default 0.3, drawn with the seed) is held
out, the rest is trained on with the reference training split. The gate stays on ``accuracy`` over
the reference test split, the same rows for every version, so that a retrain cannot pass by
forgetting the population the model was built for; ``feedback_accuracy`` over the held-out
feedback, rows the model never saw, says how it does on today's traffic. The drift reference is
built from all the rows trained on, so the served traffic becomes the new normal.
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
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlops_model import __version__, artifacts
from mlops_model.data import DATASET, DEFAULT_SEED, DEFAULT_TEST_SIZE, Split, content_hash, load_split
from mlops_model.drift import DEFAULT_BINS
from mlops_model.errors import GateFailed, InvalidInput
from mlops_model.evaluate import (
    DEFAULT_MIN_ACCURACY,
    check_gate,
    compute_metrics,
    format_metrics,
    run_gated,
    threshold,
)
from mlops_model.feedback import Feedback, read_feedback
from mlops_model.reference import build_reference

__all__ = ["build_estimator", "main", "train"]

DEFAULT_EXPERIMENT = "breast-cancer"
DEFAULT_FEEDBACK_HOLDOUT = 0.3
TARGET = "target"


class TrainingData:
    """The rows a model is fitted on: the reference training split, plus the feedback trained on."""

    def __init__(self, split: Split, feedback: Feedback | None, holdout: float, seed: int):
        self.split = split
        self.feedback = feedback
        self.x, self.y = split.x_train, split.y_train
        self.x_holdout = self.y_holdout = None
        if feedback is None:
            return
        if holdout > 0:
            fit, held = _holdout(feedback, holdout, seed)
            self.x_holdout, self.y_holdout = feedback.x[held], feedback.y[held]
        else:
            fit = np.arange(len(feedback.y))
        self.x = np.vstack([split.x_train, feedback.x[fit]])
        self.y = np.concatenate([split.y_train, feedback.y[fit]])

    @property
    def feedback_rows(self) -> int:
        return 0 if self.feedback is None else len(self.feedback.y)

    def frame(self):
        """The rows trained on as a DataFrame (features and ``target``), for MLflow's dataset."""
        import pandas as pd  # noqa: PLC0415

        frame = pd.DataFrame(self.x, columns=self.split.feature_names)
        frame[TARGET] = self.y
        return frame


def _holdout(feedback: Feedback, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(len(feedback.y))
    held = round(len(index) * share)
    if held < 1 or held >= len(index):
        raise InvalidInput(
            f"{len(index)} feedback rows cannot be split with --feedback-holdout {share}: "
            "send more labelled feedback or change the share (0 trains on all of it)"
        )
    counts = np.bincount(feedback.y)
    stratify = feedback.y if counts[counts > 0].min() >= 2 else None
    return train_test_split(index, test_size=held, random_state=seed, stratify=stratify)


def share(text: str) -> float:
    value = threshold(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"{value} holds out all the feedback: use a share below 1")
    return value


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


def train(args: argparse.Namespace) -> tuple[dict[str, float], Path, dict, TrainingData]:
    split = load_split(seed=args.seed, test_size=args.test_size)
    feedback = read_feedback(args.feedback, split.feature_names, len(split.class_names)) if args.feedback else None
    data = TrainingData(split, feedback, args.feedback_holdout, args.seed)
    estimator = build_estimator(args.seed, args.c, args.max_iter).fit(data.x, data.y)
    metrics = compute_metrics(estimator, split.x_test, split.y_test)
    if data.x_holdout is not None:
        metrics["feedback_accuracy"] = float(accuracy_score(data.y_holdout, estimator.predict(data.x_holdout)))
    params = {
        "dataset": DATASET,
        "seed": args.seed,
        "test_size": args.test_size,
        "estimator": "StandardScaler+LogisticRegression",
        "C": args.c,
        "max_iter": args.max_iter,
        "drift_bins": args.bins,
        "train_rows": int(data.x.shape[0]),
        "test_rows": int(split.x_test.shape[0]),
        "feedback": args.feedback or "none",
        "feedback_rows": data.feedback_rows,
        "feedback_train_rows": int(data.x.shape[0] - split.x_train.shape[0]),
        "feedback_holdout_rows": 0 if data.y_holdout is None else len(data.y_holdout),
    }
    out = write_directory(args.output_dir, estimator, data, metrics, params, args.bins)
    return metrics, out, params, data


def write_directory(out: Path, estimator: Pipeline, data: TrainingData, metrics: dict, params: dict,
                    bins: int) -> Path:  # fmt: skip
    split = data.split
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, out / artifacts.MODEL_FILE)
    build_reference(data.x, data.y, split.feature_names, split.class_names, bins).save(out)
    artifacts.write_json(out / "metrics.json", metrics)
    artifacts.write_json(out / "feature_importances.json", feature_importances(estimator, split.feature_names))
    artifacts.write_json(
        out / artifacts.METADATA_FILE,
        {
            **params,
            "data_hash": split.data_hash,
            "training_hash": content_hash(data.x, data.y, split.feature_names),
            "feature_names": split.feature_names,
            "class_names": split.class_names,
            "package_version": __version__,
            "revision": artifacts.revision(),
        },
    )
    return out


def log_to_mlflow(out: Path, metrics: dict, params: dict, experiment: str, gate_passed: bool,
                  data: TrainingData) -> tuple[str, str]:  # fmt: skip
    """Log one run; returns (run id, model URI)."""
    import mlflow  # noqa: PLC0415 (heavy, and only needed with a tracking server)
    import mlflow.sklearn  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    metadata = artifacts.read_json(out / artifacts.METADATA_FILE)
    estimator = joblib.load(out / artifacts.MODEL_FILE)
    split = data.split
    example = pd.DataFrame(split.x_train[:5], columns=split.feature_names)
    signature = mlflow.models.infer_signature(example, estimator.predict_proba(split.x_train[:5]))
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.log_params(params)
        # The rows trained on, as a dataset version: its digest changes with the feedback it holds.
        dataset = mlflow.data.from_pandas(data.frame(), name=f"{experiment}-training", targets=TARGET)
        mlflow.log_input(dataset, context="training")
        mlflow.log_metrics(metrics)
        mlflow.set_tags(
            {
                "data_hash": metadata["data_hash"],
                "training_hash": metadata["training_hash"],
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
    p.add_argument("--feedback", default="", help="labelled feedback to train on too: a file or MLflow URI")
    p.add_argument(
        "--feedback-holdout",
        type=share,
        default=DEFAULT_FEEDBACK_HOLDOUT,
        help="share of the feedback held out for feedback_accuracy (default %(default)s)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def body() -> dict[str, float]:
        metrics, out, params, data = train(args)
        print(f"train: {format_metrics(metrics)}")
        if data.feedback is not None:
            print(
                f"train: feedback {params['feedback_rows']} rows from {args.feedback}:"
                f" {params['feedback_train_rows']} trained on, {params['feedback_holdout_rows']} held out"
            )
        print(f"train: wrote {out} (data hash {artifacts.read_json(out / artifacts.METADATA_FILE)['data_hash'][:12]})")
        gate_error = None
        try:
            check_gate(metrics, args.min_accuracy)
        except GateFailed as e:
            gate_error = e
        if os.environ.get(artifacts.ENV_TRACKING_URI):
            run_id, uri = log_to_mlflow(out, metrics, params, args.experiment, gate_error is None, data)
            print(f"train: mlflow run {run_id} model {uri}")
        if gate_error is not None:
            raise gate_error
        return metrics

    return run_gated(body, args.min_accuracy)


if __name__ == "__main__":
    sys.exit(main())
