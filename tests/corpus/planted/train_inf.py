"""Planted defect: a log transform of a column with zeros produces -inf features."""
import numpy as np
from sklearn.cluster import KMeans

rng = np.random.default_rng(5)
X = rng.random((60, 3))
X[:5, 1] = 0.0
with np.errstate(divide="ignore"):
    X = np.log(X)
print("clustering 60 rows into 3 segments")
KMeans(n_clusters=3, n_init=3, random_state=0).fit(X)
