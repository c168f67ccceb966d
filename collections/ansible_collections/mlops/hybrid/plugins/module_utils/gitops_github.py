# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyGithub, guarded: a Repository handle for a token and an API root (github.com, GHES or a test fake)."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import MissingDependency, RemoteError

try:
    from github import Auth, Github, GithubException

    HAS_GITHUB = True
except ImportError:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_GITHUB = False

__all__ = ["HAS_GITHUB", "create_pull", "open_pulls", "repository"]

DEFAULT_TIMEOUT = 15
DEFAULT_RETRIES = 2


def repository(settings, timeout: int = DEFAULT_TIMEOUT):
    """``settings`` has ``repository`` (owner/name), ``api_url`` and ``token``; a PyGithub Repository."""
    if not HAS_GITHUB:
        raise MissingDependency("PyGithub")
    client = Github(
        base_url=settings.api_url.rstrip("/"),
        auth=Auth.Token(settings.token),
        timeout=timeout,
        retry=DEFAULT_RETRIES,
    )
    try:
        return client.get_repo(settings.repository)
    except GithubException as e:
        raise RemoteError(
            "GitHub repository %s at %s: %s %s" % (settings.repository, settings.api_url, e.status, e.data)
        ) from e


def open_pulls(repo, head: str, base: str) -> list:
    """Open pull requests from ``owner:branch`` ``head`` into ``base``."""
    try:
        return list(repo.get_pulls(state="open", head=head, base=base))
    except GithubException as e:
        raise RemoteError("cannot list pull requests of %s: %s %s" % (repo.full_name, e.status, e.data)) from e


def create_pull(repo, title: str, body: str, head: str, base: str):
    try:
        return repo.create_pull(title=title, body=body, head=head, base=base)
    except GithubException as e:
        raise RemoteError(
            "cannot open a pull request %s -> %s on %s: %s %s" % (head, base, repo.full_name, e.status, e.data)
        ) from e
