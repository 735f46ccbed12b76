#!/usr/bin/env bash
# dpdk-lb demo: builds the daemon, creates a namespace testbed (client, the appliance's AF_XDP
# veth, three nginx real servers on one bridge), starts dpdk-lb from config/dpdk-lb.json,
# adds VIP:80 (rr) with three real servers through dpdk-lb-cli, sends curl requests and shows
# which real server answered each, prints `dpdk-lb-cli list` and `list --stats`, and removes
# everything again (also when something fails or on Ctrl-C). Run as root.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (network namespaces, AF_XDP)" >&2
  exit 1
fi

STATE_PTR="$(mktemp /tmp/dlb-demo.XXXXXX)"
DEMO_PID=
cleanup() {
  local rc=$?
  trap - INT TERM
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
    # The driver tears its testbed down on SIGTERM.
    kill -TERM "$DEMO_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DEMO_PID" 2>/dev/null || true
  fi
  if [ -s "$STATE_PTR" ]; then
    # Whatever the demo driver did not get to remove (it was killed, or failed hard).
    /usr/bin/python3 tests/e2e/testbed.py --cleanup "$(cat "$STATE_PTR")" || true
  fi
  rm -f "$STATE_PTR"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

./scripts/bootstrap.sh

echo "== building (build/)"
if [ ! -f build/build.ninja ]; then
  meson setup build
fi
ninja -C build

# In the background so that a signal to this script is handled at once (see cleanup).
/usr/bin/python3 scripts/demo.py --state-out "$STATE_PTR" "$@" &
DEMO_PID=$!
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=
exit "$rc"
