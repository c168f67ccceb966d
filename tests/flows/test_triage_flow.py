"""playbooks/triage.yml end to end through ansible-runner: a failed Bandit step -> a DevSecOps report."""

from __future__ import annotations

import json

from sandbox.fakes.github import setup_job_log
from sandbox.paths import REPO

from .scenarios import (
    CHECKOUT_V4,
    PLANTED_TOKEN,
    REPO_NAME,
    SETUP_PYTHON,
    bandit_failure,
    ci_jobs,
    failing_tests_and_bandit,
)

PLAYBOOK = REPO / "playbooks" / "triage.yml"


def test_failed_bandit_step_gives_a_devsecops_report_on_the_failing_commit(ansible, github, slack, flow_env):
    s = bandit_failure(github)
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    print(run.task("Say what was posted").res["msg"])

    (analysis,) = run.task("Analyse each failure").res["results"]
    assert analysis["category"] == "sast" and analysis["template"] == "devsecops"
    assert any("B403" in e or "B602" in e or "B301" in e for e in analysis["evidence"]), analysis["evidence"]

    # One issue, labelled for the security team, naming the file and the commits since the green run.
    (issue,) = github.issues(REPO_NAME)
    assert {"aiops", "security", "ci-failure"} <= set(issue["labels"])
    assert "src/app/vuln.py" in issue["body"] and s["bad"][:12] in issue["body"]
    assert s["middle"][:12] in issue["body"]

    # The comment is on the failing commit and no other.
    commented = {sha for sha, comments in github.repos[REPO_NAME].commit_comments.items() if comments}
    assert commented == {s["bad"]}
    (comment,) = github.repos[REPO_NAME].commit_comments[s["bad"]]
    assert "sast" in comment["body"] and "Urgency" in comment["body"]

    # Slack got the summary with the links; no secret anywhere on the wire.
    (message,) = slack.messages
    assert "sast" in message["text"] and issue_url(issue) in message["text"]
    for fake in (github, slack):
        assert PLANTED_TOKEN not in fake.wire_text()
    # The files named by the findings were read at the failing commit, redacted, and given to the analysis.
    files = run.task("Read why the run failed (API only)").res["files"]
    by_line = {f["line"]: f for f in files if f["path"] == "src/app/vuln.py"}
    assert '7\tDB_PASSWORD = "[REDACTED:env_secret]"' in by_line[7]["excerpt"]
    assert "11\t    return subprocess.call(cmd, shell=True)" in by_line[11]["excerpt"]
    assert "hunter2-prod" not in str(files)


def gemini_env(flow_env, gemini):
    """The flows' environment with Gemini as the provider, answered by ``gemini`` (a FakeGemini)."""
    return {**flow_env, "AIOPS_PROVIDER": "gemini", "GEMINI_API_KEY": gemini.api_key, "AIOPS_API_BASE_URL": gemini.url}


def issue_url(issue):
    return "https://github.com/%s/issues/%d" % (REPO_NAME, issue["number"])


def test_triage_in_check_mode_reads_everything_and_posts_nothing(ansible, github, slack, flow_env):
    s = bandit_failure(github)
    run = ansible.playbook(PLAYBOOK, check=True, extravars={"triage_run_id": s["run"]}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    planned = run.task(
        "Post the report (the pull request or the failing commit, an issue on the default branch, Slack)"
    ).res
    assert [(a["target"], a["action"]) for a in planned["actions"]] == [
        ("issue", "create"),
        ("commit", "comment"),
        ("slack", "post"),
    ]
    assert github.calls("POST") == [] and github.calls("PATCH") == [] and slack.requests == []
    assert github.calls("GET", r"/actions/runs/\d+/logs$"), "the log archive was read"


def test_the_same_failure_again_comments_on_the_open_issue(ansible, github, slack, flow_env):
    s = bandit_failure(github)
    assert ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=flow_env).ok
    again = github.add_run(
        REPO_NAME, s["workflow"], s["bad"], "failure", github.actions[REPO_NAME].runs[s["run"]]["jobs"]
    )
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": again}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    assert len(github.issues(REPO_NAME)) == 1
    assert len(github.comments(REPO_NAME, 1)) == 1


def test_an_unknown_run_fails_clearly_and_posts_nothing(ansible, github, slack, flow_env):
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": 424242}, env=flow_env)
    assert not run.ok
    res = run.task("Read why the run failed (API only)").res
    assert "workflow run 424242 not found in %s" % REPO_NAME in res["msg"]
    assert github.calls("POST") == [] and slack.requests == []


def test_with_gemini_the_devsecops_prompt_gets_the_findings_files_and_commits(ansible, github, slack, flow_env):
    from sandbox.fakes.gemini import FakeGemini  # noqa: PLC0415

    s = bandit_failure(github)
    answer = {
        "summary": "vuln.py deserialises untrusted data with pickle and runs a shell command built from input.",
        "root_causes": [
            {
                "cause": "pickle.loads on request data (B301) allows code execution in the model server.",
                "evidence": "Location: ./src/app/vuln.py:19:11",
                "remediation": "Load models with joblib from the trusted artifact store only; never unpickle input.",
                "confidence": 0.9,
            }
        ],
        "urgency": "P0",
        "false_positive": False,
    }
    with FakeGemini() as gemini:
        gemini.queue_answer(answer)
        run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=gemini_env(flow_env, gemini))
        assert run.ok, run.stdout[-3000:]
        (call,) = gemini.generate_calls
        system = call.body["systemInstruction"]["parts"][0]["text"]
        user = call.body["contents"][0]["parts"][0]["text"]
        wire = gemini.wire_text()
    assert "DevSecOps engineer" in system and "untrusted DATA" in system
    assert "[B602:subprocess_popen_with_shell_equals_true]" in user
    assert "return subprocess.call(cmd, shell=True)" in user  # the file excerpt, read at the failing commit
    assert s["middle"] in user and "Bandit gate (medium severity and up)" in user
    assert PLANTED_TOKEN not in wire and "hunter2-prod" not in wire
    (analysis,) = run.task("Analyse each failure").res["results"]
    assert analysis["provider_used"] == "gemini" and analysis["template"] == "devsecops"
    (issue,) = github.issues(REPO_NAME)
    assert "pickle.loads on request data" in issue["body"] and "**Urgency:** P0" in issue["body"]
    assert "security" in issue["labels"]
    assert "pickle.loads on request data" in slack.messages[0]["text"]


def test_a_pull_requests_failure_is_reported_on_the_pull_request_and_opens_no_issue(ansible, github, slack, flow_env):
    pr = github.add_pull(REPO_NAME, "feat: cache predictions", head="feat/cache", base="main")
    s = bandit_failure(github, head_branch="feat/cache", pull_requests=(pr,))
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    read = run.task("Read why the run failed (API only)").res["run"]
    assert (read["pull_requests"], read["on_default_branch"], read["default_branch"]) == ([pr], False, "main")
    posted = run.task("Post the report (the pull request or the failing commit, an issue on the default branch, Slack)")
    assert [(a["target"], a["action"]) for a in posted.res["actions"]] == [
        ("pull_request", "comment"),
        ("slack", "post"),
    ]
    assert github.issues(REPO_NAME) == [] and not any(github.repos[REPO_NAME].commit_comments.values())
    (comment,) = github.comments(REPO_NAME, pr)
    assert "sast" in comment["body"] and "src/app/vuln.py" in comment["body"]
    (message,) = slack.messages
    assert posted.res["actions"][0]["comment_url"] in message["text"]

    # A listed branch opens issues too.
    wide = ansible.playbook(
        PLAYBOOK, extravars={"triage_run_id": s["run"], "triage_issue_branches": ["feat/cache"]}, env=flow_env
    )
    assert wide.ok, wide.stdout[-3000:]
    assert len(github.issues(REPO_NAME)) == 1


POST = "Post the report (the pull request or the failing commit, an issue on the default branch, Slack)"


def test_tests_and_bandit_failing_on_a_pull_request_give_one_comment_with_both_and_no_issue(
    ansible, github, slack, flow_env
):
    pr = github.add_pull(REPO_NAME, "ci: setup-python v6", head="ci/setup-python-v6", base="main")
    s = failing_tests_and_bandit(github, head_branch="ci/setup-python-v6", pull_requests=(pr,))
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    print(run.task("Say what was posted").res["msg"])

    # Three failed jobs, two distinct failures: the matrix legs of the tests are one.
    read = run.task("Read why the run failed (API only)").res
    assert [j["name"] for j in read["failed_jobs"]] == ["tests (3.11)", "tests (3.12)", "security scans"]
    failures = read["failures"]
    assert [(f["jobs"], f["step"]) for f in failures] == [
        (["tests (3.11)", "tests (3.12)"], "Run pytest -x tests/"),
        (["security scans"], "Run bandit -r src -ll"),
    ]
    # Each was analysed on its own log, and the analysis gives the category and fingerprint the collector said.
    results = run.task("Analyse each failure").res["results"]
    assert [r["category"] for r in results] == [f["category"] for f in failures] == ["test", "sast"]
    assert [r["fingerprint"] for r in results] == [f["fingerprint"] for f in failures]
    assert "test_mean_of_known_values" in results[0]["excerpt"] and "B403" not in results[0]["excerpt"]

    # One comment on the pull request holds both; no issue (not the default branch), nothing on the commit.
    posted = run.task(POST).res
    assert [(a["target"], a["action"]) for a in posted["actions"]] == [("pull_request", "comment"), ("slack", "post")]
    assert github.issues(REPO_NAME) == [] and not any(github.repos[REPO_NAME].commit_comments.values())
    (comment,) = github.comments(REPO_NAME, pr)
    body = comment["body"]
    assert "## 2 failures" in body
    assert "## 1. tests (3.11), tests (3.12) / Run pytest -x tests/" in body
    assert "## 2. security scans / Run bandit -r src -ll" in body
    assert body.index("### test:") < body.index("### sast:")
    assert all("fingerprint: %s" % f["fingerprint"] in body for f in failures)
    assert "**Team:** dev" in body and "**Team:** security" in body
    assert "changed since then: workflow_file, dependency_files, runner_image, action_pins" in body
    (message,) = slack.messages
    assert message["text"].startswith("*2 failures*") and posted["actions"][0]["comment_url"] in message["text"]


def test_tests_and_bandit_failing_on_main_open_one_issue_for_both_teams(ansible, github, slack, flow_env):
    s = failing_tests_and_bandit(github)
    env = {**flow_env, "AIOPS_TEAMS": '{"security": ["acme/security"], "dev": ["acme/platform-dev"]}'}
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=env)
    assert run.ok, run.stdout[-3000:]
    (issue,) = github.issues(REPO_NAME)
    assert set(issue["labels"]) == {"aiops", "ci-failure", "security", "ci"}  # both categories' labels
    assert issue["title"].startswith("[aiops] 2 failures, test + sast: ")
    assert "**Team:** dev (cc @acme/platform-dev)\n**Team:** security (cc @acme/security)" in issue["body"]
    fingerprints = run.task(POST).res["fingerprints"]
    assert len(fingerprints) == 2

    # The next run fails only on Bandit: the same failure, so the open issue gets the comment.
    again = github.add_run(REPO_NAME, s["workflow"], s["bad"], "failure", ci_jobs("v6", "20251222.180.1", True)[2:])
    rerun = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": again}, env=env)
    assert rerun.ok, rerun.stdout[-3000:]
    assert len(github.issues(REPO_NAME)) == 1 and len(github.comments(REPO_NAME, issue["number"])) == 1
    assert rerun.task(POST).res["fingerprints"] == fingerprints[1:]


def test_the_prompt_gets_the_configuration_changes_since_the_green_run(ansible, github, slack, flow_env):
    from sandbox.fakes.gemini import FakeGemini  # noqa: PLC0415

    s = failing_tests_and_bandit(github)
    with FakeGemini() as gemini:
        for _ in range(2):
            gemini.queue_answer(
                {
                    "summary": "The tests fail since setup-python moved to v6 and scikit-learn to 1.6.0.",
                    "root_causes": [
                        {
                            "cause": "scikit-learn 1.6.0 changed the computation the tests pin.",
                            "evidence": "+scikit-learn==1.6.0",
                            "remediation": "Pin scikit-learn==1.5.2 again or update the expected values.",
                            "confidence": 0.6,
                        }
                    ],
                    "urgency": "P2",
                    "false_positive": False,
                }
            )
        run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=gemini_env(flow_env, gemini))
        assert run.ok, run.stdout[-3000:]
        prompts = [c.body["contents"][0]["parts"][0]["text"] for c in gemini.generate_calls]
        systems = [c.body["systemInstruction"]["parts"][0]["text"] for c in gemini.generate_calls]
    changes = run.task("Read why the run failed (API only)").res["configuration_changes"]
    print(json.dumps(changes, indent=1))
    assert changes["compared_with"]["id"] == s["ok_run"]
    assert "-      - uses: actions/setup-python@v5" in changes["workflow_file"]["diff"]
    assert "+      - uses: actions/setup-python@v6" in changes["workflow_file"]["diff"]
    (req,) = changes["dependency_files"]
    assert req["path"] == "requirements.txt" and req["status"] == "modified"
    assert "-scikit-learn==1.5.2" in req["patch"] and "+scikit-learn==1.6.0" in req["patch"]
    assert changes["action_pins"] == [{"action": "actions/setup-python", "before": "v5", "after": "v6"}]
    assert changes["runner_image"] == {
        "before": "ubuntu-24.04 20251215.174.1, runner 2.330.0",
        "after": "ubuntu-24.04 20251222.180.1, runner 2.330.0",
    }
    assert changes["unavailable"] == [] and changes["unchanged"] == []
    # Both prompts got the differences, not the files: the diff lines, never the whole workflow file.
    assert len(prompts) == 2 and all("configuration_changes list what changed" in x for x in systems)
    for prompt in prompts:
        assert "+scikit-learn==1.6.0" in prompt and "actions/setup-python@v6" in prompt
        assert "20251222.180.1" in prompt
        assert 'python: [\\"3.11\\", \\"3.12\\"]' not in prompt  # a line of the workflow file far from the change


def test_a_tag_that_moved_is_a_changed_pin_even_when_nothing_was_committed(ansible, github, slack, flow_env):
    s = failing_tests_and_bandit(github)
    jobs = ci_jobs("v6", "20251222.180.1", failing=True)
    moved = ("actions/checkout@v4", "1111111111111111111111111111111111111111")
    for job in jobs:
        job["steps"][0]["log"] = setup_job_log(image_version="20251222.180.1", actions=(moved, SETUP_PYTHON["v6"]))
    github.add_run(REPO_NAME, s["workflow"], s["bad"], "success", ci_jobs("v6", "20251222.180.1", failing=False))
    rerun = github.add_run(REPO_NAME, s["workflow"], s["bad"], "failure", jobs)
    res = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": rerun}, env=flow_env, check=True)
    assert res.ok, res.stdout[-3000:]
    changes = res.task("Read why the run failed (API only)").res["configuration_changes"]
    assert changes["action_pins"] == [
        {
            "action": "actions/checkout",
            "before": "v4 (%s)" % CHECKOUT_V4[1],
            "after": "v4 (1111111111111111111111111111111111111111)",
        }
    ]
    assert changes["workflow_file"] is None and changes["dependency_files"] == []
    assert set(changes["unchanged"]) == {"workflow file", "dependency files", "runner image"}
