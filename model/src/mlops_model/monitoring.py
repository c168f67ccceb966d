"""The Prometheus metrics of the model server: a contract with the alert rules and the drift
analysis, so the names and labels below must not change.

    request_predict_seconds{model_name}              histogram (KServe's own, not defined here)
    model_predictions_total{model_name,class}        counter
    model_prediction_confidence{model_name}          histogram, probability of the predicted class
    model_feature_psi{model_name,feature}            gauge, PSI of the sliding window per feature
    model_prediction_psi{model_name}                 gauge, PSI of the predicted-class distribution
    model_drift_share{model_name}                    gauge, share of features with PSI >= threshold
    model_feature_mean{model_name,feature,data}      gauge, mean of the window (data="live") and of the
                                                     training data (data="training")
    model_feature_stddev{model_name,feature,data}    gauge, standard deviation, the same two
    model_feature_missing_total{model_name,feature}  counter, instances refused because this value was
                                                     absent, null or not finite
    model_missing_instances_total{model_name}        counter, instances refused for a missing value
    model_accuracy{model_name}                       gauge, accuracy over the last labelled predictions
    model_feedback_total{model_name}                 counter, labels received
    model_info{model_name,version,revision}          gauge, 1

PSI and live mean/stddev gauges are computed when the registry is collected (a scrape), from the
window each request updates, and only once the window holds ``min_samples`` rows. The share of
missing values of a feature is its missing count over the instances served plus those refused.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mlops_model.drift import DEFAULT_THRESHOLD, DriftWindow
from mlops_model.errors import InvalidInput
from mlops_model.feedback import FeedbackStore
from mlops_model.reference import Reference

__all__ = ["CONFIDENCE_BUCKETS", "FeedbackResult", "Monitor", "MonitorSettings", "UnknownRequest"]

CONFIDENCE_BUCKETS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


class UnknownRequest(InvalidInput):
    """Feedback for a request id the server does not hold (never seen, expired or already labelled)."""

    http_status = 404


@dataclass(frozen=True)
class MonitorSettings:
    window: int = 1000
    min_samples: int = 200
    psi_threshold: float = DEFAULT_THRESHOLD
    feedback_window: int = 500
    pending: int = 10000
    # With a feedback store the pending requests keep their feature rows too (8 bytes a value): at
    # most this many rows, 24 MB for 30 features, the oldest requests dropped first.
    pending_rows: int = 100_000


@dataclass(frozen=True)
class FeedbackResult:
    request_id: str
    labels: int
    correct: int
    accuracy: float
    kept: int | None = None  # rows in the feedback store after this one, None without a store


class _DriftCollector(Collector):
    def __init__(self, monitor: Monitor):
        self.monitor = monitor

    def collect(self) -> Iterator[GaugeMetricFamily]:
        m = self.monitor
        feature = GaugeMetricFamily(
            "model_feature_psi",
            "PSI of a sliding window of recent inputs against the training reference, per feature",
            labels=["model_name", "feature"],
        )
        prediction = GaugeMetricFamily(
            "model_prediction_psi",
            "PSI of the predicted-class distribution of the sliding window against the training classes",
            labels=["model_name"],
        )
        share = GaugeMetricFamily(
            "model_drift_share", "Share of features whose PSI is at or above the drift threshold", labels=["model_name"]
        )
        mean = GaugeMetricFamily(
            "model_feature_mean",
            "Mean of each feature: the sliding window (data=live) and the training data (data=training)",
            labels=["model_name", "feature", "data"],
        )
        stddev = GaugeMetricFamily(
            "model_feature_stddev",
            "Standard deviation of each feature: the sliding window (data=live) and the training data",
            labels=["model_name", "feature", "data"],
        )
        ref = m.reference
        if ref is not None and ref.feature_mean is not None:
            self._add(mean, "training", ref.feature_mean)
            self._add(stddev, "training", ref.feature_std)
        if m.window is not None and m.window.ready:
            values = m.window.feature_psi()
            for name, value in zip(ref.feature_names, values, strict=True):
                feature.add_metric([m.model_name, name], float(value))
            prediction.add_metric([m.model_name], m.window.prediction_psi())
            share.add_metric([m.model_name], float(np.mean(values >= m.settings.psi_threshold)))
            self._add(mean, "live", m.window.means())
            self._add(stddev, "live", m.window.stds())
        yield from (feature, prediction, share, mean, stddev)

    def _add(self, family: GaugeMetricFamily, data: str, values: np.ndarray | None) -> None:
        if values is None:
            return
        for name, value in zip(self.monitor.reference.feature_names, values.tolist(), strict=True):
            family.add_metric([self.monitor.model_name, name, data], float(value))


class Monitor:
    """Everything the server records about its traffic, for one model."""

    def __init__(
        self,
        model_name: str,
        settings: MonitorSettings | None = None,
        registry: CollectorRegistry = REGISTRY,
        store: FeedbackStore | None = None,
    ):
        self.model_name = model_name
        self.settings = settings or MonitorSettings()
        self.store = store
        self.reference: Reference | None = None
        self.window: DriftWindow | None = None
        self.version = "unknown"
        # request id -> (feature rows or None without a store, predicted classes)
        self._pending: OrderedDict[str, tuple[np.ndarray | None, np.ndarray]] = OrderedDict()
        self._pending_rows = 0
        self._outcomes: deque[bool] = deque(maxlen=self.settings.feedback_window)
        self.predictions = Counter(
            "model_predictions_total",
            "Predictions served, per predicted class",
            ["model_name", "class"],
            registry=registry,
        )
        self.confidence = Histogram(
            "model_prediction_confidence",
            "Probability of the predicted class",
            ["model_name"],
            buckets=CONFIDENCE_BUCKETS,
            registry=registry,
        ).labels(model_name=model_name)
        self.accuracy = Gauge(
            "model_accuracy", "Accuracy over the most recent labelled predictions", ["model_name"], registry=registry
        )
        self.feedback = Counter(
            "model_feedback_total", "True labels received for earlier predictions", ["model_name"], registry=registry
        ).labels(model_name=model_name)
        self._missing = Counter(
            "model_feature_missing_total",
            "Instances refused because this feature's value was absent, null or not finite",
            ["model_name", "feature"],
            registry=registry,
        )
        self.missing_instances = Counter(
            "model_missing_instances_total",
            "Instances refused because a value was absent, null or not finite",
            ["model_name"],
            registry=registry,
        ).labels(model_name=model_name)
        self.info = Gauge(
            "model_info", "The model being served", ["model_name", "version", "revision"], registry=registry
        )
        registry.register(_DriftCollector(self))
        self._class_counters: list = []
        self._missing_counters: list = []

    def attach(self, reference: Reference, version: str, revision: str) -> None:
        """Start monitoring a loaded model against its training reference."""
        s = self.settings
        self.reference = reference
        self.window = DriftWindow(
            reference.edges,
            reference.feature_proportions,
            reference.class_proportions,
            size=s.window,
            min_samples=s.min_samples,
        )
        self._class_counters = [
            self.predictions.labels(model_name=self.model_name, **{"class": name}) for name in reference.class_names
        ]
        # Every feature's series from the start (at 0), so rate() and increase() count the first refusal.
        self._missing_counters = [
            self._missing.labels(model_name=self.model_name, feature=name) for name in reference.feature_names
        ]
        self.info.labels(model_name=self.model_name, version=version, revision=revision).set(1)
        self.version = version

    def missing(self, per_feature: list[int], instances: int) -> None:
        """Count a request refused for missing values: instances missing each feature, and in all."""
        if not self._missing_counters:
            return
        for counter, count in zip(self._missing_counters, per_feature, strict=True):
            if count:
                counter.inc(count)
        self.missing_instances.inc(instances)

    def observe(self, request_id: str, rows: np.ndarray, classes: np.ndarray, confidence: np.ndarray) -> None:
        """Record one validated request: counts, confidence, the drift window, and the pending labels."""
        for index in classes.tolist():
            self._class_counters[index].inc()
        for value in confidence.tolist():
            self.confidence.observe(value)
        self.window.add(rows, classes)
        self._forget(request_id)
        kept = rows.copy() if self.store is not None else None
        self._pending[request_id] = (kept, classes)
        self._pending_rows += 0 if kept is None else len(kept)
        while len(self._pending) > self.settings.pending or self._pending_rows > self.settings.pending_rows:
            self._forget(next(iter(self._pending)))

    def _forget(self, request_id: str) -> None:
        entry = self._pending.pop(request_id, None)
        if entry is not None and entry[0] is not None:
            self._pending_rows -= len(entry[0])

    def record_feedback(self, request_id: str, labels: list) -> FeedbackResult:
        """Compare true labels (class indices or names) with what was predicted for ``request_id``."""
        entry = self._pending.get(request_id)
        if entry is None:
            raise UnknownRequest(
                f"no pending prediction with request id {request_id!r}: it was never served, is older than the"
                f" last {self.settings.pending} requests, or already has its labels"
            )
        rows, classes = entry
        truth = self._label_indices(labels, len(classes))
        self._forget(request_id)
        kept = None if self.store is None else self.store.append(request_id, self.version, rows, classes, truth)
        outcomes = (truth == classes).tolist()
        self._outcomes.extend(outcomes)
        self.feedback.inc(len(outcomes))
        accuracy = sum(self._outcomes) / len(self._outcomes)
        self.accuracy.labels(model_name=self.model_name).set(accuracy)
        return FeedbackResult(request_id, len(outcomes), int(sum(outcomes)), accuracy, kept)

    def _label_indices(self, labels: list, expected: int) -> np.ndarray:
        names = self.reference.class_names
        if not isinstance(labels, list) or len(labels) != expected:
            got = len(labels) if isinstance(labels, list) else type(labels).__name__
            raise InvalidInput(f"'labels' must be a list of {expected} labels (one per instance), got {got}")
        out = []
        for i, label in enumerate(labels):
            if isinstance(label, str) and label in names:
                out.append(names.index(label))
            elif isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(names):
                out.append(label)
            else:
                raise InvalidInput(f"label {i} is {label!r}: use a class index 0..{len(names) - 1} or one of {names}")
        return np.asarray(out)
