#!/usr/bin/env bash
# make demo: the platform's lifecycle on this machine, stage by stage, with no cloud account.
# Every stage prints what it does, writes its log under runs/<time>/, and the summary at the
# end says what ran, what was skipped and why. Nothing is reported that did not happen.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg" ANSIBLE_NOCOLOR=1
RUN_DIR=${RUN_DIR:-$root/runs/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$RUN_DIR"
started=$(date +%s)
summary=()
failed=0

log() { printf '\n==> %s\n' "$*"; }

# stage NAME FUNCTION: run FUNCTION, its output to the terminal and to RUN_DIR/NAME.log.
stage() {
  local name=$1 fn=$2 t0 rc
  log "$name"
  t0=$(date +%s)
  "$fn" 2>&1 | tee "$RUN_DIR/$name.log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then
    summary+=("ok       $name ($(( $(date +%s) - t0 )) s)")
  elif [ "$rc" -eq 75 ]; then
    summary+=("SKIPPED  $name: $(tail -n 1 "$RUN_DIR/$name.log")")
  else
    summary+=("FAILED   $name (exit $rc, log: $RUN_DIR/$name.log)")
    failed=1
  fi
}

# --- stages ----------------------------------------------------------------------------
build_collection() {
  ansible-galaxy collection build --force --output-path "$RUN_DIR" collections/ansible_collections/mlops/hybrid
}

document_modules() {
  local m n=0
  for m in collections/ansible_collections/mlops/hybrid/plugins/modules/*.py; do
    m=$(basename "$m" .py)
    ansible-doc --json "mlops.hybrid.$m" >"$RUN_DIR/ansible-doc-$m.json" || return 1
    printf '  mlops.hybrid.%-28s %s\n' "$m" \
      "$(python -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(iter(d.values()))["doc"]["short_description"])' \
        "$RUN_DIR/ansible-doc-$m.json")"
    n=$((n + 1))
  done
  echo "  $n module(s) documented"
}

sandbox_readiness() {
  ansible-playbook playbooks/sandbox.yml
}

stage collection-build build_collection
stage module-docs document_modules
stage sandbox-readiness sandbox_readiness

# --- summary ---------------------------------------------------------------------------
log "summary ($(( $(date +%s) - started )) s)"
for line in "${summary[@]}"; do echo "  $line"; done
echo "  logs and artifacts: $RUN_DIR"
exit $failed
