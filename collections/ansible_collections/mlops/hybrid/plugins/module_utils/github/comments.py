# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commit and pull request comments: read what is there, add one."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.github.client import call


def commit(repo, sha):
    """The commit ``sha`` (PyGithub Commit)."""
    return call("reading commit %s" % sha, repo.get_commit, sha)


def pull(repo, number):
    """The pull request ``number`` (PyGithub PullRequest)."""
    return call("reading pull request #%s" % number, repo.get_pull, number)


def commit_comment_texts(commit_):
    """The bodies of every comment on a commit."""
    return call("reading commit comments", lambda: [c.body or "" for c in commit_.get_comments()])


def pull_comment_texts(pr):
    """The bodies of every conversation comment on a pull request."""
    return call("reading PR comments", lambda: [c.body or "" for c in pr.get_issue_comments()])


def comment_on_commit(repo, *, sha, body):
    """Comment on commit ``sha``; returns the comment."""
    return call("commenting on commit %s" % sha, commit(repo, sha).create_comment, body)


def comment_on_pull(repo, *, number, body):
    """Comment on pull request ``number`` (its conversation); returns the comment."""
    return call("commenting on PR #%s" % number, pull(repo, number).create_issue_comment, body)
