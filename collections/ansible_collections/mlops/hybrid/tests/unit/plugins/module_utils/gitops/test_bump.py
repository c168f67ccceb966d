from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops import bump


def test_default_message_names_app_versions_and_revision():
    text = bump.render_message(
        bump.DEFAULT_MESSAGE, app="bc", image="ghcr.io/o/m", old="0.1", new="0.2", revision="abc123", files="k.yaml"
    )
    assert text.splitlines()[0] == "build: update bc image ghcr.io/o/m from 0.1 to 0.2"
    assert "Source revision: abc123" in text


@pytest.mark.parametrize(("template", "message"), [("{nope}", "{nope}"), ("{0}", "unknown"), ("{app", "malformed")])
def test_bad_message_templates_are_refused(template, message):
    with pytest.raises(InvalidInput) as e:
        bump.render_message(template, app="a", image="i", old="o", new="n", revision="r", files="f")
    assert message in e.value.msg


def test_paths_outside_the_repository_are_refused(tmp_path):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text("x: 1\n")
    (repo / "apps" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    assert bump.resolve_paths(str(repo), ["apps/k.yaml", str(repo / "apps" / "d.yaml")]) == [
        "apps/k.yaml",
        "apps/d.yaml",
    ]
    for bad in ("../outside.yaml", str(tmp_path / "outside.yaml"), "apps/link.yaml", ".git/config", "."):
        with pytest.raises(InvalidInput):
            bump.resolve_paths(str(repo), [bad])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tag": None, "digest": None}, "nothing to bump to"),
        ({"image": "ghcr.io/o/m:1", "tag": "2"}, "already holds a tag"),
        ({"tag": "bad tag"}, "tag 'bad tag' is malformed"),
        ({"digest": "sha256:12"}, "malformed"),
        ({"paths": []}, "paths is empty"),
        ({"push_retries": -1}, "push_retries"),
        ({"branch": "a..b"}, "not a valid branch"),
        ({"mode": "pr"}, "mode pr needs"),
        ({"commit_message": "{bogus}"}, "unknown field"),
    ],
)
def test_validation_refuses_bad_input(changes, message):
    fields = {"repo_path": "/nonexistent", "paths": ["k.yaml"], "image": "ghcr.io/o/m", "app": "a", "tag": "1"}
    fields.update(changes)
    with pytest.raises(InvalidInput) as e:
        bump.validate(bump.Bump(**fields))
    assert message in e.value.msg


def test_image_reference_with_tag_and_digest_fills_both():
    b = bump.validate(bump.Bump(repo_path="/r", paths=["k.yaml"], image="ghcr.io/o/m:1.0@sha256:" + "a" * 64, app="a"))
    assert (b.image, b.tag, b.digest) == ("ghcr.io/o/m", "1.0", "sha256:" + "a" * 64)


@pytest.mark.parametrize("cls", [bump.Bump, bump.PullRequestSettings])
def test_options_are_frozen_and_given_by_name(cls):
    assert all(f.kw_only for f in dataclasses.fields(cls))
    assert cls.__dataclass_params__.frozen
