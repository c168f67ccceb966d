"""Planted defect: labels shuffled for 30 % of the training rows; the accuracy gate must stop it."""
import sys

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

X, y = load_iris(return_X_y=True)
rng = np.random.default_rng(3)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
flip = rng.random(len(ytr)) < 0.6
ytr = np.where(flip, rng.integers(0, 3, len(ytr)), ytr)
model = LogisticRegression(max_iter=500).fit(Xtr, ytr)
pred = model.predict(Xte)
acc = accuracy_score(yte, pred)
f1 = f1_score(yte, pred, average="macro")
print("evaluation on 45 held-out rows")
print("accuracy=%.4f f1_macro=%.4f" % (acc, f1))
THRESHOLD = 0.85
if acc < THRESHOLD:
    print("Model validation failed: accuracy %.4f is below the threshold %.2f; not registering" % (acc, THRESHOLD))
    sys.exit(1)
print("validation passed")
