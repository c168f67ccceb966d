"""The real model server with a test-only way to be slow: ``python -m sandbox.latency_server <server options>``.

A request carrying the header ``x-inject-latency-seconds: 0.8`` waits that long (at most 5 s) inside
``predict``, so KServe's ``request_predict_seconds`` histogram, and with it the ``ModelHighLatency``
rule, sees a slow prediction. The wait is an ``asyncio.sleep``: the event loop keeps answering
``/metrics`` scrapes meanwhile. Everything else is ``mlops_model.server`` unchanged: the subclass only
wraps ``predict``; the model package carries no latency switch of its own.
"""

from __future__ import annotations

import asyncio
import sys

from mlops_model import server

HEADER = "x-inject-latency-seconds"
MAX_DELAY = 5.0
_make_classifier_class = server.make_classifier_class


def make_slow_classifier_class() -> type:
    base = _make_classifier_class()

    class LatencyInjectingClassifier(base):
        async def predict(self, payload, headers=None):
            delay = min(float((headers or {}).get(HEADER) or 0.0), MAX_DELAY)
            if delay > 0:
                await asyncio.sleep(delay)
            return base.predict(self, payload, headers)

    return LatencyInjectingClassifier


server.make_classifier_class = make_slow_classifier_class

if __name__ == "__main__":
    sys.exit(server.main())
