# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyGithub, guarded: one connection with one retry policy, and GitHub's errors turned into typed ones.

    gh = client.connect(token=token, api_url=api_url, timeout=30, retries=2)
    repo = client.repository(gh, "owner/name")
    issue = client.call("creating the issue", repo.create_issue, title="...")

Idempotent requests that meet a status of ``retry.RETRY_STATUSES`` are retried ``retries`` times,
waiting ``retry.backoff_delay`` or what the server asked for (``Retry-After``, GitHub's rate-limit
reset), never more than ``MAX_DELAY``. Errors name what failed, GitHub's message and a hint.
"""

from __future__ import annotations

import re
import traceback

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, MissingDependency, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.retry import RETRY_STATUSES, backoff_delay, retry_after

try:
    from urllib3.util.retry import Retry

    from github import Auth, Github, GithubException

    HAS_PYGITHUB = True
    PYGITHUB_IMPORT_ERROR = None
except ImportError:  # reported by the module with missing_required_lib
    HAS_PYGITHUB = False
    PYGITHUB_IMPORT_ERROR = traceback.format_exc()
    GithubException = Exception
    Retry = object

DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 2
BASE_DELAY = 0.5
MAX_DELAY = 30.0

REPOSITORY_RX = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

HINTS = {
    401: " (the token is invalid or expired)",
    403: " (the token lacks permission, or a rate limit was hit)",
    404: " (no such repository/object, or the token cannot see it)",
    422: " (GitHub refused the content)",
}


class _Retry(Retry):
    """urllib3's Retry waiting as :mod:`retry` says: exponential backoff, or the server's hint (capped)."""

    def get_backoff_time(self):
        attempt = len(self.history)
        return backoff_delay(attempt, BASE_DELAY, MAX_DELAY) if attempt else 0

    def get_retry_after(self, response):
        hint = retry_after(response.headers)
        return None if hint is None else min(hint, MAX_DELAY)


def retry_policy(retries):
    """The urllib3 Retry every GitHub connection uses, or None for ``retries`` 0."""
    if not retries:
        return None
    return _Retry(
        total=retries,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BASE_DELAY,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def check_repository(repository):
    if not repository or not REPOSITORY_RX.match(repository):
        raise InvalidInput("repository must look like owner/name (or set GITHUB_REPOSITORY), got %r" % (repository,))
    return repository


def check_token(token):
    if not token:
        raise InvalidInput("a GitHub token is needed: set github_token or GITHUB_TOKEN")
    return token


def connect(*, token, api_url, timeout=DEFAULT_TIMEOUT, retries=DEFAULT_RETRIES):
    """A PyGithub client for ``api_url`` (GitHub, GitHub Enterprise, or a local test server)."""
    if not HAS_PYGITHUB:
        raise MissingDependency("PyGithub")
    check_token(token)
    return Github(
        auth=Auth.Token(token),
        base_url=api_url.rstrip("/"),
        timeout=timeout,
        retry=retry_policy(retries),
    )


def message_of(status, data, default=""):
    """GitHub's message and its field errors, from an error answer's JSON (``data``)."""
    message = data.get("message") if isinstance(data, dict) else None
    message = message or default
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        details = [
            err.get("message") or "%s %s" % (err.get("field", ""), err.get("code", ""))
            for err in data["errors"]
            if isinstance(err, dict)
        ]
        if details:
            message = "%s: %s" % (message, "; ".join(details))
    return "%s %s%s" % (status, message, HINTS.get(status, ""))


def remote_error(e, action):
    """A RemoteError saying which ``action`` failed, what GitHub answered and what it likely means."""
    status = getattr(e, "status", None)
    return RemoteError(
        "GitHub %s failed: %s" % (action, message_of(status, getattr(e, "data", None), str(e))), {"status": status}
    )


def call(action, fn, *args, **kwargs):
    """Run one PyGithub call, translating its exception."""
    try:
        return fn(*args, **kwargs)
    except GithubException as e:
        raise remote_error(e, action) from e


def repository(gh, full_name):
    """The PyGithub Repository ``full_name`` (owner/name)."""
    check_repository(full_name)
    return call("reading repository %s" % full_name, gh.get_repo, full_name)
