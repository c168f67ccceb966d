# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is still billing in a project: instances, disks and addresses, optionally by label.

Read-only. The aggregated list of each kind is paged through by the client library and filtered
here by labels, so the answer does not depend on the API's filter syntax.
"""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gcp import GcpSession, short_name

__all__ = ["KINDS", "RESOURCES_ARG_SPEC", "list_resources"]

# kind -> (client, attribute of the scoped list)
KINDS = {
    "instances": ("InstancesClient", "instances"),
    "disks": ("DisksClient", "disks"),
    "addresses": ("AddressesClient", "addresses"),
}

RESOURCES_ARG_SPEC = dict(
    kinds=dict(type="list", elements="str", default=sorted(KINDS)),
    labels=dict(type="dict", default={}),
)


def _walk(pager, request):
    return list(pager(request=request))


def list_resources(params, session=None):
    """Returns ``{resources: [{kind, name, scope, status, labels, self_link}], count}``."""
    unknown = sorted(set(params["kinds"]) - set(KINDS))
    if unknown:
        raise InvalidInput("kinds %s are not listed; choose from %s" % (unknown, ", ".join(sorted(KINDS))))
    s = session or GcpSession(params)
    want = {k: str(v) for k, v in (params.get("labels") or {}).items()}
    out = []
    for kind in sorted(set(params["kinds"])):
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
                    }
                )
    return {"resources": out, "count": len(out), "api_retries": s.retried}
