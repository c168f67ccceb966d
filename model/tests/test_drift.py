"""PSI maths and the sliding window, against first-principles computations."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_model import drift


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("rows", [5, 100, 5000])  # both the broadcast and the searchsorted path
def test_bin_indices_match_numpy_histogram(rng, rows):
    x = rng.normal(size=(rows, 3))
    x[0] = 0.0  # a value exactly on an edge
    edges = drift.uniform_edges(np.full(3, -2.0), np.full(3, 2.0), bins=8)
    counts = drift.bin_counts(x, edges)
    for j in range(3):
        full = np.concatenate([[-np.inf], edges[j], [np.inf]])
        assert counts[j].tolist() == np.histogram(x[:, j], full)[0].tolist()
    assert counts.sum(axis=1).tolist() == [rows] * 3


def test_psi_is_the_textbook_formula():
    expected = np.array([[0.25, 0.25, 0.5], [0.1, 0.2, 0.7]])
    actual = np.array([[0.25, 0.25, 0.5], [0.3, 0.3, 0.4]])
    by_hand = sum((a - e) * np.log(a / e) for a, e in zip(actual[1], expected[1], strict=True))
    values = drift.psi(expected, actual)
    assert values[0] == 0.0
    assert values[1] == pytest.approx(by_hand)
    assert drift.drifted(values, 0.2).tolist() == [False, by_hand >= 0.2]


def test_empty_bins_are_smoothed_not_infinite():
    values = drift.psi(np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5]))
    assert np.isfinite(values)
    assert values > 1.0


def test_psi_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        drift.psi(np.ones((2, 3)) / 3, np.ones((2, 4)) / 4)


def test_quantile_edges_give_equal_reference_proportions(rng):
    x = rng.normal(size=(10000, 4))
    edges = drift.quantile_edges(x, bins=10)
    assert edges.shape == (4, 9)
    props = drift.proportions(drift.bin_counts(x, edges))
    assert np.allclose(props, 0.1, atol=0.002)


def test_shifted_data_drifts_and_same_data_does_not(rng):
    ref = rng.normal(size=(20000, 2))
    edges = drift.quantile_edges(ref)
    expected = drift.proportions(drift.bin_counts(ref, edges))
    same = drift.psi(expected, drift.proportions(drift.bin_counts(rng.normal(size=(20000, 2)), edges)))
    shifted_rows = rng.normal(size=(20000, 2)) + np.array([0.0, 1.0])
    shifted = drift.psi(expected, drift.proportions(drift.bin_counts(shifted_rows, edges)))
    assert (same < 0.01).all()
    assert shifted[0] < 0.01
    assert shifted[1] > 0.5


def test_window_equals_a_recount_of_its_last_rows(rng):
    ref = rng.normal(size=(1000, 3))
    edges = drift.quantile_edges(ref, bins=5)
    props = drift.proportions(drift.bin_counts(ref, edges))
    window = drift.DriftWindow(edges, props, np.array([0.5, 0.5]), size=50, min_samples=20)
    rows = rng.normal(size=(130, 3)) * 2
    classes = rng.integers(0, 2, size=130)
    for start in range(0, 130, 7):  # batches of different sizes
        window.add(rows[start : start + 7], classes[start : start + 7])
    assert len(window) == 50
    assert window.counts.tolist() == drift.bin_counts(rows[-50:], edges).tolist()
    assert window.class_counts.tolist() == np.bincount(classes[-50:], minlength=2).tolist()
    assert window.feature_psi() == pytest.approx(
        drift.psi(props, drift.proportions(drift.bin_counts(rows[-50:], edges)))
    )
    assert window.means() == pytest.approx(rows[-50:].mean(axis=0))
    assert window.stds() == pytest.approx(rows[-50:].std(axis=0))


def test_window_is_not_ready_below_its_minimum(rng):
    edges = drift.quantile_edges(rng.normal(size=(100, 1)), bins=4)
    window = drift.DriftWindow(edges, np.full((1, 4), 0.25), np.array([1.0]), size=100, min_samples=10)
    window.add(rng.normal(size=(9, 1)), np.zeros(9, dtype=int))
    assert not window.ready
    window.add(rng.normal(size=(1, 1)), np.zeros(1, dtype=int))
    assert window.ready


def test_bin_indices_rejects_wrong_width(rng):
    with pytest.raises(ValueError, match="3 features"):
        drift.bin_indices(rng.normal(size=(4, 3)), np.zeros((2, 5)))


def test_window_keeps_the_last_rows_of_a_batch_larger_than_itself(rng):
    edges = drift.quantile_edges(rng.normal(size=(500, 2)), bins=4)
    window = drift.DriftWindow(edges, np.full((2, 4), 0.25), np.array([0.5, 0.5]), size=50, min_samples=10)
    window.add(rng.normal(size=(13, 2)), np.zeros(13, dtype=int))
    rows = rng.normal(size=(60, 2))
    classes = rng.integers(0, 2, size=60)
    window.add(rows, classes)
    assert len(window) == 50
    assert window.counts.tolist() == drift.bin_counts(rows[-50:], edges).tolist()
    assert window.class_counts.tolist() == np.bincount(classes[-50:], minlength=2).tolist()
