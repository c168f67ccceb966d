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
- pulls: ``GET /repos/{o}/{r}/pulls/{n}`` for pull requests added with ``add_pull``

Errors as GitHub words them: 401 ``Bad credentials``; 404 ``Not Found``; 422 ``Validation Failed``
with an ``errors`` list (unknown assignee, missing title, no such commit). To extend it (workflow
runs, jobs, logs, pulls, repository_dispatch), add state to ``Repo`` and routes in ``__init__`` with
``self.add_route`` - the base class records every request.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field

from .http_base import RecordingServer

__all__ = ["FakeGitHub", "Repo"]

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
        self.add_route("GET", r"/search/issues", self._search_issues)

    # -- state set-up for tests ----------------------------------------------------------------
    def add_repo(self, full_name: str, collaborators: tuple[str, ...] = ()) -> Repo:
        owner, name = full_name.split("/")
        repo = Repo(owner, name, collaborators=set(collaborators) | {owner, self.user})
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
        return 422, {"message": "Validation Failed", "errors": [err], "documentation_url": DOCS, "status": "422"}

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
        return 200, {
            "id": n + 9000,
            "number": n,
            "title": issue["title"],
            "state": issue["state"],
            "url": "%s/pulls/%d" % (self._base(repo), n),
            "html_url": "https://github.com/%s/pull/%d" % (repo.full_name, n),
            "issue_url": "%s/issues/%d" % (self._base(repo), n),
            "comments_url": "%s/issues/%d/comments" % (self._base(repo), n),
            "head": {"ref": issue["pull"]["head"], "sha": "0" * 40},
            "base": {"ref": issue["pull"]["base"], "sha": "1" * 40},
        }

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
