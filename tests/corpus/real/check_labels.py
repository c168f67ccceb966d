"""Check a labels file of the real-log corpus: every case has its log, a category of the table,
a source URL, one to three decisive lines each found in one line of the normalised log.

Usage: python tests/corpus/real/check_labels.py tests/corpus/real/labels.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "collections"))

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES  # noqa: E402
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize  # noqa: E402

ORIGINS = ("thread", "repo-file", "tool-run")


def problems(cases):
    out = []
    for cid, lab in cases.items():
        log = HERE / "logs" / (cid + ".log")
        if not log.is_file():
            out.append("%s: no logs/%s.log" % (cid, cid))
            continue
        lines = normalize(log.read_text(encoding="utf-8")).split("\n")
        if lab.get("category") not in CATEGORIES:
            out.append("%s: category %r not in the table" % (cid, lab.get("category")))
        if lab.get("origin") not in ORIGINS:
            out.append("%s: origin %r not one of %s" % (cid, lab.get("origin"), ORIGINS))
        if not str(lab.get("source", "")).startswith("https://"):
            out.append("%s: source must be the https URL of the thread or file" % cid)
        if lab.get("origin") == "tool-run" and not lab.get("command"):
            out.append("%s: a tool-run case names the command that produced it" % cid)
        dec = lab.get("decisive") or []
        if not 1 <= len(dec) <= 3:
            out.append("%s: %d decisive lines (1 to 3)" % (cid, len(dec)))
        for d in dec:
            if not d.strip() or not any(d in line for line in lines):
                out.append("%s: decisive line not in one line of the normalised log: %r" % (cid, d))
    return out


def main(paths):
    bad = 0
    for p in paths:
        cases = json.loads(Path(p).read_text())
        cases = cases.get("cases", cases)
        found = problems(cases)
        long_ = sum(
            1
            for c in cases
            if (HERE / "logs" / (c + ".log")).is_file()
            and len((HERE / "logs" / (c + ".log")).read_text(encoding="utf-8").splitlines()) > 40
        )
        per = {}
        for lab in cases.values():
            per[lab.get("category")] = per.get(lab.get("category"), 0) + 1
        print("%s: %d cases, %d over 40 lines, per category %s" % (p, len(cases), long_, per))
        for f in found:
            print("  " + f)
        bad += len(found)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
