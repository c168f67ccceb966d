"""A small, reproducible tabular classifier: training with an accuracy gate, evaluation, and a
KServe predictor that exports what Prometheus needs to watch it (latency, predictions,
confidence, drift against the training reference, live accuracy from feedback)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
