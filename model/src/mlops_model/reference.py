"""The training reference: what "normal" inputs and predictions look like, for drift.

Per-feature interior bin edges (equal-frequency on the training data) and the training
proportions in those bins, each feature's training mean and standard deviation, plus the class
proportions. The server loads it to compute PSI of a
sliding window of live traffic; the drift analysis reads the same file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlops_model.drift import DEFAULT_BINS, bin_counts, proportions, quantile_edges
from mlops_model.errors import ArtifactError

__all__ = ["REFERENCE_FILE", "Reference", "build_reference"]

REFERENCE_FILE = "reference.json"
SCHEMA = 1


@dataclass(frozen=True)
class Reference:
    feature_names: list[str]
    class_names: list[str]
    edges: np.ndarray  # features x (bins - 1)
    feature_proportions: np.ndarray  # features x bins
    class_proportions: np.ndarray  # classes
    rows: int
    # Training mean and standard deviation per feature; None in a reference written before they were kept.
    feature_mean: np.ndarray | None = None
    feature_std: np.ndarray | None = None

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "rows": self.rows,
            "feature_names": self.feature_names,
            "class_names": self.class_names,
            "bins": int(self.edges.shape[1] + 1),
            "edges": self.edges.tolist(),
            "feature_proportions": self.feature_proportions.tolist(),
            "class_proportions": self.class_proportions.tolist(),
            **({} if self.feature_mean is None else {"feature_mean": self.feature_mean.tolist()}),
            **({} if self.feature_std is None else {"feature_std": self.feature_std.tolist()}),
        }

    def save(self, directory: Path) -> Path:
        path = Path(directory) / REFERENCE_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Reference:
        path = Path(path)
        if path.is_dir():
            path = path / REFERENCE_FILE
        try:
            doc = json.loads(path.read_text())
            ref = cls(
                feature_names=list(doc["feature_names"]),
                class_names=list(doc["class_names"]),
                edges=np.asarray(doc["edges"], dtype=np.float64),
                feature_proportions=np.asarray(doc["feature_proportions"], dtype=np.float64),
                class_proportions=np.asarray(doc["class_proportions"], dtype=np.float64),
                rows=int(doc["rows"]),
                feature_mean=_optional(doc, "feature_mean"),
                feature_std=_optional(doc, "feature_std"),
            )
        except FileNotFoundError as e:
            raise ArtifactError(f"no training reference at {path}: train the model again (it writes one)") from e
        except (KeyError, TypeError, ValueError) as e:
            raise ArtifactError(f"training reference {path} is malformed ({e}): train the model again") from e
        features = len(ref.feature_names)
        stats = [a for a in (ref.feature_mean, ref.feature_std) if a is not None]
        if (
            ref.edges.shape[0] != features
            or ref.feature_proportions.shape != (features, ref.edges.shape[1] + 1)
            or any(a.shape != (features,) for a in stats)
        ):
            raise ArtifactError(f"training reference {path} has inconsistent shapes: train the model again")
        return ref


def _optional(doc: dict, key: str) -> np.ndarray | None:
    return None if doc.get(key) is None else np.asarray(doc[key], dtype=np.float64)


def build_reference(
    x_train: np.ndarray,
    y_train: np.ndarray,
    feature_names: list[str],
    class_names: list[str],
    bins: int = DEFAULT_BINS,
) -> Reference:
    edges = quantile_edges(x_train, bins)
    classes = np.bincount(np.asarray(y_train, dtype=np.intp), minlength=len(class_names))
    return Reference(
        feature_names=list(feature_names),
        class_names=list(class_names),
        edges=edges,
        feature_proportions=proportions(bin_counts(x_train, edges)),
        class_proportions=proportions(classes),
        rows=int(x_train.shape[0]),
        feature_mean=np.asarray(x_train, dtype=np.float64).mean(axis=0),
        feature_std=np.asarray(x_train, dtype=np.float64).std(axis=0),
    )
