#!/usr/bin/env bash
# dpdk-lb worker scaling, one command: the dataplane scenarios (established DR and fnat at
# 100,000 flows, new connections under wrr) with 1, 2, 4 and 8 workers, each against testpmd io
# with as many forwarding cores on the same CPUs; prints the table and writes scaling.{md,json}
# into build/bench-scaling/ (or --out DIR). Worker counts the machine cannot pin (fewer CPUs than
# workers) are skipped with the reason. Made for a bigger machine with no network: it needs only
# this working tree with a built daemon (--build, default build-release), Debian's DPDK
# (dpdk-testpmd) and python3; it installs and builds nothing. Estimated 8-10 minutes for 1,2,4,8
# on a 16-core machine (from this project's 2-vCPU VM's times per step; most of it loading
# 8M SYNs per worker), --quick about 6; ~6 GiB of hugepages per worker at the new-connection
# scenario (46 GiB at 8 workers). Run as root.
# Options: scripts/bench-scaling.sh --help; the plan alone, without root: --dry-run.
# How to measure a bigger machine, and what the vdevs can show: docs/performance.md, "Scaling".
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
DRIVER="$ROOT/scripts/bench/scaling.py"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

for a in "$@"; do
  case "$a" in
    -h|--help|--dry-run) exec "$PY" "$DRIVER" "$@" ;;
  esac
done
# argument errors before anything is reserved (exit 2 with the reason)
"$PY" "$DRIVER" --dry-run "$@" > /dev/null

if [ "$(id -u)" -ne 0 ]; then
  echo "bench-scaling.sh: run as root (hugepages, EAL)" >&2
  exit 1
fi

# shellcheck source=scripts/bench/cleanup.sh
. "$ROOT/scripts/bench/cleanup.sh"
RUN_PID=
HUGE_BEFORE="$(cat /proc/sys/vm/nr_hugepages)"
cleanup() {
  local rc=$?
  bench_cleanup_begin
  # whatever a killed run left: hugetlbfs mounts, hugepages, EAL runtime directories
  bench_cleanup_huge
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In the background so a signal to this script is handled at once (see cleanup).
"$PY" "$DRIVER" "$@" &
RUN_PID=$!
wait "$RUN_PID"
