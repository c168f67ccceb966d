"""The repository_dispatch sent to GitHub: a compact payload within GitHub's limits, and its delivery.

https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event: ``POST
/repos/{owner}/{repo}/dispatches`` with ``{"event_type": ..., "client_payload": {...}}``, answered
204. ``client_payload`` holds at most 10 top-level properties and must stay under 65,535 characters;
:func:`build_payload` keeps it under :data:`MAX_PAYLOAD_CHARS`, shortening long label and
annotation values, then the context text (its start and its end survive, where the decisive lines
usually are).

The payload the analysis workflows read (playbooks/alert_analysis.yml, drift_analysis.yml)::

    {"alert": {"labels", "annotations", "status", "fingerprint", "startsAt", "endsAt", "generatorURL"},
     "group": {"key", "labels", "commonLabels", "commonAnnotations", "externalURL", "truncatedAlerts"},
     "context": {"text", "sources", "notes", "redactions", "assessment"?, "report"?},
     "route": "operational" | "drift", "receiver": str, "bridge": {"id", "received_at", "attempt"}}

``generatorURL`` is the Prometheus graph of the rule's expression, ``group.externalURL`` the
Alertmanager that sent it: the report links back to both. Long values are shortened before the
context text is (label and annotation values, the group's included).

For a drift alert the bridge could assess, drift_context's rule-based verdict and the report built
from it: ``context.assessment`` ``{"urgency", "action", "hypothesis", "drift_type", "figures",
"affected_features", "model", "version"}`` and ``context.report`` (the engine's report structure).
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.mlops.hybrid.plugins.module_utils.github import dispatch as github_dispatch
from ansible_collections.mlops.hybrid.plugins.module_utils.github.dispatch import DeliveryResult

__all__ = ["MAX_PAYLOAD_CHARS", "DeliveryResult", "build_payload", "connect", "send"]

MAX_PAYLOAD_CHARS = 60000  # GitHub's limit is 65,535: leave room for the envelope
MAX_TOP_LEVEL_KEYS = 10
USER_AGENT = "mlops-hybrid-alert-bridge/0.1"
# A 401/403/404 is retried: a person fixes the Secret while the alert waits in the spool.
AUTH_HINT = " (check the GitHub token Secret and GITHUB_REPOSITORY)"
CUT = "\n[... %d characters cut by the alert bridge ...]\n"
ALERT_KEYS = ("labels", "annotations", "status", "fingerprint", "startsAt", "endsAt", "generatorURL")
GROUP_MAPS = ("labels", "commonLabels", "commonAnnotations")
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
        "alert": {k: alert.get(k, "") for k in ALERT_KEYS},
        "group": dict(record.get("group") or {}),
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
        for key in GROUP_MAPS:
            if isinstance(payload["group"].get(key), dict):
                payload["group"][key] = {k: _shorten(v, cap) for k, v in payload["group"][key].items()}
    if _size(payload) > limit:
        raise ValueError("the alert does not fit in %d characters even shortened" % limit)
    return payload


def connect(settings) -> github_dispatch.Target:
    """The repository_dispatch target of ``settings`` (its GitHub API, repository, token and timeout)."""
    return github_dispatch.connect(
        token=settings.github_token,
        api_url=settings.github_api_url,
        repository=settings.github_repository,
        timeout=settings.dispatch_timeout,
        user_agent=USER_AGENT,
        auth_hint=AUTH_HINT,
    )


def send(target: github_dispatch.Target, event_type: str, client_payload: dict[str, Any]) -> DeliveryResult:
    """One repository_dispatch, classified as delivered, to retry (with GitHub's Retry-After) or refused."""
    return github_dispatch.repository_dispatch(target, event_type=event_type, client_payload=client_payload)
