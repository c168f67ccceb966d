"""What bridge/src imports from the collection is what bridge/pyproject.toml declares.

The collection has no pip distribution: ``[tool.mlops-bridge] collection-module-utils`` names the
module_utils modules the bridge imports, which the image copies from a named build context (see
bridge/Dockerfile) and which pytest and the launchers put on sys.path (``collections/``).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[1]
SRC = BRIDGE / "src"
MODULE_UTILS_PACKAGE = "ansible_collections.mlops.hybrid.plugins.module_utils"
MODULE_UTILS = BRIDGE.parent / "collections" / Path(*MODULE_UTILS_PACKAGE.split("."))


def declared() -> list[str]:
    return tomllib.loads((BRIDGE / "pyproject.toml").read_text())["tool"]["mlops-bridge"]["collection-module-utils"]


def module_file(name: str) -> Path | None:
    """The file of module_utils module ``name`` (dotted, relative to module_utils), or None."""
    path = MODULE_UTILS / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported() -> dict[str, list[str]]:
    """Every collection module bridge/src imports -> where (``file:line``).

    A module_utils module is named relative to module_utils (``from ...module_utils.collectors import
    pod`` is ``collectors.pod``, ``from ...module_utils.retry import backoff_delay`` is ``retry``);
    anything else of the collection keeps its full name, which no declaration can match.
    """
    found: dict[str, list[str]] = {}

    def add(full: str, where: str) -> None:
        if full == MODULE_UTILS_PACKAGE or full.startswith(MODULE_UTILS_PACKAGE + "."):
            full = full[len(MODULE_UTILS_PACKAGE) + 1 :]
        found.setdefault(full, []).append(where)

    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = "%s:%d" % (path.relative_to(BRIDGE.parent), getattr(node, "lineno", 0))
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "ansible_collections":
                        add(alias.name, where)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] != "ansible_collections":
                    continue
                for alias in node.names:
                    sub = "%s.%s" % (node.module, alias.name)
                    rel = sub[len(MODULE_UTILS_PACKAGE) + 1 :] if sub.startswith(MODULE_UTILS_PACKAGE + ".") else ""
                    add(sub if rel and module_file(rel) else node.module, where)
    return found


def test_the_bridge_imports_the_collection():
    # The parse finds the imports at all (a rename of the package would make the checks below vacuous).
    assert imported(), "no ansible_collections import found in %s" % SRC


def test_every_collection_import_is_declared():
    names = set(declared())
    missing = {name: where for name, where in imported().items() if name not in names}
    assert not missing, (
        "bridge/src imports collection modules bridge/pyproject.toml does not declare "
        "([tool.mlops-bridge] collection-module-utils): %s" % missing
    )


def test_every_declared_module_exists_and_is_imported():
    names = declared()
    assert len(names) == len(set(names)), "declared twice: %s" % sorted({n for n in names if names.count(n) > 1})
    absent = [name for name in names if module_file(name) is None]
    assert not absent, "declared but not in %s: %s" % (MODULE_UTILS, absent)
    unused = sorted(set(names) - set(imported()))
    assert not unused, "declared but not imported by bridge/src: %s" % unused
