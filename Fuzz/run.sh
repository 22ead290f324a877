#!/usr/bin/env bash
# Fuzzes every sftplog parser entry point with libFuzzer + AddressSanitizer.
#
#   Fuzz/run.sh [SECONDS_PER_TARGET]   build, seed, fuzz each target in turn (default 60 s), print a table
#   Fuzz/run.sh --replay               ASan-only: run samples, seeds, grown corpus and regression inputs
#                                      once through each target (debug build: bounds-checked buffers)
# Environment:
#   TARGETS="FuzzOpenSSH FuzzCSVEvents"  subset of targets (default: all)
#   CONFIG=release|debug                 fuzzing build (default release: -O keeps Swift's overflow and
#                                        Array checks, ASan catches unchecked pointer overruns)
#   SNAPSHOT=1                           build against a copy of the main package taken now (the live
#                                        tree may be edited mid-build by other work)
# Build products and the grown corpus live in Fuzz/.build-fuzz/ (git-ignored); the
# committed seed corpus is Fuzz/corpus/<target>/ (regenerated from samples/ by seed.py).
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$PWD
ROOT=$(cd .. && pwd)
SCRATCH=$FUZZ_DIR/.build-fuzz
ALL="FuzzSFTPPlusText FuzzJSONEvents FuzzCSVEvents FuzzOpenSSH FuzzRecordStream FuzzEntryFormat FuzzSyslogFrames"
TARGETS=${TARGETS:-$ALL}
MODE=fuzz
SECS=60
case "${1:-}" in
  --replay) MODE=replay ;;
  "") ;;
  *) SECS=$1 ;;
esac
CONFIG=${CONFIG:-release}
[ "$MODE" = replay ] && CONFIG=${REPLAY_CONFIG:-debug}
export SFTPLOG_CATALOG=${SFTPLOG_CATALOG:-$ROOT/catalog}
# Swift runtime metadata caches look like leaks to LeakSanitizer; leaks are not what we hunt.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
# ASan prints the stack of a Swift runtime trap itself; Swift's backtracer on top of it
# trips ASan in its memory server and buries the real report.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

max_len() {
  case $1 in
    FuzzRecordStream) echo 16384 ;;
    FuzzJSONEvents) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

snapshot() {
  local snap=$SCRATCH/snapshot/sftplog
  rm -rf "$snap"; mkdir -p "$snap"
  cp -a "$ROOT/Package.swift" "$ROOT/Sources" "$snap/"
  # The manifest names the test support target's folder; SwiftPM wants it present.
  mkdir -p "$snap/Tests" && cp -a "$ROOT/Tests/SFTPLogTestSupport" "$snap/Tests/"
  # A new copy can add or move source files, or change signatures: SwiftPM's
  # build plan for a path dependency, and the harnesses built against it, do not
  # notice ("cannot find type", "undefined reference"), so the plan is made again
  # and the harnesses (a few small files) are compiled again.
  rm -f "$SCRATCH"/*.yaml "$SCRATCH"/*/*/description.json
  rm -rf "$SCRATCH"/*/*/Fuzz*.build
  [ -f "$ROOT/Package.resolved" ] && cp -a "$ROOT/Package.resolved" "$snap/"
  export SFTPLOG_FUZZ_PACKAGE=$snap
}

build() {
  [ -f Package.resolved ] || { [ -f "$ROOT/Package.resolved" ] && cp "$ROOT/Package.resolved" Package.resolved; } || true
  local extra=()
  [ "$CONFIG" = release ] && extra=(-Xswiftc -enable-testing)   # @testable import in -O builds
  local tries=${SNAPSHOT:+5}; tries=${tries:-1}
  for ((k = 1; k <= tries; k++)); do
    [ -n "${SNAPSHOT:-}" ] && snapshot
    local ok=1
    for t in $TARGETS; do
      echo "building $t ($CONFIG, -sanitize=fuzzer,address)" >&2
      if ! swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product "$t" \
          -Xswiftc -sanitize=fuzzer,address "${extra[@]}" > "$SCRATCH/build-$t.log" 2>&1; then
        grep -v "Cannot export local symbol" "$SCRATCH/build-$t.log" | grep -E "error" | head -5 >&2
        ok=0; break
      fi
    done
    [ $ok = 1 ] && return 0
    echo "build failed (attempt $k/$tries)" >&2
    [ $k -lt $tries ] && sleep 30
  done
  return 1
}

[ -d corpus ] || python3 seed.py
mkdir -p "$SCRATCH"
build
BIN=$SCRATCH/$CONFIG

if [ "$MODE" = replay ]; then
  status=0
  for t in $TARGETS; do
    inputs=()
    while IFS= read -r f; do inputs+=("$f"); done < <(
      { # A copy of the grown corpus: a fuzzer still running may delete files from it.
        rm -rf "$SCRATCH/replay-in/$t"; mkdir -p "$SCRATCH/replay-in/$t"
        [ -d "$SCRATCH/work/$t/corpus" ] && cp -r "$SCRATCH/work/$t/corpus/." "$SCRATCH/replay-in/$t/" 2>/dev/null || true
        find "corpus/$t" "$SCRATCH/replay-in/$t" -type f 2>/dev/null
        find "$ROOT/Tests/SFTPLogKitTests/Fixtures/hostile/fuzz-regressions/$t" -type f 2>/dev/null
        case $t in
          FuzzSFTPPlusText) ls "$ROOT"/samples/sftpplus/*.log "$ROOT"/samples/sftpplus/layouts/*.log ;;
          FuzzCSVEvents) ls "$ROOT"/samples/sftpplus/*csv*.log ;;
          FuzzOpenSSH) ls "$ROOT"/samples/openssh/*.log "$ROOT"/Tests/SFTPLogKitTests/Fixtures/openssh/*.log 2>/dev/null ;;
        esac; } | sort -u)
    start=$(date +%s.%N)
    if "$BIN/$t" -runs=1 "${inputs[@]}" > "$SCRATCH/replay-$t.log" 2>&1; then r=ok; else r="FAILED (see $SCRATCH/replay-$t.log)"; status=1; fi
    printf '%-18s %6d inputs  %6.1fs  %s\n' "$t" "${#inputs[@]}" "$(echo "$(date +%s.%N) - $start" | bc)" "$r"
  done
  exit $status
fi

printf '\n%-18s %8s %12s %8s %8s %8s %8s %6s\n' target seconds executions exec/s rss_mb corpus cov crashes > "$SCRATCH/summary.txt"
for t in $TARGETS; do
  work=$SCRATCH/work/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/fuzz.log
  echo "fuzzing $t for ${SECS}s (log: $log)" >&2
  start=$(date +%s)
  set +e
  "$BIN/$t" "$work/corpus" "corpus/$t" -max_total_time="$SECS" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$work/artifacts/" > "$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$log" | awk '{if ($2>m) m=$2} END {print m+0}')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  ncorp=$(ls "$work/corpus" | wc -l)
  crashes=$(ls "$work/artifacts" | grep -cE '^(crash|timeout|oom|leak|slow-unit)-' || true)
  [ $rc -ne 0 ] && [ "$crashes" = 0 ] && crashes="rc=$rc"
  printf '%-18s %8s %12s %8s %8s %8s %8s %6s\n' "$t" "$secs" "$execs" "$rate" "$rss" "$ncorp" "${cov:-?}" "$crashes" >> "$SCRATCH/summary.txt"
done
cat "$SCRATCH/summary.txt"
echo "artifacts (crashing inputs): $SCRATCH/work/<target>/artifacts/; reproduce with: $BIN/<target> <file>"
