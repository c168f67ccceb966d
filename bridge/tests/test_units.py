"""The bridge's pure parts: schema validation, de-duplication, token bucket, payload fitting, backoff, spool."""

from __future__ import annotations

import json
import random

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.retry import backoff_delay
from mlops_bridge.dispatch import MAX_PAYLOAD_CHARS, build_payload
from mlops_bridge.limits import Deduplicator, TokenBucket
from mlops_bridge.schema import InvalidPayload, parse_notification
from mlops_bridge.spool import Spool, SpoolFull
from sandbox.bridge import alert, webhook_body


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_valid_notification_parses():
    note = parse_notification(webhook_body([alert("ModelHighLatency", model_name="m", namespace="models")]))
    assert note.status == "firing"
    assert note.alerts[0].labels["alertname"] == "ModelHighLatency"
    assert len(note.alerts[0].fingerprint) == 16


def _mutate(body, path, value):
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("version",), "3", "version is '3': this endpoint takes Alertmanager's webhook version \"4\""),
        (("version",), KeyError, "version is None"),
        (("status",), "pending", "body.status is 'pending'"),
        (("alerts",), [], "body.alerts must be a non-empty list"),
        (("alerts",), "x", "body.alerts must be a non-empty list"),
        (("receiver",), 7, "body.receiver must be a string, got int"),
        (("alerts", 0, "labels", "alertname"), KeyError, "alerts[0].labels.alertname is missing"),
        (("alerts", 0, "labels", "model_name"), 3, "alerts[0].labels.model_name must be a string, got int"),
        (("alerts", 0, "fingerprint"), "not hex!", "alerts[0].fingerprint 'not hex!' is not a hex fingerprint"),
        (("alerts", 0, "status"), "active", "alerts[0].status is 'active'"),
        (("alerts", 0, "annotations"), ["x"], "alerts[0].annotations must be an object of strings, got list"),
        (("truncatedAlerts",), -1, "body.truncatedAlerts must be a non-negative integer"),
    ],
)
def test_invalid_notifications_name_the_field(path, value, message):
    body = _mutate(webhook_body([alert("ModelHighLatency", model_name="m")]), path, value)
    with pytest.raises(InvalidPayload) as e:
        parse_notification(body)
    assert message in str(e.value)


def test_not_an_object_and_too_many_alerts():
    with pytest.raises(InvalidPayload, match="must be a JSON object"):
        parse_notification(["alerts"])
    with pytest.raises(InvalidPayload, match="holds 3 alerts: at most 2"):
        parse_notification(webhook_body([alert("A", i=str(i)) for i in range(3)]), max_alerts=2)


def test_dedup_window_and_bound():
    clock = Clock()
    d = Deduplicator(window=60, max_entries=3, clock=clock)
    assert not d.seen(("a", "firing"))
    d.record(("a", "firing"))
    assert d.seen(("a", "firing"))
    assert not d.seen(("a", "resolved"))  # the status is part of the key
    clock.now += 61
    assert not d.seen(("a", "firing"))  # the window passed
    for key in "bcde":
        d.record((key, "firing"))
    assert len(d) == 3  # bounded: the oldest is forgotten first
    assert not d.seen(("b", "firing"))
    assert d.seen(("e", "firing"))


def test_token_bucket_burst_then_rate():
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=6, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 9.9
    assert not bucket.take()  # 6 a minute: one token every 10 s
    clock.now += 0.2
    assert bucket.take()
    clock.now += 3600
    assert bucket.tokens == 3  # never more than the burst saved up


def _record(text="", annotations=None):
    a = alert("ModelPodCrashLooping", annotations=annotations, namespace="models", pod="p-1")
    return {
        "id": "abc",
        "route": "operational",
        "event_type": "aiops-alert",
        "receiver": "bridge-operational",
        "alert": a,
        "received_at": 1.0,
        "attempts": 0,
        "context": {"text": text, "sources": ["pod"], "notes": [], "redactions": {}},
    }


def test_payload_fits_githubs_limits():
    small = build_payload(_record("a short context"))
    assert len(small) <= 10
    assert small["context"]["text"] == "a short context"
    assert small["alert"]["fingerprint"] and small["bridge"]["attempt"] == 1
    text = "first decisive line\n" + "noise line\n" * 20000 + "last decisive line: OOMKilled\n"
    big = build_payload(_record(text, {"description": "d" * 100000}))
    size = len(json.dumps(big, separators=(",", ":"), ensure_ascii=False))
    assert size <= MAX_PAYLOAD_CHARS
    assert big["context"]["text"].startswith("first decisive line")
    assert big["context"]["text"].rstrip().endswith("last decisive line: OOMKilled")
    assert "characters cut by the alert bridge" in big["context"]["text"]
    assert any("shortened" in n for n in big["context"]["notes"])


def test_the_whole_alert_and_its_group_travel_and_long_values_are_shortened_first():
    record = _record("noise line\n" * 20000)
    record["alert"]["generatorURL"] = "http://prometheus:9090/graph?g0.expr=up"
    record["group"] = {
        "key": '{}:{alertname="ModelPodCrashLooping"}',
        "labels": {"alertname": "ModelPodCrashLooping"},
        "commonLabels": {"alertname": "ModelPodCrashLooping", "namespace": "models"},
        "commonAnnotations": {"description": "x" * 50000},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
    }
    payload = build_payload(record)
    assert len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False)) <= MAX_PAYLOAD_CHARS
    assert payload["alert"]["generatorURL"] == "http://prometheus:9090/graph?g0.expr=up"
    assert payload["group"]["externalURL"] == "http://alertmanager:9093"
    assert payload["group"]["commonLabels"] == record["group"]["commonLabels"]
    assert len(payload["group"]["commonAnnotations"]["description"]) <= 2000
    assert build_payload(_record("spooled before groups were kept"))["group"] == {}


def test_the_drift_assessment_travels_in_the_context_and_survives_shortening():
    assessment = {"urgency": "P1", "action": "issue", "hypothesis": "Data drift", "affected_features": []}
    report = {"summary": "Data drift.", "root_causes": [], "urgency": "P1", "false_positive": False}
    record = _record("noise line\n" * 20000)
    record["context"].update(assessment=assessment, report=report)
    payload = build_payload(record)
    assert payload["context"]["assessment"] == assessment and payload["context"]["report"] == report
    assert {"assessment", "report"} & set(build_payload(_record("operational: none"))["context"]) == set()


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(1)  # noqa: S311 - jitter, not cryptography
    delays = [backoff_delay(n, 1.0, 30.0, rng) for n in range(1, 9)]
    for n, d in enumerate(delays, 1):
        top = min(30.0, 2 ** (n - 1))
        assert top / 2 <= d <= top
    assert max(delays) <= 30.0


def test_spool_is_durable_and_bounded(tmp_path):
    spool = Spool(tmp_path / "spool", max_records=2)
    (tmp_path / "spool" / "half-written.json.x.tmp").write_text("{")
    a = spool.put({"n": 1})
    b = spool.put({"n": 2})
    with pytest.raises(SpoolFull):
        spool.put({"n": 3})
    spool.update(a, {"n": 1, "attempts": 1})
    again = Spool(tmp_path / "spool", max_records=2)  # a restart
    assert again.names() == sorted([a, b])
    assert again.load(a) == {"n": 1, "attempts": 1}
    assert not list((tmp_path / "spool").glob("*.tmp"))
    again.dead(b, "422 from GitHub")
    again.remove(a)
    assert len(again) == 0
    assert again.failed() == 1
    assert json.loads((tmp_path / "spool" / "failed" / b).read_text())["failed_reason"] == "422 from GitHub"
