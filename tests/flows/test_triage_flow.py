"""playbooks/triage.yml end to end through ansible-runner: a failed Bandit step -> a DevSecOps report."""

from __future__ import annotations

from sandbox.paths import REPO

from .scenarios import PLANTED_TOKEN, REPO_NAME, bandit_failure

PLAYBOOK = REPO / "playbooks" / "triage.yml"


def test_failed_bandit_step_gives_a_devsecops_report_on_the_failing_commit(ansible, github, slack, flow_env):
    s = bandit_failure(github)
    run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=flow_env)
    assert run.ok, run.stdout[-3000:]
    print(run.task("Say what was posted").res["msg"])

    analysis = run.task("Analyse the failing step").res
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
        env = {
            **flow_env,
            "AIOPS_PROVIDER": "gemini",
            "GEMINI_API_KEY": gemini.api_key,
            "AIOPS_API_BASE_URL": gemini.url,
        }
        run = ansible.playbook(PLAYBOOK, extravars={"triage_run_id": s["run"]}, env=env)
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
    analysis = run.task("Analyse the failing step").res
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
