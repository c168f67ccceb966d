from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import excerpt
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize

NOISE = "\n".join(
    "2026-11-24T13:%02d:%02d.0000000Z Requirement already satisfied: pkg%d in ./.venv/lib (1.%d)"
    % (i // 60 % 60, i % 60, i, i)
    for i in range(3000)
)


def test_ansi_codes_timestamps_and_progress_bars_are_removed():
    raw = "2026-11-24T14:00:00.1234567Z \x1b[31mE       assert 1 == 2\x1b[0m\r\ndownloading 10%\rdownloading 100%\n"
    text = normalize(raw)
    assert text == "E       assert 1 == 2\ndownloading 100%\n"


def test_kind_overrides_the_category_and_bad_kind_is_refused():
    pytest_output = "E       assert 2.5 == 2.0\nFAILED tests/t.py::test_x - assert"
    assert excerpt.extract(pytest_output)["category"] == "test"
    assert excerpt.extract(pytest_output, kind="lint")["category"] == "lint"
    with pytest.raises(InvalidInput, match="kind must be"):
        excerpt.extract("x", kind="nonsense")


def test_without_a_signal_the_tail_is_kept_and_category_is_other():
    res = excerpt.extract("\n".join("step %d done" % i for i in range(5000)), max_tokens=200)
    assert res["category"] == "other"
    assert "step 4999 done" in res["excerpt"]
    assert res["excerpt_tokens"] <= 200


def test_budget_is_respected_with_many_decisive_lines():
    text = "\n".join("src/m%d.py:%d:1: F821 Undefined name `x%d`" % (i, i, i) for i in range(20000))
    res = excerpt.extract(text, max_tokens=300)
    assert res["category"] == "lint"
    assert 0 < res["excerpt_tokens"] <= 300
    assert len(res["evidence"]) <= excerpt.MAX_EVIDENCE


def test_a_very_long_line_is_clipped_at_a_word_boundary():
    secret_like = "A" * 3000
    res = excerpt.extract("Error: bad value " + secret_like + "\n")
    assert secret_like[:100] not in res["excerpt"]
    assert "[...]" in res["excerpt"]
