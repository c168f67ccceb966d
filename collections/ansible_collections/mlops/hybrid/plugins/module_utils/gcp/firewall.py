# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VPC firewall rule brought to the state the user asked for.

Fetch -> compare the fields the user set -> insert, patch or delete -> return the rule as it now
is. A rule open to the whole Internet (0.0.0.0/0 or ::/0) is refused unless ``allow_world`` says
so: the k3s API port must be open only to the worker's public address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import GcpSession, short_name

try:
    from google.cloud import compute_v1
except ImportError:  # GcpSession reports the missing library
    compute_v1 = None

__all__ = ["FirewallSpec", "ensure_firewall", "firewall_summary", "normalize_allowed"]


@dataclass(frozen=True)
class FirewallSpec:
    """The rule asked for; the fields carry the names of mlops.hybrid.gcp_firewall's options."""

    name: str
    state: str = "present"
    network: str = "default"
    description: str = ""
    priority: int = 1000
    allowed: list = field(default_factory=list)
    source_ranges: list = field(default_factory=list)
    target_tags: list = field(default_factory=list)
    allow_world: bool = False


PROTOCOLS = ("tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all")
PORT_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


def normalize_allowed(allowed):
    """``[{protocol, ports}]`` sorted, protocols lower-case, ports as strings, validated."""
    out = []
    for rule in allowed:
        proto = str(rule["protocol"]).lower()
        if proto not in PROTOCOLS:
            raise InvalidInput("allowed protocol %r is not one of %s" % (rule["protocol"], ", ".join(PROTOCOLS)))
        ports = [str(x) for x in rule.get("ports") or []]
        for port in ports:
            m = PORT_RE.match(port)
            if (
                not m
                or not all(0 < int(g) < 65536 for g in m.groups() if g)
                or (m.group(2) and int(m.group(2)) < int(m.group(1)))
            ):
                raise InvalidInput("port %r of %s is not a port (6443) or a range (30000-32767)" % (port, proto))
            if proto not in ("tcp", "udp", "sctp"):
                raise InvalidInput("protocol %s takes no ports (got %s)" % (proto, ports))
        out.append({"protocol": proto, "ports": sorted(set(ports))})
    return sorted(out, key=lambda r: (r["protocol"], r["ports"]))


def _validate(p):
    if p.state == "absent":
        return
    if not p.allowed:
        raise InvalidInput("allowed is empty: name at least one protocol (and ports) the rule opens")
    normalize_allowed(p.allowed)
    if not p.source_ranges:
        raise InvalidInput(
            "source_ranges is empty: an ingress rule without sources is open to 0.0.0.0/0 on GCP; name the "
            "CIDRs (the worker's public address as a.b.c.d/32)"
        )
    for cidr in p.source_ranges:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError as e:
            raise InvalidInput("source range %r is not a CIDR such as 203.0.113.7/32 (%s)" % (cidr, e)) from e
        if net.prefixlen == 0 and not p.allow_world:
            raise InvalidInput(
                "source range %s opens rule %s to the whole Internet: give the addresses that need it (the "
                "worker's public IP as a.b.c.d/32) or set allow_world: true if that is really meant" % (cidr, p.name)
            )
    if not 0 <= p.priority <= 65535:
        raise InvalidInput("priority %d is outside 0-65535" % p.priority)


def firewall_summary(fw):
    return {
        "name": fw.name,
        "network": short_name(fw.network),
        "description": fw.description,
        "priority": fw.priority,
        "direction": fw.direction,
        "allowed": normalize_allowed([{"protocol": a.I_p_protocol, "ports": list(a.ports)} for a in fw.allowed]),
        "source_ranges": sorted(fw.source_ranges),
        "target_tags": sorted(fw.target_tags),
        "self_link": fw.self_link,
    }


def _comparable(summary):
    keys = ("network", "description", "priority", "allowed", "source_ranges", "target_tags")
    return {k: summary[k] for k in keys} if summary else None


def _desired(p):
    return {
        "network": p.network,
        "description": p.description,
        "priority": p.priority,
        "allowed": normalize_allowed(p.allowed),
        "source_ranges": sorted({str(ipaddress.ip_network(c, strict=False)) for c in p.source_ranges}),
        "target_tags": sorted(set(p.target_tags)),
    }


def _resource(s, p, desired):
    return compute_v1.Firewall(
        name=p.name,
        network="projects/%s/global/networks/%s" % (s.project, desired["network"]),
        description=desired["description"],
        priority=desired["priority"],
        direction="INGRESS",
        allowed=[compute_v1.Allowed(I_p_protocol=r["protocol"], ports=r["ports"]) for r in desired["allowed"]],
        source_ranges=desired["source_ranges"],
        target_tags=desired["target_tags"],
    )


def ensure_firewall(rule, *, connection=None, session=None, check_mode=False):
    """Converge one ingress rule (a :class:`FirewallSpec`). Returns ``{changed, firewall, action, diff, api_retries}``.

    The rule is validated before ``session`` (or one built from the ``connection`` options) is used.
    """
    p = rule
    _validate(p)
    s = session or GcpSession(connection)
    api = s.client("FirewallsClient")
    where = {"project": s.project, "firewall": p.name}
    what = "firewall rule %s" % p.name
    current = s.get_or_none("get " + what, api.get, **where)
    summary = firewall_summary(current) if current is not None else None
    before = _comparable(summary)
    desired = None if p.state == "absent" else _desired(p)
    if desired is None:
        action = "delete" if current is not None else None
    elif current is None:
        action = "insert"
    elif desired["network"] != before["network"]:
        raise InvalidInput(
            "%s exists on network %s, %s asked: a rule cannot move between networks; delete it first or "
            "choose another name" % (what, before["network"], desired["network"])
        )
    else:
        action = "patch" if desired != before else None
    result = {
        "changed": action is not None,
        "action": action,
        "firewall": summary,
        "diff": {"before": before or {}, "after": desired or {}},
    }
    if check_mode or action is None:
        result["api_retries"] = s.retried
        return result
    if action == "delete":
        s.wait("delete " + what, s.mutate("delete " + what, api.delete, **where))
        result["firewall"] = None
    else:
        body = _resource(s, p, desired)
        if action == "insert":
            op = s.mutate("create " + what, api.insert, project=s.project, firewall_resource=body)
        else:
            op = s.mutate("update " + what, api.patch, **where, firewall_resource=body)
        s.wait("%s %s" % ("create" if action == "insert" else "update", what), op)
        result["firewall"] = firewall_summary(s.call("get " + what, api.get, **where))
    result["api_retries"] = s.retried
    return result
