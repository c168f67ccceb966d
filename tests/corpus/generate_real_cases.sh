#!/usr/bin/env bash
# Re-create the corpus cases that come from running real tools on planted defects.
# Usage: tests/corpus/generate_real_cases.sh TOOLS_VENV OUT_DIR
# TOOLS_VENV is a throw-away virtualenv with: bandit pip-audit detect-secrets flake8 ruff pytest numpy
# (kept out of the project's pinned set on purpose: these outputs are data, not dependencies).
# Outputs differ run to run only in timings, addresses and temporary paths.
set -uo pipefail
V=$1
OUT=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
MAINPY=$(cd "$HERE/../.." && pwd)/.venv/bin/python
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cp -r "$HERE/planted/." "$W/"
cd "$W" || exit 1
run() { local name=$1; shift; "$@" >"$OUT/$name.log" 2>&1; echo "$name: exit $?"; }

# tests
run pytest_assert env PYTHONPATH=src "$V/bin/pytest" -p no:cacheprovider tests/test_features.py
run pytest_collection_error env PYTHONPATH=src "$V/bin/pytest" -p no:cacheprovider tests/test_import_error.py
run pytest_fixture_error env PYTHONPATH=src "$V/bin/pytest" -p no:cacheprovider -q tests/test_fixture.py
run pytest_verbose_param env PYTHONPATH=src "$V/bin/pytest" -p no:cacheprovider -v tests/test_param.py
run unittest_failure env PYTHONPATH=src "$V/bin/python" -m unittest -v tests.test_unit_style
# lint
run ruff_check "$V/bin/ruff" check --no-cache --select E,F,W,B,S --output-format concise src/
run ruff_format "$V/bin/ruff" format --no-cache --check src/
run flake8_errors "$V/bin/flake8" src/app/lint_me.py
run yamllint_errors "$(dirname "$MAINPY")/yamllint" -f parsable deploy/
# sast
run bandit_full "$V/bin/bandit" -r src/app/vuln.py
run bandit_ll "$V/bin/bandit" -r -ll -f screen src/app/serve_vuln.py
# sca
# pip-audit (--no-deps --disable-pip -r requirements-old.txt) could not reach PyPI's vulnerability data from the
# machine that generated the corpus ("Dependency not found on PyPI and could not be audited"), so the sca cases
# are public excerpts: see labels.json.
# secrets
run detect_secrets_scan "$V/bin/detect-secrets" scan --all-files secrets_demo/
run detect_secrets_hook "$V/bin/detect-secrets-hook" secrets_demo/settings.py secrets_demo/deploy.env
# training and model validation
run training_nan_loss "$V/bin/python" train_nan.py
run training_input_nan "$MAINPY" train_sklearn_nan.py
run training_shape_mismatch "$MAINPY" train_shape.py
run validation_accuracy_gate "$MAINPY" evaluate_gate.py
run validation_schema_mismatch "$MAINPY" evaluate_schema.py
run validation_drift_psi "$MAINPY" drift_check.py
# infra
run ansible_unreachable "$(dirname "$MAINPY")/ansible" all -i "127.0.0.1:1," -m ping -e ansible_user=nobody
run pip_no_matching_distribution "$V/bin/pip" install --no-cache-dir --dry-run 'scikit-learn==0.0.1'
run git_push_rejected bash -c 'git init -q -b main bare.git --bare && git init -q -b main w && cd w && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m one && git push ../bare.git main && git -c user.email=a@b -c user.name=a commit -q --amend --allow-empty -m two && git push ../bare.git main'

# Held-out cases: written after the extraction rules, never used to tune them (bench prints them apart).
H=$(realpath "$OUT/../heldout")
hrun() { local name=$1; shift; "$@" >"$H/$name.log" 2>&1; echo "heldout $name: exit $?"; }
hrun yamllint_standard "$(dirname "$MAINPY")/yamllint" deploy/
hrun ruff_full "$V/bin/ruff" check --no-cache --output-format full src/app/lint_me.py
hrun pytest_tb_line env PYTHONPATH=src "$V/bin/pytest" -p no:cacheprovider -q --tb=line tests/test_features.py
hrun pytest_tb_native env PYTHONPATH=src "$V/bin/pytest" -p no:cacheprovider --tb=native tests/test_features.py
hrun bandit_csv "$V/bin/bandit" -f csv -r src/app/vuln.py
hrun training_inf_features "$MAINPY" train_inf.py
hrun git_clone_missing git clone -q /nonexistent/repo.git clone-target
hrun ansible_task_failed "$(dirname "$MAINPY")/ansible-playbook" -i localhost, -c local fail_task.yml
exit 0
