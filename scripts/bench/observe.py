"""Observability costs (issue 12): forwarding (established DR, 100,000 flows, one worker, pcap in
/ null out, as dataplane.py's est_100k) measured in one daemon, phases alternating so that the
ratios come from the same run: an empty blocklist; 1,000 blocklist entries no client is in
(every packet looked up in the LPM and passed); an entry that blocks one client of the
replayed traffic (the replayed flows come from a few addresses, 32,768 flows each: about a third
of the packets are dropped as `blocked`); and an empty blocklist with
conn.top called back to back (a full walk of the 100,000-flow table each time, plus the
per-source rates). The source sketch's cost is the dataplane scenario est_100k_nosketch
(dataplane.py), which needs a daemon of its own (dataplane.source_slots is read at start)."""
import contextlib
import threading
import time

import dataplane
from common import HugePages, Rpc, interval_rates, log, median

N_ENTRIES = 1000
# The replayed clients are 11.0.0.0/8 (mkpcap.py); these prefixes match none of them.
MISS = [f"172.{16 + i // 250}.{i % 250}.0/24" for i in range(N_ENTRIES)]


def measure(d, duration):
    s0 = d.dataplane_stats()
    time.sleep(duration)
    return interval_rates(s0, d.dataplane_stats())


def apply(d, method, cidrs):
    d.call("config.apply", {"edits": [{"method": method, "params": {"cidr": c}} for c in cidrs]})


def top_phase(d, duration):
    """Forwarding while another client calls conn.top back to back; (rates, calls, mean ms)."""
    stop = threading.Event()
    times = []

    def loop():
        c = Rpc(d.sock)
        try:
            while not stop.is_set():
                t0 = time.monotonic()
                c.call("conn.top", {"by": "conns", "prefix": 24})
                times.append(time.monotonic() - t0)
        finally:
            c.sock.close()
    th = threading.Thread(target=loop)
    th.start()
    try:
        time.sleep(0.5)
        r = measure(d, duration)
    finally:
        stop.set()
        th.join(30)
    return r, len(times), 1000 * median(times) if times else None


def run_observe(build, work, cache, duration, runs, warmup, huge, results):
    n = 100_000
    ack, ack_n = dataplane.pcap(cache, "ack", n, n, 1)
    syn, _ = dataplane.pcap(cache, "syn", n)
    sc = dataplane.Scenario("observe", f"established DR, {n:,} flows", "wrr", ack, ack_n, n,
                            prefill_pcap=syn, huge=huge,
                            dp_extra={"blocklist_capacity": N_ENTRIES + 16})
    phases = {"empty": [], "miss": [], "hit": [], "top": []}
    info = {"blocked_share": [], "top_calls": [], "top_ms": []}

    def during(d):
        # one replayed client, to be blocked in the "hit" phase
        client = d.call("conn.list", {"limit": 1})["connections"][0]["client"].rsplit(":", 1)[0]
        for i in range(runs):
            log(f"observe: run {i + 1}/{runs}")
            phases["empty"].append(measure(d, duration)["tx_mpps"])
            apply(d, "block.add", MISS)
            phases["miss"].append(measure(d, duration)["tx_mpps"])
            apply(d, "block.del", MISS)
            s0 = d.call("stats.get")["dataplane"]
            d.call("block.add", {"cidr": client})
            r = measure(d, duration)
            d.call("block.del", {"cidr": client})
            s1 = d.call("stats.get")["dataplane"]
            phases["hit"].append(r["rx_mpps"])
            info["blocked_share"].append(
                (s1["drop_reasons"]["blocked"] - s0["drop_reasons"]["blocked"]) /
                max(1, s1["rx_packets"] - s0["rx_packets"]))
            r, calls, ms = top_phase(d, duration)
            phases["top"].append(r["tx_mpps"])
            info["top_calls"].append(calls / duration)
            info["top_ms"].append(ms)
            log(f"  empty blocklist {phases['empty'][-1]:.2f} Mpps, {N_ENTRIES} entries (no "
                f"match) {phases['miss'][-1]:.2f} Mpps, one client blocked "
                f"{phases['hit'][-1]:.2f} Mpps received ({info['blocked_share'][-1]:.4f} "
                f"blocked), conn.top back to back {phases['top'][-1]:.2f} Mpps "
                f"({info['top_calls'][-1]:.1f} calls/s, {ms or 0:.0f} ms each)")

    mem = sc.mem_mb() + 96  # the IPv4 LPM table
    with (HugePages(mem + 512) if huge else contextlib.nullcontext()) as hp:
        dataplane.run_lb(build, work, sc, 0, warmup, hp.dir if hp else None, during=during)
    m = {k: median(v) for k, v in phases.items()}
    results["observe"] = {
        "title": sc.title, "runs": runs, "empty_mpps": m["empty"], "miss_mpps": m["miss"],
        "hit_rx_mpps": m["hit"], "top_mpps": m["top"],
        "ratio_miss": m["miss"] / m["empty"] if m["empty"] else None,
        "ratio_top": m["top"] / m["empty"] if m["empty"] else None,
        "blocked_share": median(info["blocked_share"]),
        "top_calls_per_s": median(info["top_calls"]), "top_ms": median(info["top_ms"]),
        "phases": phases,
    }
    return results["observe"]


def observe_rows(o):
    """Rows of the observe scenario for the results table."""
    if not o:
        return []
    if o.get("error"):
        return [("observe", "blocklist and conn.top", "", "", "", "", "", "ERROR: " + o["error"][:200])]
    what = f"{o['title']}, median of {o['runs']}, phases alternating in one daemon"
    return [
        ("observe", f"forwarding, {N_ENTRIES} blocklist entries (no match)",
         f"{o['miss_mpps']:.2f}", "Mpps", f"{o['empty_mpps']:.2f}", f"{o['ratio_miss']:.3f}", "",
         f"{what}; baseline: empty blocklist"),
        ("observe", "forwarding, one client blocked", f"{o['hit_rx_mpps']:.2f}", "Mpps rx",
         f"{o['empty_mpps']:.2f}", "", "", f"{o['blocked_share']:.4f} of packets blocked"),
        ("observe", "forwarding, conn.top back to back", f"{o['top_mpps']:.2f}", "Mpps",
         f"{o['empty_mpps']:.2f}", f"{o['ratio_top']:.3f}", "",
         f"{o['top_calls_per_s']:.1f} calls/s, {o['top_ms']:.0f} ms each (a full table walk)"),
    ]
