"""Labelled feedback kept for retraining: the store on the worker, its export, and its reading.

    mlops-model-feedback export --url http://breast-cancer-predictor.models:8080 [--output feedback.csv]
    python -m mlops_model.feedback export ... (with MLFLOW_TRACKING_URI set: also logged to MLflow)

The server, started with ``--feedback-dir DIR`` (MODEL_FEEDBACK_DIR), appends every labelled
prediction to ``DIR/feedback.csv``: one CSV row per instance with the time (Unix seconds), the
model version that predicted, the request id, the predicted class index, the true class index and
the 30 feature values it predicted on. The store is capped by rows (``--feedback-max-rows``,
default 50,000) and by age (``--feedback-max-days``, default 30): older rows and the oldest rows
over the cap are dropped when the file is next written. A row of this data set takes about 270
bytes (600 with 30 full-precision floats, at most about 850 with long request ids), so the
default cap holds about 14 MB and at most 43 MB.

``GET /v1/models/<name>:feedback`` answers the kept rows as CSV. ``export`` fetches it, checks it,
writes it to ``--output`` and, with MLFLOW_TRACKING_URI set, logs it as an MLflow dataset in the
experiment ``--experiment`` (default ``breast-cancer-feedback``), the file under ``feedback/``; it
prints the file's URI (``runs:/<run id>/feedback/feedback.csv``), which is what
``mlops-model-train --feedback`` (and the model pipeline's ``feedback`` input) takes.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlops_model import artifacts
from mlops_model.errors import ArtifactError, InvalidInput, ModelError

__all__ = [
    "DEFAULT_MAX_DAYS",
    "DEFAULT_MAX_ROWS",
    "FEEDBACK_FILE",
    "META_COLUMNS",
    "Feedback",
    "FeedbackStore",
    "export",
    "main",
    "read_feedback",
]

FEEDBACK_FILE = "feedback.csv"
MLFLOW_FEEDBACK_PATH = "feedback"
DEFAULT_EXPERIMENT = "breast-cancer-feedback"
DEFAULT_MAX_ROWS = 50_000
DEFAULT_MAX_DAYS = 30.0
META_COLUMNS = ["time", "model_version", "request_id", "prediction", "label"]
# The file is rewritten (pruned) once it holds this share of rows over the cap, so that appending
# stays a plain append between two rewrites.
SLACK = 0.1


class FeedbackStore:
    """A bounded CSV of labelled predictions in one directory (the server's ``--feedback-dir``)."""

    def __init__(self, directory: Path, feature_names: list[str], max_rows: int = DEFAULT_MAX_ROWS,
                 max_days: float = DEFAULT_MAX_DAYS):  # fmt: skip
        if max_rows < 1 or max_days <= 0:
            raise InvalidInput(f"the feedback store needs max rows >= 1 and max days > 0, got {max_rows}, {max_days}")
        self.path = Path(directory) / FEEDBACK_FILE
        self.header = META_COLUMNS + list(feature_names)
        self.max_rows = max_rows
        self.max_age = max_days * 86400.0
        self._lock = threading.Lock()
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
            self._rows = self._prune(self._read(), time.time())
            self._rewrite(self._rows)
        except OSError as e:
            raise InvalidInput(f"feedback directory {directory} is not writable ({e}): mount a volume there") from e

    def _read(self) -> list[list[str]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as f:
            lines = list(csv.reader(f))
        if not lines or lines[0] != self.header:
            # Another model's rows (other features): set them aside rather than mix them in.
            self.path.rename(self.path.with_suffix(f".{int(time.time())}.csv"))
            return []
        return lines[1:]

    def _prune(self, rows: list[list[str]], now: float) -> list[list[str]]:
        rows = [r for r in rows if float(r[0]) >= now - self.max_age]
        return rows[-self.max_rows :]

    def _rewrite(self, rows: list[list[str]]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".feedback-", dir=self.path.parent)
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.header)
            writer.writerows(rows)
        os.replace(tmp, self.path)

    def append(self, request_id: str, version: str, rows: np.ndarray, predicted: np.ndarray,
               labels: np.ndarray) -> int:  # fmt: skip
        """Keep one labelled request (one CSV row per instance); returns the rows now kept."""
        now = time.time()
        new = [
            [f"{now:.3f}", version, request_id, str(int(p)), str(int(y)), *map(repr, map(float, x))]
            for x, p, y in zip(rows, predicted, labels, strict=True)
        ]
        with self._lock:
            self._rows.extend(new)
            oldest = float(self._rows[0][0])
            if len(self._rows) > self.max_rows * (1 + SLACK) or oldest < now - self.max_age:
                self._rows = self._prune(self._rows, now)
                self._rewrite(self._rows)
            else:
                with self.path.open("a", newline="") as f:
                    csv.writer(f).writerows(new)
            return len(self._rows)

    def export(self) -> bytes:
        """The kept rows (within the caps as of now) as CSV with its header."""
        with self._lock:
            rows = self._prune(self._rows, time.time())
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.header)
        writer.writerows(rows)
        return out.getvalue().encode()


@dataclass(frozen=True)
class Feedback:
    """Kept feedback read back for training: features, true labels, and where they came from."""

    x: np.ndarray
    y: np.ndarray
    source: str
    frame: object  # the pandas DataFrame as read


def _local_copy(source: str, tmp: str) -> Path:
    if "://" not in source and not source.startswith(("runs:/", "models:/")):
        return Path(source)
    try:
        import mlflow  # noqa: PLC0415 (heavy, and only needed for MLflow URIs)
        from mlflow.exceptions import MlflowException  # noqa: PLC0415
    except ImportError as e:
        raise ArtifactError("reading feedback from an MLflow URI needs the mlflow package") from e
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=tmp))
    except MlflowException as e:
        raise InvalidInput(f"cannot download feedback {source}: {e.message}") from e
    return local / FEEDBACK_FILE if local.is_dir() else local


def read_feedback(source: str, feature_names: list[str], classes: int) -> Feedback:
    """Read an exported feedback file (a path or an MLflow artifact URI); bad content is refused."""
    import pandas as pd  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="mlops-feedback-") as tmp:
        path = _local_copy(source, tmp)
        try:
            frame = pd.read_csv(path)
        except FileNotFoundError as e:
            raise InvalidInput(f"feedback file {source} does not exist: pass an export of mlops-model-feedback") from e
        except (ValueError, pd.errors.ParserError) as e:
            raise InvalidInput(f"feedback file {source} is not CSV ({e})") from e
    missing = [c for c in ["label", *feature_names] if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"feedback file {source} lacks the columns {missing[:3]}: is it an mlops-model-feedback export?"
        )
    if frame.empty:
        raise InvalidInput(f"feedback file {source} holds no rows: there is nothing to retrain on")
    x = frame[feature_names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    y = pd.to_numeric(frame["label"], errors="coerce").to_numpy()
    if not np.isfinite(x).all():
        raise InvalidInput(f"feedback file {source} has empty or non-numeric feature values")
    if not np.isin(y, np.arange(classes)).all():
        raise InvalidInput(f"feedback file {source} has labels outside 0..{classes - 1}")
    return Feedback(x=x, y=y.astype(np.int64), source=source, frame=frame)


def _fetch(url: str, name: str) -> bytes:
    import requests  # noqa: PLC0415

    endpoint = f"{url.rstrip('/')}/v1/models/{name}:feedback"
    try:
        r = requests.get(endpoint, timeout=60)
    except requests.RequestException as e:
        raise InvalidInput(f"cannot reach the model server at {endpoint}: {e}") from e
    if r.status_code != 200:
        raise InvalidInput(f"{endpoint} answered {r.status_code}: {r.text[:200]}")
    return r.content


def log_dataset(path: Path, experiment: str, source: str) -> str:
    """Log an exported file as an MLflow dataset (context ``feedback``); returns its artifact URI."""
    import mlflow  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    frame = pd.read_csv(path)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="feedback-export") as run:
        dataset = mlflow.data.from_pandas(frame, source=source, name=experiment, targets="label")
        mlflow.log_input(dataset, context="feedback")
        mlflow.log_params({"feedback_rows": len(frame), "feedback_source": source})
        mlflow.log_artifact(str(path), artifact_path=MLFLOW_FEEDBACK_PATH)
    return f"runs:/{run.info.run_id}/{MLFLOW_FEEDBACK_PATH}/{path.name}"


def export(url: str, name: str, output: Path, experiment: str) -> tuple[int, str]:
    """Fetch the server's kept rows into ``output``; log them to MLflow when a tracking URI is set."""
    body = _fetch(url, name)
    header = body.split(b"\n", 1)[0].decode(errors="replace").strip()
    if not header.startswith(",".join(META_COLUMNS)):
        raise InvalidInput(f"{url} answered something that is not a feedback export (first line {header[:80]!r})")
    rows = max(body.count(b"\n") - 1, 0)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(body)
    if not os.environ.get(artifacts.ENV_TRACKING_URI):
        return rows, str(output)
    if rows == 0:
        raise InvalidInput(f"{url} keeps no labelled feedback yet: nothing to log")
    return rows, log_dataset(output, experiment, f"{url.rstrip('/')}/v1/models/{name}:feedback")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlops-model-feedback", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="fetch the kept feedback from a server (and log it to MLflow)")
    e.add_argument("--url", required=True, help="the model server's base URL")
    e.add_argument("--name", default="breast-cancer", help="model name in the URLs (default %(default)s)")
    e.add_argument("--output", type=Path, default=Path(FEEDBACK_FILE), help="file to write (default %(default)s)")
    e.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="MLflow experiment (default %(default)s)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        rows, uri = export(args.url, args.name, args.output, args.experiment)
    except ModelError as e:
        print(f"mlops-model-feedback: {e}", file=sys.stderr)
        return e.exit_code
    print(f"mlops-model-feedback: {rows} labelled rows from {args.url} in {uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
