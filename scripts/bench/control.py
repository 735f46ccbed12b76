"""Control-plane figures: one-real publish time with 10,000 services x 10 reals, packets dropped
while such changes are published continuously under load (back to back, and paced at 100 per
second), the snapshot build benchmark (full rebuild vs incremental, 1,000-real batch) and the
Maglev build benchmark. A baseline daemon build (another commit) can be measured in the same
run for comparison."""
import os
import re
import subprocess
import threading
import time

import dataplane as dpl
from common import (MBUF_BYTES, MBUF_BYTES_NOHUGE, HugePages, VdevDaemon, interval_rates, log,
                    median, wait_until)

N_SERVICES = 10_000
REALS_PER = 10


def big_services(distinct):
    """10,000 services 10.10.x.y:80 (plus the traffic service), 10 reals each: `distinct`
    reals get their own address on 172.16.0.0/12 (100,000 neighbours), else every service uses
    the same 10 reals (the traffic service's)."""
    svcs = []
    for s in range(N_SERVICES):
        vip = f"10.10.{s >> 8}.{s & 0xff}"
        if distinct:
            rs = []
            for r in range(REALS_PER):
                k = s * REALS_PER + r
                rs.append({"ip": f"172.{16 + (k >> 16)}.{(k >> 8) & 0xff}.{k & 0xff}", "weight": 1})
        else:
            rs = [{"ip": f"10.0.0.{11 + r}", "weight": 1} for r in range(REALS_PER)]
        svcs.append({"vip": vip, "port": 80, "proto": "tcp", "scheduler": "wrr", "reals": rs})
    return svcs


def paced_changes(d, key, ip, rate, seconds):
    """real.update at `rate` per second for `seconds` (alternating the weight of one real of a
    big service and of the traffic service); returns (round trips in ms, changes made, seconds)."""
    rtts = []
    t0 = time.monotonic()
    i = 0
    while True:
        due = t0 + i / rate
        now = time.monotonic()
        if due - t0 >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        if i % 2:
            params = {"service": {"vip": dpl.VIP, "port": 80, "proto": "tcp"}, "ip": "10.0.0.11",
                      "port": 80, "weight": 1 + (i // 2) % 2}
        else:
            params = {"service": key, "ip": ip, "port": 80, "weight": 1 + (i // 2) % 2}
        t = time.monotonic()
        d.call("real.update", params)
        rtts.append((time.monotonic() - t) * 1e3)
        i += 1
    return rtts, i, time.monotonic() - t0


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


def run_publish(build, work, cache, distinct, duration, huge, boot_timeout=1800, paced_s=60):
    """Boots with 10k x 10 plus the 100k-flow traffic scenario, measures single real.update
    publishes idle and then continuously under load."""
    syn, _ = dpl.pcap(cache, "syn", 100_000)
    ack, ack_n = dpl.pcap(cache, "ack", 100_000, 100_000, 1)
    per = MBUF_BYTES if huge else MBUF_BYTES_NOHUGE
    mem = (ack_n + 16384) * per / 2**20 + 1024 + (600 if distinct else 200)
    svcs = [{"vip": dpl.VIP, "port": 80, "proto": "tcp", "scheduler": "wrr",
             "reals": dpl.reals()}] + big_services(distinct)
    n_reals = sum(len(s["reals"]) for s in svcs)
    dp = {"flow_capacity": 131072, "mbufs": ack_n + 16383, "max_services": N_SERVICES + 16,
          "max_reals": n_reals + 64, "idle_sleep_us": 0}
    ports = ["10.1.0.2/24", "10.2.0.2/24", "10.0.0.2/24"] + (["172.16.0.2/12"] if distinct else [])
    vdevs = [f"net_pcap1,rx_pcap={syn}", f"net_pcap0,rx_pcap={ack},infinite_rx=1",
             "net_null0,no-rx=1"] + (["net_null1,no-rx=1"] if distinct else [])
    res = {"distinct": distinct, "services": len(svcs), "reals": n_reals}
    ctx = HugePages(mem + 256) if huge else None
    hp = ctx.__enter__() if ctx else None
    try:
        t0 = time.monotonic()
        d = VdevDaemon(build, work, vdevs, ports, mem, dp, svcs, statics=dpl.statics(),
                       huge_dir=hp.dir if hp else None, start_timeout=boot_timeout)
        res["boot_s"] = time.monotonic() - t0
        try:
            wait_until(lambda: d.dataplane_stats()["flows"] >= 100_000, 300, 0.5, "100k flows")
            info = d.call("system.info")
            res["boot_build_us"] = info["last_snapshot_build_us"]
            # single changes, the appliance under load: weight of one real of service #1234
            target = svcs[1 + 1234]
            key = {"vip": target["vip"], "port": 80, "proto": "tcp"}
            ip = target["reals"][3]["ip"]
            rtts, builds, pubs = [], [], []
            for i in range(21):
                t = time.monotonic()
                d.call("real.update", {"service": key, "ip": ip, "port": 80, "weight": 2 + i % 2})
                rtts.append((time.monotonic() - t) * 1e3)
                info = d.call("system.info")
                builds.append(info["last_snapshot_build_us"] / 1e3)
                pubs.append(info["last_snapshot_publish_us"] / 1e3)
            res["update_rtt_ms"] = median(rtts)
            res["build_ms"] = median(builds)
            res["publish_ms"] = median(pubs)
            res["total_ms"] = res["build_ms"] + res["publish_ms"]
            res["update_rtt_p99_ms"] = max(rtts)
            log(f"  one-real change: rpc {res['update_rtt_ms']:.2f} ms, build "
                f"{res['build_ms']:.2f} ms, publish (swap + RCU) {res['publish_ms']:.3f} ms")
            # baseline rate, then the same interval with changes published back to back
            s0 = d.dataplane_stats()
            time.sleep(duration)
            s1 = d.dataplane_stats()
            base = interval_rates(s0, s1)
            stop = threading.Event()
            count = [0]

            def churn():
                i = 0
                while not stop.is_set():
                    # alternate between the traffic service's reals and a big service's
                    if i % 2:
                        d2.call("real.update", {"service": {"vip": dpl.VIP, "port": 80,
                                                            "proto": "tcp"},
                                                "ip": "10.0.0.11", "port": 80,
                                                "weight": 1 + (i // 2) % 2})
                    else:
                        d2.call("real.update", {"service": key, "ip": ip, "port": 80,
                                                "weight": 1 + (i // 2) % 2})
                    i += 1
                    count[0] = i
            from common import Rpc
            d2 = Rpc(d.sock, timeout=600)
            th = threading.Thread(target=churn, daemon=True)
            th.start()
            s0 = d.dataplane_stats()
            time.sleep(duration)
            s1 = d.dataplane_stats()
            n0 = count[0]
            stop.set()
            th.join(timeout=600)
            d2.close()
            load = interval_rates(s0, s1)
            res["publishes_under_load"] = n0
            res["dropped_under_load"] = load["dropped"]
            res["drop_reasons_under_load"] = load["drop_reasons"]
            res["mpps_idle_control"] = base["tx_mpps"]
            res["mpps_publishing"] = load["tx_mpps"]
            log(f"  under load: {n0} publishes in {load['dt']:.1f} s, dropped {load['dropped']} "
                f"{load['drop_reasons']}, {base['tx_mpps']:.2f} Mpps without / "
                f"{load['tx_mpps']:.2f} Mpps with publishing")
            if paced_s > 0:
                # the health-check pattern: 100 weight changes per second, under load
                s0 = d.dataplane_stats()
                rtts, n, secs = paced_changes(d, key, ip, 100, paced_s)
                s1 = d.dataplane_stats()
                paced = interval_rates(s0, s1)
                res["paced"] = {"seconds": secs, "changes": n, "rate": n / secs,
                                "dropped": paced["dropped"],
                                "drop_reasons": paced["drop_reasons"],
                                "rtt_median_ms": median(rtts),
                                "rtt_p99_ms": percentile(rtts, 0.99),
                                "rtt_max_ms": max(rtts), "mpps": paced["tx_mpps"]}
                info = d.call("system.info")
                if "snapshots_pending_free" in info:
                    t = time.monotonic()
                    wait_until(lambda: d.call("system.info")["snapshots_pending_free"] == 0,
                               30, 0.01, "old snapshots freed")
                    res["paced"]["pending_free_drained_s"] = time.monotonic() - t
                log(f"  paced: {n} changes in {secs:.1f} s ({n / secs:.1f}/s), dropped "
                    f"{paced['dropped']} {paced['drop_reasons']}, rpc median "
                    f"{median(rtts):.2f} ms p99 {percentile(rtts, 0.99):.2f} ms")
        finally:
            d.stop()
    finally:
        if ctx:
            ctx.__exit__(None, None, None)
    return res


def run_maglev(build):
    exe = os.path.join(build, "tests", "bench", "maglev_build_bench")
    out = subprocess.run([exe], capture_output=True, text=True, check=True, timeout=600).stdout
    res = {}
    for m in re.finditer(r"M=(\d+) N=(\d+) weights=(\S+): best ([\d.]+) ms, mean ([\d.]+) ms", out):
        res[f"M{m.group(1)}_N{m.group(2)}_{m.group(3)}"] = {"best_ms": float(m.group(4)),
                                                          "mean_ms": float(m.group(5))}
    return res, out


def run_snapshot_bench(build):
    exe = os.path.join(build, "tests", "bench", "snapshot_publish_bench")
    out = subprocess.run([exe], capture_output=True, text=True, check=True, timeout=600).stdout
    res = {}
    for m in re.finditer(r"(\w+) real addresses: full rebuild ([\d.]+) ms, one-real change "
                         r"build\+publish ([\d.]+) ms \(reclaim ([\d.]+) ms\), 1000-real batch "
                         r"build\+publish ([\d.]+) ms \(reclaim ([\d.]+) ms\), service "
                         r"removed build\+publish ([\d.]+) ms \(reclaim ([\d.]+) ms\)", out):
        res[m.group(1)] = {"full_ms": float(m.group(2)), "one_ms": float(m.group(3)),
                           "one_reclaim_ms": float(m.group(4)), "batch_ms": float(m.group(5)),
                           "batch_reclaim_ms": float(m.group(6)), "del_ms": float(m.group(7)),
                           "del_reclaim_ms": float(m.group(8))}
    return res, out


def run_all(build, work, cache, duration, huge, results, baseline=None, paced_s=60):
    out = results.setdefault("control", {})
    builds = [("", build)] + ([("_baseline", baseline)] if baseline else [])
    for distinct in (False, True):
        label = "distinct" if distinct else "shared"
        for suffix, b in builds:
            log(f"publish: 10,000 services x 10 reals ({label} real addresses){suffix}")
            try:
                out[f"publish_{label}{suffix}"] = run_publish(
                    b, work, cache, distinct, duration, huge,
                    boot_timeout=600 if distinct else 1800, paced_s=paced_s if not suffix else 0)
            except Exception as e:  # noqa: BLE001
                log(f"  FAILED: {e}")
                out[f"publish_{label}{suffix}"] = {"error": str(e)}
    log("snapshot build benchmark")
    out["snapshot"], text = run_snapshot_bench(build)
    log("  " + text.strip().replace("\n", "\n  "))
    log("maglev build benchmark")
    out["maglev"], text = run_maglev(build)
    log("  " + text.strip().replace("\n", "\n  "))
    return out


# --- control loop lateness (issue 9 item 5) ---------------------------------------------------
#
# The daemon's probe: a 100 ms periodic timer on the control lcore's event loop records how late
# the loop ran it, keeping its last 1024 runs; system.info's control_loop gives their p99 and
# max. Those are the only figures exported (no per-sample history), so a phase's figures must
# come from a window that holds samples of that phase only: every phase lasts at least
# LATENESS_WINDOW_S (1024 x 100 ms plus margin; when the loop is late the timer runs less
# often, hence the check that `samples` is 1024 and the window's span fits the phase), and
# control_loop is read at the phase's end, while the load still runs. A shorter --lateness-phase
# (a quick look) gives windows that mix the phase with the one before: `window_mixed` says so.
# The idle phase comes first, after boot and the 1M-flow prefill have settled, so the boot's
# long first commit is out of its window too.
#
# The load clients (Python, this process) pin their threads to CPU 1, the worker's CPU, so that
# on a 2-CPU machine they do not preempt the control lcore (CPU 0): what is measured is the
# loop's own work, not CPU contention from the client.
LATENESS_WINDOW_S = 1024 * 0.1 + 3


def _pin_to_worker_cpu():
    try:
        os.sched_setaffinity(0, {1})  # this thread only (Linux)
    except OSError:
        pass


def _late(d):
    cl = d.call("system.info")["control_loop"]
    return {"samples": cl["samples"], "p99_us": cl["late_p99_us"], "max_us": cl["late_max_us"]}


def _conn_list_pages(d, limit, stop, stats):
    """Pages through the whole connection list over and over (a fresh pass when a pass ends)."""
    _pin_to_worker_cpu()
    while not stop.is_set():
        t0 = time.monotonic()
        cursor, entries, pages = None, 0, 0
        while not stop.is_set():
            p = {"limit": limit}
            if cursor:
                p["cursor"] = cursor
            t = time.monotonic()
            r = d.call("conn.list", p)
            stats["page_ms"].append((time.monotonic() - t) * 1e3)
            entries += len(r["connections"])
            pages += 1
            stats["entries"] += len(r["connections"])
            cursor = r["cursor"]
            if cursor is None:
                stats["passes"] += 1
                stats["pass_s"].append(time.monotonic() - t0)
                stats["pass_entries"] = entries
                stats["pass_pages"] = pages
                break


def _commits(d, key, ip, stop, stats):
    """real.update of one weight, back to back (one commit, one snapshot each)."""
    _pin_to_worker_cpu()
    i = 0
    while not stop.is_set():
        t = time.monotonic()
        d.call("real.update", {"service": key, "ip": ip, "port": 80, "weight": 1 + i % 2})
        stats["rtt_ms"].append((time.monotonic() - t) * 1e3)
        i += 1


def _applies(d, svcs, stop, stats):
    """config.apply of 1,000 real.update edits (real #3 of 1,000 services), back to back."""
    _pin_to_worker_cpu()
    i = 0
    while not stop.is_set():
        edits = [{"method": "real.update",
                  "params": {"service": {"vip": s["vip"], "port": 80, "proto": "tcp"},
                             "ip": s["reals"][3]["ip"], "port": 80, "weight": 1 + i % 2}}
                 for s in svcs]
        t = time.monotonic()
        r = d.call("config.apply", {"edits": edits})
        stats["rtt_ms"].append((time.monotonic() - t) * 1e3)
        assert r["applied"] == len(edits), r
        i += 1


def run_lateness(build, work, cache, huge, phase_s=LATENESS_WINDOW_S, flows=1_000_000,
                 boot_timeout=1800):
    """Boots with 10,001 services x 10 reals (shared addresses), the 100k-flow established load
    and `flows` connections (a pcap of unique SYNs replayed once, syn_recv 3600 s), then measures
    the control loop's lateness idle, while conn.list pages through every connection (limit 1000,
    then limit 100000), while real.update commits run back to back, and while config.apply
    commits 1,000 real.update edits per call back to back."""
    syn, syn_n = dpl.pcap(cache, "syn", flows)
    ack, ack_n = dpl.pcap(cache, "ack", 100_000, 100_000, 1)
    per = MBUF_BYTES if huge else MBUF_BYTES_NOHUGE
    capacity = flows + flows // 4
    mem = (ack_n + 16384) * per / 2**20 + capacity * 200 / 2**20 + 1024 + 200
    svcs = [{"vip": dpl.VIP, "port": 80, "proto": "tcp", "scheduler": "wrr",
             "reals": dpl.reals()}] + big_services(False)
    n_reals = sum(len(s["reals"]) for s in svcs)
    dp = {"flow_capacity": capacity, "mbufs": ack_n + 16383, "max_services": N_SERVICES + 16,
          "max_reals": n_reals + 64, "idle_sleep_us": 0}
    ports = ["10.1.0.2/24", "10.2.0.2/24", "10.0.0.2/24"]
    vdevs = [f"net_pcap1,rx_pcap={syn}", f"net_pcap0,rx_pcap={ack},infinite_rx=1",
             "net_null0,no-rx=1"]
    phase_s = float(phase_s)
    res = {"services": len(svcs), "reals": n_reals, "flows_target": flows, "phase_s": phase_s,
           "window_mixed": phase_s < LATENESS_WINDOW_S, "phases": {}}
    ctx = HugePages(mem + 256) if huge else None
    hp = ctx.__enter__() if ctx else None
    try:
        t0 = time.monotonic()
        d = VdevDaemon(build, work, vdevs, ports, mem, dp, svcs, statics=dpl.statics(),
                       timeouts={"syn_recv": 3600}, huge_dir=hp.dir if hp else None,
                       start_timeout=boot_timeout)
        res["boot_s"] = time.monotonic() - t0
        try:
            wait_until(lambda: d.dataplane_stats()["flows"] >= flows, 600, 0.5,
                       f"{flows} flows")
            res["flows"] = d.dataplane_stats()["flows"]
            log(f"  booted in {res['boot_s']:.1f} s, {res['flows']:,} flows")
            from common import Rpc

            def phase(name, target, *args):
                stop = threading.Event()
                stats = {"page_ms": [], "entries": 0, "passes": 0, "pass_s": [], "rtt_ms": []}
                th = None
                if target:
                    c = Rpc(d.sock, timeout=600)
                    th = threading.Thread(target=target, args=(c,) + args + (stop, stats),
                                          daemon=True)
                    th.start()
                s0 = d.dataplane_stats()
                ts = time.monotonic()
                while time.monotonic() - ts < phase_s:
                    # a cheap call every 20 s keeps the connection under rpc.idle_timeout_s
                    time.sleep(min(20, max(0, phase_s - (time.monotonic() - ts))))
                    if time.monotonic() - ts < phase_s:
                        d.call("system.info")
                late = _late(d)
                s1 = d.dataplane_stats()
                dt = time.monotonic() - ts
                stop.set()
                if th:
                    th.join(timeout=600)
                    c.close()
                ph = {"seconds": dt, "late_p99_us": late["p99_us"], "late_max_us": late["max_us"],
                      "samples": late["samples"],
                      "window_in_phase": late["samples"] * 0.1 <= dt and not res["window_mixed"],
                      "dropped": s1["dropped"] - s0["dropped"],
                      "mpps": interval_rates(s0, s1)["tx_mpps"]}
                if stats["page_ms"]:
                    ph.update(pages=len(stats["page_ms"]), entries=stats["entries"],
                              passes=stats["passes"],
                              pass_s=median(stats["pass_s"]) if stats["pass_s"] else None,
                              pass_entries=stats.get("pass_entries"),
                              pass_pages=stats.get("pass_pages"),
                              page_ms_median=median(stats["page_ms"]),
                              page_ms_max=max(stats["page_ms"]))
                if stats["rtt_ms"]:
                    r = stats["rtt_ms"]
                    ph.update(calls=len(r), rtt_ms_median=median(r),
                              rtt_ms_p99=percentile(r, 0.99), rtt_ms_max=max(r))
                    info = d.call("system.info")
                    ph["last_build_us"] = info["last_snapshot_build_us"]
                    ph["last_publish_us"] = info["last_snapshot_publish_us"]
                res["phases"][name] = ph
                extra = ""
                if "pages" in ph:
                    extra = (f"; {ph['pages']} pages, {ph['entries']:,} entries, {ph['passes']} "
                             f"full passes ({ph['pass_entries']} entries), page median "
                             f"{ph['page_ms_median']:.1f} ms max {ph['page_ms_max']:.1f} ms")
                if "calls" in ph:
                    extra = (f"; {ph['calls']} calls, rpc median {ph['rtt_ms_median']:.2f} ms "
                             f"p99 {ph['rtt_ms_p99']:.2f} max {ph['rtt_ms_max']:.2f} ms, last "
                             f"build {ph['last_build_us'] / 1e3:.2f} ms")
                log(f"  {name}: late p99 {late['p99_us'] / 1e3:.3f} ms, max "
                    f"{late['max_us'] / 1e3:.3f} ms over {late['samples']} samples "
                    f"({dt:.0f} s){extra}")

            target = svcs[1 + 1234]
            key = {"vip": target["vip"], "port": 80, "proto": "tcp"}
            phase("idle", None)
            phase("conn_list", _conn_list_pages, 1000)
            phase("conn_list_100k", _conn_list_pages, 100_000)
            phase("commits", _commits, key, target["reals"][3]["ip"])
            phase("apply_1000", _applies, svcs[1:1001])
        finally:
            d.stop()
    finally:
        if ctx:
            ctx.__exit__(None, None, None)
    return res
