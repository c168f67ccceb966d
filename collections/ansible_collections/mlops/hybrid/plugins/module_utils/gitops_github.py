# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The former names of the pull request calls, on top of ``module_utils/github`` (to be removed)."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.github import client, pulls
from ansible_collections.mlops.hybrid.plugins.module_utils.github.client import HAS_PYGITHUB as HAS_GITHUB

__all__ = ["HAS_GITHUB", "create_pull", "open_pulls", "repository"]

DEFAULT_TIMEOUT = 15
DEFAULT_RETRIES = 2


def repository(settings, timeout=DEFAULT_TIMEOUT):
    """``settings`` has ``repository`` (owner/name), ``api_url`` and ``token``; a PyGithub Repository."""
    gh = client.connect(token=settings.token, api_url=settings.api_url, timeout=timeout, retries=DEFAULT_RETRIES)
    return client.repository(gh, settings.repository)


def open_pulls(repo, head, base):
    return pulls.open_pulls(repo, head=head, base=base)


def create_pull(repo, title, body, head, base):
    return pulls.create_pull(repo, title=title, body=body, head=head, base=base)
