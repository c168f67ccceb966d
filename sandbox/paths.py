"""Where things are, for tests and benchmarks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTION = REPO / "collections" / "ansible_collections" / "mlops" / "hybrid"
# Upstream files the tests read (CRDs, ArgoCD's install.yaml, Helm chart archives), vendored with
# their checksums: see tests/upstream/README.md.
UPSTREAM = REPO / "tests" / "upstream"
VENV_BIN = Path(sys.executable).parent
ANSIBLE_CFG = REPO / "ansible.cfg"
SANDBOX_INVENTORY = REPO / "inventories" / "sandbox"


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a subprocess of the test bench gets: this virtualenv first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env["ANSIBLE_CONFIG"] = str(ANSIBLE_CFG)
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    if extra:
        env.update(extra)
    return env
