"""site.yml, playbooks/upgrade.yml and teardown.yml end to end: GCP is the Compute fake, the VM
and the laptop are two systemd containers on one podman network (the Molecule image), k3s is the
stand-in release that molecule/k3s_cluster/prepare.yml serves from the "VM". Each
playbook runs twice and the second run must change nothing; site.yml --check after convergence
reports nothing to change.

ArgoCD is not applied here (hybrid_gitops_bootstrap: false): the stand-in has no Kubernetes API.
Its objects are checked in test_argocd_bootstrap.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest
import yaml

from sandbox.paths import REPO, tool_env

from .conftest import PROJECT

pytestmark = [pytest.mark.podman, pytest.mark.slow]

IMAGE_SCRIPT = REPO / "scripts" / "molecule-image.sh"
PREPARE = REPO / "molecule" / "k3s_cluster" / "prepare.yml"
K3S_VERSION = "v1.31.4+k3s1"
NEXT_VERSION = "v1.31.6+k3s1"  # also served by prepare.yml
WORKER_IP = "198.51.100.20"


def exists_in(container: str, path: str) -> bool:
    return subprocess.run(["podman", "exec", container, "test", "-e", path], check=False, timeout=60).returncode == 0


def podman(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, check=False, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("podman %s failed: %s" % (" ".join(args), proc.stderr))
    return proc.stdout.strip()


@pytest.fixture
def hosts():
    """Two systemd containers on their own network: the VM and the laptop. Removed afterwards."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: run 'make install' as root")
    image = subprocess.run([str(IMAGE_SCRIPT)], capture_output=True, text=True, check=False, env=tool_env())
    assert image.returncode == 0, image.stderr[-3000:]
    ref = image.stdout.strip().splitlines()[-1]
    tag = uuid.uuid4().hex[:8]
    net, server, agent = "mlops-site-%s" % tag, "site-server-%s" % tag, "site-laptop-%s" % tag
    podman("network", "create", net)
    try:
        for name in (server, agent):
            podman("run", "-d", "--name", name, "--hostname", name, "--network", net, "--systemd=always",
                   ref, "/lib/systemd/systemd")  # fmt: skip
        ip = podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", server)
        yield {"server": server, "agent": agent, "server_ip": ip}
    finally:
        for name in (server, agent):
            podman("rm", "-f", "-t", "0", name, check=False)
        podman("network", "rm", "-f", net, check=False)


@pytest.fixture
def site(tmp_path, hosts, gcp, gcp_args):
    inv = tmp_path / "inventory"
    (inv / "group_vars").mkdir(parents=True)
    # the documented group_vars of the real inventory, as a user copies them
    shutil.copy(REPO / "inventories" / "hybrid" / "group_vars" / "all.yml", inv / "group_vars" / "all.yml")
    podman_host = {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}
    (inv / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "controller": {
                            "hosts": {
                                "localhost": {
                                    "ansible_connection": "local",
                                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                                }
                            }
                        },
                        "k3s_server": {"hosts": {hosts["server"]: dict(podman_host, ansible_host=hosts["server"])}},
                        "k3s_agent": {"hosts": {hosts["agent"]: dict(podman_host, ansible_host=hosts["agent"])}},
                    }
                }
            }
        )
    )
    pubkey = tmp_path / "id_ed25519.pub"
    pubkey.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEYFORTESTSONLY operator@example\n")
    kubeconfig = tmp_path / "kube" / "config"
    kubeconfig.parent.mkdir()
    extravars = {
        "hybrid_gcp_project": PROJECT,
        "hybrid_gcp_auth_kind": "serviceaccount",
        "hybrid_gcp_service_account_file": gcp_args["service_account_file"],
        "hybrid_gcp_api_endpoint": gcp.endpoint,
        "hybrid_gcp_poll_interval": 0.05,
        "hybrid_gcp_operation_timeout": 60,
        "hybrid_server_name": hosts["server"],
        "hybrid_server_connection": {
            "ansible_connection": "containers.podman.podman",
            "ansible_host": hosts["server"],
            "ansible_user": "root",
        },
        "hybrid_ssh_public_key_file": str(pubkey),
        "hybrid_worker_cidrs": ["%s/32" % WORKER_IP],
        "hybrid_operator_cidrs": ["203.0.113.5/32"],
        "hybrid_gitops_repo_url": "https://github.com/mlops-hybrid/mlops-hybrid.git",
        "hybrid_gitops_bootstrap": False,
        "hybrid_k3s_version": K3S_VERSION,
        "hybrid_k3s_release_url": "http://%s:8088" % hosts["server_ip"],
        "hybrid_server_api_address": hosts["server_ip"],
        "hybrid_worker_external_ip": WORKER_IP,
        "hybrid_kubeconfig": str(kubeconfig),
        # a container is not WSL2 and cannot load modules or set sysctls
        "wsl2_host_assume_wsl2": True,
        "wsl2_host_load_modules": False,
        "wsl2_host_sysctl_apply": False,
        "wsl2_host_require_cgroup_v2": False,
        "k3s_server_ready_delay": 2,
        "k3s_agent_ready_delay": 2,
        # for prepare.yml: the release it serves and a kubeconfig with someone else's context
        "k3s_server_test_version": K3S_VERSION,
        "k3s_server_test_release_port": 8088,
        "k3s_server_test_kubeconfig": str(kubeconfig),
    }
    return {"inventory": inv, "extravars": extravars, "kubeconfig": kubeconfig, **hosts}


def nodes(server: str) -> list[dict]:
    return json.loads(podman("exec", server, "/usr/local/bin/k3s", "kubectl", "get", "nodes", "-o", "json"))["items"]


def run(ansible, site, playbook, **extra):
    return ansible.playbook(
        REPO / playbook, inventory=site["inventory"], extravars=dict(site["extravars"], **extra), timeout=1800
    )


def test_site_then_teardown_twice_each(ansible, gcp, site):
    prep = ansible.playbook(PREPARE, inventory=site["inventory"], extravars=site["extravars"])
    assert prep.ok, prep.stdout[-4000:]

    first = run(ansible, site, "site.yml")
    assert first.ok, first.stdout[-6000:]
    assert first.changed_count() > 0
    vm = gcp.instances[(PROJECT, "us-west1-b", site["server"])]
    assert vm["status"] == "RUNNING" and vm["labels"] == {"app": "mlops-hybrid"}
    assert vm["machineType"].endswith("/e2-small") and vm["tags"]["items"] == ["mlops-k3s-server"]
    assert "operator@example" in json.dumps(vm["metadata"])
    rules = {name: fw for (_p, name), fw in gcp.firewalls.items()}
    assert sorted(rules) == sorted("%s-%s" % (site["server"], r) for r in ("k3s-api", "wireguard", "ssh", "https"))
    api = rules["%s-k3s-api" % site["server"]]
    # 6443: the worker and the operators (the controller applies ArgoCD, operators run kubectl), nobody else.
    assert api["sourceRanges"] == ["%s/32" % WORKER_IP, "203.0.113.5/32"]
    assert api["allowed"] == [{"IPProtocol": "tcp", "ports": ["6443"]}]
    assert rules["%s-ssh" % site["server"]]["sourceRanges"] == ["203.0.113.5/32"]
    assert rules["%s-https" % site["server"]]["sourceRanges"] == ["0.0.0.0/0"]
    # the server's config carries the VM's external IP from the fake; the laptop joined as the worker
    config = yaml.safe_load(podman("exec", site["server"], "cat", "/etc/rancher/k3s/config.yaml"))
    assert config["node-external-ip"] == vm["networkInterfaces"][0]["accessConfigs"][0]["natIP"]
    worker = next(n for n in nodes(site["server"]) if n["metadata"]["name"] == site["agent"])
    assert worker["metadata"]["labels"]["mlops.hybrid/role"] == "inference"
    kc = yaml.safe_load(site["kubeconfig"].read_text())
    assert [c["name"] for c in kc["contexts"]] == ["other", "mlops-hybrid"]
    cluster = next(c for c in kc["clusters"] if c["name"] == "mlops-hybrid")["cluster"]
    assert cluster["server"] == "https://%s:6443" % site["server_ip"]
    summary = first.task("Say how to reach the cluster and ArgoCD").res["msg"]
    assert any("--context mlops-hybrid get nodes" in line for line in summary)
    assert any("and the operators 203.0.113.5/32 only" in line for line in summary)
    # What runs, priced from the table: e2-small, its external IPv4 in use, the 20 GB balanced boot disk.
    cost = first.task("Say what the platform costs").res["msg"]
    print("site.yml cost:", *cost, sep="\n  ")
    assert "instance %s (e2-small): 12.23 USD a month" % site["server"] in cost
    assert any(line.startswith("instance %s (external IPv4 " % site["server"]) and "3.65 USD" in line for line in cost)
    assert any(line.endswith("(20 GB pd-balanced): 2.00 USD a month") for line in cost)
    assert cost[-1].startswith("total 17.88 USD a month") and "17.88 after the free tier" in cost[-1]
    print("site.yml run 1 recap:", first.stats.get("changed"))

    mutations = len(gcp.mutations())
    second = run(ansible, site, "site.yml")
    assert second.ok, second.stdout[-6000:]
    print("site.yml run 2 recap:", second.stats.get("changed"))
    assert second.changed_count() == 0, second.stats
    assert len(gcp.mutations()) == mutations

    checked = ansible.playbook(
        REPO / "site.yml", inventory=site["inventory"], extravars=site["extravars"], check=True, timeout=1800
    )
    assert checked.ok, checked.stdout[-6000:]
    assert checked.changed_count() == 0, checked.stats
    assert len(gcp.mutations()) == mutations

    # upgrade: the server first, then the agent, both to the next release; a second run changes nothing
    up = run(ansible, site, "playbooks/upgrade.yml", hybrid_k3s_version=NEXT_VERSION)
    assert up.ok, up.stdout[-6000:]
    print("upgrade.yml run 1 recap:", up.stats.get("changed"))
    for host in (site["server"], site["agent"]):
        assert "k3s version %s " % NEXT_VERSION in podman("exec", host, "/usr/local/bin/k3s", "--version")
    downloads = [t.host for t in up.tasks if t.task == "Download the k3s binary and verify its sha256" and t.changed]
    assert downloads == [site["server"], site["agent"]]
    worker = next(n for n in nodes(site["server"]) if n["metadata"]["name"] == site["agent"])
    assert worker["status"]["nodeInfo"]["kubeletVersion"] == NEXT_VERSION
    up_again = run(ansible, site, "playbooks/upgrade.yml", hybrid_k3s_version=NEXT_VERSION)
    assert up_again.ok and up_again.changed_count() == 0, up_again.stats
    mutations = len(gcp.mutations())

    refused = run(ansible, site, "teardown.yml")
    assert not refused.ok and "run again with -e confirm=yes" in refused.stdout
    assert len(gcp.mutations()) == mutations

    # something of ours that the teardown does not own, left in the project: it must be listed
    gcp.add_address(PROJECT, "us-west1", "forgotten-ip", {"app": "mlops-hybrid"})
    down = run(ansible, site, "teardown.yml", confirm="yes")
    assert down.ok, down.stdout[-6000:]
    print("teardown.yml run 1 recap:", down.stats.get("changed"))
    assert down.changed_count() > 0
    assert gcp.instances == {} and gcp.firewalls == {} and gcp.disks == {}
    left = down.task("List what still bills in the project under the platform's labels").res
    assert [(r["kind"], r["name"]) for r in left["resources"]] == [("address", "forgotten-ip")]
    said = down.task("Say what is left").res["msg"]
    print("teardown.yml:", said)
    assert (
        "forgotten-ip" in said and "(static IPv4 203.0.113." in said and "reserved, unused): 7.30 USD a month" in said
    )
    assert "total 7.30 USD a month" in said
    kc = yaml.safe_load(site["kubeconfig"].read_text())
    assert [c["name"] for c in kc["contexts"]] == ["other"] and kc["current-context"] == "other"
    assert not exists_in(site["agent"], "/etc/systemd/system/k3s-agent.service")
    assert not exists_in(site["agent"], "/usr/local/bin/k3s")
    assert podman("exec", site["agent"], "systemctl", "is-active", "k3s-agent", check=False) != "active"

    again = run(ansible, site, "teardown.yml", confirm="yes")
    assert again.ok, again.stdout[-6000:]
    print("teardown.yml run 2 recap:", again.stats.get("changed"))
    assert again.changed_count() == 0, again.stats
