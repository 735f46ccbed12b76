#!/usr/bin/python3
"""Profiles the worker lcore in one dataplane scenario: perf record -e cpu-clock (a software
event: this VM has no hardware counters, `perf stat -e instructions` is <not supported>) on the
daemon's worker thread for the measured interval, then prints perf report's flat profile.

  profile.py BUILD OUTDIR SCENARIO [SECONDS]     SCENARIO: est_100k est_1m est_10m new_wrr new_mh
"""
import contextlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataplane  # noqa: E402
from common import HugePages, log, mem_available_mb  # noqa: E402


def main():
    build, out, key = sys.argv[1], sys.argv[2], sys.argv[3]
    secs = float(sys.argv[4]) if len(sys.argv) > 4 else 5
    os.makedirs(out, exist_ok=True)
    cache = os.path.join(build, "bench-pcaps")
    os.makedirs(cache, exist_ok=True)
    syns = int(min(8_000_000, max(1_000_000, (mem_available_mb() - 7044) * 2**20 / 2760))
               // 100_000 * 100_000)
    sc = [s for s in dataplane.scenarios(cache, syns, include_10m=True) if s.key == key][0]
    data = os.path.join(out, f"perf-{key}.data")

    def during(d):
        tid = None
        for t in os.listdir(f"/proc/{d.proc.pid}/task"):
            if open(f"/proc/{d.proc.pid}/task/{t}/comm").read().strip().startswith("rte-worker"):
                tid = t
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-t", tid,
                        "-o", data, "--", "sleep", str(secs)], check=True)

    with (HugePages(sc.mem_mb() + 512) if sc.huge else contextlib.nullcontext()) as hp:
        r = dataplane.run_lb(build, out, sc, secs, 3, hp.dir if hp else None, during=during)
    log(f"{key}: {r['tx_mpps']:.2f} Mpps while profiled, new flows/rx "
        f"{r['flows_created'] / max(1, r['rx_packets']):.3f}")
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                          "--sort", "dso,symbol", "--percent-limit", "0.7"],
                         capture_output=True, text=True).stdout
    with open(os.path.join(out, f"perf-{key}.txt"), "w") as fh:
        fh.write(rep)
    print("\n".join(l for l in rep.splitlines() if l and not l.startswith("#")))


if __name__ == "__main__":
    main()
