from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import classify, incident, providers
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.retry import retry_delay


@pytest.mark.parametrize("category", classify.CATEGORIES)
def test_offline_rules_give_a_valid_report_for_every_category(category):
    rep = providers.offline_report(category, ["first decisive line", "second one"])
    assert rep["urgency"] in ("P0", "P1", "P2")
    assert rep["root_causes"][0]["evidence"] == "first decisive line"
    assert len(rep["root_causes"]) == 2
    assert providers.offline_report(category, [])["root_causes"][0]["confidence"] < 0.5


def test_secrets_are_p0_and_lint_is_p2():
    assert providers.offline_report("secrets", ["x"])["urgency"] == "P0"
    assert providers.offline_report("lint", ["x"])["urgency"] == "P2"


@pytest.mark.parametrize(
    ("details", "attempt", "cap", "expected"),
    [
        (
            {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]}},
            1,
            30,
            7.0,
        ),
        (
            {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}},
            4,
            30,
            1.5,
        ),
        (
            {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "90s"}]}},
            1,
            30,
            30,
        ),
        ({"error": {"message": "no details"}}, 1, 30, 0.5),
        ({"error": {"message": "no details"}}, 3, 30, 2.0),
        (None, 11, 5, 5),
        ({"error": {"details": [{"@type": "x.RetryInfo", "retryDelay": "soon"}]}}, 2, 30, 1.0),
    ],
)
def test_retry_delay_honours_the_server_and_is_bounded(details, attempt, cap, expected):
    # attempt is the retry's number (1 for the first), as in retry.backoff_delay
    hint = providers.retry_info(details)
    assert retry_delay(attempt, base=providers.RETRY_BASE, cap=cap, hint=hint) == expected


def test_remote_provider_failures_fall_back_unless_told_not_to():
    res = providers.analyze("k8s_oom", "excerpt", ["Reason: OOMKilled"], provider="gemini")
    assert res["provider_used"] == "offline" and res["fallback"] and "no API key" in res["provider_error"]
    with pytest.raises(RemoteError, match="no API key"):
        providers.analyze("k8s_oom", "excerpt", [], provider="gemini", endpoint=providers.Endpoint(), fallback=False)
    with pytest.raises(InvalidInput, match="provider must be one of"):
        providers.analyze("k8s_oom", "excerpt", [], provider="chatgpt")
    with pytest.raises(InvalidInput, match="needs api_base_url"):
        providers.analyze("k8s_oom", "excerpt", [], provider="openai_compatible")


def test_model_json_in_a_code_fence_is_accepted():
    assert providers._parse_json('```json\n{"a": 1}\n```') == {"a": 1}


@pytest.mark.parametrize(
    ("category", "routing", "labels", "assignees"),
    [
        ("secrets", {}, ["security"], []),
        ("model_validation", {"model_validation": {"assignees": ["ml-lead"]}}, ["ml"], ["ml-lead"]),
        ("k8s_oom", {"default": {"labels": ["ops"]}}, ["ops"], []),
        ("k8s_oom", {"default": {"labels": ["ops"]}, "k8s_oom": {"labels": ["memory"]}}, ["memory"], []),
    ],
)
def test_routing_per_category(category, routing, labels, assignees):
    out = incident.routing_for(category, routing)
    assert out == {"labels": labels, "assignees": assignees}


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"nope": {}}, "unknown category"),
        ({"sast": ["x"]}, "must be a dict"),
        ({"sast": {"labels": "x"}}, "must be a list"),
    ],
)
def test_bad_routing_is_refused(routing, message):
    with pytest.raises(InvalidInput, match=message):
        incident.routing_for("sast", routing)
