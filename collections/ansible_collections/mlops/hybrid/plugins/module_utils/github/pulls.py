# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pull requests: the open ones from a head into a base, and a new one."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.github.client import call


def open_pulls(repo, *, head, base):
    """Open pull requests from ``owner:branch`` ``head`` into ``base``."""
    return call(
        "listing pull requests of %s" % repo.full_name,
        lambda: list(repo.get_pulls(state="open", head=head, base=base)),
    )


def create_pull(repo, *, title, body, head, base):
    """Open a pull request ``head`` -> ``base``."""
    return call(
        "opening a pull request %s -> %s on %s" % (head, base, repo.full_name),
        repo.create_pull,
        title=title,
        body=body,
        head=head,
        base=base,
    )
