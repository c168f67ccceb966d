"""The corpus of real failure logs (tests/corpus/real): labels that hold, and a held-out split that stays frozen."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import classify
from sandbox.paths import REPO

REAL = REPO / "tests" / "corpus" / "real"
LABELS = json.loads((REAL / "labels.json").read_text(encoding="utf-8"))["cases"]


def _checker():
    spec = importlib.util.spec_from_file_location("check_labels", REAL / "check_labels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_label_holds_in_its_log():
    assert _checker().problems(LABELS) == []


def test_size_and_coverage():
    assert len(LABELS) >= 150
    per = {}
    for lab in LABELS.values():
        per[lab["category"]] = per.get(lab["category"], 0) + 1
    assert set(per) == set(classify.CATEGORIES)
    assert min(per.values()) >= 6, per
    long_logs = sum(
        1 for cid in LABELS if len((REAL / "logs" / (cid + ".log")).read_text(encoding="utf-8").split("\n")) > 40
    )
    assert long_logs >= 30, long_logs
    assert len({lab["source"] for lab in LABELS.values() if lab["origin"] == "thread"}) == sum(
        1 for lab in LABELS.values() if lab["origin"] == "thread"
    ), "two cases from one thread"


def test_held_out_split_is_the_frozen_rule():
    """The first 170 cases (no "batch"): per category, ids sorted by sha256, the first 45 % (rounded up)
    held out. Cases of batch 2: held out when the first 32 bits of the id's sha256 fall under 45 %.
    Nobody moves a case."""
    by_cat = {}
    for cid, lab in LABELS.items():
        if "batch" not in lab:
            by_cat.setdefault(lab["category"], []).append(cid)
    for ids in by_cat.values():
        ids.sort(key=lambda c: hashlib.sha256(c.encode()).hexdigest())
        k = math.ceil(0.45 * len(ids))
        for i, cid in enumerate(ids):
            assert LABELS[cid]["split"] == ("heldout" if i < k else "tune"), cid
    assert sum(len(ids) for ids in by_cat.values()) == 170
    for cid, lab in LABELS.items():
        if "batch" in lab:
            assert lab["batch"] == 2, cid
            h = int(hashlib.sha256(cid.encode()).hexdigest()[:8], 16)
            assert lab["split"] == ("heldout" if h < 0.45 * 2**32 else "tune"), cid
    assert sum(lab["split"] == "heldout" for lab in LABELS.values()) >= 0.4 * len(LABELS)
