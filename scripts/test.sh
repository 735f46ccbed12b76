#!/usr/bin/env bash
# Builds dpdk-lb and runs every test suite:
#   unit       cmocka tests of lib/            (build-san: ASan + UBSan)
#   dataplane  pytest, daemon on pcap vdevs     (build-san)
#   e2e        pytest, network namespaces, AF_XDP/af_packet veths, nginx real servers
#              (build), once with 1 worker lcore and once with 2
# The last line is "N passed, N failed"; the exit code is non-zero when anything failed.
# Environment: E2E_2W_FILTER (pytest -k expression for the 2-worker run; "" = whole suite).
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"

PY=/usr/bin/python3
E2E_2W_FILTER="${E2E_2W_FILTER-}"
SUITE_TIMEOUT="${SUITE_TIMEOUT:-600}"
OUT="$(mktemp -d /tmp/dlb-test.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

PASSED=0
FAILED=0
SUMMARY=()

note() { printf '\n=== %s ===\n' "$*"; }
record() { # name passed failed
  PASSED=$((PASSED + $2))
  FAILED=$((FAILED + $3))
  SUMMARY+=("$(printf '%-22s %4d passed, %4d failed' "$1" "$2" "$3")")
}
finish() {
  note "summary"
  for l in "${SUMMARY[@]}"; do echo "$l"; done
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -eq 0 ]; then exit 0; else exit 1; fi
}

note "bootstrap"
if ! ./scripts/bootstrap.sh; then
  record bootstrap 0 1
  finish
fi

# meson setup (or reconfigure) DIR ARGS..., then ninja
build() {
  local dir="$1"; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" || return 1
  else
    meson setup "$dir" "$@" || return 1
  fi
  ninja -C "$dir"
}

note "build (build/, -Dwerror=true)"
if build build -Dwerror=true; then SUMMARY+=("build                  ok"); else record "build" 0 1; finish; fi
note "build (build-san/, ASan + UBSan)"
if build build-san -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false; then
  SUMMARY+=("build-san              ok")
else
  record "build-san" 0 1
  finish
fi

# ---- unit tests (meson) -------------------------------------------------------------------
note "unit tests (build-san)"
rc=0
meson test -C build-san --suite unit --print-errorlogs 2>&1 | tee "$OUT/unit.log" || rc=$?
ok=$(sed -n 's/^Ok:[[:space:]]*\([0-9]*\).*/\1/p' "$OUT/unit.log" | tail -n1)
xfail=$(sed -n 's/^Expected Fail:[[:space:]]*\([0-9]*\).*/\1/p' "$OUT/unit.log" | tail -n1)
fail=$(sed -n 's/^Fail:[[:space:]]*\([0-9]*\).*/\1/p' "$OUT/unit.log" | tail -n1)
xpass=$(sed -n 's/^Unexpected Pass:[[:space:]]*\([0-9]*\).*/\1/p' "$OUT/unit.log" | tail -n1)
tout=$(sed -n 's/^Timeout:[[:space:]]*\([0-9]*\).*/\1/p' "$OUT/unit.log" | tail -n1)
if [ -z "$ok$fail" ]; then
  if [ "$rc" -eq 0 ]; then
    echo "(no unit tests defined: skipped)"
    record "unit" 0 0
  else
    record "unit" 0 1
  fi
else
  p=$(( ${ok:-0} + ${xfail:-0} ))
  f=$(( ${fail:-0} + ${xpass:-0} + ${tout:-0} ))
  # meson failed without counting a failure (e.g. a test binary failed to build)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  record "unit" "$p" "$f"
fi

# ---- pytest suites ------------------------------------------------------------------------
# run_pytest NAME DIR [extra pytest args...]; environment comes from the caller
run_pytest() {
  local name="$1" dir="$2"; shift 2
  note "$name"
  if ! ls "$dir"/test_*.py >/dev/null 2>&1; then
    echo "(no tests in $dir: skipped)"
    record "$name" 0 0
    return 0
  fi
  local xml="$OUT/$name.xml" rc=0
  # SIGINT first: pytest unwinds and its fixtures tear the namespaces down.
  timeout -s INT -k 30 "$SUITE_TIMEOUT" \
    "$PY" -m pytest -v -p no:cacheprovider --junitxml="$xml" "$dir" "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "(no tests selected in $dir: skipped)"
    record "$name" 0 0
    return 0
  fi
  if [ ! -s "$xml" ]; then
    echo "pytest exited $rc without a report"
    record "$name" 0 1
    return 0
  fi
  local counts
  counts=$("$PY" - "$xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e)
EOF
)
  local p=${counts% *} f=${counts#* }
  # killed by the timeout, or pytest failed without a failing test (e.g. collection error)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 130 ]; then echo "($name: stopped by the ${SUITE_TIMEOUT}s timeout)"; fi
  record "$name" "$p" "$f"
}

DPDK_LB_CLI=build-san/control/cli/dpdk-lb-cli run_pytest cli tests/cli
DPDK_LB_BUILD=build-san run_pytest dataplane tests/dataplane
DPDK_LB_BUILD=build DPDK_LB_WORKERS=1 run_pytest e2e-1worker tests/e2e
if [ -n "$E2E_2W_FILTER" ]; then
  DPDK_LB_BUILD=build DPDK_LB_WORKERS=2 run_pytest e2e-2workers tests/e2e -k "$E2E_2W_FILTER"
else
  DPDK_LB_BUILD=build DPDK_LB_WORKERS=2 run_pytest e2e-2workers tests/e2e
fi

finish
