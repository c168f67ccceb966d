"""Bare Git remotes with working clones, for GitOps tests (bumps, pushes, races).

    remote = GitRemote.create(tmp_path / "gitops")      # bare repo, initial commit on main
    work = remote.clone("ci")                             # user.name/email set in the clone only
    sha = work.commit("bump", {"gitops/models/iris/kustomization.yaml": "..."})
    work.push()
    assert remote.show("gitops/models/iris/kustomization.yaml") == "..."

Every git call runs with the user's and the system's configuration switched off, so what a test
sees does not depend on the machine; identities live in each clone's ``.git/config``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .procs import require_binary

__all__ = ["GitError", "GitRemote", "PushRejected", "WorkingClone", "git_env"]

DEFAULT_BRANCH = "main"


class GitError(RuntimeError):
    """A git command failed; the message holds the command, its exit code and its stderr."""

    def __init__(self, argv: list[str], result: subprocess.CompletedProcess[str]):
        self.argv = argv
        self.result = result
        super().__init__("git %s failed (rc=%d): %s" % (" ".join(argv), result.returncode, result.stderr.strip()))


class PushRejected(GitError):
    """The remote refused the push because it is not a fast-forward (someone pushed first)."""


def git_env() -> dict[str, str]:
    """An environment in which git ignores ~/.gitconfig and /etc/gitconfig."""
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        env.pop(key, None)
    return env


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    git = require_binary("git", "git")
    argv = list(args)
    result = subprocess.run([git, *argv], cwd=cwd, env=git_env(), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise GitError(argv, result)
    return result


@dataclass
class LogEntry:
    sha: str
    subject: str
    author: str


class GitRemote:
    """A bare repository standing in for GitHub: clones push to it by its file path."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, path: Path, files: dict[str, str] | None = None, branch: str = DEFAULT_BRANCH) -> GitRemote:
        """A new bare repository at ``path`` whose ``branch`` has one commit holding ``files``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        run_git(path.parent, "init", "--quiet", "--bare", "--initial-branch", branch, str(path))
        remote = cls(path)
        seed = remote.clone("seed", path.parent / (path.name + ".seed"))
        seed.commit("Initial commit", files or {"README.md": "# %s\n" % path.stem})
        seed.push(branch)
        return remote

    @property
    def url(self) -> str:
        return str(self.path)

    def clone(self, name: str, dest: Path | None = None, branch: str = DEFAULT_BRANCH) -> WorkingClone:
        """A working clone at ``dest`` (default: beside the remote, ``<name>``) with a local identity."""
        dest = Path(dest) if dest else self.path.parent / name
        run_git(self.path.parent, "clone", "--quiet", self.url, str(dest))
        clone = WorkingClone(dest, self)
        clone.git("config", "user.name", "%s bench" % name)
        clone.git("config", "user.email", "%s@bench.invalid" % name)
        clone.git("config", "commit.gpgsign", "false")
        if clone.git("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode != 0:
            clone.git("checkout", "--quiet", "-B", branch)
        elif clone.branch() != branch:
            clone.git("checkout", "--quiet", branch)
        return clone

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_git(self.path, *args, check=check)

    def head(self, ref: str = DEFAULT_BRANCH) -> str:
        return self.git("rev-parse", ref).stdout.strip()

    def log(self, ref: str = DEFAULT_BRANCH, limit: int | None = None) -> list[LogEntry]:
        """Commits reachable from ``ref``, newest first."""
        args = ["log", "--format=%H%x1f%s%x1f%an", ref]
        if limit:
            args.insert(1, "-n%d" % limit)
        out = self.git(*args).stdout
        return [LogEntry(*line.split("\x1f")) for line in out.splitlines() if line]

    def show(self, path: str, rev: str = DEFAULT_BRANCH) -> str:
        """The content of ``path`` at ``rev`` on the remote."""
        return self.git("show", "%s:%s" % (rev, path)).stdout

    def files(self, rev: str = DEFAULT_BRANCH) -> list[str]:
        return self.git("ls-tree", "-r", "--name-only", rev).stdout.split()


class WorkingClone:
    """A clone with its own identity; helpers to write, commit, push and pull."""

    def __init__(self, path: Path, remote: GitRemote):
        self.path = Path(path)
        self.remote = remote

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_git(self.path, *args, check=check)

    def write(self, relpath: str, text: str) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def read(self, relpath: str) -> str:
        return (self.path / relpath).read_text()

    def commit(self, message: str, files: dict[str, str] | None = None, allow_empty: bool = False) -> str:
        """Write ``files`` (path -> text), stage everything, commit; return the new sha."""
        for relpath, text in (files or {}).items():
            self.write(relpath, text)
        self.git("add", "--all")
        args = ["commit", "--quiet", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args)
        return self.head()

    def push(self, branch: str | None = None) -> None:
        """Push ``branch`` (default: the current one); :class:`PushRejected` when not a fast-forward."""
        branch = branch or self.branch()
        argv = ["push", "--porcelain", "origin", "%s:%s" % (branch, branch)]
        result = self.git(*argv, check=False)
        if result.returncode != 0:
            text = result.stdout + result.stderr
            if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
                raise PushRejected(argv, result)
            raise GitError(argv, result)

    def pull(self, rebase: bool = True) -> None:
        self.git("pull", "--quiet", "--rebase" if rebase else "--no-rebase", "origin", self.branch())

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def branch(self) -> str:
        return self.git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
