"""The excerpt uses its budget: the whole log when it fits, else decisive lines, head, tail and windows."""

from __future__ import annotations

import re

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import excerpt
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize
from sandbox.real_corpus import labels, last_lines, log

LABELS = labels()
NOISE = [
    "Requirement already satisfied: pkg%d in ./.venv/lib/python3.11/site-packages (1.%d)" % (i, i % 30)
    for i in range(3000)
]
MARKER = re.compile(r"^\[\.\.\. (\d+) lines? omitted \(lines (\d+)-(\d+)\) \.\.\.\]$")


def test_a_log_that_fits_is_the_excerpt_whole():
    text = log("sca__snyk_test_anyio_cryptography")  # 13 lines, about 165 tokens
    res = excerpt.extract(text, max_tokens=2000)
    assert res["excerpt"] == normalize(text).rstrip("\n") or res["excerpt"] == normalize(text)
    assert "omitted" not in res["excerpt"]


def test_a_long_log_keeps_head_decisive_lines_and_tail_and_says_what_it_cut():
    case = normalize(log("sca__snyk_test_anyio_cryptography")).rstrip("\n").split("\n")
    text = "\n".join(
        ["$ make audit", "snyk 1.1290.0", *NOISE[:1500], *case, *NOISE[1500:], "make: *** [audit] Error 1"]
    )
    res = excerpt.extract(text, max_tokens=2000)
    lines = res["excerpt"].split("\n")
    assert lines[:2] == ["$ make audit", "snyk 1.1290.0"]
    assert lines[-1] == "make: *** [audit] Error 1"
    assert all(d in res["excerpt"] for d in LABELS["sca__snyk_test_anyio_cryptography"]["decisive"])
    assert 0.9 * 2000 <= res["excerpt_tokens"] <= 2000, "the budget is used, not exceeded"
    markers = [MARKER.match(line) for line in lines if line.startswith("[... ")]
    assert markers and all(markers)
    all_lines = text.split("\n")
    assert sum(int(m.group(1)) for m in markers) + sum(1 for line in lines if not line.startswith("[... ")) == len(
        all_lines
    ), "the markers account for every line cut"
    for m in markers:
        assert int(m.group(3)) - int(m.group(2)) + 1 == int(m.group(1))


@pytest.mark.parametrize("where", ["clean", "buried"])
def test_never_fewer_decisive_lines_than_the_last_lines_at_the_same_budget(where):
    below = []
    for i, (cid, lab) in enumerate(sorted(LABELS.items())):
        text = log(cid)
        if where == "buried":
            cut = (i * 397) % len(NOISE)
            text = "\n".join([*NOISE[:cut], text.rstrip("\n"), *NOISE[cut:]])
        got = excerpt.extract(text, max_tokens=2000)["excerpt"]
        base = last_lines(text, 2000)
        if sum(d in got for d in lab["decisive"]) < sum(d in base for d in lab["decisive"]):
            below.append(cid)
    assert below == []
