#!/usr/bin/env bash
# Long fuzzing runs: each fuzz target of tests/fuzz for FUZZ_RUNS inputs (default 10M), then a
# report per target: executions, coverage (libFuzzer only) and findings (crash files).
# With clang and libFuzzer: a clang build in build-fuzz/ (lib/ and the fuzz targets only,
# -fsanitize=fuzzer,address,undefined), each target started from a scratch copy of its seed
# corpus (the seed corpus is not modified). Without: the standalone driver of build-san/
# (ASan + UBSan, blind mutations).
# Usage: scripts/fuzz_long.sh [TARGET...]   (default: every target in tests/fuzz/meson.build)
# Environment: FUZZ_RUNS (inputs per target), FUZZ_SEED (default: random, printed),
#   FUZZ_ENGINE (libfuzzer or standalone; default: libfuzzer when clang can link it).
# Exit status: 1 when a target found something or could not run.
set -uo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
RUNS="${FUZZ_RUNS:-10000000}"
OUT="$(mktemp -d /tmp/dlb-fuzz.XXXXXX)"
echo "work directory (corpora, crash files, logs): $OUT"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n "s/^fuzz_targets = \[\(.*\)\]/\1/p" tests/fuzz/meson.build \
    | tr -d "' " | tr ',' '\n')
fi

engine="${FUZZ_ENGINE:-}"
if [ -z "$engine" ]; then
  if command -v clang >/dev/null && echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n; }' \
      | clang -x c -fsanitize=fuzzer -o "$OUT/probe" - 2>/dev/null; then
    engine=libfuzzer
  else
    engine=standalone
  fi
fi

if [ "$engine" = libfuzzer ]; then
  dir=build-fuzz
  if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Ddaemon=false || exit 1
  fi
  ninja -C "$dir" $(for t in "${targets[@]}"; do echo "tests/fuzz/libfuzzer_$t"; done) || exit 1
else
  dir=build-san
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false || exit 1
  fi
  ninja -C "$dir" $(for t in "${targets[@]}"; do echo "tests/fuzz/fuzz_$t"; done) || exit 1
fi

status=0
report=()
for t in "${targets[@]}"; do
  seed="${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
  corpus="tests/fuzz/corpus/$t"
  log="$OUT/$t.log"
  if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    report+=("$t: no corpus in $corpus"); status=1; continue
  fi
  mkdir -p "$OUT/$t.corpus" "$OUT/$t.crashes"
  echo "== $t: $RUNS inputs, $engine, seed $seed"
  start=$(date +%s)
  if [ "$engine" = libfuzzer ]; then
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$dir/tests/fuzz/libfuzzer_$t" \
      -runs="$RUNS" -seed="$seed" -print_final_stats=1 \
      -artifact_prefix="$OUT/$t.crashes/" "$OUT/$t.corpus" "$corpus" >"$log" 2>&1
  else
    FUZZ_SEED="$seed" FUZZ_CRASH_DIR="$OUT/$t.crashes" \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$dir/tests/fuzz/fuzz_$t" "$corpus" "$RUNS" >"$log" 2>&1
  fi
  rc=$?
  secs=$(( $(date +%s) - start ))
  findings=$(find "$OUT/$t.crashes" -type f | wc -l)
  if [ "$engine" = libfuzzer ]; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n1)
    corp=$(find "$OUT/$t.corpus" -type f | wc -l)
    line="$t: ${execs:-?} executions in ${secs}s (seed $seed), coverage: ${cov:-?} (edges, features), corpus grew to $corp inputs, findings: $findings, exit $rc"
  else
    line="$t: $(tail -n1 "$log" | sed 's/^[^:]*: //') in ${secs}s total, findings: $findings, exit $rc"
  fi
  echo "$line"
  report+=("$line")
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status=1
    tail -n 30 "$log"
  fi
done

echo
echo "== report ($engine, $RUNS inputs per target; logs in $OUT)"
for l in "${report[@]}"; do echo "$l"; done
exit $status
