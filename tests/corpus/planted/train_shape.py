"""Planted defect: the serving feature list has one column fewer than training."""
import numpy as np
from sklearn.ensemble import RandomForestClassifier

rng = np.random.default_rng(2)
X = rng.normal(size=(100, 4))
y = (X[:, 0] > 0).astype(int)
clf = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
print("trained RandomForestClassifier on 4 features")
print("scoring holdout with features ['sepal_length', 'sepal_width', 'petal_length']")
clf.predict(X[:, :3])
