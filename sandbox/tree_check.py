"""The check CD runs before it commits: the GitOps tree of a checkout rendered as ArgoCD's repo server
renders it (sandbox/argocd.py), every object validated strictly (sandbox/k8s_schema.py) and every
chart's values checked against the keys the chart defines.

    findings = tree_findings(Path("../manifests"))   # [] when ArgoCD would apply it as it is
    python scripts/validate-gitops.py ../manifests   # prints each finding, exit status 1 when any

A finding names the object, where it comes from, the field and the message:
``Deployment mlops/mlflow (chart gitops/platform/mlflow (templates/deployment.yaml)): spec.replicas:
'two' is not of type 'integer'``. A tree that does not render at all is one finding saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helm_python import HelmError

from .argocd import REPO_URL, RenderError, platform
from .charts import ChartError
from .k8s_schema import SchemaValidator, describe

__all__ = ["main", "tree_findings"]


def tree_findings(root: Path, repo_url: str = REPO_URL, revision: str = "main") -> list[str]:
    """What is wrong with the tree under ``root`` (its ``gitops/`` folder), as committed."""
    if not (root / "gitops" / "bootstrap" / "Chart.yaml").is_file():
        return ["%s holds no gitops/bootstrap chart: give the top of a checkout of the GitOps repository" % root]
    try:
        p = platform(repo_url, revision, released=False, root=root.resolve())
    except (RenderError, ChartError, HelmError) as e:  # Helm's own errors (template, values schema) name the chart
        return ["the tree does not render: %s" % e]
    validator = SchemaValidator(extra_crds=p.crds())
    findings = [
        "%s (%s): %s" % (describe(o.obj), o.source, error) for o in p.objects() for error in validator.errors(o.obj)
    ]
    findings += [
        "%s (Application %s): value %s is not a key the chart defines" % (c.chart, c.application, key)
        for c in p.charts()
        for key in c.unknown
    ]
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="the top of a checkout whose gitops/ folder is checked")
    parser.add_argument("--repo-url", default=REPO_URL, help="the repository the root Application follows")
    parser.add_argument("--revision", default="main", help="the revision the Applications follow")
    args = parser.parse_args(argv)
    # Run from a play (cd.yml through ansible-runner), the environment carries that run's callback
    # settings; the roles' configuration is rendered by a run of its own (sandbox/cluster.py).
    for key in [k for k in os.environ if k.startswith(("ANSIBLE_", "AWX_")) and k != "ANSIBLE_CONFIG"]:
        del os.environ[key]
    findings = tree_findings(args.root, args.repo_url, args.revision)
    for finding in findings:
        print(finding)
    if findings:
        print("%d finding(s): ArgoCD would not apply %s/gitops as it is" % (len(findings), args.root), file=sys.stderr)
        return 1
    print("%s/gitops renders and every object validates" % args.root)
    return 0
