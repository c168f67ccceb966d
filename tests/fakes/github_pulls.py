"""A stateful, wire-level fake of GitHub's REST API for repositories and pull requests, on 127.0.0.1.

Enough of https://docs.github.com/en/rest/pulls for the real PyGithub (``Github(base_url=fake.url)``):

- ``GET /repos/{owner}/{repo}``; 404 ``Not Found`` for a repository the fake does not hold.
- ``GET /repos/{owner}/{repo}/pulls`` with the ``state``, ``head`` (``owner:branch``) and ``base``
  filters, ``POST`` to open one, ``GET .../pulls/{number}``.
- 401 ``Bad credentials`` without ``Authorization: token <token>`` (or ``Bearer``); 422
  ``Validation Failed`` as GitHub words it when the head branch does not exist on the repository's
  Git remote (a bare repository the test names) or an open pull request already exists for it.

Every request is recorded in ``requests``; the fake keeps state, tests assert what the code did.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeGitHubPulls", "Recorded"]

DOCS = "https://docs.github.com/rest"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class Repository:
    owner: str
    name: str
    git_dir: Path | None
    default_branch: str = "main"
    pulls: list[dict] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return "%s/%s" % (self.owner, self.name)


class FakeGitHubPulls:
    """``with FakeGitHubPulls(token="t") as gh: gh.add_repository("o/r", bare_path)``; ``gh.url`` for PyGithub."""

    def __init__(self, token: str):
        self.token = token
        self.repos: dict[str, Repository] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not started")
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def start(self) -> FakeGitHubPulls:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHubPulls:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- state --------------------------------------------------------------------------------
    def add_repository(self, full_name: str, git_dir: Path | None = None, default_branch: str = "main") -> Repository:
        owner, name = full_name.split("/", 1)
        repo = Repository(owner, name, Path(git_dir) if git_dir else None, default_branch)
        self.repos[full_name] = repo
        return repo

    def pulls(self, full_name: str) -> list[dict]:
        return self.repos[full_name].pulls

    # -- HTTP ---------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(h, 400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
            return
        query = parse_qs(parts.query)
        with self.lock:
            self.requests.append(Recorded(method, parts.path, query, body))
            auth = h.headers.get("Authorization", "")
            if auth not in ("token %s" % self.token, "Bearer %s" % self.token):
                self._send(h, 401, {"message": "Bad credentials", "documentation_url": DOCS})
                return
            status, payload = self._route(method, parts.path.rstrip("/"), query, body or {})
        self._send(h, status, payload)

    def _route(self, method: str, path: str, query: dict, body: dict) -> tuple[int, Any]:
        segments = path.strip("/").split("/")
        repo = self.repos.get("/".join(segments[1:3])) if len(segments) >= 3 and segments[0] == "repos" else None
        rest = segments[3:]
        found: tuple[int, Any] | None = None
        if repo is not None and method == "GET" and not rest:
            found = 200, self._repo_json(repo)
        elif repo is not None and rest == ["pulls"]:
            if method == "GET":
                found = 200, [p for p in repo.pulls if self._matches(p, query)]
            else:
                found = self._create_pull(repo, body)
        elif repo is not None and len(rest) == 2 and rest[0] == "pulls" and rest[1].isdigit() and method == "GET":
            found = next(((200, p) for p in repo.pulls if p["number"] == int(rest[1])), None)
        return found or (404, {"message": "Not Found", "documentation_url": DOCS})

    @staticmethod
    def _matches(pull: dict, query: dict) -> bool:
        state = query.get("state", ["open"])[0]
        if state != "all" and pull["state"] != state:
            return False
        if "head" in query and pull["head"]["label"] != query["head"][0]:
            return False
        return not ("base" in query and pull["base"]["ref"] != query["base"][0])

    def _branch_sha(self, repo: Repository, branch: str) -> str | None:
        if repo.git_dir is None:
            return "0" * 40
        p = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "refs/heads/%s" % branch],
            cwd=repo.git_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        return p.stdout.strip() if p.returncode == 0 else None

    def _create_pull(self, repo: Repository, body: dict) -> tuple[int, Any]:
        missing = [k for k in ("head", "base") if not body.get(k)]
        if missing or not (body.get("title") or body.get("issue")):
            return 422, self._invalid(
                [{"resource": "PullRequest", "field": f, "code": "missing_field"} for f in missing]
            )
        head = body["head"].split(":", 1)[-1]
        head_sha, base_sha = self._branch_sha(repo, head), self._branch_sha(repo, body["base"])
        if head_sha is None:
            return 422, self._invalid([{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if base_sha is None:
            return 422, self._invalid([{"resource": "PullRequest", "field": "base", "code": "invalid"}])
        label = "%s:%s" % (repo.owner, head)
        if any(
            p["state"] == "open" and p["head"]["label"] == label and p["base"]["ref"] == body["base"]
            for p in repo.pulls
        ):
            return 422, self._invalid(
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": "A pull request already exists for %s." % label,
                    }
                ]
            )
        number = len(repo.pulls) + 1
        api = "%s/repos/%s/pulls/%d" % (self.url, repo.full_name, number)
        pull = {
            "id": 1000 + number,
            "number": number,
            "state": "open",
            "title": body.get("title"),
            "body": body.get("body"),
            "draft": bool(body.get("draft", False)),
            "merged": False,
            "url": api,
            "html_url": "https://github.com/%s/pull/%d" % (repo.full_name, number),
            "user": {"login": "mlops-hybrid-bot", "id": 1, "type": "Bot"},
            "head": {"ref": head, "sha": head_sha, "label": label, "repo": self._repo_json(repo)},
            "base": {"ref": body["base"], "sha": base_sha, "label": "%s:%s" % (repo.owner, body["base"])},
            "created_at": "2026-01-01T00:00:00Z",
        }
        repo.pulls.append(pull)
        return 201, pull

    @staticmethod
    def _invalid(errors: list[dict]) -> dict:
        return {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS}

    def _repo_json(self, repo: Repository) -> dict:
        return {
            "id": abs(hash(repo.full_name)) % 10**8,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner, "id": 2, "type": "Organization"},
            "private": False,
            "default_branch": repo.default_branch,
            "url": "%s/repos/%s" % (self.url, repo.full_name),
            "html_url": "https://github.com/%s" % repo.full_name,
        }

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
