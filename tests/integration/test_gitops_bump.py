"""mlops.hybrid.gitops_bump against real bare Git remotes: through Ansible, and races through module_utils."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.bump import Bump, bump
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.git import subprocess_runner
from sandbox.fakes.github import FakeGitHub
from sandbox.gitrepo import GitRemote

pytestmark = pytest.mark.services

IMAGE = "ghcr.io/mlops-hybrid/model"
DIGEST = "sha256:" + "5e" * 32
KUSTOMIZATION = """\
---
# The breast-cancer model, synced by ArgoCD.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: models
resources:
  - inferenceservice.yaml  # KServe InferenceService
images:
  # gitops_bump edits this entry; nothing else.
  - name: ghcr.io/mlops-hybrid/model  # the model server
    newTag: "0.1.0"
"""
ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: breast-cancer
spec:
  predictor:
    containers:
      - name: kserve-container
        image: ghcr.io/mlops-hybrid/model:0.1.0
"""
VALUES = """\
# Values of the app-of-apps chart.
repoURL: ""

# The project's images; an Application is rendered once its image has a digest.
images:
  model:
    repository: ghcr.io/mlops-hybrid/model  # pushed by the model pipeline
    tag: ""
    digest: ""
  bridge:
    repository: ghcr.io/mlops-hybrid/bridge
    tag: ""
    digest: ""
"""
KPATH = "gitops/models/breast-cancer/kustomization.yaml"
IPATH = "gitops/models/breast-cancer/inferenceservice.yaml"
VPATH = "gitops/apps/values.yaml"


@pytest.fixture
def manifests(tmp_path):
    remote = GitRemote.create(
        tmp_path / "manifests.git",
        {
            KPATH: KUSTOMIZATION,
            IPATH: ISVC,
            VPATH: VALUES,
            "gitops/platform/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n",
        },
    )
    return remote, remote.clone("ci")


def bump_args(clone, **extra):
    args = {"repo_path": str(clone.path), "paths": [KPATH], "app": "breast-cancer", "image": IMAGE, "tag": "0.2.0"}
    args.update(extra)
    return args


def test_check_then_bump_then_unchanged(ansible, manifests):
    remote, clone = manifests
    head0, local0 = remote.head(), clone.head()

    check = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone, digest=DIGEST), check=True, diff=True)
    assert not check.failed, check.res.get("msg")
    assert check.changed and check.res["commit"] is None and check.res["pushed"] is False
    assert '-    newTag: "0.1.0"' in check.res["_stdout"] and '+    newTag: "0.2.0"' in check.res["_stdout"]
    assert remote.head() == head0 and clone.head() == local0 and clone.read(KPATH) == KUSTOMIZATION

    first = ansible.module(
        "mlops.hybrid.gitops_bump", bump_args(clone, digest=DIGEST, source_revision="abc1234"), diff=True
    )
    assert not first.failed, first.res.get("msg")
    assert first.changed and first.res["pushed"] and first.res["attempts"] == 1
    assert first.res["old"] == "0.1.0" and first.res["new"] == "0.2.0@sha256:5e5e5e5e5e5e"
    top = remote.log()[0]
    assert top.sha == first.res["commit"] == remote.head()
    assert top.subject == "build: update breast-cancer image %s from 0.1.0 to 0.2.0@sha256:5e5e5e5e5e5e" % IMAGE
    assert top.author == "mlops-hybrid-bot"
    assert "Source revision: abc1234" in remote.git("log", "-1", "--format=%B").stdout
    after = remote.show(KPATH)
    assert after == KUSTOMIZATION.replace('"0.1.0"', '"0.2.0"') + "    digest: %s\n" % DIGEST
    assert first.res["local_updated"] and clone.read(KPATH) == after
    assert remote.show(IPATH) == ISVC  # a file not named is not touched

    again = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone, digest=DIGEST))
    assert not again.failed and not again.changed and again.res["pushed"] is False
    assert remote.head() == first.res["commit"]
    check_again = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone, digest=DIGEST), check=True)
    assert not check_again.changed


def test_helm_values_image_map_check_bump_unchanged_then_a_tag_alone_clears_the_digest(ansible, manifests):
    remote, clone = manifests
    head0 = remote.head()
    args = bump_args(
        clone, paths=[VPATH], app="bridge", image="ghcr.io/mlops-hybrid/bridge", tag="0.1.0-5e5e", digest=DIGEST
    )

    check = ansible.module("mlops.hybrid.gitops_bump", args, check=True, diff=True)
    assert not check.failed, check.res.get("msg")
    assert check.changed and check.res["commit"] is None and check.res["pushed"] is False
    assert '+    tag: "0.1.0-5e5e"' in check.res["_stdout"] and '+    digest: "%s"' % DIGEST in check.res["_stdout"]
    assert remote.head() == head0 and clone.read(VPATH) == VALUES

    first = ansible.module("mlops.hybrid.gitops_bump", args)
    assert not first.failed, first.res.get("msg")
    assert first.changed and first.res["pushed"] and first.res["files"] == [VPATH]
    assert first.res["old"] == "none" and first.res["new"] == "0.1.0-5e5e@sha256:5e5e5e5e5e5e"
    assert first.res["changes"] == [
        {
            "path": VPATH,
            "location": "images.bridge (repository: ghcr.io/mlops-hybrid/bridge)",
            "before": "none",
            "after": "0.1.0-5e5e@sha256:5e5e5e5e5e5e",
        }
    ]
    pinned = VALUES.replace(
        'bridge\n    tag: ""\n    digest: ""\n', 'bridge\n    tag: "0.1.0-5e5e"\n    digest: "%s"\n' % DIGEST
    )
    assert pinned != VALUES and remote.show(VPATH) == pinned  # the comments and the model's map are kept
    assert remote.log()[0].subject == (
        "build: update bridge image ghcr.io/mlops-hybrid/bridge from none to 0.1.0-5e5e@sha256:5e5e5e5e5e5e"
    )

    for check_mode in (False, True):
        again = ansible.module("mlops.hybrid.gitops_bump", args, check=check_mode)
        assert not again.failed and not again.changed and again.res["pushed"] is False
    assert remote.head() == first.res["commit"]

    retag = ansible.module("mlops.hybrid.gitops_bump", {**args, "tag": "0.2.0", "digest": None})
    assert not retag.failed and retag.changed, retag.res.get("msg")
    assert remote.show(VPATH) == VALUES.replace('bridge\n    tag: ""', 'bridge\n    tag: "0.2.0"')


def test_inferenceservice_image_author_and_message_template(ansible, manifests):
    remote, clone = manifests
    r = ansible.module(
        "mlops.hybrid.gitops_bump",
        bump_args(
            clone,
            paths=[IPATH, KPATH],
            image="%s:1.0.0" % IMAGE,
            tag=None,
            commit_message="deploy({app}): {old} -> {new} [{files}]",
            author_name="Release Bot",
            author_email="release@example.org",
        ),
    )
    assert not r.failed, r.res.get("msg")
    log = remote.git("log", "-1", "--format=%an <%ae>|%cn|%B").stdout
    assert log.startswith("Release Bot <release@example.org>|Release Bot|deploy(breast-cancer): 0.1.0 -> 1.0.0 [")
    assert sorted(r.res["files"]) == sorted([IPATH, KPATH])
    assert "image: ghcr.io/mlops-hybrid/model:1.0.0\n" in remote.show(IPATH)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"image": "ghcr.io/mlops-hybrid/other"}, "is in none of"),
        ({"image": "GHCR.io/Bad Image"}, "white space"),
        ({"image": "ghcr.io/mlops-hybrid/Model"}, "malformed"),
        ({"tag": "-rc1"}, "tag '-rc1' is malformed"),
        ({"tag": None, "digest": "sha256:1234"}, "digest 'sha256:1234' is malformed"),
        ({"paths": ["../../etc/passwd"]}, "is outside the repository"),
        ({"paths": ["gitops/platform/cm.yaml"]}, "unknown kind (ConfigMap) and holds no image map"),
        ({"paths": [VPATH], "image": "ghcr.io/mlops-hybrid/other"}, "or an image map's repository"),
        ({"paths": [VPATH], "digest": "sha256:" + "0" * 63}, "digest 'sha256:"),
        ({"paths": ["gitops/models/absent.yaml"]}, "does not exist on"),
        ({"commit_message": "bump {application}"}, "unknown field"),
        ({"mode": "pr"}, "missing: repository, github_token"),
        ({"mode": "pr", "github_repository": "mlops-hybrid/infra"}, "missing: github_token"),
        ({"validate": "true"}, "must name the checked tree as %s"),
        ({"validate": "ls 'unclosed %s"}, "is not a command line"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(ansible, manifests, override, message, monkeypatch):
    for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN"):  # the options' fallbacks: not from this machine
        monkeypatch.delenv(name, raising=False)
    remote, clone = manifests
    head0, local0 = remote.head(), clone.head()
    r = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone, **override))
    assert r.failed and not r.changed
    assert message in r.res["msg"], r.res["msg"]
    assert remote.head() == head0 and clone.head() == local0
    assert clone.git("status", "--porcelain").stdout == ""


def test_a_dirty_checkout_is_left_alone_but_the_remote_is_bumped(ansible, manifests):
    remote, clone = manifests
    clone.write(KPATH, KUSTOMIZATION + "# local edit\n")
    r = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone))
    assert not r.failed and r.changed and r.res["pushed"] and r.res["local_updated"] is False
    assert clone.read(KPATH).endswith("# local edit\n")
    assert 'newTag: "0.2.0"' in remote.show(KPATH)


def test_validate_runs_on_the_new_commit_and_a_failure_pushes_nothing(ansible, manifests):
    remote, clone = manifests
    head0 = remote.head()
    failed = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone, validate="ls %s/gitops/models/absent.yaml"))
    assert failed.failed and not failed.changed
    assert "the bumped tree fails its check (validate, exit status 2), nothing was pushed" in failed.res["msg"]
    assert "absent.yaml" in failed.res["msg"] and "No such file" in failed.res["msg"], failed.res["msg"]
    assert remote.head() == head0 and clone.head() == head0 and clone.read(KPATH) == KUSTOMIZATION
    # the checked directory holds the new commit's files: the new tag is in it
    passed = ansible.module("mlops.hybrid.gitops_bump", bump_args(clone, validate="grep -q 0.2.0 %s/" + KPATH))
    assert not passed.failed and passed.changed and passed.res["pushed"], passed.res.get("msg")
    assert 'newTag: "0.2.0"' in remote.show(KPATH)


def _spec(clone, app, tag, **extra):
    return Bump(
        repo_path=str(clone.path),
        paths=["gitops/apps/%s/kustomization.yaml" % app],
        image=IMAGE + "-" + app,
        app=app,
        tag=tag,
        **extra,
    )


def _apps_remote(tmp_path, apps):
    files = {
        "gitops/apps/%s/kustomization.yaml" % app: "images:\n  - name: %s-%s  # %s\n    newTag: v1\n"
        % (IMAGE, app, app)
        for app in apps
    }
    return GitRemote.create(tmp_path / "apps.git", files)


def test_a_push_rejected_because_someone_pushed_first_is_reapplied(tmp_path):
    remote = _apps_remote(tmp_path, ["a", "b"])
    mine, theirs = remote.clone("mine"), remote.clone("theirs")
    run = subprocess_runner(str(mine.path))
    pushes = []

    def racing_runner(argv, data=None, env=None):
        if "push" in argv and not pushes:  # the other clone lands its commit between our fetch and push
            theirs.commit(
                "other change", {"gitops/apps/b/kustomization.yaml": "images:\n  - name: x\n    newTag: v9\n"}
            )
            theirs.push()
        if "push" in argv:
            pushes.append(argv)
        return run(argv, data=data, env=env)

    result = bump(_spec(mine, "a", "v2"), racing_runner, sleep=lambda s: None)
    assert result["changed"] and result["pushed"] and result["attempts"] == 2 and len(pushes) == 2
    subjects = [e.subject for e in remote.log()]
    assert subjects[:2] == ["build: update a image %s-a from v1 to v2" % IMAGE, "other change"]
    assert "newTag: v2" in remote.show("gitops/apps/a/kustomization.yaml")


def test_push_gives_up_after_the_retries_and_leaves_the_clone_as_it_was(tmp_path):
    remote = _apps_remote(tmp_path, ["a"])
    mine, theirs = remote.clone("mine"), remote.clone("theirs")
    run = subprocess_runner(str(mine.path))

    def always_beaten(argv, data=None, env=None):
        if "push" in argv:
            theirs.commit("noise", allow_empty=True)
            theirs.push()
        return run(argv, data=data, env=env)

    local0 = mine.head()
    with pytest.raises(RemoteError) as e:
        bump(_spec(mine, "a", "v2", push_retries=2), always_beaten, sleep=lambda s: None)
    assert "rejected 3 times" in e.value.msg
    assert mine.head() == local0 and mine.git("status", "--porcelain").stdout == ""
    assert "newTag: v1" in remote.show("gitops/apps/a/kustomization.yaml")


def test_five_clones_bump_five_apps_at_the_same_moment(tmp_path):
    apps = ["a", "b", "c", "d", "e"]
    remote = _apps_remote(tmp_path, apps)
    clones = {app: remote.clone("clone-%s" % app) for app in apps}
    barrier = threading.Barrier(len(apps))
    results, errors = {}, {}

    def worker(app):
        clone = clones[app]
        barrier.wait()
        try:
            results[app] = bump(_spec(clone, app, "v2"), subprocess_runner(str(clone.path)))
        except Exception as e:  # reported by the assertion below
            errors[app] = e

    threads = [threading.Thread(target=worker, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    attempts = {app: r["attempts"] for app, r in sorted(results.items())}
    print("concurrent bump attempts per clone:", attempts, "total pushes:", sum(attempts.values()))
    subjects = [e.subject for e in remote.log()]
    assert len(subjects) == 6, subjects
    for app in apps:
        assert "build: update %s image %s-%s from v1 to v2" % (app, IMAGE, app) in subjects
        assert "newTag: v2" in remote.show("gitops/apps/%s/kustomization.yaml" % app)
    assert remote.git("fsck", "--no-progress").returncode == 0


def test_five_bumps_through_ansible_at_the_same_time(tmp_path, ansible):
    apps = ["a", "b", "c", "d", "e"]
    remote = _apps_remote(tmp_path, apps)
    results = {}

    def worker(app):
        clone = remote.clone("ansible-%s" % app)
        args = {
            "repo_path": str(clone.path),
            "paths": ["gitops/apps/%s/kustomization.yaml" % app],
            "app": app,
            "image": "%s-%s:v3" % (IMAGE, app),
        }
        results[app] = ansible.module("mlops.hybrid.gitops_bump", args)

    threads = [threading.Thread(target=worker, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    failed = {app: r.res.get("msg") for app, r in results.items() if r.failed}
    assert len(results) == 5 and not failed, failed
    print("ansible bump attempts per clone:", {app: r.res["attempts"] for app, r in sorted(results.items())})
    subjects = [e.subject for e in remote.log()]
    assert len(subjects) == 6
    for app in apps:
        assert "newTag: v3" in remote.show("gitops/apps/%s/kustomization.yaml" % app)


def test_pull_request_mode_opens_one_pull_request_and_is_idempotent(ansible, manifests):
    remote, clone = manifests
    head0 = remote.head()
    with FakeGitHub(token="gh-test-token") as gh:
        gh.add_repo("mlops-hybrid/infra", git_dir=remote.path)
        args = bump_args(
            clone,
            mode="pr",
            repository="mlops-hybrid/infra",
            github_api_url=gh.url,
            github_token="gh-test-token",
        )
        check = ansible.module("mlops.hybrid.gitops_bump", args, check=True)
        assert not check.failed, check.res.get("msg")
        assert check.changed and gh.pulls("mlops-hybrid/infra") == []
        assert remote.git("branch", "--list").stdout.split() == ["*", "main"]

        first = ansible.module("mlops.hybrid.gitops_bump", args)
        assert not first.failed, first.res.get("msg")
        pr = first.res["pull_request"]
        assert first.changed and pr["created"] and pr["number"] == 1
        assert pr["head"] == first.res["branch"] == "gitops-bump/breast-cancer-0.2.0" and pr["base"] == "main"
        assert remote.head() == head0  # the protected branch is untouched
        assert 'newTag: "0.2.0"' in remote.show(KPATH, rev=pr["head"])
        opened = gh.pulls("mlops-hybrid/infra")[0]
        assert opened["title"] == "build: update breast-cancer image %s from 0.1.0 to 0.2.0" % IMAGE
        assert opened["head"]["sha"] == first.res["commit"]
        assert "gh-test-token" not in first.res["_stdout"]

        again = ansible.module("mlops.hybrid.gitops_bump", args)
        assert not again.failed and not again.changed
        assert again.res["pull_request"]["number"] == 1 and again.res["pull_request"]["created"] is False
        assert len(gh.pulls("mlops-hybrid/infra")) == 1

        wrong = ansible.module("mlops.hybrid.gitops_bump", {**args, "github_token": "wrong", "tag": "0.3.0"})
        assert wrong.failed and "401" in wrong.res["msg"]
