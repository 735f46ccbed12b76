#!/usr/bin/env bash
# dpdk-lb benchmarks, one command: installs what is missing, builds a release build
# (build-release: -O3 via buildtype=release, -march=native, no sanitizers), runs every scenario
# (dataplane on pcap/null vdevs with the testpmd io ceiling, control plane and control-loop
# lateness, end to end on a namespace testbed, the exception path under an hping3 flood, and
# health checks at scale: 1,000 reals with HTTP checks every second and 1,000 agents every 2 s
# against nginx and agent processes, `--only health`; forwarding with a capture of everything
# running vs without, `--only capture`; blocklist and conn.top costs, `--only observe`; the
# rate estimator's and history's control-lcore time, `--only estimator`; a 30 s SYN flood from random
# sources with 1 legitimate connection in 1,000, `--only synflood`, `--synflood-duration S`), prints the table and writes
# results.{csv,md,json} and PNG charts into build/bench/ or the directory given as the first
# argument. Other arguments go to scripts/bench/run_bench.py (e.g. --duration 3 --runs 1 for a
# quick look; --baseline-build DIR to measure another commit's daemon build beside this one in
# the control figures; --publish-paced SECONDS for the 100-changes-per-second run, 60 by
# default). Run as root.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
OUT="${1:-build/bench}"
[ $# -gt 0 ] && shift
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
BUILD="$ROOT/build-release"

if [ "$(id -u)" -ne 0 ]; then
  echo "bench.sh: run as root (hugepages, network namespaces, AF_XDP)" >&2
  exit 1
fi

# shellcheck source=scripts/bench/cleanup.sh
. "$ROOT/scripts/bench/cleanup.sh"
RUN_PID=
HUGE_BEFORE="$(cat /proc/sys/vm/nr_hugepages)"
# the health scenario raises the kernel's (global) ARP table thresholds for ~1,000 neighbours
NEIGH=/proc/sys/net/ipv4/neigh/default
GC_BEFORE="$(cat $NEIGH/gc_thresh2) $(cat $NEIGH/gc_thresh3)"
cleanup() {
  local rc=$?
  bench_cleanup_begin
  # whatever a killed run left: its daemons/testpmd (by pid file prefix), hugetlbfs mounts,
  # hugepages, EAL runtime dirs, testbed namespaces
  for s in /tmp/dlb*/state.json; do
    [ -f "$s" ] && /usr/bin/python3 tests/e2e/testbed.py --cleanup "$s" || true
  done
  bench_cleanup_huge
  read -r gc2 gc3 <<< "$GC_BEFORE"
  echo "$gc2" > $NEIGH/gc_thresh2 2>/dev/null || true
  echo "$gc3" > $NEIGH/gc_thresh3 2>/dev/null || true
  rm -rf "$OUT/work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

./scripts/bootstrap.sh
need=()
for p in gnuplot-nox haproxy wrk libnginx-mod-stream python3-numpy linux-perf; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "bench.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}"
fi

echo "== release build ($BUILD)"
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release -Dnative_arch=true -Db_sanitize=none -Dtests=true
fi
ninja -C "$BUILD" dataplane/dpdk-lb control/cli/dpdk-lb-cli tests/bench/maglev_build_bench \
  tests/bench/snapshot_publish_bench

# In the background so a signal to this script is handled at once (see cleanup).
/usr/bin/python3 scripts/bench/run_bench.py --out "$OUT" --build "$BUILD" "$@" &
RUN_PID=$!
wait "$RUN_PID"
RUN_PID=

# Charts only for the sections that produced data (a partial run, e.g. --only dataplane).
has_e2e=0 has_dataplane=0
[ -s "$OUT/e2e.dat" ] && grep -qv '^#' "$OUT/e2e.dat" && has_e2e=1
[ -s "$OUT/dataplane.dat" ] && grep -qv '^#' "$OUT/dataplane.dat" && has_dataplane=1
gnuplot -e "dir='$OUT'; has_e2e=$has_e2e; has_dataplane=$has_dataplane" scripts/bench/plot.gp
echo "== results: $OUT/results.md, results.csv, results.json, dataplane.png, e2e_rps.png, e2e_p99.png"
