from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils import preflight
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput


def test_meminfo_is_read_in_mib(tmp_path):
    f = tmp_path / "meminfo"
    f.write_text("MemTotal:        2048000 kB\nMemFree:          1024 kB\nHugePages_Total:       0\n")
    assert preflight.read_meminfo_mb(str(f)) == {"MemTotal": 2000, "MemFree": 1, "HugePages_Total": 0}
    assert preflight.check_memory(1800, str(f))["ok"] is True
    low = preflight.check_memory(4096, str(f))
    assert low["ok"] is False and "2000 MiB total" in low["detail"] and low["hint"]


def test_cgroup_marker(tmp_path):
    assert preflight.check_cgroup_v2(str(tmp_path / "absent"))["ok"] is False
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert preflight.check_cgroup_v2(str(tmp_path / "cgroup.controllers"))["ok"] is True


@pytest.mark.parametrize(("minimum", "ok"), [("3.8", True), ("3", True), ("99.0", False)])
def test_python_version(minimum, ok):
    assert preflight.check_python_version(minimum)["ok"] is ok


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_range_is_checked(port):
    with pytest.raises(InvalidInput):
        preflight.check_port_free(port)


def test_summary_names_every_failure():
    checks = [preflight.check_binary("no-such-a"), preflight.check_binary("sh"), preflight.check_binary("no-such-b")]
    text = preflight.summarize(checks)
    assert "no-such-a" in text and "no-such-b" in text and "binary sh" not in text
    assert preflight.summarize([preflight.check_binary("sh")]) == ""
