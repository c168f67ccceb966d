"""The repository_dispatch sent to GitHub: a compact payload within GitHub's limits, and its delivery.

https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event: ``POST
/repos/{owner}/{repo}/dispatches`` with ``{"event_type": ..., "client_payload": {...}}``, answered
204. ``client_payload`` holds at most 10 top-level properties and must stay under 65,535 characters;
:func:`build_payload` keeps it under :data:`MAX_PAYLOAD_CHARS`, shortening long label and
annotation values, then the context text (its start and its end survive, where the decisive lines
usually are).

The payload the analysis workflows read (playbooks/alert_analysis.yml, drift_analysis.yml)::

    {"alert": {"labels", "annotations", "status", "fingerprint", "startsAt", "endsAt"},
     "context": {"text", "sources", "notes", "redactions", "assessment"?, "report"?},
     "route": "operational" | "drift", "receiver": str, "bridge": {"id", "received_at", "attempt"}}

For a drift alert the bridge could assess, drift_context's rule-based verdict and the report built
from it: ``context.assessment`` ``{"urgency", "action", "hypothesis", "drift_type", "figures",
"affected_features", "model", "version"}`` and ``context.report`` (the engine's report structure).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

__all__ = ["MAX_PAYLOAD_CHARS", "DeliveryResult", "GitHubDispatcher", "backoff_delay", "build_payload"]

MAX_PAYLOAD_CHARS = 60000  # GitHub's limit is 65,535: leave room for the envelope
MAX_TOP_LEVEL_KEYS = 10
API_VERSION = "2022-11-28"
CUT = "\n[... %d characters cut by the alert bridge ...]\n"
# What a drift context adds when the bridge could assess it (drift_context's rules).
ASSESSED = ("assessment", "report")


def _size(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def _shorten(text: str, keep: int) -> str:
    """``text`` within ``keep`` characters: a quarter from its start, the rest from its end."""
    if len(text) <= keep:
        return text
    head = max(0, keep // 4)
    tail = max(0, keep - head - len(CUT % len(text)))
    return text[:head] + (CUT % (len(text) - head - tail)) + (text[-tail:] if tail else "")


def build_payload(record: dict[str, Any], limit: int = MAX_PAYLOAD_CHARS) -> dict[str, Any]:
    """The ``client_payload`` of a spooled record, at most ``limit`` characters of JSON."""
    alert = record["alert"]
    context = dict(record.get("context") or {})
    payload = {
        "alert": {k: alert[k] for k in ("labels", "annotations", "status", "fingerprint", "startsAt", "endsAt")},
        "context": {
            "text": context.get("text", ""),
            "sources": context.get("sources", []),
            "notes": context.get("notes", []),
            "redactions": context.get("redactions", {}),
            **{k: context[k] for k in ASSESSED if context.get(k)},
        },
        "route": record["route"],
        "receiver": record.get("receiver", ""),
        "bridge": {"id": record["id"], "received_at": record["received_at"], "attempt": record.get("attempts", 0) + 1},
    }
    assert len(payload) <= MAX_TOP_LEVEL_KEYS
    for cap in (2000, None, 500, 100):
        over = _size(payload) - limit
        if over <= 0:
            break
        if cap is None:  # then the context text, keeping its start and its end
            text = payload["context"]["text"]
            payload["context"]["text"] = _shorten(text, max(0, len(text) - over - 200))
            payload["context"]["notes"] = [*payload["context"]["notes"], "context text shortened to fit GitHub's limit"]
            continue
        payload["alert"]["annotations"] = {k: _shorten(v, cap) for k, v in payload["alert"]["annotations"].items()}
        payload["alert"]["labels"] = {k: _shorten(v, cap) for k, v in payload["alert"]["labels"].items()}
    if _size(payload) > limit:
        raise ValueError("the alert does not fit in %d characters even shortened" % limit)
    return payload


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    retry: bool  # False with delivered False: refused for good
    status: int | None
    message: str
    retry_after: float | None = None


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d] where d = min(cap, base * 2**(attempt-1))."""
    d = min(cap, base * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(d / 2, d)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    if response.headers.get("X-RateLimit-Remaining") == "0" and response.headers.get("X-RateLimit-Reset", "").isdigit():
        return max(0.0, float(response.headers["X-RateLimit-Reset"]) - time.time())
    return None


class GitHubDispatcher:
    """Sends repository_dispatch events with a token; classifies every answer as delivered, retry or refused."""

    def __init__(self, api_url: str, repository: str, token: str, timeout: float = 10.0):
        self.url = "%s/repos/%s/dispatches" % (api_url.rstrip("/"), repository)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": "Bearer %s" % token,
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "mlops-hybrid-alert-bridge/0.1",
            }
        )

    def send(self, event_type: str, client_payload: dict[str, Any]) -> DeliveryResult:
        try:
            r = self.session.post(
                self.url, json={"event_type": event_type, "client_payload": client_payload}, timeout=self.timeout
            )
        except requests.RequestException as e:
            return DeliveryResult(False, True, None, "GitHub unreachable: %s" % type(e).__name__)
        if 200 <= r.status_code < 300:
            return DeliveryResult(True, False, r.status_code, "delivered")
        detail = r.text[:300].replace("\n", " ")
        if r.status_code == 429 or r.status_code >= 500:
            message = "GitHub answered %d: %s" % (r.status_code, detail)
            return DeliveryResult(False, True, r.status_code, message, _retry_after(r))
        if r.status_code in (401, 403, 404):
            # A wrong or expired token, or a repository the token cannot see: a person fixes the
            # Secret; the alert waits in the spool meanwhile.
            hint = " (check the GitHub token Secret and GITHUB_REPOSITORY)"
            message = "GitHub answered %d%s: %s" % (r.status_code, hint, detail)
            return DeliveryResult(False, True, r.status_code, message, _retry_after(r))
        message = "GitHub refused the dispatch (%d): %s" % (r.status_code, detail)
        return DeliveryResult(False, False, r.status_code, message)

    def close(self) -> None:
        self.session.close()
