#!/usr/bin/env bash
# Builds the `fuzz` preset (clang, libFuzzer, ASan+UBSan) and runs every target in tests/fuzz for
# a bounded time, each over a copy of its seed corpus (tests/fuzz/corpus/<target>/, which a run
# never writes to). Fails when any target finds a crash, an uncaught exception, a leak, a
# timeout, an out-of-memory or a UBSan report, and prints the reproducer's path.
#   FUZZ_SECONDS=300 scripts/fuzz.sh                  longer runs (default 20 s per target)
#   scripts/fuzz.sh fuzz_cron_expression ...          only these targets
# A reproducer replays with: build/fuzz/tests/fuzz/<target> <reproducer>
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# clang and its libFuzzer/sanitizer runtime (libclang-rt-14-dev) are in the package list too.
bash scripts/install-deps.sh

seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(fuzz_cron_expression fuzz_time_format fuzz_store_url fuzz_job_spec fuzz_cli_args)
fi

cmake --preset fuzz
cmake --build --preset fuzz -j2 --target "${targets[@]}"

bin=build/fuzz/tests/fuzz
runs=build/fuzz/runs
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

failed=()
for target in "${targets[@]}"; do
    work="$runs/$target"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    # The fuzzer adds the inputs it finds to its first corpus directory: give it a copy.
    cp -R "tests/fuzz/corpus/$target/." "$work/corpus/"
    dict=()
    if [[ -f "tests/fuzz/dict/$target.dict" ]]; then dict=("-dict=tests/fuzz/dict/$target.dict"); fi

    echo "fuzz.sh: $target for ${seconds}s"
    status=0
    "$bin/$target" "$work/corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -max_len=4096 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
        >"$work/log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
        "$work/log" | sed "s/^/  /" || true

    reproducers=$(find "$work/artifacts" -type f ! -name 'slow-unit-*' | sort)
    if ((status != 0)) || [[ -n "$reproducers" ]]; then
        failed+=("$target")
        echo "fuzz.sh: FAILED: $target (exit $status); the report, from $work/log:" >&2
        # The sanitizer's or libFuzzer's report: from its first line on, without the mutation
        # statistics that follow a crash.
        sed -n '/^==[0-9]*==\|runtime error:\|^fuzz_[a-z_]*: \|ERROR: libFuzzer/,$p' "$work/log" |
            grep -v '^#[0-9]' | head -60 >&2
        for r in ${reproducers:-"(none written; see the log)"}; do
            echo "fuzz.sh: reproducer: $r (replay: $bin/$target $r)" >&2
        done
    fi
done

if ((${#failed[@]} > 0)); then
    echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s each without a finding"
