"""The GitHub fake speaks enough of the REST API for PyGithub: pagination, search, errors (no Ansible here)."""

from __future__ import annotations

import pytest
from github import Auth, BadCredentialsException, Github, GithubException

from ansible_collections.mlops.hybrid.plugins.module_utils import github_api
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import RemoteError


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
    found = github_api.find_open_issue(repo, "mlops-hybrid-fingerprint: abc123", "aiops")
    assert found is not None and found.number == 1
    pages = github.calls("GET", r"/issues$")
    assert len(pages) >= 2 and any("page" in r.query for r in pages)
    assert github_api.find_open_issue(repo, "mlops-hybrid-fingerprint: other", "aiops") is None


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
        github_api.call("creating the issue", repo.create_issue, title="x", assignees=["nobody"])
