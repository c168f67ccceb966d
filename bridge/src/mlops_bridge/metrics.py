"""The bridge's Prometheus metrics (``GET /metrics``), in a registry of its own.

bridge_alerts_received_total{route}              alerts in valid, authenticated notifications
bridge_alerts_deduplicated_total{route}          same fingerprint and status within the window
bridge_alerts_rate_limited_total{route}          refused by the token bucket (not dispatched)
bridge_alerts_skipped_total{route,reason}        e.g. resolved alerts when they are not dispatched
bridge_dispatches_total{event_type}              repository_dispatch events GitHub accepted
bridge_dispatch_failures_total{reason}           failed attempts: retry (will be retried) or refused
bridge_spool_depth                               alerts accepted and not yet delivered
bridge_delivery_latency_seconds                  acceptance to GitHub's 2xx, retries included
bridge_webhook_requests_total{code}              webhook answers by HTTP status
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["BridgeMetrics"]

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)


class BridgeMetrics:
    def __init__(self, spool_depth: Callable[[], float]):
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "bridge_alerts_received", "Alerts received in valid notifications", ["route"], registry=r
        )
        self.deduplicated = Counter(
            "bridge_alerts_deduplicated", "Alerts dropped as duplicates (fingerprint and status)", ["route"], registry=r
        )
        self.rate_limited = Counter(
            "bridge_alerts_rate_limited", "Alerts refused by the rate limit", ["route"], registry=r
        )
        self.skipped = Counter(
            "bridge_alerts_skipped", "Alerts not dispatched by policy", ["route", "reason"], registry=r
        )
        self.dispatched = Counter(
            "bridge_dispatches", "repository_dispatch events accepted by GitHub", ["event_type"], registry=r
        )
        self.failed = Counter("bridge_dispatch_failures", "Failed delivery attempts", ["reason"], registry=r)
        self.spool_depth = Gauge("bridge_spool_depth", "Alerts accepted and not yet delivered", registry=r)
        self.spool_depth.set_function(spool_depth)
        self.latency = Histogram(
            "bridge_delivery_latency_seconds",
            "Seconds from accepting an alert to GitHub accepting its dispatch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.requests = Counter("bridge_webhook_requests", "Webhook requests by HTTP status", ["code"], registry=r)
        for route in ("operational", "drift"):
            for counter in (self.received, self.deduplicated, self.rate_limited):
                counter.labels(route=route)
        for reason in ("retry", "refused"):
            self.failed.labels(reason=reason)
