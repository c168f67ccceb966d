"""The labelled corpus (tests/corpus/) through the extractor: every case, clean and buried in noise."""

from __future__ import annotations

import json

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import classify, excerpt
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize
from sandbox.paths import REPO

CORPUS = REPO / "tests" / "corpus"
LABELS = json.loads((CORPUS / "labels.json").read_text())["cases"]
NOISE = "\n".join(
    "2026-11-24T13:%02d:%02d.0000000Z Requirement already satisfied: pkg%d in ./.venv/lib (1.%d)"
    % (i // 60 % 60, i % 60, i, i)
    for i in range(3000)
)


def case_text(cid):
    return (CORPUS / "cases" / (cid + ".log")).read_text(encoding="utf-8")


def test_corpus_covers_every_category_with_sources():
    assert {lab["category"] for lab in LABELS.values()} == set(classify.CATEGORIES)
    assert len(LABELS) >= 40
    assert all(lab["source"] and lab["decisive"] for lab in LABELS.values())


@pytest.mark.parametrize("cid", sorted(LABELS))
def test_category_and_decisive_lines(cid):
    res = excerpt.extract(case_text(cid))
    assert res["category"] == LABELS[cid]["category"]
    for line in LABELS[cid]["decisive"]:
        assert line in res["excerpt"]
    assert res["excerpt_tokens"] <= excerpt.DEFAULT_MAX_TOKENS


@pytest.mark.parametrize("cid", ["pytest_assert", "k8s_oom_describe", "trivy_image_critical", "gitleaks_detect"])
def test_decisive_lines_survive_noise_on_both_sides(cid):
    res = excerpt.extract(NOISE + "\n" + case_text(cid) + "\n" + NOISE, max_tokens=1000)
    assert res["category"] == LABELS[cid]["category"]
    assert all(line in res["excerpt"] for line in LABELS[cid]["decisive"])
    assert res["excerpt_tokens"] <= 1000
    assert "lines omitted" in res["excerpt"]


def test_labels_point_at_lines_that_exist():
    for labels_file, folder in (("labels.json", "cases"), ("labels_heldout.json", "heldout")):
        labels = json.loads((CORPUS / labels_file).read_text())["cases"]
        for cid, lab in labels.items():
            text = normalize((CORPUS / folder / (cid + ".log")).read_text(encoding="utf-8"))
            assert lab["category"] in classify.CATEGORIES, cid
            for line in lab["decisive"]:
                assert line in text, (cid, line)
