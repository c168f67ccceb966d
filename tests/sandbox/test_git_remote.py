"""The Git fixture: a bare remote that clones push to, with non-fast-forward pushes detected."""

from __future__ import annotations

import pytest

from sandbox.gitrepo import GitError, PushRejected, run_git

pytestmark = pytest.mark.services


def test_initial_commit_on_main(git_remote):
    log = git_remote.log()
    assert [e.subject for e in log] == ["Initial commit"]
    assert git_remote.files() == ["README.md"]
    assert git_remote.git("symbolic-ref", "HEAD").stdout.strip() == "refs/heads/main"


def test_commit_push_and_a_second_clone_sees_it(git_remote):
    ci = git_remote.clone("ci")
    sha = ci.commit("Bump iris to v2", {"gitops/models/iris/image.yaml": "tag: v2\n"})
    ci.push()
    assert git_remote.head() == sha
    assert git_remote.show("gitops/models/iris/image.yaml") == "tag: v2\n"
    assert git_remote.log()[0].subject == "Bump iris to v2"
    assert git_remote.log()[0].author == "ci bench"

    other = git_remote.clone("other")
    assert other.head() == sha
    assert other.read("gitops/models/iris/image.yaml") == "tag: v2\n"


def test_identity_is_local_to_the_clone(git_remote):
    clone = git_remote.clone("ci")
    assert clone.git("config", "--local", "user.email").stdout.strip() == "ci@bench.invalid"
    # Nothing global: with the machine's config switched off, no identity exists outside the clone.
    outside = run_git(git_remote.path.parent, "config", "--global", "user.email", check=False)
    assert outside.stdout.strip() == ""


def test_non_fast_forward_push_is_rejected_and_recoverable(git_remote):
    first, second = git_remote.clone("first"), git_remote.clone("second")
    first.commit("first change", {"a.txt": "a\n"})
    first.push()
    second.commit("second change", {"b.txt": "b\n"})
    with pytest.raises(PushRejected) as err:
        second.push()
    assert "rejected" in str(err.value) or "non-fast-forward" in str(err.value)
    assert git_remote.log()[0].subject == "first change"

    second.pull()
    second.push()
    assert [e.subject for e in git_remote.log()] == ["second change", "first change", "Initial commit"]
    assert git_remote.show("b.txt", rev="main") == "b\n"
    assert git_remote.show("a.txt", rev="main~1") == "a\n"


def test_other_failures_are_not_mistaken_for_rejections(git_remote, tmp_path):
    clone = git_remote.clone("ci")
    with pytest.raises(GitError) as err:
        clone.push("no-such-branch")
    assert not isinstance(err.value, PushRejected)
    with pytest.raises(GitError, match="no-such-file"):
        git_remote.show("no-such-file")
