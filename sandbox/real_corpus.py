"""The corpus of real failure logs (tests/corpus/real) and the baseline an excerpt is measured against.

Read by the context-extraction bench and the excerpt's tests, so both score the same cases against
the same baseline.
"""

from __future__ import annotations

import json

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.excerpt import estimate_tokens
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize
from sandbox.paths import REPO

REAL = REPO / "tests" / "corpus" / "real"


def labels():
    """Every case's label: {id: {category, decisive, source, origin, note, split, ...}}."""
    return json.loads((REAL / "labels.json").read_text(encoding="utf-8"))["cases"]


def log(cid):
    """The log of case ``cid``, as stored."""
    return (REAL / "logs" / (cid + ".log")).read_text(encoding="utf-8")


def cases(part=None):
    """(id, label, log) of every case, or of the cases of one split (``tune`` or ``heldout``), by id."""
    return [(cid, lab, log(cid)) for cid, lab in sorted(labels().items()) if part is None or lab["split"] == part]


def last_lines(text, budget):
    """The baseline: the last lines of the normalised log that fit ``budget`` tokens."""
    out, used = [], 0
    for line in reversed(normalize(text).split("\n")):
        used += len(line) + 1
        if estimate_tokens("x" * used) > budget:
            break
        out.append(line)
    return "\n".join(reversed(out))
