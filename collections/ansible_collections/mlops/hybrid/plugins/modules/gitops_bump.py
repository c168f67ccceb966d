#!/usr/bin/python
# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gitops_bump
short_description: Point an application at a new image in a GitOps repository and push the commit
version_added: 0.1.0
description:
  - Edits the image of one application in a clone of a GitOps repository - a kustomization's
    C(images) entry (C(newTag) and/or C(digest)) or the container C(image) of an InferenceService,
    Deployment, StatefulSet or DaemonSet - with round-trip YAML that keeps comments, key order and
    quoting.
  - A file of none of those kinds, such as the values of a Helm chart, is edited where it holds
    Helm-style image maps - mappings whose C(repository) (after C(registry)/ when the map has a
    C(registry)) is O(image) - by setting their C(tag) and C(digest) keys (added when missing).
  - The commit is built on the tip of the remote branch without touching the clone's work tree,
    then pushed. A push rejected because someone else pushed first is re-applied on the new tip
    and pushed again, up to O(push_retries) times.
  - With O(mode=pr) the commit goes to a branch of its own and a pull request is opened through
    PyGithub on O(repository) (also accepted under its former name O(github_repository)); an
    identical open pull request makes the task a no-op.
  - O(github_token) is the token of the pull request API, and authenticates fetching and pushing
    over HTTPS too (sent as an C(Authorization) header through the environment, never written to
    disk or argv).
  - A new tag without a digest removes a stale digest, which would otherwise keep the old image (an
    image map keeps its C(digest) key, emptied).
  - With O(validate), the new commit's files are checked out into a scratch directory and the
    command is run on it before anything is pushed; a non-zero exit fails the task with the
    command's output and pushes nothing (as O(ansible.builtin.copy#module:validate) does for a file).
  - Bad input (an image in none of the files, a malformed image reference, tag or digest, a path
    outside the repository, a file of an unknown kind holding no image map) fails and leaves the
    repository untouched.
author:
  - mlops.hybrid maintainers (@mlops-hybrid)
extends_documentation_fragment:
  - mlops.hybrid.github
requirements:
  - git
  - ruamel.yaml
  - PyGithub (for O(mode=pr))
options:
  repo_path:
    description: A clone of the GitOps repository (any directory inside its work tree).
    type: path
    required: true
  paths:
    description: Files to edit, relative to the top of the repository.
    type: list
    elements: str
    required: true
  app:
    description: The application's name, used in the commit message and the pull request branch.
    type: str
    required: true
  image:
    description:
      - The image repository as the files name it, such as C(ghcr.io/owner/model).
      - May carry the new tag and digest itself (C(ghcr.io/owner/model:1.2.0@sha256:...)); then
        O(tag) and O(digest) must not be given.
    type: str
    required: true
  tag:
    description: The new tag.
    type: str
  digest:
    description: The new digest (C(sha256:<64 hex>)).
    type: str
  source_revision:
    description: The source revision the image was built from, for the commit message.
    type: str
    default: ""
  commit_message:
    description:
      - Template of the commit message with the fields C({app}), C({image}), C({old}), C({new}),
        C({revision}) and C({files}).
    type: str
    default: "build: update {app} image {image} from {old} to {new}\n\nSource revision: {revision}\n"
  author_name:
    description: Author and committer name of the commit.
    type: str
    default: mlops-hybrid-bot
  author_email:
    description: Author and committer e-mail of the commit.
    type: str
    default: mlops-hybrid-bot@users.noreply.github.com
  remote:
    description: The Git remote to fetch from and push to.
    type: str
    default: origin
  branch:
    description: The branch to update (the base branch in O(mode=pr)).
    type: str
    default: main
  push:
    description:
      - Push the commit. With V(false) the commit is made on the local branch only (O(mode=push)).
    type: bool
    default: true
  push_retries:
    description: How many times a rejected push is re-applied on the new tip and tried again.
    type: int
    default: 5
  mode:
    description: V(push) commits to O(branch); V(pr) pushes a branch and opens a pull request.
    type: str
    choices: [push, pr]
    default: push
  pr_branch:
    description: Template of the pull request's branch, with C({app}), C({new}), C({image}), C({revision}).
    type: str
    default: "gitops-bump/{app}-{new}"
  pr_title:
    description: Title of the pull request; the first line of the commit message when omitted.
    type: str
  pr_body:
    description: Body of the pull request; the commit message when omitted.
    type: str
  validate:
    description:
      - A command run on the files of the new commit before it is pushed (or the pull request opened),
        with V(%s) replaced by the directory holding them, such as
        C(python scripts/validate-gitops.py %s). It runs from O(repo_path), without a shell.
      - A non-zero exit status fails the task with the command's output; nothing is pushed. Not run in
        check mode, where no commit is made.
    type: str
  repository:
    aliases: [github_repository]
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Fetches the remote branch to compare with it, then reports the diff and writes nothing else.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: full
"""

EXAMPLES = r"""
- name: Roll the model out by pointing its kustomization at the new image
  mlops.hybrid.gitops_bump:
    repo_path: "{{ playbook_dir }}/../manifests"
    paths: [gitops/models/breast-cancer/kustomization.yaml]
    app: breast-cancer
    image: ghcr.io/owner/breast-cancer-model
    tag: "{{ image_tag }}"
    digest: "{{ image_digest }}"
    source_revision: "{{ lookup('ansible.builtin.env', 'GITHUB_SHA') }}"

- name: Pin the bridge image in the values of the app-of-apps chart (images.bridge.tag and .digest)
  mlops.hybrid.gitops_bump:
    repo_path: "{{ playbook_dir }}/.."
    paths: [gitops/apps/values.yaml]
    app: bridge
    image: ghcr.io/owner/bridge
    tag: "{{ image_tag }}"
    digest: "{{ image_digest }}"

- name: Propose the bump as a pull request on a protected branch
  mlops.hybrid.gitops_bump:
    repo_path: /srv/infra
    paths: [apps/model/deployment.yaml]
    app: model
    image: ghcr.io/owner/model:1.4.0
    mode: pr
    repository: owner/infra
"""

RETURN = r"""
image:
  description: The image repository that was bumped.
  returned: always
  type: str
old:
  description: The version(s) found before, such as C(0.1.0) or C(0.1.0@sha256:0123456789ab).
  returned: always
  type: str
new:
  description: The version after.
  returned: always
  type: str
changes:
  description: Every image field that references O(image), changed or not.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: File, relative to the repository.
      type: str
    location:
      description: Where in the file.
      type: str
    before:
      description: Version before.
      type: str
    after:
      description: Version after.
      type: str
files:
  description: Files whose content changes.
  returned: always
  type: list
  elements: str
commit:
  description: The new commit, or the branch tip when nothing changed; null in check mode.
  returned: always
  type: str
pushed:
  description: Whether a commit was pushed.
  returned: always
  type: bool
attempts:
  description: Push attempts made (more than 1 when others pushed first).
  returned: always
  type: int
branch:
  description: The branch that holds the change (the pull request's branch in O(mode=pr)).
  returned: always
  type: str
local_updated:
  description: Whether the clone's local branch was fast-forwarded to the new commit.
  returned: always
  type: bool
message:
  description: The commit message, or why nothing changed.
  returned: always
  type: str
pull_request:
  description: The pull request in O(mode=pr).
  returned: when O(mode=pr) and a pull request exists or was opened
  type: dict
  contains:
    number:
      description: Its number.
      type: int
    url:
      description: Its web address.
      type: str
    head:
      description: Its branch.
      type: str
    base:
      description: The branch it merges into.
      type: str
    created:
      description: Whether this task opened it.
      type: bool
"""

from ansible_collections.mlops.hybrid.plugins.module_utils.args import GITHUB_ARG_SPEC, spec
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.bump import (
    DEFAULT_AUTHOR_EMAIL,
    DEFAULT_AUTHOR_NAME,
    DEFAULT_MESSAGE,
    DEFAULT_PR_BRANCH,
    Bump,
    PullRequestSettings,
    bump,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.yaml import HAS_RUAMEL
from ansible_collections.mlops.hybrid.plugins.module_utils.runner import options, run_module


def argspec():
    argument_spec = spec(
        GITHUB_ARG_SPEC,
        repo_path=dict(type="path", required=True),
        paths=dict(type="list", elements="str", required=True),
        app=dict(type="str", required=True),
        image=dict(type="str", required=True),
        tag=dict(type="str"),
        digest=dict(type="str"),
        source_revision=dict(type="str", default=""),
        commit_message=dict(type="str", default=DEFAULT_MESSAGE),
        author_name=dict(type="str", default=DEFAULT_AUTHOR_NAME),
        author_email=dict(type="str", default=DEFAULT_AUTHOR_EMAIL),
        remote=dict(type="str", default="origin"),
        branch=dict(type="str", default="main"),
        push=dict(type="bool", default=True),
        push_retries=dict(type="int", default=5),
        mode=dict(type="str", choices=["push", "pr"], default="push"),
        pr_branch=dict(type="str", default=DEFAULT_PR_BRANCH),
        pr_title=dict(type="str"),
        pr_body=dict(type="str"),
        validate=dict(type="str"),
    )
    argument_spec["repository"]["aliases"] = ["github_repository"]
    return argument_spec


def execute(module):
    p = module.params
    git_bin = module.get_bin_path("git", required=True)
    pull_request = options(PullRequestSettings, p) if p["mode"] == "pr" else None
    b = options(Bump, p, check_mode=module.check_mode, pull_request=pull_request)

    def run(argv, data=None, env=None):
        return module.run_command(argv, cwd=p["repo_path"], data=data, binary_data=True, environ_update=env)

    return bump(b, run, git_bin=git_bin)


def main():
    run_module(
        argspec(),
        execute,
        requires=(("ruamel.yaml", HAS_RUAMEL, None),),
        required_if=[("mode", "pr", ["repository", "github_token"])],
    )


if __name__ == "__main__":
    main()
