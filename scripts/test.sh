#!/usr/bin/env bash
# Builds the `dev` preset and runs the test suites against a throwaway PostgreSQL server that it
# starts and removes itself. Extra arguments go to ctest, e.g.
#   scripts/test.sh -L unit        scripts/test.sh -L postgres        scripts/test.sh -R conformance -j2
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

cmake --preset dev
cmake --build --preset dev -j2

# ---- PostgreSQL ---------------------------------------------------------------------------------
# The PostgreSQL suites read the server's URL from JOBQ_TEST_POSTGRES_URL. Given one, we use it;
# otherwise we start a throwaway server (scripts/pg.sh) and destroy it on exit, whether the tests
# pass, fail or are interrupted. Tests that must stop and restart a server start private ones
# with the same script, found through JOBQ_PG_SCRIPT, in their temporary directories; those live
# under our scratch directory (TMPDIR), so a server left behind by a test that was killed
# half-way (a ctest timeout) is destroyed on exit too. Under /tmp, not $TMPDIR: as root the
# servers run as `postgres`, which must reach their directories.
export JOBQ_PG_SCRIPT="$PWD/scripts/pg.sh"
scratch="$(mktemp -d /tmp/jobq-test.XXXXXX)"
cleanup() {
    local status=$? marker
    while IFS= read -r -d '' marker; do
        bash "$JOBQ_PG_SCRIPT" destroy "$(dirname "$marker")" || true
    done < <(find "$scratch" -name .jobq-pg -print0 2>/dev/null)
    rm -rf "$scratch"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
export TMPDIR="$scratch/tmp"
mkdir -p "$TMPDIR"
if [[ -z "${JOBQ_TEST_POSTGRES_URL:-}" ]]; then
    JOBQ_TEST_POSTGRES_URL="$(bash scripts/pg.sh start "$scratch/pg" </dev/null)"
    export JOBQ_TEST_POSTGRES_URL
    echo "test.sh: throwaway PostgreSQL at $JOBQ_TEST_POSTGRES_URL (in $scratch/pg)"
else
    echo "test.sh: PostgreSQL at $JOBQ_TEST_POSTGRES_URL (from JOBQ_TEST_POSTGRES_URL)"
fi
# -------------------------------------------------------------------------------------------------

# ctest prints the "N% tests passed, M tests failed out of K" summary; its status is ours.
ctest --preset dev "$@"
