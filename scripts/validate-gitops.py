#!/usr/bin/env python3
"""Render a checkout's gitops/ tree as ArgoCD would and validate every object strictly.

    scripts/validate-gitops.py ROOT [--repo-url URL] [--revision REV]

What playbooks/cd.yml runs (gitops_bump's ``validate``) on the commit it is about to push; exit
status 1 with one line per finding (object, source, field, message). See sandbox/tree_check.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.tree_check import main

if __name__ == "__main__":
    sys.exit(main())
