"""Sync waves walked in order: every object needs its namespace and its kind to exist when ArgoCD
applies it.

    faults = wave_faults(platform(), handmade_namespaces())   # [] when the waves hold

The Applications the root renders are synced wave by wave (lowest first, the next wave only once
the earlier ones are Healthy). An object of wave w may use a namespace or a custom kind that is
provided by the cluster as k3s starts it, by the ArgoCD install (its namespace and CRDs), by the
namespaces the README asks the operator to create by hand, or by an Application of a wave <= w:
its destination namespace when it syncs with ``CreateNamespace=true``, the Namespace objects and
CRDs it applies. Within one Application ArgoCD applies Namespaces and CRDs first; a custom
resource whose CRD comes in the same sync also needs ``SkipDryRunOnMissingResource=true``, or the
sync's dry run fails on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sandbox.argocd import AppRender, Platform
from sandbox.cluster import crd_api_versions
from sandbox.paths import REPO

__all__ = ["K3S_NAMESPACES", "WaveFault", "handmade_namespaces", "wave_faults"]

# The namespaces a new k3s cluster has (kube-system holds its add-ons).
K3S_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
README = REPO / "gitops" / "README.md"


@dataclass(frozen=True)
class WaveFault:
    app: str
    wave: int
    obj: str
    missing: str

    def __str__(self) -> str:
        return "wave %d %s: %s needs %s, which no earlier wave provides" % (self.wave, self.app, self.obj, self.missing)


def handmade_namespaces(readme: Path = README) -> set[str]:
    """The namespaces gitops/README.md tells the operator to create before the first sync."""
    return set(re.findall(r"kubectl create namespace ([a-z0-9-]+)", readme.read_text()))


def _provides(app: AppRender) -> tuple[set[str], set[str]]:
    namespaces = {o.name for o in app.objects if o.kind == "Namespace"}
    if "CreateNamespace=true" in app.sync_options and app.namespace:
        namespaces.add(app.namespace)
    return namespaces, crd_api_versions([o.obj for o in app.objects if o.kind == "CustomResourceDefinition"])


def wave_faults(p: Platform, handmade: set[str], argocd_namespace: str = "argocd") -> list[WaveFault]:
    from sandbox.argocd import _argocd_crds  # noqa: PLC0415

    namespaces = K3S_NAMESPACES | handmade | {argocd_namespace}
    kinds = set(p.cluster.builtin) | crd_api_versions(_argocd_crds())
    faults = []
    for wave in sorted({a.wave for a in p.apps if a.parent}):
        apps = [a for a in p.apps if a.parent and a.wave == wave]
        for app in apps:
            ns, k = _provides(app)
            namespaces |= ns
            kinds |= k
        for app in apps:
            own_crds = _provides(app)[1]
            for o in app.objects:
                label = "%s %s" % (o.kind, "%s/%s" % (o.namespace, o.name) if o.namespace else o.name)
                if o.namespace and o.namespace not in namespaces:
                    faults.append(WaveFault(app.name, wave, label, "namespace %s" % o.namespace))
                gvk = "%s/%s" % (o.obj["apiVersion"], o.kind)
                if "/" in o.obj["apiVersion"] and gvk not in kinds:
                    faults.append(WaveFault(app.name, wave, label, "the kind %s (no CRD)" % gvk))
                elif gvk in own_crds and "SkipDryRunOnMissingResource=true" not in app.sync_options:
                    faults.append(
                        WaveFault(
                            app.name, wave, label, "SkipDryRunOnMissingResource=true (its CRD comes in the same sync)"
                        )
                    )
    return faults
