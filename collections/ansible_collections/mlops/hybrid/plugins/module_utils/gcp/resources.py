# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is still billing in a project: instances, disks and addresses, optionally by label, and their cost.

Read-only. The aggregated list of each kind is paged through by the client library and filtered
here by labels, so the answer does not depend on the API's filter syntax. Each resource carries
what its price depends on (an instance's external IPv4, a disk's size and type, an address's type),
and ``cost`` is :func:`pricing.estimate` of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp import pricing
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.session import GcpSession, short_name

__all__ = ["KINDS", "ResourceQuery", "list_resources"]

# kind -> (client, attribute of the scoped list)
KINDS = {
    "instances": ("InstancesClient", "instances"),
    "disks": ("DisksClient", "disks"),
    "addresses": ("AddressesClient", "addresses"),
}


@dataclass(frozen=True)
class ResourceQuery:
    """What to list; the fields carry the names of mlops.hybrid.gcp_resources_info's options."""

    kinds: list = field(default_factory=lambda: sorted(KINDS))
    labels: dict = field(default_factory=dict)


def _walk(pager, request):
    return list(pager(request=request))


def _priced_fields(kind, res):
    """What the price of one resource depends on."""
    if kind == "instances":
        ips = [ac.nat_i_p for nic in res.network_interfaces for ac in nic.access_configs if ac.nat_i_p]
        return {"external_ip": ips[0] if ips else ""}
    if kind == "disks":
        return {"size_gb": int(res.size_gb or 0), "disk_type": short_name(res.type_)}
    return {"address": res.address, "address_type": res.address_type or "EXTERNAL"}


def list_resources(query, *, connection=None, session=None):
    """What a :class:`ResourceQuery` finds: ``{resources: [{kind, name, scope, status, labels, self_link, ...}],
    count, cost}``.

    The query is checked before ``session`` (or one built from the ``connection`` options) is used.
    """
    unknown = sorted(set(query.kinds) - set(KINDS))
    if unknown:
        raise InvalidInput("kinds %s are not listed; choose from %s" % (unknown, ", ".join(sorted(KINDS))))
    s = session or GcpSession(connection)
    want = {k: str(v) for k, v in (query.labels or {}).items()}
    out = []
    for kind in sorted(set(query.kinds)):
        client_name, attr = KINDS[kind]
        api = s.client(client_name)
        # list() inside the retried call: later pages are fetched while the pager is walked.
        pages = s.call("list %s" % kind, _walk, pager=api.aggregated_list, request={"project": s.project})
        for scope, scoped in pages:
            for res in getattr(scoped, attr):
                labels = dict(res.labels)
                if any(labels.get(k) != v for k, v in want.items()):
                    continue
                out.append(
                    {
                        "kind": kind[:-1] if kind != "addresses" else "address",
                        "name": res.name,
                        "scope": scope,
                        "status": res.status,
                        "labels": labels,
                        "self_link": res.self_link,
                        "detail": short_name(getattr(res, "machine_type", "")) if kind == "instances" else "",
                        **_priced_fields(kind, res),
                    }
                )
    return {"resources": out, "count": len(out), "cost": pricing.estimate(out), "api_retries": s.retried}
