"""mlops.hybrid.incident_report through Ansible, with the real PyGithub and requests against GitHub and Slack fakes."""

from __future__ import annotations

import json

import pytest

from sandbox.paths import REPO
from sandbox.secrets_planted import CONTEXT, LOG, SECRETS, leaked

ANALYZE = "mlops.hybrid.llm_analyze"
MODULE = "mlops.hybrid.incident_report"
REPO_NAME = "example/platform"
CASES = REPO / "tests" / "corpus" / "cases"


def analysis(ansible, case="k8s_oom_describe", **extra):
    args = {"logs": (CASES / (case + ".log")).read_text(), "provider": "offline"}
    args.update(extra)
    res = ansible.module(ANALYZE, args).res
    assert res["provider_used"] == "offline", res.get("msg")
    return {k: v for k, v in res.items() if k not in ("invocation", "_stdout")}


def gh_args(github, result, **extra):
    args = {"analysis": result, "repository": REPO_NAME, "github_api_url": github.url, "github_token": github.token}
    args.update(extra)
    return args


def test_same_failure_twice_gives_one_issue_and_one_comment(ansible, github):
    a = analysis(ansible)
    first = ansible.module(MODULE, gh_args(github, a, meta={"run": "https://ci.example/runs/1"})).res
    assert first["changed"] is True, first.get("msg")
    assert first["actions"][0]["action"] == "create" and first["issue_number"] == 1
    (issue,) = github.issues(REPO_NAME)
    assert "aiops" in issue["labels"] and "sre" in issue["labels"]
    assert "<!-- mlops-hybrid-fingerprint: %s -->" % a["fingerprint"] in issue["body"]

    # The same failure in a later run: a comment on the open issue, not a twin.
    second = ansible.module(MODULE, gh_args(github, a, meta={"run": "https://ci.example/runs/2"})).res
    assert second["changed"] is True and second["actions"][0]["action"] == "comment"
    assert len(github.issues(REPO_NAME)) == 1
    assert len(github.comments(REPO_NAME, 1)) == 1

    # The very same report again (a retried task): nothing is posted.
    posts = len(github.calls("POST"))
    third = ansible.module(MODULE, gh_args(github, a, meta={"run": "https://ci.example/runs/2"})).res
    assert third["changed"] is False and third["actions"][0]["action"] == "none"
    assert len(github.calls("POST")) == posts


def test_check_mode_reports_what_would_be_posted_and_posts_nothing(ansible, github, slack):
    a = analysis(ansible)
    args = gh_args(github, a, slack_webhook_url=slack.webhook_url)
    res = ansible.module(MODULE, args, check=True, diff=True).res
    assert res["changed"] is True
    assert [(x["target"], x["action"]) for x in res["actions"]] == [("issue", "create"), ("slack", "post")]
    assert res["diff"]["after"] == res["body"]
    assert github.calls("POST") == [] and github.calls("PATCH") == [] and slack.requests == []
    assert github.issues(REPO_NAME) == []
    done = ansible.module(MODULE, args).res
    assert done["changed"] is True and len(github.issues(REPO_NAME)) == 1 and len(slack.messages) == 1
    again = ansible.module(MODULE, args, check=True).res
    assert again["changed"] is False
    assert [(x["target"], x["action"]) for x in again["actions"]] == [("issue", "none"), ("slack", "none")]


def test_a_closed_issue_does_not_absorb_a_new_occurrence(ansible, github):
    a = analysis(ansible)
    ansible.module(MODULE, gh_args(github, a))
    github.close_issue(REPO_NAME, 1)
    res = ansible.module(MODULE, gh_args(github, a)).res
    assert res["actions"][0]["action"] == "create" and res["issue_number"] == 2


@pytest.mark.parametrize(
    ("case", "label"),
    [("bandit_full", "security"), ("validation_accuracy_gate", "ml"), ("pytest_assert", "ci")],
)
def test_labels_and_assignees_follow_the_category(ansible, github, case, label):
    a = analysis(ansible, case)
    routing = {
        "sast": {"assignees": ["sec-oncall"]},
        "model_validation": {"labels": ["ml", "drift"], "assignees": ["ml-lead"]},
    }
    res = ansible.module(MODULE, gh_args(github, a, routing=routing, labels=["from-ci"])).res
    assert res["changed"] is True, res.get("msg")
    (issue,) = github.issues(REPO_NAME)
    assert label in issue["labels"] and "from-ci" in issue["labels"] and "aiops" in issue["labels"]
    expected = {"bandit_full": ["sec-oncall"], "validation_accuracy_gate": ["ml-lead"], "pytest_assert": []}[case]
    assert issue["assignees"] == expected


def test_commit_pr_and_slack_comments(ansible, github, slack):
    a = analysis(ansible, "pytest_assert")
    sha = github.add_commit(REPO_NAME, "break the mean")
    pr = github.add_pull(REPO_NAME, "feature: mean")
    args = gh_args(github, a, github_issue=False, commit_sha=sha, pull_request=pr, slack_webhook_url=slack.webhook_url)
    res = ansible.module(MODULE, args).res
    assert res["changed"] is True, res.get("msg")
    assert [x["target"] for x in res["actions"]] == ["commit", "pull_request", "slack"]
    assert len(github.repos[REPO_NAME].commit_comments[sha]) == 1
    assert len(github.comments(REPO_NAME, pr)) == 1
    (msg,) = slack.messages
    assert "[P2] test" in msg["text"] and "#comment-" in msg["text"]
    again = ansible.module(MODULE, args).res
    assert again["changed"] is False and len(slack.messages) == 1


def test_planted_secrets_and_model_markup_never_reach_github_or_slack(ansible, github, slack):
    a = analysis(ansible, "pytest_assert")
    # Build an analysis whose every text field carries secrets and markup, as a compromised provider might.
    a = json.loads(json.dumps(a))
    a["evidence"] = [*LOG.splitlines(), "<script>alert(1)</script> @everyone"]
    a["report"]["summary"] = "Leak %s <img src=x> cc @admin" % SECRETS["github_token"]
    a["report"]["root_causes"][0]["remediation"] = "use %s and <!channel>" % SECRETS["slack_token"]
    args = gh_args(github, a, slack_webhook_url=slack.webhook_url, meta=CONTEXT)
    res = ansible.module(MODULE, args).res
    assert res["changed"] is True, res.get("msg")
    assert not leaked(github.wire_text()), "leaked to GitHub"
    assert not leaked(slack.wire_text()), "leaked to Slack"
    (issue,) = github.issues(REPO_NAME)
    # Log lines stay verbatim only inside the fenced code block, where GitHub renders them as text.
    body = issue["body"]
    fence_start = body.index("````text") if "````text" in body else body.index("```text")
    fence = body[fence_start : body.index("text", fence_start)]
    outside = body[:fence_start] + body[body.index("\n" + fence + "\n", fence_start + len(fence)) :]
    for text in (outside, issue["title"], slack.messages[0]["text"]):
        assert "<img" not in text and "<script>" not in text and "<!channel>" not in text
    assert "`@admin`" in issue["body"]
    assert res["redactions"].get("github_token", 0) >= 1
    assert github.token not in github.wire_text().replace("token %s" % github.token, "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"analysis": {"category": "nope"}}, "analysis.category must be one of"),
        ({"analysis": "BROKEN"}, "analysis"),
        ({"repository": "not a repo"}, "repository must look like owner/name"),
        ({"github_token": ""}, "a GitHub token is needed"),
        ({"github_token": "wrong"}, "401 Bad credentials"),
        ({"repository": "example/missing"}, "404"),
        ({"routing": {"bogus": {"labels": ["x"]}}}, "routing has unknown category 'bogus'"),
        ({"github_issue": False}, "nothing to post to"),
        ({"commit_sha": "deadbeef"}, "No commit found"),
        ({"routing": {"sast": {"assignees": ["stranger"]}}, "_case": "bandit_full"}, "stranger is not a collaborator"),
        ({"teams": {"sre": ["acme/sre"]}}, "teams has unknown team 'sre'"),
        ({"analyses": [{"category": "sast"}]}, "parameters are mutually exclusive: analysis|analyses"),
        ({"analysis": None, "analyses": ["_ok", {"category": "nope"}]}, "analyses[1]: analysis.category must be"),
        ({"analysis": None, "analyses": []}, "give exactly one of analysis (an llm_analyze result) or analyses"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(ansible, github, args, message):
    a = analysis(ansible, args.pop("_case", "k8s_oom_describe"))
    if "analyses" in args:
        args["analyses"] = [a if x == "_ok" else x for x in args["analyses"]]
    full = {k: v for k, v in gh_args(github, a, **args).items() if v is not None}
    r = ansible.module(MODULE, full, env={"GITHUB_TOKEN": "", "SLACK_WEBHOOK_URL": ""})
    assert r.failed
    assert message in r.res["msg"]
    assert github.issues(REPO_NAME) == []


def test_slack_errors_are_explained(ansible, github, slack):
    a = analysis(ansible)
    r = ansible.module(
        MODULE, {"analysis": a, "github_issue": False, "slack_webhook_url": slack.url + "/services/T1/B1/wrong"}
    )
    assert r.failed and "404 no_service" in r.res["msg"] and "create a new incoming webhook" in r.res["msg"]
    assert "badhook123" not in r.res["msg"]


def test_the_categorys_team_is_mentioned_with_the_configured_handles_only(ansible, github):
    teams = {"security": ["acme/security"], "platform": ["acme/platform-oncall"]}
    bandit = ansible.module(MODULE, gh_args(github, analysis(ansible, "bandit_full"), teams=teams)).res
    oom = ansible.module(MODULE, gh_args(github, analysis(ansible), teams=teams)).res
    assert bandit["changed"] and oom["changed"], (bandit.get("msg"), oom.get("msg"))
    sast, k8s = github.issues(REPO_NAME)
    assert "**Team:** security (cc @acme/security)" in sast["body"] and "@acme/platform-oncall" not in sast["body"]
    assert "**Team:** platform (cc @acme/platform-oncall)" in k8s["body"]


def test_several_analyses_are_one_report_with_a_section_each_and_repeats_fold(ansible, github, slack):
    oom = analysis(ansible)
    bandit = analysis(ansible, "bandit_full")
    # As llm_analyze registers them in a loop over workflow_failure_context's failures: each with its item.
    results = [
        {**oom, "item": {"jobs": ["serve (a)"], "step": "smoke"}},
        {**bandit, "item": {"jobs": ["scan"], "step": "bandit"}},
        {**oom, "item": {"jobs": ["serve (b)"], "step": "smoke"}},
    ]
    args = {k: v for k, v in gh_args(github, None, analyses=results).items() if k != "analysis"}
    checked = ansible.module(MODULE, {**args, "slack_webhook_url": slack.webhook_url}, check=True).res
    assert checked["changed"] and github.issues(REPO_NAME) == [] and slack.requests == []
    res = ansible.module(MODULE, {**args, "slack_webhook_url": slack.webhook_url}).res
    assert res["changed"], res.get("msg")
    assert res["fingerprints"] == [oom["fingerprint"], bandit["fingerprint"]] == checked["fingerprints"]
    (issue,) = github.issues(REPO_NAME)
    assert "## 2 failures" in issue["body"] and "## 1. serve (a) / smoke; serve (b) / smoke" in issue["body"]
    assert "## 2. scan / bandit" in issue["body"] and {"sre", "security", "aiops"} <= set(issue["labels"])
    assert issue["body"].count("_Generated by mlops.hybrid AIOps") == 1
    assert slack.messages[0]["text"].startswith("*2 failures*")
    # Run again: already there, nothing posted; the Bandit failure alone later comments on the same issue.
    again = ansible.module(MODULE, args).res
    assert again["changed"] is False and [a["action"] for a in again["actions"]] == ["none"]
    alone = ansible.module(MODULE, {**args, "analyses": results[1:2]}).res
    assert alone["actions"][0]["action"] == "comment" and alone["issue_number"] == issue["number"]
