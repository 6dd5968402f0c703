#!/usr/bin/env bash
# Builds and runs examples/quickstart from a fresh temporary directory, so the database it
# creates lands there and not in the work tree. Pass --keep to keep that directory.
set -euo pipefail

keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/install-deps.sh
cmake --preset dev
cmake --build --preset dev -j2 --target quickstart

# The example's CMakeLists decides where the binary goes; look for it rather than guess.
exe="$(find "$repo/build/dev" -type f -name quickstart -perm -u+x -print -quit)"
if [[ -z "$exe" ]]; then
    echo "quickstart.sh: built target 'quickstart' but found no executable under build/dev" >&2
    exit 1
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/jobq-quickstart.XXXXXX")"
if ((keep)); then
    echo "quickstart.sh: running in $workdir (kept)"
else
    trap 'rm -rf "$workdir"' EXIT
fi
cd "$workdir"
"$exe"
