#!/usr/bin/python3
"""Same-run A/B of two daemon builds on dataplane scenarios: per round, the testpmd ceiling,
then both builds in alternating order (base, new; then new, base), so that the shared machine's
drift hits both alike. Prints per scenario the medians, their ratios to the ceiling and
new / base. Run as root with nothing else on the machine, e.g. against a release build of an
older commit:

  scripts/bench/ab.py /tmp/old-build build-release 3 est_100k est_100k_fnat new_wrr

Scenario keys are those of scripts/bench/dataplane.py (est_100k, est_100k_tun, est_100k_nat,
est_100k_fnat, est_100k_nosketch, est_100k_block, est_1m, new_wrr, new_mh); the pcaps are
cached in NEW_BUILD/bench-pcaps, as scripts/bench.sh caches them. A build directory needs only
dataplane/dpdk-lb.
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataplane as dp  # noqa: E402
from common import HugePages  # noqa: E402


def ab_one(sc, base, new, rounds, work, duration, warmup):
    res = {"base": [], "new": [], "ceil": []}
    with HugePages(sc.mem_mb() + 512) as hp:
        try:
            for i in range(rounds):
                res["ceil"].append(dp.run_ceiling(work, sc.in_pcap, sc.in_pkts, duration, 1,
                                                  hp.dir, sc.data_room))
                order = (("base", base), ("new", new))
                for name, build in order if i % 2 == 0 else order[::-1]:
                    res[name].append(dp.run_lb(build, work, sc, duration, warmup,
                                               hp.dir)["tx_mpps"])
        finally:
            for f in os.listdir(hp.dir):  # what a failed EAL left holds hugepages
                os.unlink(os.path.join(hp.dir, f))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="build directory of the baseline")
    ap.add_argument("new", help="build directory measured against it")
    ap.add_argument("rounds", type=int)
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--warmup", type=float, default=2)
    args = ap.parse_args()
    cache = os.path.join(args.new, "bench-pcaps")
    os.makedirs(cache, exist_ok=True)
    scs = {s.key: s for s in dp.scenarios(cache, 4_000_000, include_10m=False)}
    unknown = [k for k in args.scenarios if k not in scs]
    if unknown:
        sys.exit(f"ab.py: unknown scenario {', '.join(unknown)}; known: {', '.join(scs)}")
    work = tempfile.mkdtemp(prefix="dlb-ab-")
    for key in args.scenarios:
        r = ab_one(scs[key], args.base, args.new, args.rounds, work, args.duration, args.warmup)
        c, mb, mn = (statistics.median(r[k]) for k in ("ceil", "base", "new"))
        print(f"{key}: ceiling {c:.2f} Mpps; base {mb:.2f} ({mb / c:.3f}) "
              f"{['%.2f' % x for x in r['base']]}; new {mn:.2f} ({mn / c:.3f}) "
              f"{['%.2f' % x for x in r['new']]}; new/base {mn / mb:.3f}", flush=True)


if __name__ == "__main__":
    main()
