"""The cost estimate: what bills by Google's rules, the free tier, and what the table cannot price."""

from __future__ import annotations

import pytest

from ansible_collections.mlops.hybrid.plugins.module_utils.gcp.pricing import PRICE_TABLE, estimate, region_of


def vm(name="k3s-server", status="RUNNING", machine="e2-small", ip="34.82.1.2", zone="us-west1-b"):
    return {"kind": "instance", "name": name, "scope": "zones/" + zone, "status": status, "detail": machine,
            "external_ip": ip}  # fmt: skip


def disk(name="k3s-server", size=20, kind="pd-balanced", zone="us-west1-b"):
    return {"kind": "disk", "name": name, "scope": "zones/" + zone, "status": "READY", "size_gb": size,
            "disk_type": kind}  # fmt: skip


def address(name="ip", status="RESERVED", ip="203.0.113.9", kind="EXTERNAL", region="us-west1"):
    return {"kind": "address", "name": name, "scope": "regions/" + region, "status": status, "address": ip,
            "address_type": kind}  # fmt: skip


def test_the_table_is_dated_and_names_its_sources():
    assert PRICE_TABLE["date"] == "2026-12-03" and PRICE_TABLE["currency"] == "USD"
    assert all(url.startswith("https://cloud.google.com/") for url in PRICE_TABLE["source"])


def test_the_platforms_vm_costs_its_machine_its_address_and_its_disk():
    cost = estimate([vm(), disk()])
    assert [(line["what"], line["monthly"]) for line in cost["lines"]] == [
        ("e2-small", 12.23),  # 0.01675 an hour, 730 hours
        ("external IPv4 34.82.1.2 in use", 3.65),
        ("20 GB pd-balanced", 2.0),
    ]
    assert cost["monthly"] == 17.88 and cost["monthly_after_free_tier"] == 17.88  # e2-small is not in the free tier
    assert cost["text"][-1].startswith("total 17.88 USD a month (0.0245 an hour), 17.88 after the free tier")


def test_a_stopped_vm_bills_its_disk_only_and_an_unused_static_address_the_higher_rate():
    cost = estimate([vm(status="TERMINATED"), disk(), address()])
    assert [line["what"] for line in cost["lines"]] == ["20 GB pd-balanced", "static IPv4 203.0.113.9 reserved, unused"]
    assert cost["lines"][1]["monthly"] == 7.30 and cost["monthly"] == 9.30


def test_a_static_address_in_use_is_priced_once():
    cost = estimate([vm(ip="203.0.113.9"), address(status="IN_USE")])
    assert [line["what"] for line in cost["lines"]] == ["e2-small", "static IPv4 203.0.113.9 in use"]
    assert estimate([address(kind="INTERNAL")])["lines"] == []


def test_the_free_tier_takes_one_e2_micro_and_30_gb_of_standard_disk_in_its_regions():
    cost = estimate([vm(machine="e2-micro", ip=""), disk(size=30, kind="pd-standard")])
    assert cost["monthly"] == pytest.approx(6.12 + 1.20) and cost["monthly_after_free_tier"] == 0.0
    two = estimate(
        [vm("a", machine="e2-micro", ip=""), vm("b", machine="e2-micro", ip=""), disk(size=40, kind="pd-standard")]
    )
    assert two["monthly_after_free_tier"] == pytest.approx(6.12 + 0.40)  # the second VM and 10 GB bill
    away = estimate([vm(machine="e2-micro", ip="", zone="europe-west1-b")])
    assert away["lines"] == [] and away["unpriced"] == [
        {"kind": "instance", "name": "k3s-server", "scope": "zones/europe-west1-b",
         "reason": "region europe-west1 is not in the price table"}]  # fmt: skip


def test_what_the_table_has_no_price_for_is_named_not_guessed():
    cost = estimate([vm(machine="n2-standard-8"), disk(kind="hyperdisk-extreme")])
    assert [u["reason"] for u in cost["unpriced"]] == [
        "machine type n2-standard-8 is not in the price table",
        "disk type hyperdisk-extreme is not in the price table",
    ]
    assert cost["monthly"] == 0.0 and cost["text"][-1].endswith("some resources not priced")


@pytest.mark.parametrize(
    ("scope", "region"), [("zones/us-west1-b", "us-west1"), ("regions/us-east1", "us-east1"), ("", "")]
)
def test_region_of(scope, region):
    assert region_of(scope) == region
