#!/usr/bin/env python3
"""The rate estimator's and history's cost on the control lcore (docs/performance.md): a daemon
with 100 and with 1,000 services x 8 reals (up to 8,000 real estimators plus 1,000 service ones)
on a pcap vdev with traffic flowing, one worker (the infinite pcap port has one queue); reads stats.get's rates_cost (what the last 2 s sample and
the last 1 s history tick took, measured with the TSC around the calls) N times, and the lib
micro-benchmark (tests/bench/rate_est_bench). Prints JSON.

    scripts/bench/estimator.py [BUILD_DIR] [--samples N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "dataplane"))


def config(n_services, n_reals):
    reals = [f"10.9.0.{11 + i}" for i in range(n_reals)]
    return {
        "ports": [{"address": "10.9.0.2/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": "02:00:00:00:00:11"} for ip in reals]},
        "dataplane": {"flow_capacity": 65536, "mbufs": 8191, "max_services": 1024,
                      "max_reals": 8192, "idle_sleep_us": 0},
        "services": [{"vip": "10.9.0.100", "port": 1 + s, "proto": "tcp",
                      "reals": [{"ip": ip} for ip in reals]} for s in range(n_services)],
    }


def measure(build, n_services, samples, workers=1):
    os.environ["DPDK_LB_BUILD"] = build
    import lbdaemon
    from scapy.all import IP, TCP, Ether, wrpcap
    lbdaemon.BUILD = build
    lbdaemon.DAEMON = os.path.join(build, "dataplane", "dpdk-lb")
    tmp = tempfile.mkdtemp(prefix="dlb-est-")
    pcap = os.path.join(tmp, "in.pcap")
    wrpcap(pcap, [Ether(src="02:00:00:00:00:0c", dst="02:70:63:61:70:00") /
                  IP(src="10.9.1.10", dst="10.9.0.100") /
                  TCP(sport=40000 + i, dport=1 + i % n_services, flags="S") for i in range(4000)])
    d = lbdaemon.PcapDaemon([pcap], config(n_services, 8), workers=workers, replay_forever=True)
    try:
        est, hist = [], []
        time.sleep(5)  # warm-up: every service's estimators have sampled twice
        for _ in range(samples):
            c = d.stats()["rates_cost"]
            est.append(c["estimator_last_us"])
            hist.append(c["history_last_us"])
            time.sleep(2.0)
        c = d.stats()["rates_cost"]
        busy = sum(s["inpps"] for s in d.stats()["services"])
        return {"workers": workers, "services": n_services, "reals": 8 * n_services,
                "estimator_us_median": statistics.median(est), "estimator_us_max": max(est),
                "history_us_median": statistics.median(hist), "history_us_max": max(hist),
                "estimator_us_max_since_start": c["estimator_max_us"],
                "services_inpps_sum": busy}
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--samples", type=int, default=15)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    out = {"daemon": [measure(build, n, args.samples) for n in (100, 1000)]}
    micro = subprocess.run([os.path.join(build, "tests", "bench", "rate_est_bench")],
                           capture_output=True, text=True, check=True).stdout.strip()
    out["lib"] = micro
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
