# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issues: find an open one by a marker in its body, read its texts, open one, comment on one."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.github.client import call


def find_open_issue(repo, *, marker, label=None):
    """The first open issue (optionally with ``label``) whose body contains ``marker``, else None."""

    def search():
        issues = repo.get_issues(state="open", labels=[label]) if label else repo.get_issues(state="open")
        for issue in issues:
            if issue.pull_request is None and marker in (issue.body or ""):
                return issue
        return None

    return call("listing open issues", search)


def texts_of_issue(issue):
    """The body and every comment of an issue or pull request."""
    return call(
        "reading comments of #%s" % issue.number,
        lambda: [issue.body or ""] + [c.body or "" for c in issue.get_comments()],
    )


def create_issue(repo, *, title, body, labels=(), assignees=()):
    """Open an issue; returns it."""
    return call(
        "creating the issue",
        repo.create_issue,
        title=title,
        body=body,
        labels=list(labels),
        assignees=list(assignees),
    )


def comment_on_issue(repo, *, number, body):
    """Comment on issue ``number``; returns the comment."""
    issue = call("reading issue #%s" % number, repo.get_issue, number)
    return call("commenting on issue #%s" % number, issue.create_comment, body)
