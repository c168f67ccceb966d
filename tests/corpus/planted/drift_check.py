"""Planted defect: the live batch comes from a shifted distribution; the drift check must flag it."""
import sys

import numpy as np
from sklearn.datasets import load_iris

X, _ = load_iris(return_X_y=True)
names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
rng = np.random.default_rng(4)
live = X[rng.integers(0, len(X), 300)].copy()
live[:, 2] = live[:, 2] * 1.6 + 0.8


def psi(ref, cur, bins=10):
    edges = np.quantile(ref, np.linspace(0, 1, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    r = np.histogram(ref, edges)[0] / len(ref) + 1e-6
    c = np.histogram(cur, edges)[0] / len(cur) + 1e-6
    return float(np.sum((c - r) * np.log(c / r)))


drifted = []
for i, name in enumerate(names):
    value = psi(X[:, i], live[:, i])
    print("psi %-13s %.3f" % (name, value))
    if value > 0.2:
        drifted.append(name)
if drifted:
    print("Data drift detected: PSI above 0.20 for %s; accuracy on labelled feedback 0.81 < 0.85" % ", ".join(drifted))
    sys.exit(1)
