# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bump an application's image in a GitOps repository: edit, commit, push (retried) or open a PR.

The commit is built with Git plumbing on top of the remote branch's tip (blob -> temporary index
-> tree -> commit) and pushed by its id, so the clone's working tree, index and branches are never
half-changed: a failure leaves the repository as it was, and a rejected push is simply re-applied
on the new tip. After a successful push the local branch is fast-forwarded when it is checked out
and clean. Every git call is an argv list through a runner ``run(argv, data=None, env=None) ->
(rc, stdout, stderr)``; the module passes ``AnsibleModule.run_command``, tests and services
:func:`subprocess_runner`.
"""

from __future__ import annotations

import base64
import os
import random
import re
import shutil
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, MissingDependency, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops_github import create_pull, open_pulls
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops_yaml import edit_text
from ansible_collections.mlops.hybrid.plugins.module_utils.image_ref import (
    parse,
    short_digest,
    validate_digest,
    validate_tag,
)

__all__ = [
    "DEFAULT_MESSAGE",
    "Bump",
    "Git",
    "PullRequestSettings",
    "bump",
    "render_message",
    "subprocess_runner",
]

DEFAULT_MESSAGE = "build: update {app} image {image} from {old} to {new}\n\nSource revision: {revision}\n"
DEFAULT_PR_BRANCH = "gitops-bump/{app}-{new}"
MESSAGE_FIELDS = ("app", "image", "old", "new", "revision", "files")
REJECTED_MARKERS = (
    "[rejected]",
    "non-fast-forward",
    "fetch first",
    "stale info",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
)
BRANCH_RE = re.compile(r"^(?!/|.*(?:\.\.|//|@\{|\.lock$|/\.|\.$))[A-Za-z0-9._/-]+$")


def subprocess_runner(cwd: str):
    """A runner for :class:`Git` outside Ansible: ``run(argv, data=None, env=None) -> (rc, out, err)``."""

    def run(argv, data=None, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.run(argv, cwd=cwd, input=data, env=full_env, capture_output=True, text=True, check=False)
        return p.returncode, p.stdout, p.stderr

    return run


class Git:
    """git in one work tree, with the user's and the system's configuration kept out of the way."""

    def __init__(self, run, git_bin: str = "git", env: dict | None = None):
        self.run = run
        self.git_bin = git_bin
        self.env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1"}
        self.env.update(env or {})

    def __call__(self, *args, data=None, env=None, check=True):
        merged = dict(self.env)
        merged.update(env or {})
        rc, out, err = self.run([self.git_bin, *args], data=data, env=merged)
        if check and rc != 0:
            raise RemoteError(
                "git %s failed (rc=%d): %s" % (" ".join(args), rc, (err or out).strip()),
                {"rc": rc, "stderr": err, "stdout": out},
            )
        return rc, out, err

    def out(self, *args, **kwargs) -> str:
        return self(*args, **kwargs)[1].strip()


@dataclass
class PullRequestSettings:
    repository: str
    api_url: str
    token: str
    branch: str = DEFAULT_PR_BRANCH
    title: str | None = None
    body: str | None = None


@dataclass
class Bump:
    """Everything :func:`bump` needs; ``paths`` are relative to the repository's top level."""

    repo_path: str
    paths: list
    image: str
    app: str
    tag: str | None = None
    digest: str | None = None
    revision: str = ""
    message: str = DEFAULT_MESSAGE
    author_name: str = "mlops-hybrid-bot"
    author_email: str = "mlops-hybrid-bot@users.noreply.github.com"
    remote: str = "origin"
    branch: str = "main"
    push: bool = True
    push_retries: int = 5
    mode: str = "push"
    pull_request: PullRequestSettings | None = None
    token: str | None = None
    check_mode: bool = False


def validate(b: Bump) -> None:
    """Refuse bad input before anything is read from or written to the repository."""
    ref = parse(b.image)
    if ref.tag or ref.digest:
        if b.tag or b.digest:
            raise InvalidInput("image %r already holds a tag or digest: give them in image or in tag/digest" % b.image)
        b.image, b.tag, b.digest = ref.name, ref.tag, ref.digest
    if b.tag is None and b.digest is None:
        raise InvalidInput("nothing to bump to: give tag, digest or an image reference with a tag or digest")
    if b.tag is not None:
        validate_tag(b.tag)
    if b.digest is not None:
        validate_digest(b.digest)
    if not b.paths:
        raise InvalidInput("paths is empty: name the kustomization or manifest files to edit")
    if b.push_retries < 0:
        raise InvalidInput("push_retries must be 0 or more, got %d" % b.push_retries)
    if not BRANCH_RE.match(b.branch):
        raise InvalidInput("branch %r is not a valid branch name" % b.branch)
    if b.mode not in ("push", "pr"):
        raise InvalidInput("mode must be push or pr, got %r" % b.mode)
    if b.mode == "pr" and b.pull_request is None:
        raise InvalidInput("mode pr needs github_repository and a token (github_token or GITHUB_TOKEN)")
    render_message(b.message, app=b.app, image=b.image, old="old", new="new", revision=b.revision, files="f")


def render_message(template: str, **values) -> str:
    """``template`` with ``{app} {image} {old} {new} {revision} {files}``; other fields are refused."""
    try:
        names = [f for _text, f, _spec, _conv in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise InvalidInput("commit message template %r is malformed: %s" % (template, e)) from e
    unknown = sorted({n for n in names if n not in MESSAGE_FIELDS})
    if unknown or "" in names:
        raise InvalidInput(
            "commit message template uses unknown field(s) %s; available: %s"
            % (", ".join("{%s}" % n for n in unknown) or "{}", ", ".join("{%s}" % f for f in MESSAGE_FIELDS))
        )
    return template.format(**values)


def resolve_paths(top: str, paths) -> list:
    """Paths relative to the repository's top level; anything that leaves it is refused."""
    out = []
    real_top = os.path.realpath(top)
    for p in paths:
        if not isinstance(p, str) or not p.strip():
            raise InvalidInput("an entry of paths is empty")
        absolute = os.path.realpath(p if os.path.isabs(p) else os.path.join(real_top, p))
        if os.path.commonpath([absolute, real_top]) != real_top:
            raise InvalidInput("path %r is outside the repository %s: give paths inside it" % (p, top))
        rel = os.path.relpath(absolute, real_top).replace(os.sep, "/")
        if rel == "." or rel.startswith(".git/") or rel == ".git":
            raise InvalidInput("path %r is not a manifest file of the repository" % p)
        out.append(rel)
    return out


def _rejected(text: str) -> bool:
    return any(marker in text for marker in REJECTED_MARKERS)


class Repo:
    """The operations :func:`bump` needs, on one clone."""

    def __init__(self, git: Git, b: Bump):
        self.git = git
        self.b = b

    def top(self) -> str:
        rc, out, err = self.git("rev-parse", "--show-toplevel", check=False)
        if rc != 0:
            raise InvalidInput("%s is not a Git working tree (%s)" % (self.b.repo_path, err.strip()))
        return out.strip()

    def auth_env(self) -> dict:
        """An Authorization header for HTTPS remotes, passed through the environment (never argv or disk)."""
        if not self.b.token:
            return {}
        url = self.git.out("remote", "get-url", self.b.remote)
        match = re.match(r"^(https?://[^/]+/)", url)
        if not match:
            return {}
        basic = base64.b64encode(("x-access-token:%s" % self.b.token).encode()).decode()
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.%s.extraheader" % match.group(1),
            "GIT_CONFIG_VALUE_0": "AUTHORIZATION: basic %s" % basic,
        }

    def fetch(self, branch: str) -> str | None:
        """Fetch ``branch`` into its remote-tracking ref; its tip, or None when the remote lacks it."""
        rc, _out, err = self.git(
            "fetch",
            "--quiet",
            "--no-tags",
            self.b.remote,
            "+refs/heads/%s:refs/remotes/%s/%s" % (branch, self.b.remote, branch),
            env=self.auth_env(),
            check=False,
        )
        if rc != 0:
            if "couldn't find remote ref" in err.lower():
                return None
            raise RemoteError("cannot fetch %s from %s: %s" % (branch, self.b.remote, err.strip()), {"stderr": err})
        return self.git.out("rev-parse", "refs/remotes/%s/%s" % (self.b.remote, branch))

    def read(self, rev: str, path: str) -> str:
        rc, out, err = self.git("cat-file", "blob", "%s:%s" % (rev, path), check=False)
        if rc != 0:
            raise InvalidInput(
                "%s does not exist on %s (%s): give a file the branch holds" % (path, rev[:12], err.strip())
            )
        return out

    def plan(self, rev: str) -> list:
        edits = [edit_text(self.read(rev, p), p, self.b.image, self.b.tag, self.b.digest) for p in self.b.paths]
        if not any(e.matches for e in edits):
            raise InvalidInput(
                "image %s is in none of %s: check the image name (kustomization images[].name or newName, "
                "a container image, or an image map's repository)" % (self.b.image, ", ".join(self.b.paths))
            )
        return edits

    def commit(self, base: str, edits: list, message: str) -> str:
        """A commit on ``base`` with ``edits``, built without touching the work tree, index or branches."""
        tmp = tempfile.mkdtemp(prefix="gitops-bump-")
        try:
            index = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.git("read-tree", base, env=index)
            for e in edits:
                if not e.changed:
                    continue
                mode = self.git.out("ls-tree", base, "--", e.path).split(" ", 1)[0] or "100644"
                blob = self.git.out("hash-object", "-w", "--stdin", data=e.after)
                self.git("update-index", "--cacheinfo", "%s,%s,%s" % (mode, blob, e.path), env=index)
            tree = self.git.out("write-tree", env=index)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        ident = {
            "GIT_AUTHOR_NAME": self.b.author_name,
            "GIT_AUTHOR_EMAIL": self.b.author_email,
            "GIT_COMMITTER_NAME": self.b.author_name,
            "GIT_COMMITTER_EMAIL": self.b.author_email,
        }
        return self.git.out("commit-tree", tree, "-p", base, "-F", "-", data=message, env=ident)

    def push(self, sha: str, branch: str, lease: str | None = None) -> tuple[bool, str]:
        """Push ``sha`` to ``branch``; (accepted, output). Non-fast-forward is (False, ...), other errors raise."""
        args = ["push", "--porcelain", self.b.remote, "%s:refs/heads/%s" % (sha, branch)]
        if lease is not None:
            args.insert(2, "--force-with-lease=refs/heads/%s:%s" % (branch, lease))
        rc, out, err = self.git(*args, env=self.auth_env(), check=False)
        text = out + err
        if rc == 0:
            return True, text
        if _rejected(text):
            return False, text
        raise RemoteError("cannot push to %s %s: %s" % (self.b.remote, branch, text.strip()), {"stderr": err})

    def remote_head(self, branch: str) -> str | None:
        out = self.git.out("ls-remote", "--heads", self.b.remote, "refs/heads/%s" % branch, env=self.auth_env())
        return out.split()[0] if out else None

    def fast_forward_local(self, sha: str) -> bool:
        """Move the local branch to ``sha`` when that is a fast-forward; the work tree follows if it is checked out."""
        branch = self.b.branch
        rc, local, _err = self.git("rev-parse", "--verify", "--quiet", "refs/heads/%s" % branch, check=False)
        local = local.strip()
        if rc != 0:
            return False
        if self.git("merge-base", "--is-ancestor", local, sha, check=False)[0] != 0:
            return False
        current = self.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)[1].strip()
        if current != branch:
            self.git("update-ref", "refs/heads/%s" % branch, sha, local)
            return True
        if self.git.out("status", "--porcelain", "--", *self.b.paths):
            return False
        return self.git("merge", "--ff-only", "--quiet", sha, check=False)[0] == 0


def _versions(edits: list, attr: str) -> str:
    values = []
    for e in edits:
        for c in e.matches:
            v = getattr(c, attr)
            if v not in values:
                values.append(v)
    return ", ".join(values)


def _diff(edits: list) -> list:
    return [
        {"before": e.before, "after": e.after, "before_header": e.path, "after_header": e.path}
        for e in edits
        if e.changed
    ]


def _result(b: Bump, edits: list, changed: bool, **extra) -> dict:
    new = b.tag or short_digest(b.digest)
    if b.tag and b.digest:
        new = "%s@%s" % (b.tag, short_digest(b.digest))
    result = {
        "changed": changed,
        "image": b.image,
        "old": _versions(edits, "before"),
        "new": _versions(edits, "after") or new,
        "changes": [c.as_dict() for e in edits for c in e.matches],
        "files": [e.path for e in edits if e.changed],
        "diff": _diff(edits),
        "commit": None,
        "pushed": False,
        "attempts": 0,
        "branch": b.branch,
        "pull_request": None,
        "local_updated": False,
        "message": "",
    }
    result.update(extra)
    return result


def _message(b: Bump, edits: list) -> str:
    return render_message(
        b.message,
        app=b.app,
        image=b.image,
        old=_versions(edits, "before"),
        new=_versions(edits, "after"),
        revision=b.revision or "unknown",
        files=", ".join(e.path for e in edits if e.changed),
    )


def bump(b: Bump, run, git_bin: str = "git", github=None, sleep=time.sleep) -> dict:
    """Bring the branch (or a pull request) to the new image; the result dict of the module.

    ``github`` is a callable ``(settings) -> PyGithub Repository`` used in PR mode.
    """
    validate(b)
    if not os.path.isdir(b.repo_path):
        raise InvalidInput("repo_path %s is not a directory: clone the GitOps repository first" % b.repo_path)
    git = Git(run, git_bin)
    repo = Repo(git, b)
    top = repo.top()
    b.paths = resolve_paths(top, b.paths)
    if b.mode == "pr":
        return _bump_pr(repo, b, github)
    if not b.push:
        return _bump_local(repo, b)
    for attempt in range(1, b.push_retries + 2):
        base = repo.fetch(b.branch)
        if base is None:
            raise InvalidInput("branch %s does not exist on %s" % (b.branch, b.remote))
        edits = repo.plan(base)
        if not any(e.changed for e in edits):
            done = attempt > 1
            return _result(
                b,
                edits,
                False,
                attempts=attempt - 1,
                message="already up to date" + (" (someone pushed the same change)" if done else ""),
                commit=base,
            )
        message = _message(b, edits)
        if b.check_mode:
            return _result(b, edits, True, message=message)
        sha = repo.commit(base, edits, message)
        accepted, output = repo.push(sha, b.branch)
        if accepted:
            local = repo.fast_forward_local(sha)
            return _result(
                b, edits, True, commit=sha, pushed=True, attempts=attempt, message=message, local_updated=local
            )
        if attempt <= b.push_retries:
            sleep(random.uniform(0.05, 0.3) * attempt)  # noqa: S311 - jitter, not cryptography
    raise RemoteError(
        "push to %s %s was rejected %d times (others kept pushing first): %s"
        % (b.remote, b.branch, b.push_retries + 1, output.strip()),
        {"attempts": b.push_retries + 1},
    )


def _bump_local(repo: Repo, b: Bump) -> dict:
    """push: false - commit on the local branch only."""
    rc, base, _err = repo.git("rev-parse", "--verify", "--quiet", "refs/heads/%s" % b.branch, check=False)
    if rc != 0:
        raise InvalidInput("local branch %s does not exist in %s" % (b.branch, b.repo_path))
    base = base.strip()
    edits = repo.plan(base)
    if not any(e.changed for e in edits):
        return _result(b, edits, False, commit=base, message="already up to date")
    message = _message(b, edits)
    if b.check_mode:
        return _result(b, edits, True, message=message)
    sha = repo.commit(base, edits, message)
    if not repo.fast_forward_local(sha):
        raise RemoteError("cannot move %s to the new commit %s: the files have local changes" % (b.branch, sha[:12]))
    return _result(b, edits, True, commit=sha, local_updated=True, message=message)


def pr_branch_name(b: Bump, edits: list) -> str:
    new = _versions(edits, "after")
    raw = b.pull_request.branch.format(app=b.app, new=new, image=b.image, revision=b.revision or "unknown")
    name = re.sub(r"[^A-Za-z0-9._/-]+", "-", raw).strip("-/.")
    if not BRANCH_RE.match(name):
        raise InvalidInput("pull request branch %r is not a valid branch name" % raw)
    return name


def _bump_pr(repo: Repo, b: Bump, github) -> dict:
    base = repo.fetch(b.branch)
    if base is None:
        raise InvalidInput("branch %s does not exist on %s" % (b.branch, b.remote))
    edits = repo.plan(base)
    if not any(e.changed for e in edits):
        return _result(b, edits, False, commit=base, message="already up to date on %s" % b.branch)
    message = _message(b, edits)
    head = pr_branch_name(b, edits)
    if github is None:
        raise MissingDependency("PyGithub", reason="mode pr opens a pull request")
    gh_repo = github(b.pull_request)
    owner = b.pull_request.repository.split("/", 1)[0]
    existing_tip = repo.remote_head(head)
    needs_push = True
    if existing_tip:
        repo.fetch(head)
        needs_push = any(e.changed for e in repo.plan(existing_tip))
    pulls = open_pulls(gh_repo, "%s:%s" % (owner, head), b.branch)
    if not needs_push and pulls:
        return _result(
            b,
            edits,
            False,
            branch=head,
            commit=existing_tip,
            pull_request=_pr_dict(pulls[0], False),
            message="an identical pull request is open",
        )
    if b.check_mode:
        return _result(b, edits, True, branch=head, message=message)
    sha = existing_tip
    if needs_push:
        sha = repo.commit(base, edits, message)
        accepted, output = repo.push(sha, head, lease=existing_tip or "")
        if not accepted:
            raise RemoteError("push of %s was rejected: %s" % (head, output.strip()))
    if pulls:
        pr = _pr_dict(pulls[0], False)
    else:
        title = b.pull_request.title or message.splitlines()[0]
        body = b.pull_request.body if b.pull_request.body is not None else message
        pr = _pr_dict(create_pull(gh_repo, title, body, head, b.branch), True)
    return _result(
        b, edits, True, branch=head, commit=sha, pushed=needs_push, attempts=1, pull_request=pr, message=message
    )


def _pr_dict(pull, created: bool) -> dict:
    return {
        "number": pull.number,
        "url": pull.html_url,
        "head": pull.head.ref,
        "base": pull.base.ref,
        "created": created,
    }
