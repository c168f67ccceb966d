"""The Applications walked in sync-wave order: no object needs a namespace or a custom kind that
no earlier (or the same) wave, the ArgoCD install, k3s or the README's hand-made list provides.
A fault would leave its Application Progressing forever, and every later wave waiting."""

from __future__ import annotations

import copy
import dataclasses

from sandbox.argocd import platform
from tests.helpers.waves import handmade_namespaces, wave_faults


def test_the_waves_hold():
    p = platform()
    order = sorted((a.wave, a.name) for a in p.apps if a.parent)
    print("\n" + "\n".join("wave %d: %s" % w for w in order))
    faults = wave_faults(p, handmade_namespaces())
    print("wave walk: %d Applications, %d faults" % (len(order), len(faults)))
    assert [str(f) for f in faults] == []


def test_every_wave_is_distinct_and_in_dependency_order():
    apps = {a.name: a.wave for a in platform().apps if a.parent == "root"}
    order = ["cert-manager", "kserve", "monitoring", "mlflow", "alert-bridge", "model-breast-cancer"]
    assert sorted(apps, key=apps.get) == order, apps
    assert len(set(apps.values())) == len(apps)


def _moved(p, kind, from_app, to_app):
    """A copy of the platform with the objects of ``kind`` of one Application moved to another."""
    apps = [dataclasses.replace(a, objects=list(a.objects)) for a in p.apps]
    src = next(a for a in apps if a.name == from_app)
    dst = next(a for a in apps if a.name == to_app)
    moving = [o for o in src.objects if o.kind == kind]
    assert moving, "%s has no %s" % (from_app, kind)
    src.objects = [o for o in src.objects if o.kind != kind]
    dst.objects = dst.objects + [copy.deepcopy(o) for o in moving]
    return dataclasses.replace(p, apps=apps)


def test_the_bridge_role_in_models_before_models_exists_is_a_fault():
    # How the tree was: the alert-bridge Application (wave 4) held the Role and RoleBinding in
    # `models`, which only the model's Application (wave 5) creates.
    faults = wave_faults(_moved(platform(), "Role", "model-breast-cancer", "alert-bridge"), handmade_namespaces())
    print("\n".join(str(f) for f in faults))
    assert [(f.app, f.missing) for f in faults] == [("alert-bridge", "namespace models")]


def test_a_custom_resource_before_its_crd_is_a_fault():
    # A ServiceMonitor (CRD from the monitoring chart, wave 2) moved into cert-manager (wave 0).
    p = _moved(platform(), "ServiceMonitor", "alert-bridge", "cert-manager")
    faults = wave_faults(p, handmade_namespaces())
    assert any("ServiceMonitor" in f.obj and "no CRD" in f.missing and f.wave == 0 for f in faults), faults


def test_the_handmade_list_counts():
    p = platform()
    assert wave_faults(p, handmade_namespaces()) == []
    # Without the README's list (and without CreateNamespace) nothing would create `models`.
    assert "models" not in handmade_namespaces()
