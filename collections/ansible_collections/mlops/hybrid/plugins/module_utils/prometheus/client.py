# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET-only client of the Prometheus HTTP API (``/api/v1/query`` and ``/api/v1/query_range``).

    prom = client.Prometheus("http://prometheus:9090", timeout=30, token=None)
    prom.query('model_feature_psi{model_name="bc"}')   # [(labels, value)]
    prom.one("max(model_drift_share)")                  # the first value that is a number, or None

A token is sent as ``Authorization: Bearer`` (Prometheus behind an authenticating proxy). A timeout
is OperationTimeout, an unreachable server or a refused query RemoteError, a URL that is not
http(s) InvalidInput. The drift collector and the alert bridge both query through it.
"""

from __future__ import annotations

import math

from ansible_collections.mlops.hybrid.plugins.module_utils import rest
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    InvalidInput,
    RemoteError,
)

__all__ = ["Prometheus", "auth_headers", "selector"]


def auth_headers(token=None):
    """The request headers for ``token`` (none without one)."""
    return {"Authorization": "Bearer %s" % token} if token else {}


def selector(model_name, namespace=None):
    """The label selector of one model's series (``{model_name="...",namespace="..."}``), values escaped."""
    sel = 'model_name="%s"' % model_name.replace("\\", "\\\\").replace('"', '\\"')
    if namespace:
        sel += ',namespace="%s"' % namespace.replace('"', '\\"')
    return "{%s}" % sel


class Prometheus:
    """GET-only client of the Prometheus HTTP API."""

    def __init__(self, url, *, timeout=30, token=None, session=None):
        if not url or not url.startswith(("http://", "https://")):
            raise InvalidInput("prometheus_url must be an http(s):// URL, got %r" % (url,))
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or rest.session()
        self.headers = auth_headers(token)

    def _get(self, path, params):
        with rest.translated(
            timed_out="Prometheus at %s did not answer within %ss" % (self.url, self.timeout),
            failed="cannot reach Prometheus at %s (%%s): check prometheus_url" % self.url,
        ):
            r = self.session.get(self.url + path, params=params, headers=self.headers, timeout=self.timeout)
        try:
            doc = r.json()
        except ValueError as e:
            raise RemoteError("Prometheus at %s answered %s with no JSON" % (self.url, r.status_code)) from e
        if r.status_code != 200 or doc.get("status") != "success":
            raise RemoteError(
                "Prometheus refused %s: %s %s" % (params.get("query"), doc.get("errorType"), doc.get("error"))
            )
        return doc["data"]

    def query(self, promql, at=None):
        """[(labels, value)] of an instant vector (or a scalar as one unlabelled sample)."""
        params = {"query": promql}
        if at is not None:
            params["time"] = "%.3f" % at
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(s["metric"], float(s["value"][1])) for s in data["result"]]

    def one(self, promql):
        """The first value of ``promql`` that is a number, or None."""
        values = [v for _l, v in self.query(promql) if not math.isnan(v)]
        return values[0] if values else None

    def query_range(self, promql, start, end, step):
        """[(labels, [(time, value)])] of a range query."""
        data = self._get("/api/v1/query_range", {"query": promql, "start": start, "end": end, "step": step})
        return [(s["metric"], [(float(t), float(v)) for t, v in s["values"]]) for s in data["result"]]
