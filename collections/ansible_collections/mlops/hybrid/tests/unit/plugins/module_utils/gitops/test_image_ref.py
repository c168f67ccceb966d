from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.image_ref import ImageRef, parse, split_name

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("model", ImageRef("model")),
        ("ghcr.io/owner/model:1.2.0", ImageRef("ghcr.io/owner/model", "1.2.0")),
        ("localhost:5000/model", ImageRef("localhost:5000/model")),
        ("localhost:5000/a/b-c__d:v1_x", ImageRef("localhost:5000/a/b-c__d", "v1_x")),
        ("ghcr.io/owner/model@" + DIGEST, ImageRef("ghcr.io/owner/model", None, DIGEST)),
        ("ghcr.io/owner/model:0.1@" + DIGEST, ImageRef("ghcr.io/owner/model", "0.1", DIGEST)),
    ],
)
def test_valid_references_parse(reference, expected):
    assert parse(reference) == expected
    assert str(parse(reference)) == reference


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "empty"),
        ("Ghcr.io/Owner/Model", "malformed"),
        ("ghcr.io/owner/model:", "tag ''"),
        ("ghcr.io/owner/model:-bad", "tag '-bad'"),
        ("ghcr.io/owner/model:" + "x" * 129, "tag"),
        ("ghcr.io/owner/model:1.0 ", "white space"),
        ("ghcr.io/owner/model;rm -rf /", "white space"),
        ("ghcr.io/owner/model@sha256:abc", "digest 'sha256:abc' is malformed"),
        ("ghcr.io/owner/model@md5", "digest"),
        ("ghcr.io/owner/model@sha256:" + "A" * 64, "64 lower-case hex"),
        ("ghcr.io//model", "malformed"),
        ("model..x", "malformed"),
    ],
)
def test_malformed_references_are_refused(reference, message):
    with pytest.raises(InvalidInput) as e:
        parse(reference)
    assert message in e.value.msg


def test_a_registry_port_is_not_a_tag():
    assert split_name("localhost:5000/model") == ("localhost:5000/model", None, None)
    assert split_name("localhost:5000/model:7") == ("localhost:5000/model", "7", None)


def test_version_names_tag_and_short_digest():
    assert ImageRef("m", "1.0", DIGEST).version == "1.0@sha256:0123456789ab"
    assert ImageRef("m", None, DIGEST).version == "sha256:0123456789ab"
    assert ImageRef("m").version == "latest"
