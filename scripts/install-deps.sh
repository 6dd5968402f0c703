#!/usr/bin/env bash
# Installs the Debian packages jobq builds and tests with, and only those that are missing, so
# that a second run (CI, a developer's machine) costs one dpkg query per package and no network.
set -euo pipefail

packages=(
    # toolchain; clang and its runtime (libFuzzer, sanitizers) for scripts/fuzz.sh
    cmake ninja-build g++ ccache clang libclang-rt-14-dev
    # libraries (DESIGN.md section 6)
    libboost1.81-dev libsqlite3-dev libpqxx-dev libfmt-dev nlohmann-json3-dev
    libcurl4-openssl-dev libssl-dev doctest-dev libhowardhinnant-date-dev tzdata
    # PostgreSQL server, for the PostgreSQL test suites
    postgresql
    # the kinds' tests: HTTP and SMTP servers on Debian's python3 (aiosmtpd), certificates made
    # with the openssl command
    python3 python3-aiosmtpd openssl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
    # `dpkg -s` also succeeds for removed packages whose config files remain; only a fully
    # installed package counts.
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed$'; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"

as_root=()
if ((EUID != 0)); then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-deps: not root and no sudo; install these as root: ${missing[*]}" >&2
        exit 1
    fi
    # Without a terminal nobody can type a password: fail instead of hanging on a prompt.
    if [[ -t 0 ]]; then as_root=(sudo); else as_root=(sudo -n); fi
fi

export DEBIAN_FRONTEND=noninteractive
# `env` carries DEBIAN_FRONTEND through sudo, which resets the environment by default.
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
     -o DPkg::Lock::Timeout=300
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

"${apt[@]}" update
"${apt[@]}" install --no-install-recommends "${missing[@]}"
