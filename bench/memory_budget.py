"""Memory requests per node of the GitOps tree against the control plane's 1.2 GiB budget.

    .venv/bin/python bench/memory_budget.py

Prints the table tests/gitops/test_memory_budget.py checks; exits 1 when the control plane is
over budget or a workload is not placed on a node.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.memory_budget import (
    CONTROL_PLANE,
    CONTROL_PLANE_BUDGET_MIB,
    UNPLACED,
    budget_rows,
    format_table,
    totals,
)


def main() -> int:
    rows = budget_rows()
    print(format_table(rows))
    unplaced = [r.component for r in rows if r.node == UNPLACED]
    if unplaced:
        print("not placed on a node: %s" % ", ".join(unplaced))
    return 1 if unplaced or totals(rows)[CONTROL_PLANE] > CONTROL_PLANE_BUDGET_MIB else 0


if __name__ == "__main__":
    sys.exit(main())
