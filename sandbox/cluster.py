"""The cluster the roles build, as data: its Kubernetes version, its built-in API versions, and its
two nodes with the labels and taints k3s gives them under the roles' configuration.

    CLUSTER = cluster()          # cached; .kube_version "v1.31.4+k3s1", .nodes, .api_versions
    CLUSTER.schema_version       # "1.31.0": the Kubernetes JSON schemas used for validation

The version is the roles' pin (``k3s_server_version``); the node taints and labels come from the
``config.yaml`` each role renders (``k3s_server_config`` / ``k3s_agent_config``, evaluated by
Ansible itself from the roles' defaults and vars) plus the labels k3s and the kubelet always set.
"""

from __future__ import annotations

import functools
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import REPO

__all__ = [
    "CONTROL_PLANE",
    "WORKER",
    "Cluster",
    "Node",
    "Taint",
    "builtin_api_versions",
    "cluster",
    "crd_api_versions",
]

CONTROL_PLANE, WORKER = "control-plane", "worker"
ROLES = REPO / "roles"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    @classmethod
    def parse(cls, text: str) -> Taint:
        """k3s's ``node-taint`` syntax: ``key[=value]:Effect``."""
        m = re.fullmatch(r"([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)", text)
        if not m:
            raise ValueError("not a taint: %r" % text)
        return cls(m[1], m[2] or "", m[3])


@dataclass(frozen=True)
class Node:
    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    allocatable_mib: float | None = None  # memory the scheduler may hand out; None: not checked


@dataclass(frozen=True)
class Cluster:
    kube_version: str
    nodes: tuple[Node, ...]
    builtin: tuple[str, ...] = field(repr=False)

    @property
    def schema_version(self) -> str:
        major, minor = re.match(r"v?(\d+)\.(\d+)", self.kube_version).groups()
        return "%s.%s.0" % (major, minor)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def api_versions(self, crds: list[dict[str, Any]]) -> list[str]:
        """What ``.Capabilities.APIVersions`` holds on this cluster once ``crds`` are installed:
        ``group/version`` and ``group/version/Kind`` for every built-in and custom kind."""
        return sorted(set(self.builtin) | crd_api_versions(crds))


def crd_api_versions(crds: list[dict[str, Any]]) -> set[str]:
    """``group/version`` and ``group/version/Kind`` of every served version of ``crds``."""
    out = set()
    for crd in crds:
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            if v.get("served", True):
                out.update({"%s/%s" % (group, v["name"]), "%s/%s/%s" % (group, v["name"], kind)})
    return out


def builtin_api_versions(schema_version: str) -> tuple[str, ...]:
    """Group versions and kinds the API server of that Kubernetes version serves, read from the
    ``x-kubernetes-group-version-kind`` of its OpenAPI definitions (kubernetes-validate's copy)."""
    from .k8s_schema import definitions  # noqa: PLC0415 - k8s_schema imports this module

    out = set()
    for name, schema in definitions(schema_version)["$defs"].items():
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        # Meta types (DeleteOptions, WatchEvent, Status) list every group version ever served.
        if len(gvks) != 1 or name.startswith("io.k8s.apimachinery.") or gvks[0]["kind"].endswith("List"):
            continue
        (gvk,) = gvks
        gv = "%s/%s" % (gvk["group"], gvk["version"]) if gvk["group"] else gvk["version"]
        out.update({gv, "%s/%s" % (gv, gvk["kind"])})
    return tuple(sorted(out))


_PLAY = """
- name: The k3s configuration the roles render
  hosts: localhost
  gather_facts: false
  vars_files:
    - {roles}/k3s_server/defaults/main.yml
    - {roles}/k3s_server/vars/main.yml
    - {roles}/k3s_agent/defaults/main.yml
    - {roles}/k3s_agent/vars/main.yml
  vars:
    k3s_agent_server_url: https://control-plane.invalid:6443
  tasks:
    - name: Show them
      ansible.builtin.debug:
        msg:
          version: "{{{{ k3s_server_version }}}}"
          server: "{{{{ k3s_server_config }}}}"
          agent: "{{{{ k3s_agent_config }}}}"
"""


def _role_configs() -> dict[str, Any]:
    from .ansible_run import AnsibleHarness  # noqa: PLC0415 - ansible_runner loads only when asked

    with tempfile.TemporaryDirectory() as tmp:
        play = Path(tmp) / "play.yml"
        play.write_text(_PLAY.format(roles=ROLES))
        run = AnsibleHarness(Path(tmp) / "ansible").playbook(play, timeout=300)
        if not run.ok:
            raise RuntimeError("rendering the roles' k3s configuration failed:\n%s" % run.stdout[-3000:])
        return run.task("Show them").res["msg"]


def _labels(items: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items)


@functools.cache
def cluster() -> Cluster:
    configs = _role_configs()
    common = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    server, agent = configs["server"], configs["agent"]
    # k3s labels every server node control-plane and master (pkg/nodeconfig; agents get neither).
    control_plane = Node(
        CONTROL_PLANE,
        {
            **common,
            "kubernetes.io/hostname": CONTROL_PLANE,
            "node-role.kubernetes.io/control-plane": "true",
            "node-role.kubernetes.io/master": "true",
            **_labels(server.get("node-label", [])),
        },
        tuple(Taint.parse(t) for t in server.get("node-taint", [])),
    )
    worker = Node(
        WORKER,
        {**common, "kubernetes.io/hostname": WORKER, **_labels(agent.get("node-label", []))},
        tuple(Taint.parse(t) for t in agent.get("node-taint", [])),
    )
    version = configs["version"]
    schema_version = Cluster(version, (), ()).schema_version
    return Cluster(version, (control_plane, worker), builtin_api_versions(schema_version))
