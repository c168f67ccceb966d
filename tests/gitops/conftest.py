"""Shows the memory budget table in pytest's terminal summary (the budget test records it)."""

from __future__ import annotations

import pytest

BUDGET_TABLE = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    table = config.stash.get(BUDGET_TABLE, None)
    if table:
        terminalreporter.write_sep("=", "memory requests per node (tests/gitops/test_placement.py)")
        terminalreporter.write_line(table)
