#!/usr/bin/env bash
# Runs the PERF.md workloads on SQLite (NORMAL and FULL) and the raw-SQL floor, and with --pg
# on a PostgreSQL database too, each REPS times (default 3), printing one JSON line per run;
# quote medians. Build a Release tree first:
#   cmake --preset release && cmake --build --preset release --target jobq-bench jobq-sqlite-floor jobq-postgres-floor jobq-http-bench demo_worker
#   bench/run_suite.sh [--pg URL] [--no-sqlite] build/release /path/on/the/disk/to/measure [REPS]
# --pg URL       also run every workload on PostgreSQL (postgresql://USER@HOST:PORT/DB). Each run
#                drops and recreates its schema: ?schema=NAME, default jobq_bench. The suite
#                sets ?pool_size per workload (one given in URL is replaced).
# --no-sqlite    skip the SQLite workloads and the floor (with --pg: PostgreSQL only)
# Also measures demo_worker's idle CPU over 10 s on each backend. Long: the sustained run
# processes 1M jobs.
set -euo pipefail

usage="usage: run_suite.sh [--pg URL] [--no-sqlite] BUILD_DIR WORK_DIR [REPS]"
pg_url=""
sqlite=1
while [[ $# -gt 0 && $1 == --* ]]; do
    case "$1" in
        --pg) pg_url="${2:?--pg needs a postgresql:// URL}"; shift 2 ;;
        --no-sqlite) sqlite=0; shift ;;
        *) echo "run_suite.sh: unknown option '$1'" >&2; echo "$usage" >&2; exit 2 ;;
    esac
done
build="${1:?$usage}"
work="${2:?$usage}"
reps="${3:-3}"
if [[ $sqlite == 0 && -z $pg_url ]]; then
    echo "run_suite.sh: --no-sqlite leaves nothing to run without --pg" >&2
    exit 2
fi
case "$pg_url" in
    "" | postgresql://* | postgres://*) ;;
    *) echo "run_suite.sh: --pg: expected a postgresql:// URL, got '$pg_url'" >&2; exit 2 ;;
esac
bench="$build/bench/jobq-bench"
floor="$build/bench/jobq-sqlite-floor"
pg_floor="$build/bench/jobq-postgres-floor"
worker="$build/examples/demo_worker"
mkdir -p "$work"
db="$work/bench.db"

run() {  # echo the command on stderr (no URL password), the JSON line on stdout
    echo "+ $*" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#g; s#([?&]password=)[^& ]*#\1***#g' >&2
    "$@"
}

# `with_params URL a=b c=d`: URL with the parameters appended to its query.
with_params() {
    local url="$1"
    shift
    local p
    for p in "$@"; do
        if [[ $url == *\?* ]]; then url="$url&$p"; else url="$url?$p"; fi
    done
    printf '%s' "$url"
}

# `without_param URL NAME`: URL without its NAME=... query parameter.
without_param() {
    local url="$1" name="$2" base query kept="" item
    [[ $url == *\?* ]] || { printf '%s' "$url"; return; }
    base="${url%%\?*}"
    query="${url#*\?}"
    IFS='&' read -ra items <<<"$query"
    for item in "${items[@]}"; do
        [[ $item == "$name="* || -z $item ]] && continue
        kept="${kept:+$kept&}$item"
    done
    printf '%s' "$base${kept:+?$kept}"
}

# Idle CPU: utime + stime of an idle demo_worker over 10 s, from /proc/<pid>/stat (clock ticks).
idle_pid=""
idle_cpu() {  # idle_cpu BACKEND_LABEL DB
    local label="$1" idle_db="$2" out="$work/idle.out" t0 t1 hz
    "$worker" --db "$idle_db" >"$out" 2>&1 &
    idle_pid=$!
    trap 'kill "$idle_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 100); do grep -q "ready" "$out" && break; sleep 0.1; done
    ticks() { awk '{print $14 + $15}' "/proc/$idle_pid/stat"; }
    sleep 1  # past start-up
    t0=$(ticks)
    sleep 10
    t1=$(ticks)
    hz=$(getconf CLK_TCK)
    kill -TERM "$idle_pid"
    wait "$idle_pid"
    trap - EXIT
    awk -v d=$((t1 - t0)) -v hz="$hz" -v backend="$label" \
        'BEGIN { printf "{\"workload\":\"idle-cpu\",\"backend\":\"%s\",\"seconds\":10,\"cpu_seconds\":%.3f,\"cpu_percent\":%.3f}\n", backend, d / hz, 100 * d / hz / 10 }'
}

if [[ $sqlite == 1 ]]; then
    for durability in normal full; do
        url="sqlite:$db?durability=$durability"
        enqueue_jobs=$([[ $durability == full ]] && echo 5000 || echo 20000)
        for ((i = 1; i <= reps; i++)); do
            run "$floor" --db "$db" --durability "$durability" --jobs 20000
            run "$bench" --db "$url" --workload process --jobs 20000 --concurrency 100
            run "$bench" --db "$url" --workload process --jobs 20000 --concurrency 10
            # workflow vs process over the same 10,200 jobs (PERF.md: ratio >= 0.5), back to back
            run "$bench" --db "$url" --workload process --jobs 10200 --concurrency 100
            run "$bench" --db "$url" --workload workflow --workflows 100 --fanout 100 --concurrency 100
            run "$bench" --db "$url" --workload bulk-enqueue --jobs 100000 --batch 1000
            run "$bench" --db "$url" --workload enqueue --jobs "$enqueue_jobs"
            run "$bench" --db "$url" --workload latency --jobs 2000 --concurrency 10
            run "$bench" --db "$url" --workload claim-cost --jobs 1000
            run "$bench" --db "$url" --workload claim-cost --jobs 1000000
        done
    done
    run "$bench" --db "sqlite:$db?durability=normal" --workload process --jobs 1000000 --concurrency 100

    # jobq.http callbacks against a local server (PERF.md: C=500 in flight on a handful of
    # threads): the CurlMulti floor and the queue, at 0 and 100 ms per request. Built only with
    # jobq::kinds (libcurl), so skipped when the binary is not there.
    http_bench="$build/bench/jobq-http-bench"
    if [[ -x $http_bench ]]; then
        for ((i = 1; i <= reps; i++)); do
            run "$http_bench" --workload floor --jobs 100000 --concurrency 500
            run "$http_bench" --db "sqlite:$db" --workload queue --jobs 100000 --concurrency 500
            run "$http_bench" --workload floor --jobs 30000 --concurrency 500 --delay-ms 100
            run "$http_bench" --db "sqlite:$db" --workload queue --jobs 30000 --concurrency 500 --delay-ms 100
        done
    fi
fi

if [[ -n $pg_url ]]; then
    # The same workloads; enqueue also with 8 client threads, as a fleet of producers would.
    # pool_size: the worker's store calls and the client threads each hold one connection.
    pg_base="$(without_param "$pg_url" pool_size)"
    pg="$(with_params "$pg_base" pool_size=4)"
    pg8="$(with_params "$pg_base" pool_size=8)"
    # The floor takes a plain libpq URL: none of jobq's own parameters.
    pg_raw="$(without_param "$pg_base" schema)"
    for ((i = 1; i <= reps; i++)); do
        run "$pg_floor" --url "$pg_raw" --jobs 20000 --batch 100 --connections 1
        run "$pg_floor" --url "$pg_raw" --jobs 20000 --batch 100 --connections 4
        run "$bench" --db "$pg" --workload process --jobs 20000 --concurrency 100
        run "$bench" --db "$pg" --workload process --jobs 20000 --concurrency 10
        run "$bench" --db "$pg" --workload process --jobs 10200 --concurrency 100
        run "$bench" --db "$pg" --workload workflow --workflows 100 --fanout 100 --concurrency 100
        run "$bench" --db "$pg" --workload bulk-enqueue --jobs 100000 --batch 1000
        run "$bench" --db "$pg" --workload enqueue --jobs 20000
        run "$bench" --db "$pg8" --workload enqueue --jobs 20000 --concurrency 8
        run "$bench" --db "$pg" --workload latency --jobs 2000 --concurrency 10
        run "$bench" --db "$pg" --workload claim-cost --jobs 1000
        run "$bench" --db "$pg" --workload claim-cost --jobs 1000000
    done
    run "$bench" --db "$pg" --workload process --jobs 1000000 --concurrency 100
fi

if [[ $sqlite == 1 ]]; then
    idle_db="$work/idle.db"
    rm -f "$idle_db" "$idle_db-wal" "$idle_db-shm"
    idle_cpu sqlite "$idle_db"
fi
if [[ -n $pg_url ]]; then
    # demo_worker migrates what it is given; a schema of its own keeps it away from the jobs
    # the bench runs left behind.
    idle_cpu postgres "$(with_params "$(without_param "$pg_url" schema)" schema=jobq_bench_idle)"
fi
rm -f "$db" "$db-wal" "$db-shm" "$work/idle.db" "$work/idle.db-wal" "$work/idle.db-shm"
