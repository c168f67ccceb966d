"""The GitHub fake speaks enough of the REST API for PyGithub: pagination, search, errors (no Ansible here)."""

from __future__ import annotations

import pytest
from github import Auth, BadCredentialsException, Github, GithubException
from urllib3.util.retry import RequestHistory

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.github import client as github_client
from ansible_collections.mlops.hybrid.plugins.module_utils.github import issues
from ansible_collections.mlops.hybrid.plugins.module_utils.retry import RETRY_STATUSES, backoff_delay


def client(fake, token=None):
    return Github(
        auth=Auth.Token(token or fake.token),
        base_url=fake.url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def test_dedup_lookup_follows_pagination(github):
    repo = client(github).get_repo("example/platform")
    for n in range(40):
        body = "report %d" % n + ("\n<!-- mlops-hybrid-fingerprint: abc123 -->" if n == 0 else "")
        repo.create_issue(title="t%d" % n, body=body, labels=["aiops"])
    found = issues.find_open_issue(repo, marker="mlops-hybrid-fingerprint: abc123", label="aiops")
    assert found is not None and found.number == 1
    pages = github.calls("GET", r"/issues$")
    assert len(pages) >= 2 and any("page" in r.query for r in pages)
    assert issues.find_open_issue(repo, marker="mlops-hybrid-fingerprint: other", label="aiops") is None


def test_search_issues_filters_like_github(github):
    gh = client(github)
    repo = gh.get_repo("example/platform")
    repo.create_issue(title="OOMKilled in models", body="fingerprint abc", labels=["aiops", "sre"])
    repo.create_issue(title="lint", body="fingerprint def", labels=["aiops"])
    github.close_issue("example/platform", 2)
    hits = list(gh.search_issues('repo:example/platform is:issue is:open label:aiops "fingerprint abc"'))
    assert [i.number for i in hits] == [1]
    assert list(gh.search_issues("repo:example/platform is:open fingerprint def")) == []


def test_errors_are_worded_as_github_does(github):
    with pytest.raises(BadCredentialsException):
        client(github, "wrong").get_repo("example/platform")
    with pytest.raises(GithubException) as e:
        client(github).get_repo("example/nope")
    assert e.value.status == 404
    repo = client(github).get_repo("example/platform")
    with pytest.raises(RemoteError, match="422 Validation Failed: nobody is not a collaborator"):
        issues.create_issue(repo, title="x", body="", assignees=["nobody"])


def test_connect_retries_idempotent_requests_and_errors_carry_hints(github):
    gh = github_client.connect(token=github.token, api_url=github.url + "/", timeout=5, retries=2)
    assert github_client.repository(gh, "example/platform").full_name == "example/platform"
    with pytest.raises(RemoteError, match=r"reading repository example/nope failed: 404 Not Found \(no such"):
        github_client.repository(gh, "example/nope")
    wrong = github_client.connect(token="wrong", api_url=github.url, retries=0)
    with pytest.raises(RemoteError, match=r"401 Bad credentials \(the token is invalid or expired\)"):
        github_client.repository(wrong, "example/platform")
    with pytest.raises(InvalidInput, match="owner/name"):
        github_client.repository(gh, "no-slash")
    with pytest.raises(InvalidInput, match="a GitHub token is needed"):
        github_client.connect(token="", api_url=github.url)


def test_the_retry_waits_come_from_retry_py():
    policy = github_client.retry_policy(3)
    assert github_client.retry_policy(0) is None and policy.total == 3
    assert set(policy.status_forcelist) == set(RETRY_STATUSES)
    assert policy.get_backoff_time() == 0
    failed = RequestHistory("GET", "/repos/example/platform", None, 502, None)
    assert policy.new(history=(failed, failed)).get_backoff_time() == backoff_delay(2, 0.5, 30.0)
    answer = type("Answer", (), {"headers": {"Retry-After": "120"}})()
    assert policy.get_retry_after(answer) == github_client.MAX_DELAY
    answer.headers = {"Retry-After": "2"}
    assert policy.get_retry_after(answer) == 2.0
