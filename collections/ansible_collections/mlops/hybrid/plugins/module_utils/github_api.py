# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin layer over PyGithub: connect, find and post, with GitHub's errors turned into typed ones."""

from __future__ import annotations

import re

from .errors import InvalidInput, MissingDependency
from .github.client import remote_error

try:
    from github import Auth, Github, GithubException

    HAS_PYGITHUB = True
except ImportError:
    HAS_PYGITHUB = False
    GithubException = Exception

REPOSITORY_RX = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def check_repository(repository):
    if not repository or not REPOSITORY_RX.match(repository):
        raise InvalidInput("repository must look like owner/name (or set GITHUB_REPOSITORY), got %r" % (repository,))
    return repository


def connect(token, api_url, timeout=30):
    """A PyGithub client for ``api_url`` (GitHub, GitHub Enterprise, or a local test server)."""
    if not HAS_PYGITHUB:
        raise MissingDependency("PyGithub")
    if not token:
        raise InvalidInput("a GitHub token is needed: set github_token or GITHUB_TOKEN")
    return Github(auth=Auth.Token(token), base_url=api_url.rstrip("/"), timeout=timeout, retry=None)


def get_repo(gh, repository):
    check_repository(repository)
    try:
        return gh.get_repo(repository)
    except GithubException as e:
        raise remote_error(e, "reading repository %s" % repository) from e


def find_open_issue(repo, marker, label=None):
    """The first open issue (optionally with ``label``) whose body contains ``marker``, else None."""
    try:
        issues = repo.get_issues(state="open", labels=[label]) if label else repo.get_issues(state="open")
        for issue in issues:
            if issue.pull_request is None and marker in (issue.body or ""):
                return issue
    except GithubException as e:
        raise remote_error(e, "listing open issues") from e
    return None


def texts_of_issue(issue):
    """The body and every comment of an issue or pull request."""
    try:
        return [issue.body or ""] + [c.body or "" for c in issue.get_comments()]
    except GithubException as e:
        raise remote_error(e, "reading comments of #%s" % issue.number) from e


def call(what, fn, *args, **kwargs):
    """Run one PyGithub call, translating its exception."""
    try:
        return fn(*args, **kwargs)
    except GithubException as e:
        raise remote_error(e, what) from e
