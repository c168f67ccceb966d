#!/usr/bin/env bash
# Fetch the upstream files under tests/upstream/ again from their release URLs and rewrite
# tests/upstream/SHA256SUMS. Run it on a machine with network access when a pin moves, review
# `git diff tests/upstream`, then bump the pins in gitops/ and roles/ in the same commit.
#   scripts/refresh-upstream.sh [ARGOCD KSERVE CERT_MANAGER PROM_OPERATOR KPS]
# The KServe charts are OCI artifacts: `helm pull` (Helm 3.8 or later) is needed for them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/tests/upstream"
argocd=${1:-v3.5.1} kserve=${2:-v0.20.0} cm=${3:-v1.19.4} promop=${4:-v0.93.0} kps=${5:-88.2.0}
gh=https://raw.githubusercontent.com

fetch() {  # fetch URL DEST
  mkdir -p "$(dirname "$2")"
  curl --fail --silent --show-error --location --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"
  echo "fetched $1"
}

rm -rf "$out"/argocd-* "$out"/kserve-v* "$out"/cert-manager-v* "$out"/prometheus-operator-v* "$out/charts"
for f in install.yaml crds/application-crd.yaml crds/appproject-crd.yaml; do
  fetch "$gh/argoproj/argo-cd/$argocd/manifests/$f" "$out/argocd-$argocd/$(basename "$f")"
done
for k in inferenceservices servingruntimes clusterservingruntimes; do
  fetch "$gh/kserve/kserve/$kserve/config/crd/full/serving.kserve.io_$k.yaml" "$out/kserve-$kserve/serving.kserve.io_$k.yaml"
done
for k in prometheusrules servicemonitors podmonitors alertmanagerconfigs; do
  fetch "$gh/prometheus-operator/prometheus-operator/$promop/example/prometheus-operator-crd/monitoring.coreos.com_$k.yaml" \
    "$out/prometheus-operator-$promop/monitoring.coreos.com_$k.yaml"
done
fetch "https://charts.jetstack.io/charts/cert-manager-$cm.tgz" "$out/charts/cert-manager-$cm.tgz"
fetch "https://github.com/prometheus-community/helm-charts/releases/download/kube-prometheus-stack-$kps/kube-prometheus-stack-$kps.tgz" \
  "$out/charts/kube-prometheus-stack-$kps.tgz"
for c in kserve-crd kserve-resources; do
  helm pull "oci://ghcr.io/kserve/charts/$c" --version "$kserve" --destination "$out/charts"
done
# cert-manager's CRDs as its chart renders them with crds.enabled (one file per CRD).
mkdir -p "$out/cert-manager-$cm"
"$root/.venv/bin/python" - "$out/charts/cert-manager-$cm.tgz" "$out/cert-manager-$cm" <<'PY'
import sys
from pathlib import Path

import yaml
from helm_python import Chart

chart = Chart.load(sys.argv[1])
for doc in yaml.safe_load_all(chart.template("cert-manager", "cert-manager", values={"crds": {"enabled": True}})):
    if doc and doc.get("kind") == "CustomResourceDefinition":
        Path(sys.argv[2], doc["metadata"]["name"] + ".yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
PY
(cd "$out" && find . -type f ! -name SHA256SUMS ! -name README.md | sort | xargs sha256sum > SHA256SUMS)
echo "rewrote $out/SHA256SUMS; the pinned install.yaml sha256 is:"
grep "argocd-$argocd/install.yaml" "$out/SHA256SUMS"
