"""Alertmanager's webhook body, version 4, checked field by field with a message that names the field.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config:

    {"version": "4", "groupKey": str, "truncatedAlerts": int, "status": "firing"|"resolved",
     "receiver": str, "groupLabels": {str: str}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": str,
     "alerts": [{"status": ..., "labels": {...}, "annotations": {...}, "startsAt": str, "endsAt": str,
                 "generatorURL": str, "fingerprint": str}]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Alert", "InvalidPayload", "Notification", "parse_notification"]

STATUSES = ("firing", "resolved")
FINGERPRINT = re.compile(r"^[0-9a-f]{1,64}$")
MAX_LABELS = 64
MAX_VALUE = 16 * 1024


class InvalidPayload(ValueError):
    """The body is not an Alertmanager v4 webhook notification (HTTP 400)."""


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str
    generator_url: str
    fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": self.starts_at,
            "endsAt": self.ends_at,
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Notification:
    receiver: str
    status: str
    group_key: str
    group_labels: dict[str, str]
    external_url: str
    truncated_alerts: int
    alerts: list[Alert]
    common_labels: dict[str, str] | None = None
    common_annotations: dict[str, str] | None = None

    def group(self) -> dict[str, Any]:
        """What the notification says about its group: forwarded with each of its alerts."""
        return {
            "key": self.group_key,
            "labels": self.group_labels,
            "commonLabels": self.common_labels or {},
            "commonAnnotations": self.common_annotations or {},
            "externalURL": self.external_url,
            "truncatedAlerts": self.truncated_alerts,
        }


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise InvalidPayload(message)


def _string(obj: dict, key: str, where: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    _require(isinstance(value, str), f"{where}.{key} must be a string, got {type(value).__name__}")
    return value


def _labels(obj: dict, key: str, where: str, required: bool = True) -> dict[str, str]:
    value = obj.get(key)
    if value is None and not required:
        return {}
    _require(isinstance(value, dict), f"{where}.{key} must be an object of strings, got {type(value).__name__}")
    _require(len(value) <= MAX_LABELS, f"{where}.{key} has {len(value)} entries: at most {MAX_LABELS}")
    for k, v in value.items():
        _require(isinstance(v, str), f"{where}.{key}.{k} must be a string, got {type(v).__name__}")
        _require(len(v) <= MAX_VALUE, f"{where}.{key}.{k} is longer than {MAX_VALUE} characters")
    return value


def _alert(obj: Any, where: str) -> Alert:
    _require(isinstance(obj, dict), f"{where} must be an object, got {type(obj).__name__}")
    status = _string(obj, "status", where)
    _require(status in STATUSES, f"{where}.status is {status!r}: expected one of {list(STATUSES)}")
    labels = _labels(obj, "labels", where)
    _require(bool(labels.get("alertname")), f"{where}.labels.alertname is missing: every alert has a name")
    fingerprint = _string(obj, "fingerprint", where)
    _require(bool(FINGERPRINT.match(fingerprint)), f"{where}.fingerprint {fingerprint[:80]!r} is not a hex fingerprint")
    return Alert(
        status=status,
        labels=labels,
        annotations=_labels(obj, "annotations", where, required=False),
        starts_at=_string(obj, "startsAt", where),
        ends_at=_string(obj, "endsAt", where, required=False),
        generator_url=_string(obj, "generatorURL", where, required=False),
        fingerprint=fingerprint,
    )


def parse_notification(body: Any, max_alerts: int = 1000) -> Notification:
    """A validated notification, or :class:`InvalidPayload` naming the first field that is wrong."""
    _require(isinstance(body, dict), f"the body must be a JSON object (a webhook), got {type(body).__name__}")
    version = body.get("version")
    _require(version == "4", f'version is {version!r}: this endpoint takes Alertmanager\'s webhook version "4"')
    status = _string(body, "status", "body")
    _require(status in STATUSES, f"body.status is {status!r}: expected one of {list(STATUSES)}")
    alerts = body.get("alerts")
    _require(isinstance(alerts, list) and len(alerts) > 0, "body.alerts must be a non-empty list of alerts")
    _require(len(alerts) <= max_alerts, f"body.alerts holds {len(alerts)} alerts: at most {max_alerts} per request")
    truncated = body.get("truncatedAlerts", 0)
    _require(
        isinstance(truncated, int) and not isinstance(truncated, bool) and truncated >= 0,
        "body.truncatedAlerts must be a non-negative integer",
    )
    return Notification(
        receiver=_string(body, "receiver", "body"),
        status=status,
        group_key=_string(body, "groupKey", "body"),
        group_labels=_labels(body, "groupLabels", "body", required=False),
        external_url=_string(body, "externalURL", "body", required=False),
        truncated_alerts=truncated,
        alerts=[_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)],
        common_labels=_labels(body, "commonLabels", "body", required=False),
        common_annotations=_labels(body, "commonAnnotations", "body", required=False),
    )
