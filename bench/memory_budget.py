"""Memory requests per node of what the platform applies, against the control plane's budget.

    .venv/bin/python bench/memory_budget.py

Prints the table tests/gitops/test_placement.py checks (the rendered tree and ArgoCD as the
argocd_bootstrap role applies it, on the nodes the k3s roles configure); exits 1 when the control
plane is over budget or a workload has no eligible node.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.cluster import CONTROL_PLANE, cluster
from sandbox.placement import CONTROL_PLANE_BUDGET_MIB, budget_rows, format_table, platform_workloads, totals


def main() -> int:
    rows, unplaced = budget_rows(platform_workloads(), cluster().nodes)
    print(format_table(rows))
    if unplaced:
        print("no eligible node: %s" % ", ".join(unplaced))
    return 1 if unplaced or totals(rows)[CONTROL_PLANE] > CONTROL_PLANE_BUDGET_MIB else 0


if __name__ == "__main__":
    sys.exit(main())
