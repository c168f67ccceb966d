# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bump an application's image in a GitOps repository: compute the edits, commit, deliver.

One converge path for every mode: the base is read, the files are edited in memory
(:mod:`gitops.yaml`), and when something changes a commit is built on the base (:mod:`gitops.git`:
the clone's work tree, index and branches are never half-changed) and handed to a delivery:

* :class:`PushDelivery` pushes it to the branch; a push rejected because someone pushed first
  starts over on the new tip, up to ``push_retries`` times; the local branch then follows when
  it is checked out and clean;
* :class:`LocalDelivery` (``push: false``) only moves the local branch;
* :class:`PullRequestDelivery` (``mode: pr``) pushes a branch of its own and opens a pull request,
  or finds the identical one already open.

Options arrive by name: :class:`Bump` and :class:`PullRequestSettings` are frozen and built with
keywords (``runner.options`` in the module).
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import shlex
import shutil
import string
import tempfile
import time

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    CheckFailed,
    InvalidInput,
    MissingDependency,
    RemoteError,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.github import client, pulls
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.git import BRANCH_RE, Git, Repo
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.image_ref import (
    parse,
    short_digest,
    validate_digest,
    validate_tag,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.yaml import edit_text

__all__ = [
    "DEFAULT_MESSAGE",
    "DEFAULT_PR_BRANCH",
    "Bump",
    "Delivery",
    "LocalDelivery",
    "PullRequestDelivery",
    "PullRequestSettings",
    "PushDelivery",
    "bump",
    "render_message",
    "resolve_paths",
    "validate",
    "validate_commit",
]

DEFAULT_MESSAGE = "build: update {app} image {image} from {old} to {new}\n\nSource revision: {revision}\n"
DEFAULT_PR_BRANCH = "gitops-bump/{app}-{new}"
DEFAULT_AUTHOR_NAME = "mlops-hybrid-bot"
DEFAULT_AUTHOR_EMAIL = "mlops-hybrid-bot@users.noreply.github.com"
MESSAGE_FIELDS = ("app", "image", "old", "new", "revision", "files")
VALIDATE_OUTPUT_CHARS = 6000  # of the check's output, in the error
GITHUB_TIMEOUT = 15
GITHUB_RETRIES = 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class PullRequestSettings:
    """Where and how ``mode: pr`` opens its pull request; the names of the module's options."""

    repository: str
    github_api_url: str
    github_token: str
    pr_branch: str = DEFAULT_PR_BRANCH
    pr_title: str | None = None
    pr_body: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bump:
    """Everything :func:`bump` needs, by the names of the module's options.

    ``paths`` are relative to the repository's top level; ``github_token`` also authenticates
    fetches and pushes to HTTPS remotes.
    """

    repo_path: str
    paths: list
    image: str
    app: str
    tag: str | None = None
    digest: str | None = None
    source_revision: str = ""
    commit_message: str = DEFAULT_MESSAGE
    author_name: str = DEFAULT_AUTHOR_NAME
    author_email: str = DEFAULT_AUTHOR_EMAIL
    remote: str = "origin"
    branch: str = "main"
    push: bool = True
    push_retries: int = 5
    mode: str = "push"
    pull_request: PullRequestSettings | None = None
    github_token: str | None = None
    validate: str | None = None
    check_mode: bool = False


def validate(b: Bump) -> Bump:
    """Refuse bad input before anything is read from or written to the repository.

    Returns ``b`` with an image reference that carries its tag or digest split into ``image``,
    ``tag`` and ``digest``.
    """
    ref = parse(b.image)
    if ref.tag or ref.digest:
        if b.tag or b.digest:
            raise InvalidInput("image %r already holds a tag or digest: give them in image or in tag/digest" % b.image)
        b = dataclasses.replace(b, image=ref.name, tag=ref.tag, digest=ref.digest)
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
        raise InvalidInput("mode pr needs repository (or GITHUB_REPOSITORY) and a token (github_token or GITHUB_TOKEN)")
    if b.validate is not None and "%s" not in " ".join(validate_argv(b.validate, "%s")):
        raise InvalidInput("validate %r must name the checked tree as %%s, e.g. 'check-tree %%s'" % b.validate)
    render_message(
        b.commit_message, app=b.app, image=b.image, old="old", new="new", revision=b.source_revision, files="f"
    )
    return b


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


def validate_argv(command: str, tree: str) -> list:
    """The argv of the ``validate`` command, ``%s`` replaced by ``tree``."""
    try:
        return [word.replace("%s", tree) for word in shlex.split(command)]
    except ValueError as e:
        raise InvalidInput("validate %r is not a command line: %s" % (command, e)) from e


def validate_commit(repo: Repo, sha: str, command: str) -> None:
    """Run ``command`` on the files of commit ``sha`` (``%s``: a scratch directory holding them);
    a failing check raises :class:`CheckFailed` with its output, and nothing is delivered."""
    tree = tempfile.mkdtemp(prefix="gitops-validate-")
    try:
        repo.export(sha, tree)
        rc, out, err = repo.git.run(validate_argv(command, tree))
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    if rc != 0:
        output = "\n".join(t.strip() for t in (out, err) if t and t.strip())
        raise CheckFailed(
            "the bumped tree fails its check (validate, exit status %d), nothing was pushed:\n%s"
            % (rc, output[-VALIDATE_OUTPUT_CHARS:] or "(no output)"),
            {"rc": rc, "stdout": out, "stderr": err, "commit": sha},
        )


def plan(repo: Repo, b: Bump, rev: str) -> list:
    """The edits of ``b.paths`` as they are on ``rev``; an image found in none of them is refused."""
    edits = [edit_text(repo.read(rev, p), p, image=b.image, tag=b.tag, digest=b.digest) for p in b.paths]
    if not any(e.matches for e in edits):
        raise InvalidInput(
            "image %s is in none of %s: check the image name (kustomization images[].name or newName, "
            "a container image, or an image map's repository)" % (b.image, ", ".join(b.paths))
        )
    return edits


def _changed(edits: list) -> bool:
    return any(e.changed for e in edits)


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
        b.commit_message,
        app=b.app,
        image=b.image,
        old=_versions(edits, "before"),
        new=_versions(edits, "after"),
        revision=b.source_revision or "unknown",
        files=", ".join(e.path for e in edits if e.changed),
    )


class Delivery:
    """How a commit reaches its branch; :func:`converge` calls these in this order.

    ``base()`` is the tip the edits are computed on; ``up_to_date(attempt)`` the result's extras
    when nothing changes; ``prepare(edits, message)`` the extras of a no-op when the change is
    delivered already, else None; ``planned()`` the extras of check mode; ``deliver(sha, attempt)``
    the extras once delivered, or None when rejected (``converge`` starts over, up to
    ``attempts``, then raises ``gave_up()``).
    """

    attempts = 1

    def __init__(self, repo: Repo, b: Bump):
        self.repo, self.b = repo, b

    def base(self) -> str:
        base = self.repo.fetch(self.b.branch)
        if base is None:
            raise InvalidInput("branch %s does not exist on %s" % (self.b.branch, self.b.remote))
        return base

    def up_to_date(self, attempt: int) -> dict:
        return {"message": "already up to date"}

    def prepare(self, edits: list, message: str) -> dict | None:
        return None

    def planned(self) -> dict:
        return {}

    def needs_commit(self) -> bool:
        return True

    def deliver(self, sha: str | None, attempt: int) -> dict | None:
        raise NotImplementedError

    def gave_up(self) -> RemoteError:
        raise NotImplementedError


class PushDelivery(Delivery):
    """``push: true``: push the commit to the branch; a rejected push starts over on the new tip."""

    def __init__(self, repo: Repo, b: Bump):
        super().__init__(repo, b)
        self.attempts = b.push_retries + 1
        self.output = ""

    def up_to_date(self, attempt: int) -> dict:
        suffix = " (someone pushed the same change)" if attempt > 1 else ""
        return {"attempts": attempt - 1, "message": "already up to date" + suffix}

    def deliver(self, sha: str | None, attempt: int) -> dict | None:
        accepted, self.output = self.repo.push(sha, self.b.branch)
        if not accepted:
            return None
        local = self.repo.fast_forward(self.b.branch, sha, self.b.paths)
        return {"commit": sha, "pushed": True, "attempts": attempt, "local_updated": local}

    def gave_up(self) -> RemoteError:
        return RemoteError(
            "push to %s %s was rejected %d times (others kept pushing first): %s"
            % (self.b.remote, self.b.branch, self.attempts, self.output.strip()),
            {"attempts": self.attempts},
        )


class LocalDelivery(Delivery):
    """``push: false``: commit on the local branch only."""

    def base(self) -> str:
        base = self.repo.local_head(self.b.branch)
        if base is None:
            raise InvalidInput("local branch %s does not exist in %s" % (self.b.branch, self.b.repo_path))
        return base

    def deliver(self, sha: str | None, attempt: int) -> dict:
        if not self.repo.fast_forward(self.b.branch, sha, self.b.paths):
            raise RemoteError(
                "cannot move %s to the new commit %s: the files have local changes" % (self.b.branch, sha[:12])
            )
        return {"commit": sha, "local_updated": True}


class PullRequestDelivery(Delivery):
    """``mode: pr``: push a branch of its own and open a pull request into the branch (once)."""

    def __init__(self, repo: Repo, b: Bump, github):
        super().__init__(repo, b)
        self.github = github
        self.settings = b.pull_request
        self.head = self.gh_repo = self.existing_tip = self.message = None
        self.pulls = []
        self.needs_push = True

    def up_to_date(self, attempt: int) -> dict:
        return {"message": "already up to date on %s" % self.b.branch}

    def prepare(self, edits: list, message: str) -> dict | None:
        """Name the branch and look at it and at the open pull requests; a no-op when both hold the change."""
        self.message = message
        self.head = self.branch_name(edits)
        self.gh_repo = self.github(self.settings)
        owner = self.settings.repository.split("/", 1)[0]
        self.existing_tip = self.repo.remote_head(self.head)
        if self.existing_tip:
            self.repo.fetch(self.head)
            self.needs_push = _changed(plan(self.repo, self.b, self.existing_tip))
        self.pulls = pulls.open_pulls(self.gh_repo, head="%s:%s" % (owner, self.head), base=self.b.branch)
        if not self.needs_push and self.pulls:
            return {
                "branch": self.head,
                "commit": self.existing_tip,
                "pull_request": _pr_dict(self.pulls[0], False),
                "message": "an identical pull request is open",
            }
        return None

    def branch_name(self, edits: list) -> str:
        new = _versions(edits, "after")
        raw = self.settings.pr_branch.format(
            app=self.b.app, new=new, image=self.b.image, revision=self.b.source_revision or "unknown"
        )
        name = re.sub(r"[^A-Za-z0-9._/-]+", "-", raw).strip("-/.")
        if not BRANCH_RE.match(name):
            raise InvalidInput("pull request branch %r is not a valid branch name" % raw)
        return name

    def planned(self) -> dict:
        return {"branch": self.head}

    def needs_commit(self) -> bool:
        return self.needs_push

    def deliver(self, sha: str | None, attempt: int) -> dict:
        if self.needs_push:
            accepted, output = self.repo.push(sha, self.head, lease=self.existing_tip or "")
            if not accepted:
                raise RemoteError("push of %s was rejected: %s" % (self.head, output.strip()))
        else:
            sha = self.existing_tip
        if self.pulls:
            pr = _pr_dict(self.pulls[0], False)
        else:
            title = self.settings.pr_title or self.message.splitlines()[0]
            body = self.settings.pr_body if self.settings.pr_body is not None else self.message
            pull = pulls.create_pull(self.gh_repo, title=title, body=body, head=self.head, base=self.b.branch)
            pr = _pr_dict(pull, True)
        return {"branch": self.head, "commit": sha, "pushed": self.needs_push, "attempts": 1, "pull_request": pr}


def _pr_dict(pull, created: bool) -> dict:
    return {
        "number": pull.number,
        "url": pull.html_url,
        "head": pull.head.ref,
        "base": pull.base.ref,
        "created": created,
    }


def pull_request_repository(settings: PullRequestSettings):
    """The PyGithub Repository the pull request is opened on (``settings.repository``)."""
    gh = client.connect(
        token=settings.github_token, api_url=settings.github_api_url, timeout=GITHUB_TIMEOUT, retries=GITHUB_RETRIES
    )
    return client.repository(gh, settings.repository)


def converge(repo: Repo, b: Bump, delivery, sleep=time.sleep) -> dict:
    """The one flow: read the base, compute the edits, commit, deliver; the result dict of the module."""
    for attempt in range(1, delivery.attempts + 1):
        base = delivery.base()
        edits = plan(repo, b, base)
        if not _changed(edits):
            return _result(b, edits, False, commit=base, **delivery.up_to_date(attempt))
        message = _message(b, edits)
        done = delivery.prepare(edits, message)
        if done is not None:
            return _result(b, edits, False, **done)
        if b.check_mode:
            return _result(b, edits, True, message=message, **delivery.planned())
        sha = None
        if delivery.needs_commit():
            files = {e.path: e.after for e in edits if e.changed}
            sha = repo.commit(base, files, message, author_name=b.author_name, author_email=b.author_email)
            if b.validate:
                validate_commit(repo, sha, b.validate)
        delivered = delivery.deliver(sha, attempt)
        if delivered is not None:
            return _result(b, edits, True, message=message, **delivered)
        if attempt < delivery.attempts:
            sleep(random.uniform(0.05, 0.3) * attempt)  # noqa: S311 - jitter, not cryptography
    raise delivery.gave_up()


def bump(b: Bump, run, *, git_bin: str = "git", github=None, sleep=time.sleep) -> dict:
    """Bring the branch (or a pull request) to the new image; the result dict of the module.

    ``run`` is the git runner (:func:`gitops.git.subprocess_runner` outside Ansible); ``github``
    is a callable ``(PullRequestSettings) -> PyGithub Repository`` for ``mode: pr``, by default a
    connection to ``github_api_url``.
    """
    b = validate(b)
    if b.mode == "pr" and github is None:
        if not client.HAS_PYGITHUB:
            raise MissingDependency("PyGithub", reason="mode pr opens a pull request")
        github = pull_request_repository
    if not os.path.isdir(b.repo_path):
        raise InvalidInput("repo_path %s is not a directory: clone the GitOps repository first" % b.repo_path)
    repo = Repo(Git(run, git_bin), path=b.repo_path, remote=b.remote, token=b.github_token)
    b = dataclasses.replace(b, paths=resolve_paths(repo.top(), b.paths))
    if b.mode == "pr":
        delivery = PullRequestDelivery(repo, b, github)
    elif b.push:
        delivery = PushDelivery(repo, b)
    else:
        delivery = LocalDelivery(repo, b)
    return converge(repo, b, delivery, sleep=sleep)
