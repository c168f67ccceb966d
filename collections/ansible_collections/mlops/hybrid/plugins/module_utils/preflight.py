# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only checks that a host can run a stage of the platform.

Each check returns a dict ``{name, kind, ok, detail, hint}`` so that a playbook can decide which
stages to run and tell a person exactly what to install or change.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import CheckFailed, InvalidInput

__all__ = [
    "check_binary",
    "check_cgroup_v2",
    "check_memory",
    "check_port_free",
    "check_python_module",
    "check_python_version",
    "run_checks",
]

CGROUP_V2_MARKER = "/sys/fs/cgroup/cgroup.controllers"
MEMINFO = "/proc/meminfo"


def _check(name, kind, *, ok, detail, hint=""):
    return {"name": name, "kind": kind, "ok": bool(ok), "detail": detail, "hint": "" if ok else hint}


def check_binary(name, path=None):
    found = shutil.which(name, path=path)
    return _check(
        name,
        "binary",
        ok=found,
        detail=found or "not on PATH",
        hint="install '%s' (Debian: apt-get install %s)" % (name, name),
    )


def check_python_module(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    origin = getattr(spec, "origin", None) if spec else None
    return _check(
        name,
        "python_module",
        ok=spec is not None,
        detail=origin or "not importable by %s" % sys.executable,
        hint="pip install the package that provides '%s' into %s" % (name, sys.prefix),
    )


def read_meminfo_mb(path=MEMINFO):
    values = {}
    with open(path) as f:
        for line in f:
            key, _sep, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) // 1024
    return values


def check_memory(min_mb, path=MEMINFO):
    try:
        total = read_meminfo_mb(path).get("MemTotal")
    except OSError as e:
        return _check("memory", "memory", ok=False, detail="cannot read %s: %s" % (path, e), hint="run on Linux")
    ok = total is not None and total >= min_mb
    return _check(
        "memory",
        "memory",
        ok=ok,
        detail="%s MiB total, %d MiB required" % (total, min_mb),
        hint="this host has less memory than the stage needs; use a larger machine type",
    )


def check_cgroup_v2(marker=CGROUP_V2_MARKER):
    ok = os.path.exists(marker)
    return _check(
        "cgroup_v2",
        "cgroup",
        ok=ok,
        detail="unified hierarchy" if ok else "%s not found (cgroup v1 or none)" % marker,
        hint="boot with systemd.unified_cgroup_hierarchy=1; under WSL2 set "
        "kernelCommandLine = cgroup_no_v1=all in %UserProfile%\\.wslconfig",
    )


def check_port_free(port, host="127.0.0.1"):
    if not 0 < int(port) < 65536:
        raise InvalidInput("port %r is out of range 1-65535" % (port,))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, int(port)))
            ok, detail = True, "free on %s" % host
        except OSError as e:
            ok, detail = False, "in use on %s (%s)" % (host, e.strerror)
    return _check(
        "port %d" % int(port),
        "port",
        ok=ok,
        detail=detail,
        hint="stop whatever listens on %s:%d or choose another port" % (host, int(port)),
    )


def check_python_version(minimum):
    try:
        want = tuple(int(x) for x in str(minimum).split("."))
    except ValueError as e:
        raise InvalidInput("min_python %r is not a version like 3.11" % (minimum,)) from e
    have = sys.version_info[: len(want)]
    return _check(
        "python",
        "python",
        ok=have >= want,
        detail="%s (%s)" % (".".join(map(str, sys.version_info[:3])), sys.executable),
        hint="use Python %s or newer" % minimum,
    )


def run_checks(
    *, binaries=(), python_modules=(), min_memory_mb=None, require_cgroup_v2=False, free_ports=(), min_python=None
):
    checks = []
    if min_python:
        checks.append(check_python_version(min_python))
    checks.extend(check_binary(b) for b in binaries)
    checks.extend(check_python_module(m) for m in python_modules)
    if min_memory_mb:
        checks.append(check_memory(int(min_memory_mb)))
    if require_cgroup_v2:
        checks.append(check_cgroup_v2())
    checks.extend(check_port_free(p) for p in free_ports)
    return checks


def evaluate(checks, *, fail_on_missing=True):
    """The module's result for ``checks``; raises CheckFailed (with that result) when one failed and that is fatal."""
    result = dict(ok=all(c["ok"] for c in checks), checks=checks, missing=[c["name"] for c in checks if not c["ok"]])
    if fail_on_missing and not result["ok"]:
        raise CheckFailed(summarize(checks), dict(result, changed=False))
    return result


def summarize(checks):
    failed = [c for c in checks if not c["ok"]]
    if not failed:
        return ""
    return "preflight failed: " + "; ".join(
        "%s %s: %s (%s)" % (c["kind"], c["name"], c["detail"], c["hint"]) for c in failed
    )
