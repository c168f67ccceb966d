from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.yaml import edit_text

IMAGE = "ghcr.io/owner/model"
DIGEST = "sha256:" + "ab" * 32
OLD_DIGEST = "sha256:" + "cd" * 32

KUSTOMIZATION = (
    """\
---
# The model, rolled out by ArgoCD.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: models
resources:
  - inferenceservice.yaml   # KServe
images:
  # bumped by the pipeline
  - name: ghcr.io/owner/model  # the server image
    newTag: "0.1.0"
    digest: %s
  - name: busybox
    newTag: '1.36'
labels:
  - pairs: {app: model}
"""
    % OLD_DIGEST
)

ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: breast-cancer
spec:
  predictor:
    minReplicas: 1
    containers:
    - name: kserve-container
      image: ghcr.io/owner/model:0.1.0   # pinned by the pipeline
      ports:
      - containerPort: 8080
"""

DEPLOYMENT = (
    """\
apiVersion: v1
kind: Service
metadata: {name: bridge}
---
apiVersion: apps/v1
kind: Deployment
metadata:
    name: bridge
spec:
    template:
        spec:
            initContainers:
                -   name: init
                    image: busybox:1.36
            containers:
                -   name: bridge
                    image: "ghcr.io/owner/model@%s"
"""
    % OLD_DIGEST
)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=False) if a != b]


def test_kustomization_tag_and_digest_only_those_lines_change():
    edit = edit_text(KUSTOMIZATION, "k/kustomization.yaml", image=IMAGE, tag="0.2.0", digest=DIGEST)
    assert edit.changed
    assert changed_lines(KUSTOMIZATION, edit.after) == [
        ('    newTag: "0.1.0"', '    newTag: "0.2.0"'),
        ("    digest: %s" % OLD_DIGEST, "    digest: %s" % DIGEST),
    ]
    assert len(edit.after.splitlines()) == len(KUSTOMIZATION.splitlines())
    assert [c.as_dict() for c in edit.matches] == [
        {
            "path": "k/kustomization.yaml",
            "location": "images[0] (name: ghcr.io/owner/model)",
            "before": "0.1.0@sha256:cdcdcdcdcdcd",
            "after": "0.2.0@sha256:abababababab",
        }
    ]


def test_a_new_tag_without_digest_drops_the_stale_digest():
    edit = edit_text(KUSTOMIZATION, "kustomization.yaml", image=IMAGE, tag="0.2.0")
    doc = YAML(typ="safe").load(edit.after)
    assert doc["images"][0] == {"name": IMAGE, "newTag": "0.2.0"}
    assert "# the server image" in edit.after and "# bumped by the pipeline" in edit.after


def test_the_same_version_is_no_change():
    edit = edit_text(KUSTOMIZATION, "kustomization.yaml", image=IMAGE, tag="0.1.0", digest=OLD_DIGEST)
    assert not edit.changed and edit.after == KUSTOMIZATION
    assert edit.matches and not edit.matches[0].changed


def test_inferenceservice_container_image_keeps_comment_and_indentation():
    edit = edit_text(ISVC, "isvc.yaml", image=IMAGE, tag="0.3.0")
    assert changed_lines(ISVC, edit.after) == [
        (
            "      image: ghcr.io/owner/model:0.1.0   # pinned by the pipeline",
            "      image: ghcr.io/owner/model:0.3.0   # pinned by the pipeline",
        )
    ]
    assert edit.matches[0].location.startswith("InferenceService spec.predictor.containers[0]")


def test_deployment_in_a_multi_document_file_with_four_space_indent():
    edit = edit_text(DEPLOYMENT, "deploy.yaml", image=IMAGE, digest=DIGEST)
    assert changed_lines(DEPLOYMENT, edit.after) == [
        (
            '                    image: "ghcr.io/owner/model@%s"' % OLD_DIGEST,
            '                    image: "ghcr.io/owner/model@%s"' % DIGEST,
        ),
    ]
    assert "kind: Service" in edit.after and "busybox:1.36" in edit.after


def test_kustomization_newname_is_the_image_matched():
    text = "images:\n- name: model\n  newName: ghcr.io/owner/model\n  newTag: v1\n"
    edit = edit_text(text, "app/kustomization.yaml", image=IMAGE, tag="v2")
    assert edit.after == text.replace("v1", "v2")
    assert edit_text(text, "app/kustomization.yaml", image="model", tag="v2").matches == []


def test_an_image_that_is_not_there_matches_nothing():
    assert edit_text(ISVC, "isvc.yaml", image="ghcr.io/owner/other", tag="1").matches == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", "unknown kind (ConfigMap)"),
        ("- just\n- a list\n", "unknown kind (no YAML mapping)"),
        ("kind: Deployment\n  bad: [indent\n", "not valid YAML"),
        ("replicas: 1\nimage: {tag: v1}\n", "unknown kind (None) and holds no image map"),
    ],
)
def test_unknown_or_broken_files_are_refused(text, message):
    with pytest.raises(InvalidInput) as e:
        edit_text(text, "x.yaml", image=IMAGE, tag="1")
    assert message in e.value.msg and "x.yaml" in e.value.msg


VALUES = (
    """\
# Values of an app-of-apps chart.
repoURL: ""

# Pinned by the pipelines.
images:
  model:
    repository: ghcr.io/owner/model  # where the pipeline pushes
    tag: ""
    digest: ""
  bridge:
    repository: ghcr.io/owner/bridge
    tag: "0.1.0"
    digest: "%s"
"""
    % OLD_DIGEST
)


def test_values_image_map_gets_tag_and_digest_and_keeps_comments():
    edit = edit_text(VALUES, "apps/values.yaml", image=IMAGE, tag="v3-abc", digest=DIGEST)
    assert changed_lines(VALUES, edit.after) == [
        ('    tag: ""', '    tag: "v3-abc"'),
        ('    digest: ""', '    digest: "%s"' % DIGEST),
    ]
    assert len(edit.after.splitlines()) == len(VALUES.splitlines())
    assert [c.as_dict() for c in edit.matches] == [
        {
            "path": "apps/values.yaml",
            "location": "images.model (repository: ghcr.io/owner/model)",
            "before": "none",
            "after": "v3-abc@sha256:abababababab",
        }
    ]


def test_values_a_new_tag_without_digest_clears_the_stale_digest_but_keeps_the_key():
    edit = edit_text(VALUES, "values.yaml", image="ghcr.io/owner/bridge", tag="0.2.0")
    doc = YAML(typ="safe").load(edit.after)
    assert doc["images"]["bridge"] == {"repository": "ghcr.io/owner/bridge", "tag": "0.2.0", "digest": ""}
    assert doc["images"]["model"] == {"repository": IMAGE, "tag": "", "digest": ""}
    assert edit.matches[0].before == "0.1.0@sha256:cdcdcdcdcdcd" and edit.matches[0].after == "0.2.0"


def test_values_a_digest_alone_keeps_the_tag():
    edit = edit_text(VALUES, "values.yaml", image="ghcr.io/owner/bridge", digest=DIGEST)
    assert changed_lines(VALUES, edit.after) == [('    digest: "%s"' % OLD_DIGEST, '    digest: "%s"' % DIGEST)]


def test_values_the_same_version_is_no_change():
    edit = edit_text(VALUES, "values.yaml", image="ghcr.io/owner/bridge", tag="0.1.0", digest=OLD_DIGEST)
    assert not edit.changed and edit.after == VALUES
    assert edit.matches and not edit.matches[0].changed


@pytest.mark.parametrize(
    ("text", "image", "tag", "expected"),
    [
        # Bitnami layout: the registry in front of the repository is part of the name.
        (
            "image:\n  registry: ghcr.io\n  repository: owner/model\n  tag: v1\n",
            IMAGE,
            "v2",
            "image:\n  registry: ghcr.io\n  repository: owner/model\n  tag: v2\n",
        ),
        ("image:\n  registry: ghcr.io\n  repository: owner/model\n  tag: v1\n", "owner/model", "v2", None),
        # A map in a list; a missing tag key is added.
        (
            "sidecars:\n  - name: a\n    image:\n      repository: ghcr.io/owner/model\n",
            IMAGE,
            "v2",
            "sidecars:\n  - name: a\n    image:\n      repository: ghcr.io/owner/model\n      tag: v2\n",
        ),
        # An unquoted numeric tag is read as text, and a new one is written so that it stays text.
        (
            "image: {repository: ghcr.io/owner/model, tag: 1.1}\n",
            IMAGE,
            "2",
            "image: {repository: ghcr.io/owner/model, tag: '2'}\n",
        ),
    ],
)
def test_values_image_maps_in_other_layouts(text, image, tag, expected):
    edit = edit_text(text, "values.yaml", image=image, tag=tag)
    if expected is None:
        assert edit.matches == [] and edit.after == text
    else:
        assert edit.after == expected


def test_values_holding_other_images_only_match_nothing():
    assert edit_text(VALUES, "values.yaml", image="ghcr.io/owner/other", tag="1").matches == []


def test_a_kind_of_its_own_wins_over_image_maps():
    text = "kind: Kustomization\nimages:\n  - name: x\n    newTag: v1\nextra:\n  repository: ghcr.io/owner/model\n"
    edit = edit_text(text, "kustomization.yaml", image=IMAGE, tag="v2")
    assert edit.matches == [] and edit.after == text
