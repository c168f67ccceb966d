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

# CT/CD as the model pipeline runs it (ansible-runner on playbooks/ct.yml and cd.yml), against a
# local MLflow server and a local manifests remote. Their state lives in runs/cicd/ and survives
# between runs, so a second `make demo` with model/ unchanged trains, registers and commits nothing.
cicd_dir="$root/runs/cicd"
cicd_mlflow_pid=""

cicd_stop_mlflow() {
  if [ -n "$cicd_mlflow_pid" ]; then
    kill -TERM -- "-$cicd_mlflow_pid" 2>/dev/null
    wait "$cicd_mlflow_pid" 2>/dev/null
    cicd_mlflow_pid=""
  fi
}

cicd_start_mlflow() {
  local port i
  port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$cicd_dir/mlflow"
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false setsid mlflow server \
    --backend-store-uri "sqlite:///$cicd_dir/mlflow/mlflow.db" --serve-artifacts \
    --artifacts-destination "$cicd_dir/mlflow/artifacts" --host 127.0.0.1 --port "$port" --workers 1 \
    >"$RUN_DIR/mlflow-server.log" 2>&1 &
  cicd_mlflow_pid=$!
  export MLFLOW_TRACKING_URI="http://127.0.0.1:$port"
  for i in $(seq 1 180); do
    if python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "$MLFLOW_TRACKING_URI/health" 2>/dev/null; then
      echo "  MLflow tracking server on $MLFLOW_TRACKING_URI (state in $cicd_dir/mlflow, ready after $((i / 2)) s)"
      return 0
    fi
    kill -0 "$cicd_mlflow_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "MLflow server did not start; log: $RUN_DIR/mlflow-server.log"
  tail -n 20 "$RUN_DIR/mlflow-server.log"
  return 1
}

cicd_manifests_remote() {
  local seed
  # A remote seeded before the image pins moved to gitops/apps/values.yaml is made anew.
  if [ -d "$cicd_dir/manifests.git" ] && ! git -C "$cicd_dir/manifests.git" cat-file -e main:gitops/apps/values.yaml 2>/dev/null; then
    rm -rf "$cicd_dir/manifests.git" "$cicd_dir/manifests"
  fi
  if [ ! -d "$cicd_dir/manifests.git" ]; then
    git init --quiet --bare --initial-branch main "$cicd_dir/manifests.git"
    seed=$(mktemp -d)
    git clone --quiet "$cicd_dir/manifests.git" "$seed/work" 2>/dev/null
    cp -r gitops "$seed/work/"
    git -C "$seed/work" add --all
    git -C "$seed/work" -c user.name="make demo" -c user.email=demo@localhost commit --quiet \
      -m "Seed the manifests with gitops/"
    git -C "$seed/work" push --quiet origin main
    rm -rf "$seed"
    echo "  created the local manifests remote $cicd_dir/manifests.git"
  fi
  [ -d "$cicd_dir/manifests" ] || git clone --quiet "$cicd_dir/manifests.git" "$cicd_dir/manifests"
}

cicd_runner() {
  # $1: playbook; the same command line as the workflow's ansible-runner steps.
  ansible-runner run "$RUN_DIR/runner-$(basename "$1" .yml)" --project-dir "$root" \
    --playbook "$1" --inventory "$root/inventories/sandbox/hosts.yml"
}

ct_cd() {
  local missing rc ct_changed cd_changed
  missing=$(python -c 'import importlib.util as u; print(" ".join(m for m in ("mlflow", "sklearn", "ansible_runner") if not u.find_spec(m)))')
  command -v git >/dev/null || missing="$missing git"
  if [ -n "$missing" ] || [ ! -f gitops/apps/values.yaml ]; then
    echo "CT/CD needs${missing:+ $missing} (make install) and gitops/apps/values.yaml"
    return 75
  fi
  mkdir -p "$cicd_dir"
  cicd_start_mlflow || { cicd_stop_mlflow; return 1; }
  cicd_manifests_remote
  rc=0
  log "CT: train -> gate -> register (playbooks/ct.yml)"
  CT_WORK_DIR="$cicd_dir/ct" cicd_runner playbooks/ct.yml | tee "$RUN_DIR/ct.out" || rc=1
  if [ $rc -eq 0 ]; then
    log "CD: bump the image in the manifests remote (playbooks/cd.yml)"
    # No registry here: the tag names the registered version; `make model-bundle MODEL_URI=models:/<name>/<version>`
    # then `make model-image` would build the image that carries it.
    eval "$(python - "$cicd_dir/ct/ct-result.json" <<'EOF'
import json, shlex, sys
r = json.load(open(sys.argv[1]))
print("export CD_MODEL_NAME=%s CD_MLFLOW_RUN_ID=%s GITHUB_SHA=%s CD_TAG=%s" % tuple(
    shlex.quote(v) for v in (r["name"], r["run_id"], r["revision"], "v%s-%s" % (r["version"], r["model_tree"][:12]))))
EOF
)"
    CD_REPO_PATH="$cicd_dir/manifests" CD_IMAGE=ghcr.io/mlops-hybrid/model cicd_runner playbooks/cd.yml \
      | tee "$RUN_DIR/cd.out" || rc=1
  fi
  cicd_stop_mlflow
  [ $rc -eq 0 ] || return 1
  log "manifests remote, newest commits"
  git -C "$cicd_dir/manifests.git" log -3 --format='  %h %an: %s' main
  ct_changed=$(grep -Eo 'changed=[0-9]+' "$RUN_DIR/ct.out" | tail -n 1)
  cd_changed=$(grep -Eo 'changed=[0-9]+' "$RUN_DIR/cd.out" | tail -n 1)
  echo "  CT ${ct_changed}, CD ${cd_changed}; champion ${CD_MODEL_NAME}@champion, image tag ${CD_TAG}"
}
stage ct-cd ct_cd

# The alert loop (scripts/demo_loop.py, Python): the registered model served from MLflow, Prometheus
# with the repository's rules, Alertmanager with its routing, the alert bridge, a GitHub fake standing
# in for GitHub; injected drift -> alert -> dispatch -> drift analysis -> report in the run folder.
# The services keep running afterwards (DEMO_KEEP_RUNNING=0 stops them at once); make demo-stop.
alert_loop() {
  python scripts/demo_loop.py run --run-dir "$RUN_DIR" --state "$root/runs/cicd"
}
stage alert-loop alert_loop

# --- summary ---------------------------------------------------------------------------
log "summary ($(( $(date +%s) - started )) s)"
for line in "${summary[@]}"; do echo "  $line"; done
echo "  logs and artifacts: $RUN_DIR"
[ -f "$RUN_DIR/alert-loop.summary" ] && sed 's/^/  /' "$RUN_DIR/alert-loop.summary"
exit $failed
