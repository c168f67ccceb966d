"""The data set: scikit-learn's breast cancer Wisconsin (diagnostic), shipped with the library,
split with a fixed seed, and a content hash that identifies exactly what the model saw."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

__all__ = ["DATASET", "DEFAULT_SEED", "DEFAULT_TEST_SIZE", "Split", "content_hash", "load_split"]

DATASET = "sklearn.datasets.load_breast_cancer"
DEFAULT_SEED = 42
DEFAULT_TEST_SIZE = 0.25


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    data_hash: str


def content_hash(x: np.ndarray, y: np.ndarray, feature_names: list[str]) -> str:
    """sha256 of the feature names, the shapes and the little-endian float64/int64 bytes."""
    h = hashlib.sha256()
    h.update("\x1f".join(feature_names).encode())
    h.update(repr((x.shape, y.shape)).encode())
    h.update(np.ascontiguousarray(x, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    return h.hexdigest()


def load_split(seed: int = DEFAULT_SEED, test_size: float = DEFAULT_TEST_SIZE) -> Split:
    """The whole data set hashed, then a stratified train/test split with ``seed``."""
    bunch = load_breast_cancer()
    x = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    names = [str(n) for n in bunch.feature_names]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return Split(
        x_train=x_train,
        x_test=x_test,
        y_train=y_train,
        y_test=y_test,
        feature_names=names,
        class_names=[str(c) for c in bunch.target_names],
        data_hash=content_hash(x, y, names),
    )
