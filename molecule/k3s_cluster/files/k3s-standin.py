#!/usr/bin/env python3
"""A stand-in for the k3s binary, for Molecule only: the real one cannot be downloaded here.

It behaves enough like k3s for the roles to be exercised end to end: ``--version``; ``server``
reads /etc/rancher/k3s/config.yaml, checks it (token file, flannel backend, taint), writes the
kubeconfig with the configured mode and the node-token, and serves on :6443 until stopped;
``agent`` reads its config, joins the server with the token (refused with a wrong one, so the
systemd unit keeps restarting) and stays up; ``kubectl get --raw /readyz`` and ``kubectl get
nodes -o json`` answer from the server. It speaks plain HTTP where k3s speaks TLS, and runs no
containers: it proves the roles' download, checksum, configuration and service handling, not
Kubernetes.
"""

import hashlib
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "@VERSION@"
CONFIG = "/etc/rancher/k3s/config.yaml"
DATA = "/var/lib/rancher/k3s"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
STATE = DATA + "/server/standin-nodes.json"


def read_config(path=CONFIG):
    """The subset of YAML that to_nice_yaml writes for a flat k3s config: scalars and lists."""
    out, key = {}, None
    if not os.path.exists(path):
        return out
    for line in open(path).read().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^- (.*)$", line.strip())
        if m and key is not None and line.startswith(("  -", "-")):
            out.setdefault(key, [])
            if not isinstance(out[key], list):
                out[key] = []
            out[key].append(unquote(m.group(1)))
            continue
        k, _, v = line.partition(":")
        key = k.strip()
        out[key] = unquote(v.strip()) if v.strip() else []
    return out


def unquote(v):
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return {"true": True, "false": False}.get(v, v)


def token_of(cfg):
    if cfg.get("token"):
        return str(cfg["token"])
    path = cfg.get("token-file")
    if not path or not os.path.exists(path):
        sys.exit('k3s: level=fatal msg="no token: set token or token-file (%s missing)"' % path)
    return open(path).read().strip()


def server():
    cfg = read_config()
    token = token_of(cfg)
    if cfg.get("flannel-backend", "vxlan") not in ("vxlan", "host-gw", "wireguard-native", "none"):
        sys.exit('k3s: level=fatal msg="invalid flannel backend %s"' % cfg.get("flannel-backend"))
    os.makedirs(DATA + "/server", exist_ok=True)
    ca_hash = hashlib.sha256(("ca-" + token).encode()).hexdigest()
    write(DATA + "/server/node-token", "K10%s::server:%s\n" % (ca_hash, token), 0o600)
    mode = int(str(cfg.get("write-kubeconfig-mode", "0600")), 8)
    write(KUBECONFIG, kubeconfig(), mode)
    # Registered agents survive a server restart, as they do in the cluster's datastore.
    nodes = load() if os.path.exists(STATE) else {}
    nodes[socket.gethostname()] = {"labels": labels(cfg, "server"), "taints": cfg.get("node-taint") or []}
    save(nodes)

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/readyz":
                return self.reply(200, "ok")
            if self.path == "/api/v1/nodes":
                return self.reply(200, node_list(load()))
            return self.reply(404, {"kind": "Status", "code": 404})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path != "/standin/join":
                return self.reply(404, {"kind": "Status", "code": 404})
            if body.get("token") not in (token, open(DATA + "/server/node-token").read().strip()):
                return self.reply(401, {"kind": "Status", "code": 401, "message": "token rejected"})
            nodes = load()
            nodes[body["name"]] = {"labels": body.get("labels", {}), "taints": [], "version": body.get("version")}
            save(nodes)
            return self.reply(200, {"joined": body["name"]})

    # Inside the Molecule container, as k3s does: the agent container must reach it.
    httpd = ThreadingHTTPServer(("0.0.0.0", 6443), H)  # noqa: S104
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("k3s %s (stand-in) server listening on :6443" % VERSION, flush=True)
    httpd.serve_forever()


def agent():
    cfg = read_config()
    url = str(cfg.get("server", "")).replace("https://", "http://")
    if not url:
        sys.exit('k3s: level=fatal msg="--server is required for an agent"')
    body = {
        "name": cfg.get("node-name") or socket.gethostname(),
        "token": token_of(cfg),
        "labels": labels(cfg, "agent"),
        "version": VERSION,
        "external_ip": cfg.get("node-external-ip"),
    }
    req = urllib.request.Request(url + "/standin/join", data=json.dumps(body).encode(), method="POST")  # noqa: S310
    for _ in range(30):
        try:
            urllib.request.urlopen(req, timeout=5).read()  # noqa: S310 - http:// checked above
            break
        except urllib.error.HTTPError as e:
            sys.exit('k3s: level=fatal msg="failed to join %s: HTTP %d (token rejected)"' % (url, e.code))
        except OSError as e:
            print("k3s: waiting for %s: %s" % (url, e), flush=True)
            time.sleep(2)
    else:
        sys.exit('k3s: level=fatal msg="server %s unreachable"' % url)
    print("k3s %s (stand-in) agent joined %s" % (VERSION, url), flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        time.sleep(3600)


def kubectl(args):
    try:
        if args[:2] == ["get", "--raw"] or (args[:1] == ["get"] and args[1:2] and args[1].startswith("--raw=")):
            path = args[2] if args[1] == "--raw" else args[1].split("=", 1)[1]
            print(urllib.request.urlopen("http://127.0.0.1:6443" + path, timeout=5).read().decode())
            return 0
        if args[:2] == ["get", "nodes"]:
            print(urllib.request.urlopen("http://127.0.0.1:6443/api/v1/nodes", timeout=5).read().decode())
            return 0
    except OSError as e:
        print("The connection to the server 127.0.0.1:6443 was refused (%s)" % e, file=sys.stderr)
        return 1
    print("k3s stand-in: kubectl %s is not implemented" % " ".join(args), file=sys.stderr)
    return 2


def labels(cfg, role):
    out = {"kubernetes.io/hostname": cfg.get("node-name") or socket.gethostname()}
    if role == "server":
        out["node-role.kubernetes.io/control-plane"] = "true"
    for item in cfg.get("node-label") or []:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


def node_list(nodes):
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": n, "labels": v["labels"]},
                "spec": {
                    "taints": [{"key": t.split(":")[0].split("=")[0], "effect": t.split(":")[-1]} for t in v["taints"]]
                },
                "status": {"nodeInfo": {"kubeletVersion": v.get("version") or VERSION}},
            }
            for n, v in sorted(nodes.items())
        ],
    }


def kubeconfig():
    return (
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: U1RBTkQtSU4tQ0E=\n"
        "    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n"
        "    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\n"
        "users:\n- name: default\n  user:\n    client-certificate-data: U1RBTkQtSU4tQ0VSVA==\n"
        "    client-key-data: U1RBTkQtSU4tS0VZ\n"
    )


def write(path, text, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def save(nodes):
    write(STATE, json.dumps(nodes), 0o600)


def load():
    return json.load(open(STATE))


def main(argv):
    if argv[:1] in (["--version"], ["-v"]):
        print("k3s version %s (standin)\ngo version go1.22.9" % VERSION)
        return 0
    if argv[:1] == ["server"]:
        return server()
    if argv[:1] == ["agent"]:
        return agent()
    if argv[:1] == ["kubectl"]:
        return kubectl(argv[1:])
    print("usage: k3s [--version|server|agent|kubectl]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
