#!/usr/bin/env bash
# ansible-test sanity for the collection, with the interpreter of the project's virtualenv.
# ansible-test only sees files git knows about; run from a clean clone to check everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/collections/ansible_collections/mlops/hybrid"
echo "== ansible-test sanity"
exec "$root/.venv/bin/ansible-test" sanity --local --python 3.11 --color no "$@"
