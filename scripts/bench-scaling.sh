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

RUN_PID=
HUGE_BEFORE="$(cat /proc/sys/vm/nr_hugepages)"
cleanup() {
  local rc=$?
  trap - INT TERM
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$RUN_PID" 2>/dev/null || true
  fi
  # whatever a killed run left: hugetlbfs mounts, hugepages, EAL runtime directories
  for m in /tmp/dlbb-huge-*; do
    [ -d "$m" ] || continue
    umount "$m" 2>/dev/null || true
    rmdir "$m" 2>/dev/null || true
  done
  echo "$HUGE_BEFORE" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  rm -rf /var/run/dpdk/dlbb*
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In the background so a signal to this script is handled at once (see cleanup).
"$PY" "$DRIVER" "$@" &
RUN_PID=$!
wait "$RUN_PID"
