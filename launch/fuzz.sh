#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes — the job config, the IDX and CIFAR-10 readers
# (raw or gzip), the safetensors checkpoint loader, the PNG / JPEG decoders and the WAV reader — with
# libFuzzer + AddressSanitizer (libpng and libjpeg themselves are the system's, not instrumented).
#   launch/fuzz.sh [seconds-per-target] [target ...]     (default 60 s; all five targets)
# Builds the targets of Tests/Fuzz (a separate package: the normal build never sees them),
# writes a seed corpus of small valid inputs (Tests/Fuzz/make_seeds.py), runs each target for the
# budget and prints executions, corpus size and crashes per target. Exits 1 when any target
# crashed (a trap, an ASan report, a leak, an allocation over 512 MB, an input taking over 10 s);
# the input is kept as $DDP_FUZZ_DIR/<target>/crash-* (or oom-*, timeout-*, leak-*), to replay:
#   Tests/Fuzz/.build/debug/<target> <file>
# Work files (corpus grown by the run, logs) go to $DDP_FUZZ_DIR, default .build/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzConfig FuzzIDX FuzzCIFAR FuzzSafetensors FuzzImage FuzzWAV)
work=$(mkdir -p "${DDP_FUZZ_DIR:-.build/fuzz}" && cd "${DDP_FUZZ_DIR:-.build/fuzz}" && pwd)
# The Swift backtracer would spend tens of seconds on each crash libFuzzer provokes.
export SWIFT_BACKTRACE=enable=no

# --sanitize=fuzzer makes SwiftPM compile the targets as libraries and link libFuzzer's main;
# the one -sanitize=fuzzer,address flag then instruments every module (two separate -sanitize
# flags would leave only the last in effect, without coverage).
flags=(--sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address)
for t in "${targets[@]}"; do
  (cd Tests/Fuzz && swift build "${flags[@]}" --product "$t" 2>&1 | grep -v "Cannot export local symbol" || true)
done
bin=$(cd Tests/Fuzz && swift build "${flags[@]}" --show-bin-path)

rm -rf "$work/seeds"
python3 Tests/Fuzz/make_seeds.py "$work/seeds" "$PWD"

failed=0
printf "%-16s %12s %10s %8s  %s\n" target executions corpus seconds result > "$work/summary.txt"
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "fuzz: $bin/$t was not built" >&2; exit 1; }
  dir="$work/$t"
  mkdir -p "$dir/corpus"
  rm -f "$dir"/crash-* "$dir"/oom-* "$dir"/timeout-* "$dir"/leak-*
  echo "fuzz: $t for $seconds s (log $dir/log.txt)"
  status=0
  "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" "$work/seeds/$t" > "$dir/log.txt" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "$dir/corpus" -type f | wc -l)
  result=ok
  if [ "$status" != 0 ]; then
    failed=1
    result="FAILED (exit $status): $(ls "$dir" | grep -E '^(crash|oom|timeout|leak)-' | head -1)"
    grep -E "ERROR|Fatal error|==[0-9]+==" "$dir/log.txt" | head -5 >&2 || true
  fi
  printf "%-16s %12s %10s %8s  %s\n" "$t" "$runs" "$corpus" "$seconds" "$result" >> "$work/summary.txt"
done
cat "$work/summary.txt"
exit $failed
