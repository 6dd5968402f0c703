#!/usr/bin/env bash
# Runs the PERF.md workloads on SQLite (NORMAL and FULL) and the raw-SQL floor, each REPS times
# (default 3), printing one JSON line per run; quote medians. Build a Release tree first:
#   cmake --preset release && cmake --build --preset release --target jobq-bench jobq-sqlite-floor demo_worker
#   bench/run_suite.sh build/release /path/on/the/disk/to/measure [REPS]
# Also measures demo_worker's idle CPU over 10 s. Long: the sustained run processes 1M jobs.
set -euo pipefail

build="${1:?usage: run_suite.sh BUILD_DIR WORK_DIR [REPS]}"
work="${2:?usage: run_suite.sh BUILD_DIR WORK_DIR [REPS]}"
reps="${3:-3}"
bench="$build/bench/jobq-bench"
floor="$build/bench/jobq-sqlite-floor"
worker="$build/examples/demo_worker"
mkdir -p "$work"
db="$work/bench.db"

run() {  # echo the command on stderr, the JSON line on stdout
    echo "+ $*" >&2
    "$@"
}

for durability in normal full; do
    url="sqlite:$db?durability=$durability"
    enqueue_jobs=$([[ $durability == full ]] && echo 5000 || echo 20000)
    for ((i = 1; i <= reps; i++)); do
        run "$floor" --db "$db" --durability "$durability" --jobs 20000
        run "$bench" --db "$url" --workload process --jobs 20000 --concurrency 100
        run "$bench" --db "$url" --workload process --jobs 20000 --concurrency 10
        run "$bench" --db "$url" --workload bulk-enqueue --jobs 100000 --batch 1000
        run "$bench" --db "$url" --workload enqueue --jobs "$enqueue_jobs"
        run "$bench" --db "$url" --workload latency --jobs 2000 --concurrency 10
        run "$bench" --db "$url" --workload claim-cost --jobs 1000
        run "$bench" --db "$url" --workload claim-cost --jobs 1000000
    done
done
run "$bench" --db "sqlite:$db?durability=normal" --workload process --jobs 1000000 --concurrency 100

# Idle CPU: utime + stime of an idle demo_worker over 10 s, from /proc/<pid>/stat (clock ticks).
idle_db="$work/idle.db"
rm -f "$idle_db" "$idle_db-wal" "$idle_db-shm"
"$worker" --db "$idle_db" >"$work/idle.out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "ready" "$work/idle.out" && break; sleep 0.1; done
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 1  # past start-up
t0=$(ticks)
sleep 10
t1=$(ticks)
hz=$(getconf CLK_TCK)
kill -TERM "$pid"
wait "$pid"
trap - EXIT
awk -v d=$((t1 - t0)) -v hz="$hz" \
    'BEGIN { printf "{\"workload\":\"idle-cpu\",\"seconds\":10,\"cpu_seconds\":%.3f,\"cpu_percent\":%.3f}\n", d / hz, 100 * d / hz / 10 }'
rm -f "$db" "$db-wal" "$db-shm" "$idle_db" "$idle_db-wal" "$idle_db-shm"
