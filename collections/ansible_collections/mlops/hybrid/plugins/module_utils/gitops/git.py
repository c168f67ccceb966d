# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""git in one clone: a command runner and the repository operations a bump is made of.

Commits are built with Git plumbing on top of a given tip (blob -> temporary index -> tree ->
commit) and pushed by their id, so the clone's working tree, index and branches are never
half-changed. Every git call is an argv list through a runner ``run(argv, data=None, env=None)
-> (rc, stdout, stderr)``; the module passes ``AnsibleModule.run_command``, tests and services
:func:`subprocess_runner`.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError

__all__ = ["BRANCH_RE", "Git", "Repo", "subprocess_runner"]

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


def _rejected(text: str) -> bool:
    return any(marker in text for marker in REJECTED_MARKERS)


class Repo:
    """One clone (``path``, for messages) and its ``remote``; ``token`` authenticates HTTPS remotes."""

    def __init__(self, git: Git, *, path: str, remote: str = "origin", token: str | None = None):
        self.git = git
        self.path = path
        self.remote = remote
        self.token = token

    def top(self) -> str:
        rc, out, err = self.git("rev-parse", "--show-toplevel", check=False)
        if rc != 0:
            raise InvalidInput("%s is not a Git working tree (%s)" % (self.path, err.strip()))
        return out.strip()

    def auth_env(self) -> dict:
        """An Authorization header for HTTPS remotes, passed through the environment (never argv or disk)."""
        if not self.token:
            return {}
        url = self.git.out("remote", "get-url", self.remote)
        match = re.match(r"^(https?://[^/]+/)", url)
        if not match:
            return {}
        basic = base64.b64encode(("x-access-token:%s" % self.token).encode()).decode()
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
            self.remote,
            "+refs/heads/%s:refs/remotes/%s/%s" % (branch, self.remote, branch),
            env=self.auth_env(),
            check=False,
        )
        if rc != 0:
            if "couldn't find remote ref" in err.lower():
                return None
            raise RemoteError("cannot fetch %s from %s: %s" % (branch, self.remote, err.strip()), {"stderr": err})
        return self.git.out("rev-parse", "refs/remotes/%s/%s" % (self.remote, branch))

    def local_head(self, branch: str) -> str | None:
        """The tip of the local ``branch``, or None when there is no such branch."""
        rc, out, _err = self.git("rev-parse", "--verify", "--quiet", "refs/heads/%s" % branch, check=False)
        return out.strip() if rc == 0 else None

    def read(self, rev: str, path: str) -> str:
        rc, out, err = self.git("cat-file", "blob", "%s:%s" % (rev, path), check=False)
        if rc != 0:
            raise InvalidInput(
                "%s does not exist on %s (%s): give a file the branch holds" % (path, rev[:12], err.strip())
            )
        return out

    def commit(self, base: str, files: dict, message: str, *, author_name: str, author_email: str) -> str:
        """A commit on ``base`` with ``files`` (path: new content), built without touching the work tree,
        index or branches; author and committer are ``author_name`` <``author_email``>."""
        tmp = tempfile.mkdtemp(prefix="gitops-bump-")
        try:
            index = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.git("read-tree", base, env=index)
            for path, content in files.items():
                mode = self.git.out("ls-tree", base, "--", path).split(" ", 1)[0] or "100644"
                blob = self.git.out("hash-object", "-w", "--stdin", data=content)
                self.git("update-index", "--cacheinfo", "%s,%s,%s" % (mode, blob, path), env=index)
            tree = self.git.out("write-tree", env=index)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        ident = {
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
        }
        return self.git.out("commit-tree", tree, "-p", base, "-F", "-", data=message, env=ident)

    def export(self, sha: str, dest: str) -> None:
        """The files of commit ``sha`` written under ``dest`` (through a temporary index: the clone's
        work tree, index and branches are left as they are)."""
        tmp = tempfile.mkdtemp(prefix="gitops-export-")
        try:
            index = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.git("read-tree", sha, env=index)
            self.git("checkout-index", "--all", "--prefix=%s/" % dest.rstrip("/"), env=index)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def push(self, sha: str, branch: str, lease: str | None = None) -> tuple[bool, str]:
        """Push ``sha`` to ``branch``; (accepted, output). Non-fast-forward is (False, ...), other errors raise."""
        args = ["push", "--porcelain", self.remote, "%s:refs/heads/%s" % (sha, branch)]
        if lease is not None:
            args.insert(2, "--force-with-lease=refs/heads/%s:%s" % (branch, lease))
        rc, out, err = self.git(*args, env=self.auth_env(), check=False)
        text = out + err
        if rc == 0:
            return True, text
        if _rejected(text):
            return False, text
        raise RemoteError("cannot push to %s %s: %s" % (self.remote, branch, text.strip()), {"stderr": err})

    def remote_head(self, branch: str) -> str | None:
        out = self.git.out("ls-remote", "--heads", self.remote, "refs/heads/%s" % branch, env=self.auth_env())
        return out.split()[0] if out else None

    def fast_forward(self, branch: str, sha: str, paths) -> bool:
        """Move the local ``branch`` to ``sha`` when that is a fast-forward; the work tree follows if the
        branch is checked out and ``paths`` have no local changes."""
        local = self.local_head(branch)
        if local is None:
            return False
        if self.git("merge-base", "--is-ancestor", local, sha, check=False)[0] != 0:
            return False
        current = self.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)[1].strip()
        if current != branch:
            self.git("update-ref", "refs/heads/%s" % branch, sha, local)
            return True
        if self.git.out("status", "--porcelain", "--", *paths):
            return False
        return self.git("merge", "--ff-only", "--quiet", sha, check=False)[0] == 0
