#!/usr/bin/env bash
# Run the test suite with the project's virtualenv. Extra arguments go to pytest.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/.venv/bin/python" -m pytest "$@"
rc=$?
# pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
if [ $rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit $rc
