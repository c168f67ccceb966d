# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the resources found in a project cost: a pinned, dated price table and the estimate from it.

    cost = pricing.estimate(resources)   # what gcp_resources_info lists
    cost["monthly"], cost["monthly_after_free_tier"], cost["lines"]

The table holds Google's on-demand list prices in USD for the regions of the Compute Engine free
tier: E2 machine types per hour, persistent disks per GB-month and external IPv4 addresses per
hour. It was written on ``PRICE_TABLE["date"]`` with the prices those pages (``source``) list for E2
on-demand VMs, Standard/Balanced/SSD persistent disk and the IPv4 charge in force since 2024-02-01,
as known then: the machine it was written on could not reach the pages. Prices change: compare
with the pages, then update the figures and the date here.

What bills, as Google counts it: a VM's machine type while it runs (not when TERMINATED), each disk
by its provisioned size whatever the VM does, an external IPv4 address in use by a running VM, and
a reserved static address that nothing uses (at the higher rate). The free tier takes one e2-micro
VM's hours and 30 GB-months of standard persistent disk a month off, in the regions it names;
``monthly_after_free_tier`` applies it. A resource the table has no price for is listed in
``unpriced`` with the reason, never guessed.
"""

from __future__ import annotations

__all__ = ["PRICE_TABLE", "estimate", "region_of"]

HOURS_PER_MONTH = 730  # Google's monthly figures count 730 hours

PRICE_TABLE = {
    "date": "2026-12-03",
    "currency": "USD",
    "source": [
        "https://cloud.google.com/compute/vm-instance-pricing#e2_machine_types",
        "https://cloud.google.com/compute/disks-image-pricing#disk",
        "https://cloud.google.com/vpc/network-pricing#ipaddress",
        "https://cloud.google.com/free/docs/free-cloud-features#compute",
    ],
    "hours_per_month": HOURS_PER_MONTH,
    # Per region: machine type -> USD per hour; disk type -> USD per GB-month; IPv4 -> USD per hour.
    "regions": {
        region: {
            "machine": {
                "e2-micro": 0.00838,
                "e2-small": 0.01675,
                "e2-medium": 0.03351,
                "e2-standard-2": 0.06701,
                "e2-standard-4": 0.13402,
            },
            "disk": {"pd-standard": 0.04, "pd-balanced": 0.10, "pd-ssd": 0.17},
            "ipv4": {"in_use": 0.005, "unused": 0.01},
        }
        for region in ("us-west1", "us-central1", "us-east1")
    },
    "free_tier": {
        "regions": ["us-west1", "us-central1", "us-east1"],
        "machine_type": "e2-micro",
        "instances": 1,
        "disk_type": "pd-standard",
        "disk_gb_months": 30,
    },
}

RUNNING = {"PROVISIONING", "STAGING", "RUNNING", "REPAIRING", "STOPPING", "SUSPENDING"}


def region_of(scope):
    """``zones/us-west1-b`` -> ``us-west1``; ``regions/us-west1`` -> ``us-west1``."""
    kind, _slash, name = (scope or "").partition("/")
    return name.rsplit("-", 1)[0] if kind == "zones" else name


def _line(res, what, hourly=None, gb_month=None):
    hours = HOURS_PER_MONTH
    monthly = hourly * hours if hourly is not None else gb_month
    return {
        "kind": res["kind"],
        "name": res["name"],
        "scope": res["scope"],
        "what": what,
        "hourly": round(monthly / hours, 5),
        "monthly": round(monthly, 2),
    }


def _instance(res, prices, static_ips):
    if res["status"] not in RUNNING:
        return []  # a stopped VM bills its disks (their own lines), not its machine type
    mt = res.get("detail") or ""
    if mt not in prices["machine"]:
        return "machine type %s is not in the price table" % mt
    out = [_line(res, mt, hourly=prices["machine"][mt])]
    ip = res.get("external_ip")
    if ip and ip not in static_ips:  # a static address is priced on its own line
        out.append(_line(res, "external IPv4 %s in use" % ip, hourly=prices["ipv4"]["in_use"]))
    return out


def _disk(res, prices, _static_ips):
    dt = res.get("disk_type") or ""
    if dt not in prices["disk"]:
        return "disk type %s is not in the price table" % dt
    size = int(res.get("size_gb") or 0)
    return [_line(res, "%d GB %s" % (size, dt), gb_month=size * prices["disk"][dt])]


def _address(res, prices, _static_ips):
    if (res.get("address_type") or "EXTERNAL") != "EXTERNAL":
        return []  # internal addresses do not bill
    used = res["status"] == "IN_USE"
    what = "static IPv4 %s %s" % (res.get("address", ""), "in use" if used else "reserved, unused")
    return [_line(res, what, hourly=prices["ipv4"]["in_use" if used else "unused"])]


# kind -> the lines of one resource (a list), or the reason it has no price (a string)
_PRICERS = {"instance": _instance, "disk": _disk, "address": _address}


def _free_tier(lines, resources, table):
    """USD a month the free tier takes off ``lines``: one e2-micro's hours, 30 GB-months of standard disk."""
    free = table["free_tier"]
    where = {(r["kind"], r["name"], r["scope"]): r for r in resources}
    off, machines, disk_gb = 0.0, free["instances"], free["disk_gb_months"]
    for line in lines:
        res = where[(line["kind"], line["name"], line["scope"])]
        if region_of(res["scope"]) not in free["regions"]:
            continue
        if line["kind"] == "instance" and line["what"] == free["machine_type"] and machines > 0:
            machines -= 1
            off += line["monthly"]
        elif line["kind"] == "disk" and res.get("disk_type") == free["disk_type"] and disk_gb > 0:
            size = int(res.get("size_gb") or 0)
            covered = min(size, disk_gb)
            disk_gb -= covered
            off += line["monthly"] * covered / size if size else 0.0
    return off


def estimate(resources, table=None):
    """What ``resources`` (gcp_resources_info's list) cost per hour and per month, line by line (``table``: the
    price table, PRICE_TABLE by default)."""
    table = table or PRICE_TABLE
    static_ips = {r.get("address") for r in resources if r["kind"] == "address" and r.get("address")}
    lines, unpriced = [], []
    for res in resources:
        region = region_of(res["scope"])
        prices = table["regions"].get(region)
        pricer = _PRICERS.get(res["kind"])
        if pricer is None:
            priced = "kind %s is not priced" % res["kind"]
        elif prices is None:
            priced = "region %s is not in the price table" % (region or "?")
        else:
            priced = pricer(res, prices, static_ips)
        if isinstance(priced, str):
            unpriced.append({"kind": res["kind"], "name": res["name"], "scope": res["scope"], "reason": priced})
        else:
            lines += priced
    monthly = sum(line["monthly"] for line in lines)
    after = max(0.0, monthly - _free_tier(lines, resources, table))
    currency = table["currency"]
    text = [
        "%s %s (%s): %.2f %s a month" % (ln["kind"], ln["name"], ln["what"], ln["monthly"], currency) for ln in lines
    ]
    text += ["%s %s: not priced (%s)" % (u["kind"], u["name"], u["reason"]) for u in unpriced]
    hourly = monthly / HOURS_PER_MONTH
    partial = ", some resources not priced" if unpriced else ""
    text.append(
        "total %.2f %s a month (%.4f an hour), %.2f after the free tier; list prices of %s%s"
        % (monthly, currency, hourly, after, table["date"], partial)
    )
    return {
        "table_date": table["date"],
        "currency": currency,
        "hourly": round(hourly, 5),
        "monthly": round(monthly, 2),
        "monthly_after_free_tier": round(after, 2),
        "lines": lines,
        "unpriced": unpriced,
        "text": text,
    }
