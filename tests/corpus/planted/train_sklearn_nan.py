"""Planted defect: a feature column with missing values reaches the estimator."""
import numpy as np
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(1)
X = rng.normal(size=(150, 4))
X[17, 2] = np.nan
y = (X[:, 0] > 0).astype(int)
print("loaded 150 rows, 4 features from data/iris.csv")
print("fitting LogisticRegression(max_iter=200)")
LogisticRegression(max_iter=200).fit(X, y)
