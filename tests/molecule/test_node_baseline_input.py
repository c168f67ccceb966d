"""node_baseline refuses bad input before it touches anything, with a message that says what is wrong.

Runs the role through Ansible on localhost in check mode, so even a broken check could not write
this machine's journald configuration; the Molecule scenario covers the role's real work.
"""

from __future__ import annotations

import json

import pytest

PLAY = [
    {
        "name": "node_baseline with bad input",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": "Apply node_baseline", "ansible.builtin.include_role": {"name": "node_baseline"}}],
    }
]


@pytest.mark.parametrize(
    ("extravars", "message"),
    [
        ({"node_baseline_journald_system_max_use": "lots"}, "sizes must be a number of bytes or a number followed by"),
        ({"node_baseline_journald_runtime_max_use": "32 MB"}, "runtime_max_use=32 MB"),
        (
            {"node_baseline_journald_dropin": "/etc/systemd/journald.conf"},
            "the drop-in must be a *.conf file directly in /etc/systemd/journald.conf.d/",
        ),
        ({"node_baseline_journald_storage": "disk"}, "node_baseline_journald_storage must be one of"),
        (
            {"node_baseline_journald_extra_settings": "Compress=yes"},
            "extra_settings must be a mapping of journald.conf names",
        ),
    ],
)
def test_bad_input_fails_before_any_change(ansible, tmp_path, extravars, message):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(PLAY))
    run = ansible.playbook(playbook, check=True, extravars=extravars)
    failed = [t for t in run.tasks if t.failed]
    assert run.rc != 0, run.stdout
    assert len(failed) == 1, [(t.task, t.event) for t in run.tasks]
    assert message in failed[0].res.get("msg", ""), failed[0].res
    assert run.changed_count() == 0
    assert not [t.task for t in run.tasks if t.changed]
