"""Planted defect: a learning rate far too high makes gradient descent diverge to NaN."""
import math

import numpy as np

rng = np.random.default_rng(0)
X = (rng.normal(size=(200, 4)) * 50).astype(np.float32)
y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(size=200)
w = np.zeros(4, dtype=np.float32)
lr = 0.5
for epoch in range(1, 41):
    pred = X @ w
    loss = float(np.mean((pred - y) ** 2))
    grad = 2 * X.T @ (pred - y) / len(y)
    w -= lr * grad
    print("epoch %d/40 - loss: %.6g - lr: %g" % (epoch, loss, lr), flush=True)
    if math.isnan(loss):
        raise FloatingPointError("loss is %s at epoch %d: training diverged" % (loss, epoch))
