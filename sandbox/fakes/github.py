"""A stateful, wire-level fake of GitHub's REST API, on 127.0.0.1, built to be extended.

Enough of https://docs.github.com/rest for the real PyGithub (``Github(base_url=fake.url)``):

- ``GET /repos/{owner}/{repo}``
- issues: ``GET|POST /repos/{o}/{r}/issues`` (``state``, ``labels`` filters; ``page``/``per_page`` with a
  ``Link`` header), ``GET|PATCH .../issues/{n}``, ``GET|POST .../issues/{n}/comments``
  (pull requests share the number space and take issue comments, as on GitHub)
- labels: ``GET|POST /repos/{o}/{r}/labels`` (creating an issue with a new label creates it)
- ``GET /search/issues?q=`` with ``repo:``, ``is:issue|pr``, ``is:open|closed``, ``label:`` and quoted or
  bare words searched in title and body
- commits: ``GET /repos/{o}/{r}/commits/{sha}``, ``GET|POST .../commits/{sha}/comments``
- pulls: ``GET /repos/{o}/{r}/pulls/{n}`` for pull requests added with ``add_pull`` or opened by a client;
  ``GET .../pulls`` with the ``state``, ``head`` (``owner:branch``) and ``base`` filters; ``POST .../pulls``
  with 422 ``Validation Failed`` as GitHub words it (a missing field, a head or base branch that does not
  exist, "A pull request already exists for owner:branch."). Branches resolve against the bare Git
  repository given to ``add_repo(git_dir=...)``, or all exist when there is none.

Errors as GitHub words them: 401 ``Bad credentials``; 404 ``Not Found``; 422 ``Validation Failed``
with an ``errors`` list (unknown assignee, missing title, no such commit, a refused pull request). To
extend it (workflow runs, jobs, logs, repository_dispatch), add state to ``Repo`` and routes in ``__init__`` with
``self.add_route`` - the base class records every request. ``FakeGitHubActions`` (below) adds GitHub
Actions: workflows, runs, jobs, run and job logs behind the real API's redirect, compare, contents,
``workflow_dispatch`` and ``repository_dispatch``.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import io
import json
import shlex
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .http_base import RecordingServer

__all__ = ["Actions", "FakeGitHub", "FakeGitHubActions", "Repo"]

DOCS = "https://docs.github.com/rest"
NOW = "2026-11-24T12:00:00Z"


@dataclass
class Repo:
    owner: str
    name: str
    default_branch: str = "main"
    issues: dict[int, dict] = field(default_factory=dict)  # issues and pull requests share numbers
    comments: dict[int, list[dict]] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    commits: dict[str, dict] = field(default_factory=dict)
    commit_comments: dict[str, list[dict]] = field(default_factory=dict)
    collaborators: set[str] = field(default_factory=set)
    git_dir: Path | None = None  # a bare repository whose branches pull requests resolve against

    @property
    def full_name(self) -> str:
        return "%s/%s" % (self.owner, self.name)


class FakeGitHub(RecordingServer):
    def __init__(self, token: str = "test-github-token", user: str = "aiops-bot"):  # noqa: S107
        super().__init__()
        self.token = token
        self.user = user
        self.repos: dict[str, Repo] = {}
        self._ids = 1000
        r = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        self.add_route("GET", r, self._get_repo)
        self.add_route("GET", r + r"/issues", self._list_issues)
        self.add_route("POST", r + r"/issues", self._create_issue)
        self.add_route("GET", r + r"/issues/(?P<n>\d+)", self._get_issue)
        self.add_route("PATCH", r + r"/issues/(?P<n>\d+)", self._edit_issue)
        self.add_route("GET", r + r"/issues/(?P<n>\d+)/comments", self._list_comments)
        self.add_route("POST", r + r"/issues/(?P<n>\d+)/comments", self._create_comment)
        self.add_route("GET", r + r"/labels", self._list_labels)
        self.add_route("POST", r + r"/labels", self._create_label)
        self.add_route("GET", r + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})", self._get_commit)
        self.add_route("GET", r + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})/comments", self._list_commit_comments)
        self.add_route("POST", r + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})/comments", self._create_commit_comment)
        self.add_route("GET", r + r"/pulls/(?P<n>\d+)", self._get_pull)
        self.add_route("GET", r + r"/pulls", self._list_pulls)
        self.add_route("POST", r + r"/pulls", self._create_pull)
        self.add_route("GET", r"/search/issues", self._search_issues)

    # -- state set-up for tests ----------------------------------------------------------------
    def add_repo(
        self,
        full_name: str,
        collaborators: tuple[str, ...] = (),
        git_dir: Path | str | None = None,
        default_branch: str = "main",
    ) -> Repo:
        owner, name = full_name.split("/")
        repo = Repo(
            owner,
            name,
            default_branch,
            collaborators=set(collaborators) | {owner, self.user},
            git_dir=Path(git_dir) if git_dir else None,
        )
        self.repos[full_name] = repo
        return repo

    def add_commit(self, full_name: str, message: str = "a commit") -> str:
        repo = self.repos[full_name]
        sha = hashlib.sha1(("%s%d" % (message, len(repo.commits))).encode(), usedforsecurity=False).hexdigest()
        repo.commits[sha] = {"message": message}
        return sha

    def add_pull(self, full_name: str, title: str = "a pull request", head: str = "feature", base: str = "main") -> int:
        repo = self.repos[full_name]
        n = len(repo.issues) + 1
        repo.issues[n] = {
            "number": n,
            "title": title,
            "body": "",
            "state": "open",
            "labels": [],
            "assignees": [],
            "pull": {"head": head, "base": base},
        }
        return n

    def issues(self, full_name: str, pulls: bool = False) -> list[dict]:
        return [i for i in self.repos[full_name].issues.values() if bool(i.get("pull")) == pulls]

    def pulls(self, full_name: str) -> list[dict]:
        """The repository's pull requests as the API renders them, oldest first."""
        repo = self.repos[full_name]
        with self.lock:
            return [self._pull_json(repo, i) for i in self.issues(full_name, pulls=True)]

    def comments(self, full_name: str, number: int) -> list[dict]:
        return self.repos[full_name].comments.get(number, [])

    def close_issue(self, full_name: str, number: int) -> None:
        self.repos[full_name].issues[number]["state"] = "closed"

    # -- protocol ------------------------------------------------------------------------------
    def authorize(self, headers, path):
        auth = headers.get("authorization", "")
        if auth not in ("token %s" % self.token, "Bearer %s" % self.token):
            return 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
        return None

    def not_found(self, method, path):
        return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}

    @staticmethod
    def invalid(resource: str, field_: str, code: str = "invalid", message: str | None = None) -> tuple:
        err = {"resource": resource, "field": field_, "code": code}
        if message:
            err["message"] = message
        return FakeGitHub.validation_failed([err])

    @staticmethod
    def validation_failed(errors: list[dict]) -> tuple:
        """422 with every error at once (a ``custom`` error has a message and no field), as GitHub answers."""
        return 422, {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422"}

    def _repo(self, m) -> Repo | None:
        return self.repos.get("%s/%s" % (m.group("owner"), m.group("repo")))

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _base(self, repo: Repo) -> str:
        return "%s/repos/%s" % (self.url, repo.full_name)

    def _user(self, login: str) -> dict:
        return {
            "login": login,
            "id": abs(hash(login)) % 10**6,
            "type": "User",
            "url": "%s/users/%s" % (self.url, login),
        }

    # -- JSON renderings -----------------------------------------------------------------------
    def _repo_json(self, repo: Repo) -> dict:
        return {
            "id": abs(hash(repo.full_name)) % 10**6,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self._user(repo.owner),
            "private": False,
            "default_branch": repo.default_branch,
            "url": self._base(repo),
            "html_url": "https://github.com/%s" % repo.full_name,
        }

    def _issue_json(self, repo: Repo, issue: dict) -> dict:
        n = issue["number"]
        out = {
            "id": n + 5000,
            "number": n,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "labels": [repo.labels[name] for name in issue["labels"]],
            "assignees": [self._user(a) for a in issue["assignees"]],
            "assignee": self._user(issue["assignees"][0]) if issue["assignees"] else None,
            "user": self._user(self.user),
            "comments": len(repo.comments.get(n, [])),
            "url": "%s/issues/%d" % (self._base(repo), n),
            "comments_url": "%s/issues/%d/comments" % (self._base(repo), n),
            "html_url": "https://github.com/%s/%s/%d" % (repo.full_name, "pull" if issue.get("pull") else "issues", n),
            "repository_url": self._base(repo),
            "created_at": NOW,
            "updated_at": NOW,
        }
        if issue.get("pull"):
            out["pull_request"] = {"url": "%s/pulls/%d" % (self._base(repo), n)}
        return out

    # -- handlers ------------------------------------------------------------------------------
    def _get_repo(self, m, _q, _b, _h):
        repo = self._repo(m)
        return (200, self._repo_json(repo)) if repo else self.not_found("GET", "")

    def _list_issues(self, m, q, _b, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("GET", "")
        state = q.get("state", ["open"])[0]
        labels = [x for x in q.get("labels", [""])[0].split(",") if x]
        items = [
            self._issue_json(repo, i)
            for i in sorted(repo.issues.values(), key=lambda i: -i["number"])
            if (state == "all" or i["state"] == state) and all(lb in i["labels"] for lb in labels)
        ]
        return self._page(items, q, "%s/issues" % self._base(repo))

    def _page(self, items: list, q: dict, url: str) -> tuple:
        per_page = int(q.get("per_page", ["30"])[0])
        page = int(q.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            rest = "&".join("%s=%s" % (k, v[0]) for k, v in q.items() if k not in ("page",))
            headers["Link"] = '<%s?%s&page=%d>; rel="next"' % (url, rest, page + 1)
        return 200, chunk, headers

    def _create_issue(self, m, _q, body, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("POST", "")
        if not isinstance(body, dict) or not body.get("title"):
            return self.invalid("Issue", "title", "missing_field")
        for a in body.get("assignees") or []:
            if a not in repo.collaborators:
                return self.invalid("Issue", "assignees", "invalid", "%s is not a collaborator" % a)
        for name in body.get("labels") or []:
            repo.labels.setdefault(name, self._label(repo, name))
        n = len(repo.issues) + 1
        repo.issues[n] = {
            "number": n,
            "title": body["title"],
            "body": body.get("body") or "",
            "state": "open",
            "labels": list(body.get("labels") or []),
            "assignees": list(body.get("assignees") or []),
        }
        return 201, self._issue_json(repo, repo.issues[n])

    def _label(self, repo: Repo, name: str) -> dict:
        return {
            "id": self._next_id(),
            "name": name,
            "color": "ededed",
            "url": "%s/labels/%s" % (self._base(repo), name),
        }

    def _get_issue(self, m, _q, _b, _h):
        repo = self._repo(m)
        issue = repo.issues.get(int(m.group("n"))) if repo else None
        return (200, self._issue_json(repo, issue)) if issue else self.not_found("GET", "")

    def _edit_issue(self, m, _q, body, _h):
        repo = self._repo(m)
        issue = repo.issues.get(int(m.group("n"))) if repo else None
        if not issue:
            return self.not_found("PATCH", "")
        for key in ("title", "body", "state"):
            if key in (body or {}):
                issue[key] = body[key]
        return 200, self._issue_json(repo, issue)

    def _comment_json(self, repo: Repo, where: str, c: dict) -> dict:
        return {
            "id": c["id"],
            "body": c["body"],
            "user": self._user(self.user),
            "url": "%s/%s/comments/%d" % (self._base(repo), where, c["id"]),
            "html_url": "https://github.com/%s#comment-%d" % (repo.full_name, c["id"]),
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _list_comments(self, m, q, _b, _h):
        repo = self._repo(m)
        n = int(m.group("n"))
        if not repo or n not in repo.issues:
            return self.not_found("GET", "")
        items = [self._comment_json(repo, "issues", c) for c in repo.comments.get(n, [])]
        return self._page(items, q, "%s/issues/%d/comments" % (self._base(repo), n))

    def _create_comment(self, m, _q, body, _h):
        repo = self._repo(m)
        n = int(m.group("n"))
        if not repo or n not in repo.issues:
            return self.not_found("POST", "")
        if not isinstance(body, dict) or not body.get("body"):
            return self.invalid("IssueComment", "body", "missing_field")
        c = {"id": self._next_id(), "body": body["body"]}
        repo.comments.setdefault(n, []).append(c)
        return 201, self._comment_json(repo, "issues", c)

    def _list_labels(self, m, q, _b, _h):
        repo = self._repo(m)
        return (
            self._page(list(repo.labels.values()), q, "%s/labels" % self._base(repo))
            if repo
            else self.not_found("", "")
        )

    def _create_label(self, m, _q, body, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("POST", "")
        name = (body or {}).get("name")
        if not name:
            return self.invalid("Label", "name", "missing_field")
        if name in repo.labels:
            return self.invalid("Label", "name", "already_exists")
        repo.labels[name] = self._label(repo, name)
        return 201, repo.labels[name]

    def _find_commit(self, repo: Repo, sha: str) -> str | None:
        matches = [s for s in repo.commits if s.startswith(sha.lower())]
        return matches[0] if len(matches) == 1 else None

    def _get_commit(self, m, _q, _b, _h):
        repo = self._repo(m)
        sha = self._find_commit(repo, m.group("sha")) if repo else None
        if not sha:
            return 422, {"message": "No commit found for SHA: %s" % m.group("sha"), "documentation_url": DOCS}
        return 200, {
            "sha": sha,
            "url": "%s/commits/%s" % (self._base(repo), sha),
            "html_url": "https://github.com/%s/commit/%s" % (repo.full_name, sha),
            "commit": {"message": repo.commits[sha]["message"]},
            "parents": [],
            "files": [],
        }

    def _list_commit_comments(self, m, q, _b, _h):
        repo = self._repo(m)
        sha = self._find_commit(repo, m.group("sha")) if repo else None
        if not sha:
            return self.not_found("GET", "")
        items = [self._comment_json(repo, "commits/%s" % sha, c) for c in repo.commit_comments.get(sha, [])]
        return self._page(items, q, "%s/commits/%s/comments" % (self._base(repo), sha))

    def _create_commit_comment(self, m, _q, body, _h):
        repo = self._repo(m)
        sha = self._find_commit(repo, m.group("sha")) if repo else None
        if not sha:
            return self.not_found("POST", "")
        if not isinstance(body, dict) or not body.get("body"):
            return self.invalid("CommitComment", "body", "missing_field")
        c = {"id": self._next_id(), "body": body["body"]}
        repo.commit_comments.setdefault(sha, []).append(c)
        return 201, self._comment_json(repo, "commits/%s" % sha, c)

    def _get_pull(self, m, _q, _b, _h):
        repo = self._repo(m)
        n = int(m.group("n"))
        issue = repo.issues.get(n) if repo else None
        if not issue or not issue.get("pull"):
            return self.not_found("GET", "")
        return 200, self._pull_json(repo, issue)

    def _pull_json(self, repo: Repo, issue: dict) -> dict:
        n, pull = issue["number"], issue["pull"]

        def end(ref: str, sha: str) -> dict:
            return {"ref": ref, "sha": sha, "label": "%s:%s" % (repo.owner, ref), "repo": self._repo_json(repo)}

        return {
            "id": n + 9000,
            "number": n,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "draft": pull.get("draft", False),
            "merged": False,
            "user": self._user(self.user),
            "url": "%s/pulls/%d" % (self._base(repo), n),
            "html_url": "https://github.com/%s/pull/%d" % (repo.full_name, n),
            "issue_url": "%s/issues/%d" % (self._base(repo), n),
            "comments_url": "%s/issues/%d/comments" % (self._base(repo), n),
            "head": end(pull["head"], pull.get("head_sha", "0" * 40)),
            "base": end(pull["base"], pull.get("base_sha", "1" * 40)),
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _list_pulls(self, m, q, _b, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("GET", "")
        state = q.get("state", ["open"])[0]
        head, base = q.get("head", [None])[0], q.get("base", [None])[0]
        items = [
            self._pull_json(repo, i)
            for i in sorted(self.issues(repo.full_name, pulls=True), key=lambda i: -i["number"])
            if (state == "all" or i["state"] == state)
            and (head is None or "%s:%s" % (repo.owner, i["pull"]["head"]) == head)
            and (base is None or i["pull"]["base"] == base)
        ]
        return self._page(items, q, "%s/pulls" % self._base(repo))

    def _branch_sha(self, repo: Repo, branch: str) -> str | None:
        """The branch's commit on the repository's bare Git remote; any branch exists without one."""
        if repo.git_dir is None:
            return hashlib.sha1(branch.encode(), usedforsecurity=False).hexdigest()
        p = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "refs/heads/%s" % branch],
            cwd=repo.git_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        return p.stdout.strip() if p.returncode == 0 else None

    def _create_pull(self, m, _q, body, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("POST", "")
        if not isinstance(body, dict):
            return 400, {"message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400"}
        missing = [k for k in ("title", "head", "base") if not body.get(k) and not (k == "title" and body.get("issue"))]
        if missing:
            return self.validation_failed(
                [{"resource": "PullRequest", "field": k, "code": "missing_field"} for k in missing]
            )
        head, base = body["head"].split(":", 1)[-1], body["base"]
        shas = {"head": self._branch_sha(repo, head), "base": self._branch_sha(repo, base)}
        unknown = [k for k, sha in shas.items() if sha is None]
        if unknown:
            return self.validation_failed([{"resource": "PullRequest", "field": k, "code": "invalid"} for k in unknown])
        label = "%s:%s" % (repo.owner, head)
        if any(
            i["state"] == "open" and i["pull"]["head"] == head and i["pull"]["base"] == base
            for i in self.issues(repo.full_name, pulls=True)
        ):
            message = "A pull request already exists for %s." % label
            return self.validation_failed([{"resource": "PullRequest", "code": "custom", "message": message}])
        n = self.add_pull(repo.full_name, body.get("title") or "", head, base)
        issue = repo.issues[n]
        issue["body"] = body.get("body") or ""
        issue["pull"].update(head_sha=shas["head"], base_sha=shas["base"], draft=bool(body.get("draft", False)))
        return 201, self._pull_json(repo, issue)

    def _search_issues(self, _m, q, _b, _h):
        query = q.get("q", [""])[0]
        terms: dict[str, list[str]] = {}
        words = []
        for tok in shlex.split(query):
            key, sep, value = tok.partition(":")
            if sep and key in ("repo", "is", "label", "in", "state"):
                terms.setdefault(key, []).append(value)
            else:
                words.append(tok.lower())
        items = []
        for repo in self.repos.values():
            if "repo" in terms and repo.full_name not in terms["repo"]:
                continue
            for issue in repo.issues.values():
                kinds = terms.get("is", [])
                if ("issue" in kinds and issue.get("pull")) or ("pr" in kinds and not issue.get("pull")):
                    continue
                states = [k for k in kinds if k in ("open", "closed")] + terms.get("state", [])
                if states and issue["state"] not in states:
                    continue
                if any(lb not in issue["labels"] for lb in terms.get("label", [])):
                    continue
                hay = ("%s\n%s" % (issue["title"], issue["body"])).lower()
                if all(w in hay for w in words):
                    items.append(self._issue_json(repo, issue))
        return 200, {"total_count": len(items), "incomplete_results": False, "items": items}


# -- GitHub Actions: workflows, runs, jobs, logs, compare, contents and dispatches ------------------
# https://docs.github.com/rest/actions. Logs are served as the real API does: ``.../runs/{id}/logs``
# and ``.../jobs/{id}/logs`` answer 302 with a short-lived blob URL (the archive of the run as a zip
# holding ``<job name>/<step number>_<step name>.txt`` files; a job's log as plain text). Blob URLs
# take no Authorization header (they are pre-signed); the fake records whether one was sent.


def setup_job_log(image="ubuntu-24.04", image_version="20251215.174.1", runner="2.330.0", actions=()):
    """The log of a job's "Set up job" step as GitHub's hosted runner writes it (the shape of public run logs):
    the runner's version, the runner image and its version, and each action resolved to a commit.
    ``actions``: (action@ref, sha) pairs."""
    major = image.split("-")[-1].split(".")[0]
    day = image_version.rsplit(".", 1)[0]
    lines = [
        "Current runner version: '%s'" % runner,
        "##[group]Runner Image Provisioner",
        "Hosted Compute Agent",
        "Version: 20251211.462",
        "##[endgroup]",
        "##[group]Operating System",
        "Ubuntu",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: %s" % image,
        "Version: %s" % image_version,
        "Included Software: https://github.com/actions/runner-images/blob/ubuntu%s/%s/images/ubuntu/Readme.md"
        % (major, day),
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
    ]
    lines += ["Download action repository '%s' (SHA:%s)" % (uses, sha) for uses, sha in actions]
    return "\n".join("2026-11-24T12:00:00.%07dZ %s" % (n, line) for n, line in enumerate(lines)) + "\n"


@dataclass
class Actions:
    workflows: dict[int, dict] = field(default_factory=dict)
    runs: dict[int, dict] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> sha -> text
    dispatches: list[dict] = field(default_factory=list)  # repository_dispatch bodies
    workflow_dispatches: list[dict] = field(default_factory=list)  # {"workflow": id, "ref", "inputs"}


class FakeGitHubActions(FakeGitHub):
    """FakeGitHub plus GitHub Actions; set up with ``add_workflow``, ``add_run``, ``add_file``."""

    def __init__(self, token: str = "test-github-token", user: str = "aiops-bot"):  # noqa: S107
        super().__init__(token, user)
        self.actions: dict[str, Actions] = {}
        self.blobs: dict[str, tuple[bytes, str]] = {}
        self.archives_without_steps: set[int] = set()  # runs whose archive holds only the jobs' logs
        r = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        self.add_route("GET", r + r"/actions/workflows/(?P<wf>[^/]+)", self._get_workflow)
        self.add_route("GET", r + r"/actions/workflows/(?P<wf>[^/]+)/runs", self._list_workflow_runs)
        self.add_route("POST", r + r"/actions/workflows/(?P<wf>[^/]+)/dispatches", self._workflow_dispatch)
        self.add_route("GET", r + r"/actions/runs/(?P<id>\d+)", self._get_run)
        self.add_route("GET", r + r"/actions/runs/(?P<id>\d+)/jobs", self._list_jobs)
        self.add_route("GET", r + r"/actions/runs/(?P<id>\d+)/logs", self._run_logs)
        self.add_route("GET", r + r"/actions/jobs/(?P<id>\d+)", self._get_job)
        self.add_route("GET", r + r"/actions/jobs/(?P<id>\d+)/logs", self._job_logs)
        self.add_route(
            "GET", r + r"/compare/(?P<base>[0-9a-fA-F]{4,40})\.\.\.(?P<head>[0-9a-fA-F]{4,40})", self._compare
        )
        self.add_route("GET", r + r"/contents/(?P<path>.+)", self._get_contents)
        self.add_route("POST", r + r"/dispatches", self._repository_dispatch)
        self.add_route("GET", r"/_blobs/(?P<key>[A-Za-z0-9_.-]+)", self._get_blob)

    # -- state set-up ----------------------------------------------------------------------------
    def _actions(self, full_name: str) -> Actions:
        return self.actions.setdefault(full_name, Actions())

    def add_workflow(self, full_name: str, path: str, name: str | None = None, inputs: dict | None = None) -> int:
        """``inputs``: the ``on.workflow_dispatch.inputs`` of the workflow file; others are refused as GitHub does."""
        acts = self._actions(full_name)
        wf_id = 160000 + len(acts.workflows) + 1
        acts.workflows[wf_id] = {
            "id": wf_id,
            "path": path,
            "name": name or path.rsplit("/", 1)[-1],
            "inputs": dict(inputs or {}),
        }
        return wf_id

    def add_run(
        self,
        full_name: str,
        workflow_id: int,
        head_sha: str,
        conclusion: str = "failure",
        jobs: list[dict] | None = None,
        head_branch: str = "main",
        event: str = "push",
        pull_requests: tuple = (),
        display_title: str | None = None,
    ) -> int:
        """``jobs``: [{"name", "conclusion", "steps": [{"name", "conclusion", "log"}]}]; ``pull_requests``: the
        numbers of the open pull requests (``add_pull``) whose head the run is on, as GitHub lists them."""
        acts = self._actions(full_name)
        run_id = 9000000 + sum(len(a.runs) for a in self.actions.values()) + 1
        out_jobs = []
        for j in jobs or []:
            job_id = run_id * 10 + len(out_jobs) + 1
            steps = [
                {"number": n, "name": s["name"], "conclusion": s.get("conclusion", "success"), "log": s.get("log", "")}
                for n, s in enumerate(j.get("steps", []), 1)
            ]
            out_jobs.append(
                {"id": job_id, "name": j["name"], "conclusion": j.get("conclusion", "success"), "steps": steps}
            )
        acts.runs[run_id] = {
            "id": run_id,
            "workflow_id": workflow_id,
            "head_sha": head_sha,
            "head_branch": head_branch,
            "event": event,
            "conclusion": conclusion,
            "run_number": len(acts.runs) + 1,
            "jobs": out_jobs,
            "created_at": "2026-11-24T12:%02d:00Z" % (len(acts.runs) % 60),
            "pull_requests": list(pull_requests),
            "display_title": display_title,
        }
        return run_id

    def add_file(self, full_name: str, path: str, text: str | None, sha: str) -> None:
        """``path`` holds ``text`` from commit ``sha`` on (until a later version; ``None`` removes it)."""
        self._actions(full_name).files.setdefault(path, {})[sha] = text

    def _file_at(self, repo: Repo, path: str, sha: str) -> str | None:
        """The text of ``path`` at commit ``sha``: its last version added at or before that commit."""
        versions = self._actions(repo.full_name).files.get(path, {})
        if sha in versions or sha not in repo.commits:
            return versions.get(sha)
        order = list(repo.commits)
        text = None
        for commit in order[: order.index(sha) + 1]:
            text = versions.get(commit, text)
        return text

    def _file_changes(self, repo: Repo, base: str, head: str) -> list[dict]:
        """The ``files`` of a comparison: each path whose text differs, with GitHub's ``patch`` (hunks only)."""
        out = []
        for path in sorted(self._actions(repo.full_name).files):
            before, after = self._file_at(repo, path, base), self._file_at(repo, path, head)
            if before == after:
                continue
            diff = list(
                difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(), n=3, lineterm="")
            )[2:]
            adds = sum(1 for d in diff if d.startswith("+"))
            dels = sum(1 for d in diff if d.startswith("-"))
            status = "added" if before is None else "removed" if after is None else "modified"
            out.append(
                {
                    "sha": hashlib.sha1((after or "").encode(), usedforsecurity=False).hexdigest(),
                    "filename": path,
                    "status": status,
                    "additions": adds,
                    "deletions": dels,
                    "changes": adds + dels,
                    "blob_url": "https://github.com/%s/blob/%s/%s" % (repo.full_name, head, path),
                    "raw_url": "https://github.com/%s/raw/%s/%s" % (repo.full_name, head, path),
                    "contents_url": "%s/contents/%s?ref=%s" % (self._base(repo), path, head),
                    "patch": "\n".join(diff),
                }
            )
        return out

    def dispatches(self, full_name: str) -> list[dict]:
        return self._actions(full_name).dispatches

    def workflow_dispatches(self, full_name: str) -> list[dict]:
        return self._actions(full_name).workflow_dispatches

    # -- protocol --------------------------------------------------------------------------------
    def authorize(self, headers, path):
        if path.startswith("/_blobs/"):
            return None  # pre-signed
        return super().authorize(headers, path)

    @staticmethod
    def _send(h, status, payload, extra):
        if isinstance(payload, bytes):
            h.send_response(status)
            h.send_header("Content-Type", extra.pop("Content-Type", "application/octet-stream"))
            h.send_header("Content-Length", str(len(payload)))
            for k, v in extra.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(payload)
            return
        RecordingServer._send(h, status, payload, extra)

    def _blob(self, data: bytes, ctype: str) -> str:
        key = hashlib.sha1(data + str(len(self.blobs)).encode(), usedforsecurity=False).hexdigest()
        self.blobs[key] = (data, ctype)
        return "%s/_blobs/%s?sig=presigned" % (self.url, key)

    def _get_blob(self, m, _q, _b, _h):
        blob = self.blobs.get(m.group("key"))
        if blob is None:
            return 404, "BlobNotFound"
        return 200, blob[0], {"Content-Type": blob[1]}

    def _acts(self, m) -> Actions | None:
        repo = self._repo(m)
        return self._actions(repo.full_name) if repo else None

    def _workflow_of(self, acts: Actions, key: str) -> dict | None:
        if key.isdigit():
            return acts.workflows.get(int(key))
        return next((w for w in acts.workflows.values() if w["path"].rsplit("/", 1)[-1] == key), None)

    def _workflow_json(self, repo: Repo, wf: dict) -> dict:
        return {
            "id": wf["id"],
            "name": wf["name"],
            "path": wf["path"],
            "state": "active",
            "url": "%s/actions/workflows/%d" % (self._base(repo), wf["id"]),
            "html_url": "https://github.com/%s/blob/main/%s" % (repo.full_name, wf["path"]),
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _run_json(self, repo: Repo, run: dict) -> dict:
        acts = self._actions(repo.full_name)
        wf = acts.workflows.get(run["workflow_id"], {"name": "?", "path": "?"})
        base = "%s/actions/runs/%d" % (self._base(repo), run["id"])
        return {
            "id": run["id"],
            "name": wf["name"],
            "path": wf["path"],
            "display_title": run.get("display_title") or repo.commits.get(run["head_sha"], {}).get("message", ""),
            "head_branch": run["head_branch"],
            "head_sha": run["head_sha"],
            "run_number": run["run_number"],
            "run_attempt": 1,
            "event": run["event"],
            "status": "completed",
            "conclusion": run["conclusion"],
            "workflow_id": run["workflow_id"],
            "url": base,
            "html_url": "https://github.com/%s/actions/runs/%d" % (repo.full_name, run["id"]),
            "jobs_url": base + "/jobs",
            "logs_url": base + "/logs",
            "workflow_url": "%s/actions/workflows/%d" % (self._base(repo), run["workflow_id"]),
            "created_at": run["created_at"],
            "updated_at": run["created_at"],
            "run_started_at": run["created_at"],
            "pull_requests": [self._run_pull_json(repo, run, n) for n in run.get("pull_requests", [])],
        }

    def _run_pull_json(self, repo: Repo, run: dict, number: int) -> dict:
        """The minimal pull request object GitHub puts in a run's ``pull_requests``."""
        pull = repo.issues[number]
        ref = {"id": 1, "url": self._base(repo), "name": repo.full_name.split("/")[1]}
        return {
            "url": "%s/pulls/%d" % (self._base(repo), number),
            "id": 700000 + number,
            "number": number,
            "head": {"ref": run["head_branch"], "sha": run["head_sha"], "repo": ref},
            "base": {"ref": pull["pull"]["base"], "sha": run["head_sha"], "repo": ref},
        }

    def _job_json(self, repo: Repo, run: dict, job: dict) -> dict:
        return {
            "id": job["id"],
            "run_id": run["id"],
            "name": job["name"],
            "workflow_name": self._actions(repo.full_name).workflows.get(run["workflow_id"], {}).get("name"),
            "head_sha": run["head_sha"],
            "head_branch": run["head_branch"],
            "status": "completed",
            "conclusion": job["conclusion"],
            "url": "%s/actions/jobs/%d" % (self._base(repo), job["id"]),
            "html_url": "https://github.com/%s/actions/runs/%d/job/%d" % (repo.full_name, run["id"], job["id"]),
            "run_url": "%s/actions/runs/%d" % (self._base(repo), run["id"]),
            "started_at": run["created_at"],
            "completed_at": run["created_at"],
            "steps": [
                {"name": s["name"], "status": "completed", "conclusion": s["conclusion"], "number": s["number"]}
                for s in job["steps"]
            ],
        }

    def _get_workflow(self, m, _q, _b, _h):
        acts = self._acts(m)
        wf = self._workflow_of(acts, m.group("wf")) if acts else None
        return (200, self._workflow_json(self._repo(m), wf)) if wf else self.not_found("GET", "")

    def _list_workflow_runs(self, m, q, _b, _h):
        acts = self._acts(m)
        wf = self._workflow_of(acts, m.group("wf")) if acts else None
        if not wf:
            return self.not_found("GET", "")
        repo = self._repo(m)
        branch, status = q.get("branch", [None])[0], q.get("status", [None])[0]
        runs = [
            self._run_json(repo, r)
            for r in sorted(acts.runs.values(), key=lambda r: -r["id"])
            if r["workflow_id"] == wf["id"]
            and (branch is None or r["head_branch"] == branch)
            and (status is None or r["conclusion"] == status)
        ]
        status_code, chunk, headers = self._page(runs, q, "%s/actions/workflows/%d/runs" % (self._base(repo), wf["id"]))
        return status_code, {"total_count": len(runs), "workflow_runs": chunk}, headers

    def _find_run(self, m) -> tuple[Repo | None, dict | None]:
        repo = self._repo(m)
        acts = self._actions(repo.full_name) if repo else None
        return repo, (acts.runs.get(int(m.group("id"))) if acts else None)

    def _get_run(self, m, _q, _b, _h):
        repo, run = self._find_run(m)
        return (200, self._run_json(repo, run)) if run else self.not_found("GET", "")

    def _list_jobs(self, m, q, _b, _h):
        repo, run = self._find_run(m)
        if not run:
            return self.not_found("GET", "")
        jobs = [self._job_json(repo, run, j) for j in run["jobs"]]
        status_code, chunk, headers = self._page(jobs, q, "%s/actions/runs/%d/jobs" % (self._base(repo), run["id"]))
        return status_code, {"total_count": len(jobs), "jobs": chunk}, headers

    @staticmethod
    def _job_text(job: dict) -> str:
        lines = []
        for s in job["steps"]:
            lines.append("2026-11-24T12:00:00.0000000Z ##[group]Run %s" % s["name"])
            lines.append("2026-11-24T12:00:00.0000000Z ##[endgroup]")
            lines.extend(s["log"].splitlines())
            if s["conclusion"] == "failure":
                lines.append("2026-11-24T12:00:01.0000000Z ##[error]Process completed with exit code 1.")
        return "\n".join(lines) + "\n"

    def _run_logs(self, m, _q, _b, _h):
        _repo, run = self._find_run(m)
        if not run:
            return self.not_found("GET", "")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, job in enumerate(run["jobs"]):
                zf.writestr("%d_%s.txt" % (n, job["name"]), self._job_text(job))
                if run["id"] in self.archives_without_steps:
                    continue
                for s in job["steps"]:
                    zf.writestr("%s/%d_%s.txt" % (job["name"], s["number"], s["name"]), s["log"])
        return 302, "", {"Location": self._blob(buf.getvalue(), "application/zip")}

    def _find_job(self, m) -> tuple[Repo | None, dict | None, dict | None]:
        repo = self._repo(m)
        if not repo:
            return None, None, None
        job_id = int(m.group("id"))
        for run in self._actions(repo.full_name).runs.values():
            for job in run["jobs"]:
                if job["id"] == job_id:
                    return repo, run, job
        return repo, None, None

    def _get_job(self, m, _q, _b, _h):
        repo, run, job = self._find_job(m)
        return (200, self._job_json(repo, run, job)) if job else self.not_found("GET", "")

    def _job_logs(self, m, _q, _b, _h):
        _repo, _run, job = self._find_job(m)
        if not job:
            return self.not_found("GET", "")
        return 302, "", {"Location": self._blob(self._job_text(job).encode(), "text/plain")}

    def _commit_json(self, repo: Repo, sha: str) -> dict:
        return {
            "sha": sha,
            "url": "%s/commits/%s" % (self._base(repo), sha),
            "html_url": "https://github.com/%s/commit/%s" % (repo.full_name, sha),
            "commit": {
                "message": repo.commits[sha]["message"],
                "author": {"name": "dev", "email": "dev@example.com", "date": NOW},
            },
            "parents": [],
        }

    def _compare(self, m, q, _b, _h):
        repo = self._repo(m)
        base = self._find_commit(repo, m.group("base")) if repo else None
        head = self._find_commit(repo, m.group("head")) if repo else None
        if not base or not head:
            return self.not_found("GET", "")
        order = list(repo.commits)
        between = order[order.index(base) + 1 : order.index(head) + 1] if order.index(head) > order.index(base) else []
        commits = [self._commit_json(repo, s) for s in between]
        per_page = int(q.get("per_page", ["250"])[0])
        page = int(q.get("page", ["1"])[0])
        return 200, {
            "url": "%s/compare/%s...%s" % (self._base(repo), base, head),
            "html_url": "https://github.com/%s/compare/%s...%s" % (repo.full_name, base, head),
            "status": "ahead" if commits else "identical",
            "ahead_by": len(commits),
            "behind_by": 0,
            "total_commits": len(commits),
            "base_commit": self._commit_json(repo, base),
            "merge_base_commit": self._commit_json(repo, base),
            "commits": commits[(page - 1) * per_page : page * per_page],
            "files": self._file_changes(repo, base, head) if page == 1 else [],
        }

    def _get_contents(self, m, q, _b, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("GET", "")
        path = m.group("path")
        ref = q.get("ref", [repo.default_branch])[0]
        versions = self._actions(repo.full_name).files.get(path, {})
        if ref == repo.default_branch:
            sha = list(repo.commits)[-1] if repo.commits else (list(versions)[-1] if versions else None)
        else:
            sha = self._find_commit(repo, ref) or (ref if ref in versions else None)
        text = self._file_at(repo, path, sha) if sha else None
        if text is None:
            return self.not_found("GET", "")
        data = text.encode()
        return 200, {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
            "content": base64.b64encode(data).decode(),
            "url": "%s/contents/%s?ref=%s" % (self._base(repo), path, ref),
            "html_url": "https://github.com/%s/blob/%s/%s" % (repo.full_name, ref, path),
        }

    def _repository_dispatch(self, m, _q, body, _h):
        repo = self._repo(m)
        if not repo:
            return self.not_found("POST", "")
        if not isinstance(body, dict) or not body.get("event_type"):
            return self.invalid("RepositoryDispatch", "event_type", "missing_field")
        if len(body["event_type"]) > 100:
            return self.invalid("RepositoryDispatch", "event_type", "invalid", "event_type is too long")
        payload = body.get("client_payload") or {}
        if not isinstance(payload, dict) or len(payload) > 10:
            return self.invalid("RepositoryDispatch", "client_payload", "invalid", "no more than 10 top-level keys")
        self._actions(repo.full_name).dispatches.append(body)
        return 204, ""

    def _workflow_dispatch(self, m, _q, body, _h):
        acts = self._acts(m)
        wf = self._workflow_of(acts, m.group("wf")) if acts else None
        if not wf:
            return self.not_found("POST", "")
        if not isinstance(body, dict) or not body.get("ref"):
            return self.invalid("WorkflowDispatch", "ref", "missing_field")
        refused = self._dispatch_refusal(self._repo(m), wf, body["ref"], body.get("inputs") or {})
        if refused:
            return 422, {"message": refused, "documentation_url": DOCS}
        acts.workflow_dispatches.append({"workflow": wf["id"], "ref": body["ref"], "inputs": body.get("inputs") or {}})
        return 204, ""

    @staticmethod
    def _value_refusal(wf: dict, inputs: dict) -> str | None:
        """GitHub's words for an input value it refuses: not a string, a required one missing, a choice not offered."""
        for name, value in inputs.items():
            if not isinstance(value, str):
                return "Invalid request.\n\nFor 'properties/%s', %s is not a string." % (name, json.dumps(value))
        missing = sorted(k for k, v in wf["inputs"].items() if (v or {}).get("required") and k not in inputs)
        if missing:
            return "Required input '%s' not provided" % missing[0]
        for name, value in inputs.items():
            spec = wf["inputs"][name] or {}
            if spec.get("type") == "choice" and value not in [str(o) for o in spec.get("options") or []]:
                return "Provided value '%s' for input '%s' not in the list of allowed values" % (value, name)
        return None

    def _dispatch_refusal(self, repo: Repo, wf: dict, ref: str, inputs) -> str | None:
        """GitHub's 422 messages for a workflow_dispatch it refuses, or None."""
        if not isinstance(inputs, dict) or len(inputs) > 25:
            return "inputs must be an object of at most 25 properties"
        unexpected = sorted(set(inputs) - set(wf["inputs"]))
        if unexpected:
            return "Unexpected inputs provided: %s" % unexpected
        refused = self._value_refusal(wf, inputs)
        if refused:
            return refused
        if ref not in (repo.default_branch, "refs/heads/" + repo.default_branch) and not self._find_commit(repo, ref):
            return "No ref found for: %s" % ref
        return None
