"""The house's layers, read from the source: one module shape, options by name, no product code on the test bench.

These read the code with ``ast`` (nothing is imported or run), so a file that breaks a rule is named
with the line that does. Each rule is also run on planted files, so a rule that stopped seeing would fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandbox.paths import REPO

COLLECTION = REPO / "collections/ansible_collections/mlops/hybrid"
MODULES = COLLECTION / "plugins/modules"
MODULE_UTILS = COLLECTION / "plugins/module_utils"
# What ships or runs without the test bench: the collection, the services, the demo and the benchmarks.
PRODUCT = [
    COLLECTION / "plugins",
    REPO / "bridge/src",
    REPO / "model/src",
    REPO / "scripts",
    REPO / "bench",
    REPO / "sandbox",
]
# module_utils that may import Ansible: the option families and the runner; the rest is plain Python.
ANSIBLE_FACING = {"args.py", "runner.py"}
MAX_POSITIONAL = 4


def python_files(*roots):
    for root in roots:
        yield from sorted(p for p in Path(root).rglob("*.py") if "__pycache__" not in p.parts)


def _tree(path):
    return ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node, ("." * node.level) + (node.module or "")


def _where(path, node):
    path = Path(path)
    return "%s:%d" % (path.relative_to(REPO) if path.is_relative_to(REPO) else path.name, node.lineno)


def main_shape_faults(path):
    """Why ``main()`` of a module file is not the one shape, or []."""
    mains = [n for n in _tree(path).body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    if not mains:
        return ["%s: no main()" % Path(path).name]
    body = [n for n in mains[0].body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "run_module"):
        return [
            "%s: main() has %d statements; it is run_module(argspec(), execute, ...)"
            % (_where(path, mains[0]), len(body))
        ]
    return []


def _callables(trees):
    """Names of the functions and dataclasses defined in ``trees`` that take their arguments by name.

    A function with ``*args`` forwards what it is given (a Git argv, a logging format, a client
    call wrapped for its errors): its positional arguments are data, not options, and it is left out.
    """
    names, forwarding = set(), set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                (forwarding if node.args.vararg is not None else names).add(node.name)
            elif isinstance(node, ast.ClassDef):
                names.add(node.name)
    return names - forwarding


def long_positional_calls(paths):
    """Calls of the project's own functions and classes with more than MAX_POSITIONAL positional arguments."""
    trees = {Path(p): _tree(p) for p in paths}
    own = _callables(trees.values())
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) <= MAX_POSITIONAL:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in own and not any(isinstance(a, ast.Starred) for a in node.args):
                found.append("%s %s() (%d positional)" % (_where(path, node), name, len(node.args)))
    return found


def test_bench_imports(paths):
    found = []
    for path in paths:
        for node, name in _imports(_tree(path)):
            if name == "tests" or name.startswith(("tests.", "model.tests", "bridge.tests")):
                found.append("%s imports %s" % (_where(path, node), name))
    return found


test_bench_imports.__test__ = False  # a helper named by what it finds, not a test


def layer_faults(paths):
    found = []
    for path in paths:
        for node, name in _imports(_tree(path)):
            if name.startswith("."):
                found.append("%s: relative import %s" % (_where(path, node), name))
            elif name.startswith("ansible.module_utils.basic") and Path(path).name not in ANSIBLE_FACING:
                found.append(
                    "%s imports %s (only %s may)" % (_where(path, node), name, ", ".join(sorted(ANSIBLE_FACING)))
                )
    return found


@pytest.mark.parametrize("path", list(python_files(MODULES)), ids=lambda p: p.stem)
def test_main_is_one_run_module_call(path):
    assert main_shape_faults(path) == []


def test_no_call_passes_more_than_four_positional_arguments():
    found = long_positional_calls(python_files(COLLECTION / "plugins", REPO / "bridge/src"))
    assert not found, "options go by name; calls with more than %d positional arguments:\n%s" % (
        MAX_POSITIONAL,
        "\n".join(found),
    )


def test_product_code_does_not_import_the_test_bench():
    found = test_bench_imports(python_files(*PRODUCT))
    assert not found, "\n".join(found)


def test_module_utils_are_plain_python_with_absolute_imports():
    found = layer_faults(python_files(MODULE_UTILS))
    assert not found, "\n".join(found)


def test_each_rule_finds_a_planted_breach(tmp_path):
    module = tmp_path / "planted_module.py"
    module.write_text("def main():\n    module = AnsibleModule({})\n    module.exit_json()\n")
    utils = tmp_path / "planted_utils.py"
    utils.write_text(
        "from ..errors import MlopsError\nfrom ansible.module_utils.basic import AnsibleModule\n"
        "from tests.helpers.procs import free_port\n\ndef g(a, b, c, d, e=None):\n    pass\n\n"
        "def h(*argv):\n    pass\n\ndef f():\n    g(1, 2, 3, 4, 5)\n    g(1, 2, 3, 4)\n    h(1, 2, 3, 4, 5)\n"
    )
    assert len(main_shape_faults(module)) == 1
    assert [f.split(" ")[0] for f in long_positional_calls([utils])] == ["planted_utils.py:12"]
    assert len(test_bench_imports([utils])) == 1
    assert len(layer_faults([utils])) == 2
