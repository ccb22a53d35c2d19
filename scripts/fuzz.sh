#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads outside bytes (see Fuzz/Checks: FuzzTarget).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      e.g. scripts/fuzz.sh json 60, scripts/fuzz.sh all 30
#
# Builds the herald-fuzz driver with libFuzzer and AddressSanitizer (its own scratch path, .build-fuzz, so the
# ordinary build is untouched) and runs each target for SECONDS (default 30) from its committed seeds
# (Fuzz/Corpus/TARGET) plus what earlier runs found (.build-fuzz/corpus/TARGET). FUZZ_JOBS targets run at a
# time (default 1); FUZZ_SEED fixes libFuzzer's seed (the CI pass uses 1). An input that crashes, hangs (over 10 s), allocates without bound (over 2 GB) or breaks a
# property is kept in .build-fuzz/findings/TARGET and the script fails; put it in Fuzz/Regressions/TARGET, named
# after what it found, so the ordinary suite replays it. Prints one line per target: executions, corpus size,
# coverage.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-all}
seconds=${2:-30}
jobs=${FUZZ_JOBS:-1}
seed=${FUZZ_SEED:-0}
scratch=.build-fuzz

mkdir -p "$scratch"
echo "fuzz: building herald-fuzz with -sanitize=fuzzer,address"
swift build --scratch-path "$scratch" --product herald-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DHERALD_FUZZING >"$scratch/build.log" 2>&1 || {
    tail -40 "$scratch/build.log"
    echo "fuzz: the build failed (full log: $scratch/build.log)"
    exit 1
}
driver="$scratch/debug/herald-fuzz"

if [ "$target" = all ]; then
    targets=$(ls Fuzz/Corpus)
else
    [ -d "Fuzz/Corpus/$target" ] || { echo "fuzz: no target $target (have: $(ls Fuzz/Corpus | tr '\n' ' '))"; exit 2; }
    targets=$target
fi

run_one() {
    local name=$1 seconds=$2 driver=$3 scratch=$4 seed=$5
    mkdir -p "$scratch/corpus/$name" "$scratch/findings/$name"
    local log="$scratch/$name.log"
    local status=0
    # LeakSanitizer is off: it takes the boxes of Swift's indirect enums that a `static let` holds for leaks (their
    # pointers sit in an enum's spare bits, where it does not look). Growth without bound still fails, at 2 GB.
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" HERALD_FUZZ_TARGET=$name "$driver" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
        -max_len=65536 -seed="$seed" -print_final_stats=1 -artifact_prefix="$scratch/findings/$name/" \
        "$scratch/corpus/$name" "Fuzz/Corpus/$name" >"$log" 2>&1 || status=$?
    local runs cov corpus
    runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    corpus=$(ls "$scratch/corpus/$name" | wc -l)
    if [ "$status" -eq 0 ]; then
        echo "fuzz: $name ok: ${runs:-0} executions in ${seconds}s, $corpus corpus inputs, ${cov:-cov: ?}"
    else
        echo "fuzz: $name FOUND A PROBLEM (exit $status): see $log and $scratch/findings/$name/"
        grep -a -m3 -E 'property violated|ERROR: |Fatal error|SUMMARY' "$log" | cut -c1-300 | sed 's/^/fuzz:   /'
        return 1
    fi
}
export -f run_one

status=0
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$driver" "$scratch" "$seed" || status=1
exit $status
