"""The category table is the one place a category is defined: everything else reads it."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import (
    categories,
    classify,
    excerpt,
    incident,
    prompts,
    providers,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.modules import llm_analyze


def test_the_documented_kind_choices_are_the_table():
    doc = yaml.safe_load(llm_analyze.DOCUMENTATION)
    assert doc["options"]["kind"]["choices"] == ["auto", *categories.CATEGORIES]
    assert classify.CATEGORIES == categories.CATEGORIES


@pytest.mark.parametrize("row", categories.TABLE, ids=lambda r: r.name)
def test_template_routing_and_offline_report_come_from_the_row(row):
    assert prompts.choose_template(row.name) == row.template
    assert incident.routing_for(row.name)["labels"] == list(row.labels)
    rep = providers.offline_report(row.name, ["the decisive line"])
    assert rep["urgency"] == row.urgency
    assert rep["root_causes"][0]["cause"] == row.cause and rep["root_causes"][0]["remediation"] == row.remediation


def test_names_are_unique_and_other_is_the_fallback():
    assert len(set(categories.CATEGORIES)) == len(categories.TABLE)
    assert categories.category("no-such-category").name == "other"


@pytest.mark.parametrize(
    ("hints", "want"),
    [
        (["Run Bandit", "security", "CI"], "sast"),
        (["Scan the image with Trivy"], "container_scan"),
        (["pip-audit"], "sca"),
        (["gitleaks detect"], "secrets"),
        (["Run tests", "test (3.11)"], "test"),
    ],
)
def test_the_failing_steps_name_says_the_category_of_a_log_that_does_not(hints, want):
    log = "Process completed with exit code 1.\n"
    assert excerpt.extract(log)["category"] == "other"
    assert excerpt.extract(log, hints=hints)["category"] == want


def test_a_strong_log_outweighs_a_weak_word_of_the_job_name():
    log = "ERROR: Could not find a version that satisfies the requirement torch==9.9\n" * 2 + (
        "ERROR: No matching distribution found for torch==9.9\n"
    )
    assert excerpt.extract(log, hints=["Install dependencies", "unit tests"])["category"] == "infra"


def test_a_tools_command_line_in_the_log_says_its_category():
    assert excerpt.extract("$ flake8 src/\nsrc/app.py:3:80: long line\n")["category"] == "lint"
    assert excerpt.extract("Run bandit -r model/src\nrc 1\n")["category"] == "sast"


def test_builder_prefixes_do_not_hide_pytest_lines():
    log = "[   38s] >       assert ret == 0\n[   38s] E       AssertionError: 1\n[   38s] FAILED t/test_x.py::test_a\n"
    res = excerpt.extract(log)
    assert res["category"] == "test"
    assert "[   38s] E       AssertionError: 1" in res["evidence"]


def test_alert_names_say_the_category():
    for name, want in [
        ("ModelPodOOMKilled", "k8s_oom"),
        ("ModelPodCrashLooping", "k8s_crashloop"),
        ("ModelHighLatency", "k8s_latency"),
        ("ModelFeatureDrift", "model_validation"),
    ]:
        assert excerpt.extract('{"labels": {"alertname": "%s", "severity": "critical"}}' % name)["category"] == want


def test_hint_scores_weigh_the_step_before_the_job():
    assert classify.hint_scores(["Run Bandit", "pytest"]) == {
        "sast": classify.HINT_TOOL_WEIGHT,
        "test": classify.HINT_TOOL_WEIGHT * classify.LATER_HINT_SHARE,
    }
    assert classify.hint_scores([None, ""]) == {}


def test_a_log_no_rule_names_takes_the_category_its_failing_lines_talk_in():
    log = "Error: the readiness endpoint /healthz answered 503, the liveness check keeps going\n"
    res = excerpt.extract(log)
    assert (res["category"], res["category_basis"]) == ("k8s_probe", "vocabulary")
    assert excerpt.extract("Error: something went wrong\n")["category_basis"] == "none"
    assert excerpt.extract("Error: something went wrong\n", kind="infra")["category_basis"] == "kind"
    assert excerpt.extract("FAILED tests/test_a.py::test_x - assert 1 == 2\n")["category_basis"] == "rules"


def test_a_tie_of_vocabularies_is_other():
    assert classify.choose_by_vocabulary({"k8s_oom": 2, "training": 2}) == "other"
    assert classify.choose_by_vocabulary({"k8s_oom": 1}) == "other"
    assert classify.choose_by_vocabulary({"k8s_oom": 3, "training": 2}) == "k8s_oom"


def test_the_team_line_mentions_only_the_configured_handles_of_the_categorys_team():
    teams = incident.check_teams({"security": ["acme/security", "@alice"], "ml": ["acme/ml"]})
    assert incident.team_lines(["sast"], teams) == "**Team:** security (cc @acme/security @alice)\n"
    assert incident.team_lines(["model_validation"], teams) == "**Team:** ml (cc @acme/ml)\n"
    assert incident.team_lines(["k8s_oom"], teams) == "**Team:** platform\n"
    assert incident.team_lines(["other"], teams) == ""
    # A report of several failures names each team once, in the order of its failures.
    assert incident.team_lines(["test", "sast", "sca", "other"], teams) == (
        "**Team:** dev\n**Team:** security (cc @acme/security @alice)\n"
    )
    assert {r.team for r in categories.TABLE} - {""} == set(categories.TEAMS) == {"dev", "ml", "platform", "security"}


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ({"sre": ["acme/sre"]}, "unknown team 'sre'"),
        ({"ml": "acme/ml"}, "teams.ml must be a list of GitHub handles"),
        ({"ml": ["acme/ml team"]}, "teams.ml must be a list of GitHub handles"),
        (["ml"], "teams must be a dict"),
    ],
)
def test_bad_teams_are_refused(teams, message):
    with pytest.raises(InvalidInput, match=message):
        incident.check_teams(teams)
