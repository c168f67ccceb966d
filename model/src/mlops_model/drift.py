"""Population Stability Index (PSI): one implementation for the server's sliding window,
the batch drift analysis and the benchmarks.

Everything here is plain numpy and works on all features at once: bin edges are an array of
shape (features, bins - 1) holding the interior edges, proportions have shape (features, bins).
A value ``x`` falls in bin ``i`` when ``edges[i - 1] <= x < edges[i]`` (the first and last bins are
open), the same rule as ``numpy.histogram`` on the interior edges.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_EPSILON",
    "DEFAULT_THRESHOLD",
    "DriftWindow",
    "bin_counts",
    "bin_indices",
    "drifted",
    "proportions",
    "psi",
    "quantile_edges",
    "uniform_edges",
]

DEFAULT_BINS = 10
DEFAULT_THRESHOLD = 0.2
# Floor for empty bins: PSI divides by and takes the log of proportions, so an empty bin on
# either side would give an infinite value. 1e-4 keeps one empty bin below ~0.001 of PSI.
DEFAULT_EPSILON = 1e-4
# Above this many rows, binning runs one searchsorted per feature instead of one broadcast
# comparison, which would hold rows x features x edges booleans in memory.
_BROADCAST_ROWS = 2048


def quantile_edges(reference: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior edges of ``bins`` equal-frequency bins per feature of ``reference`` (rows x features)."""
    reference = _as_matrix(reference)
    qs = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    return np.ascontiguousarray(np.quantile(reference, qs, axis=0).T)


def uniform_edges(low: np.ndarray, high: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior edges of ``bins`` equal-width bins between ``low`` and ``high`` (one value per feature)."""
    # np.linspace with array ends gives exactly the edges numpy.histogram(bins=<int>) uses per feature.
    edges = np.linspace(np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64), bins + 1, axis=1)
    return np.ascontiguousarray(edges[:, 1:-1])


def bin_indices(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of every value: an integer array of the same shape as ``values`` (rows x features)."""
    values = _as_matrix(values)
    _check_width(values, edges)
    if values.shape[0] <= _BROADCAST_ROWS:
        return (values[:, :, None] >= edges[None, :, :]).sum(axis=2)
    out = np.empty(values.shape, dtype=np.intp)
    for j in range(values.shape[1]):
        out[:, j] = np.searchsorted(edges[j], values[:, j], side="right")
    return out


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per feature and bin (features x bins) of ``values`` (rows x features)."""
    values = _as_matrix(values)
    _check_width(values, edges)
    bins = edges.shape[1] + 1
    if values.shape[0] <= _BROADCAST_ROWS:
        return counts_of_indices(bin_indices(values, edges), bins)
    # Large batches: one contiguous column at a time, so memory stays at one column of indices.
    columns = np.asfortranarray(values)
    counts = np.empty((values.shape[1], bins), dtype=np.int64)
    for j in range(values.shape[1]):
        counts[j] = np.bincount(np.searchsorted(edges[j], columns[:, j], side="right"), minlength=bins)
    return counts


def counts_of_indices(indices: np.ndarray, bins: int) -> np.ndarray:
    """Counts per feature and bin from bin indices (rows x features)."""
    features = indices.shape[1]
    flat = (indices + np.arange(features) * bins).ravel()
    return np.bincount(flat, minlength=features * bins).reshape(features, bins)


def proportions(counts: np.ndarray) -> np.ndarray:
    """Counts (... x bins) to proportions along the last axis; all-zero rows stay zero."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = DEFAULT_EPSILON) -> np.ndarray:
    """PSI along the last axis between two proportion arrays of the same shape.

    ``sum((actual - expected) * ln(actual / expected))`` with both sides floored at ``epsilon``.
    Returns one value per row (per feature for a features x bins array, a scalar for one vector).
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), epsilon)
    a = np.maximum(np.asarray(actual, dtype=np.float64), epsilon)
    if e.shape != a.shape:
        raise ValueError(f"PSI needs proportions of the same shape, got {e.shape} and {a.shape}")
    return np.sum((a - e) * np.log(a / e), axis=-1)


def drifted(values: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Drift verdict per value: PSI at or above ``threshold``."""
    return np.asarray(values) >= threshold


def _as_matrix(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D array (rows x features), got shape {values.shape}")
    return values


def _check_width(values: np.ndarray, edges: np.ndarray) -> None:
    if edges.ndim != 2 or edges.shape[0] != values.shape[1]:
        raise ValueError(f"{values.shape[1]} features but edges for shape {edges.shape}")


class DriftWindow:
    """A sliding window over the last ``size`` rows, kept as the rows' bin indices and values in ring buffers.

    Adding rows costs one binning of those rows and one copy into the rings; the counts per bin, the
    PSI against the reference and the features' mean and spread are computed on demand (when metrics
    are scraped), not on every request. The values cost 8 bytes each: 240 KB for 1,000 rows of 30.
    """

    def __init__(
        self,
        edges: np.ndarray,
        reference: np.ndarray,
        class_reference: np.ndarray,
        size: int = 1000,
        min_samples: int = 200,
        epsilon: float = DEFAULT_EPSILON,
    ):
        if size < 1 or min_samples < 1:
            raise ValueError("window size and minimum sample count must be positive")
        self.edges = np.asarray(edges, dtype=np.float64)
        self.reference = np.asarray(reference, dtype=np.float64)
        self.class_reference = np.asarray(class_reference, dtype=np.float64)
        self.size = size
        self.min_samples = min(min_samples, size)
        self.epsilon = epsilon
        self.bins = self.edges.shape[1] + 1
        self._ring = np.zeros((size, self.edges.shape[0]), dtype=np.intp)
        self._class_ring = np.zeros(size, dtype=np.intp)
        self._values = np.zeros((size, self.edges.shape[0]), dtype=np.float64)
        self._next = 0  # where the next row goes
        self._filled = 0  # rows held, up to size

    def __len__(self) -> int:
        return self._filled

    def add(self, rows: np.ndarray, classes: np.ndarray) -> None:
        """Add rows (n x features) and their predicted class indices, overwriting the oldest."""
        rows = _as_matrix(rows)
        indices = bin_indices(rows, self.edges)
        classes = np.asarray(classes, dtype=np.intp)
        if len(indices) > self.size:
            rows, indices, classes = rows[-self.size :], indices[-self.size :], classes[-self.size :]
        n = len(indices)
        first = min(n, self.size - self._next)  # rows that fit before the ring wraps
        for ring, new in ((self._ring, indices), (self._class_ring, classes), (self._values, rows)):
            ring[self._next : self._next + first] = new[:first]
            ring[: n - first] = new[first:]
        self._next = (self._next + n) % self.size
        self._filled = min(self.size, self._filled + n)

    @property
    def counts(self) -> np.ndarray:
        """Counts per feature and bin (features x bins) of the rows in the window."""
        return counts_of_indices(self._ring[: self._filled], self.bins)

    @property
    def class_counts(self) -> np.ndarray:
        return np.bincount(self._class_ring[: self._filled], minlength=self.class_reference.shape[0])

    def means(self) -> np.ndarray:
        """Mean of each feature over the rows in the window."""
        return self._values[: self._filled].mean(axis=0)

    def stds(self) -> np.ndarray:
        """Standard deviation (population) of each feature over the rows in the window."""
        return self._values[: self._filled].std(axis=0)

    @property
    def ready(self) -> bool:
        """Enough rows for a PSI that is not noise."""
        return self._filled >= self.min_samples

    def feature_psi(self) -> np.ndarray:
        return psi(self.reference, proportions(self.counts), self.epsilon)

    def prediction_psi(self) -> float:
        return float(psi(self.class_reference, proportions(self.class_counts), self.epsilon))
