"""SYN flood scenario (`--only synflood`, docs/performance.md "SYN flood"): one worker, net_pcap
(infinite_rx=1) in, net_null out, as the dataplane scenarios. The pcap: blocks of 1,000 SYNs
from random sources (11.0.0.0/8, random ports) to the VIP 10.9.0.100:80, each followed by one
legitimate connection to a second service, 10.9.0.101:80 (same reals): its SYN, and one block
later its FIN+ACK (the client's handshake ACK, closing at once so that the next replay's SYN
for the same tuple is a new connection). The FIN+ACK is forwarded when the connection's flow
is still there, and dropped `no_flow` when the SYN was refused or its flow was evicted before
it: served = forwarded / (forwarded + no_flow). The pcap holds 4 x the table's capacity of flood
SYNs, so every flood SYN is a new flow (its tuple's previous flow was evicted or expired) and
the table stays full at the replay rate, the most a single worker can be offered."""
import os
import time

import numpy as np

from common import HugePages, VdevDaemon, log, wait_until
from mkpcap import frames
from dataplane import NEW_CONN_DATA_ROOM, mbuf_bytes, reals, run_ceiling, statics

VIP = (10 << 24) | (9 << 16) | 100        # flood target
VIP_LEGIT = (10 << 24) | (9 << 16) | 101  # the legitimate connections' service
BLOCK = 1000                               # flood SYNs per legitimate connection
CAPACITY = 262144                          # the default dataplane.flow_capacity


def write_pcap(path, blocks, seed=13):
    """blocks x (BLOCK flood SYNs, one legitimate SYN, the previous block's FIN+ACK)."""
    rng = np.random.default_rng(seed)
    per = BLOCK + 2
    n = blocks * per
    src = np.empty(n, dtype=np.uint32)
    sport = np.empty(n, dtype=np.uint32)
    dst = np.full(n, VIP, dtype=np.uint32)
    flags = np.full(n, 0x02, dtype=np.uint8)
    idx = np.arange(n)
    flood = idx % per < BLOCK
    nf = int(flood.sum())
    src[flood] = (11 << 24) + rng.integers(0, 1 << 24, nf, dtype=np.uint32)
    sport[flood] = rng.integers(1024, 65536, nf, dtype=np.uint32)
    k = idx // per
    syn = idx % per == BLOCK
    fin = idx % per == BLOCK + 1
    # legitimate client j: 12.(j >> 8).(j & 0xff).1, port 40000; its FIN+ACK one block later
    j_syn, j_fin = k[syn], (k[fin] - 1) % blocks
    for sel, j in ((syn, j_syn), (fin, j_fin)):
        src[sel] = (12 << 24) | ((j >> 8) << 16 | (j & 0xff) << 8 | 1).astype(np.uint32)
        sport[sel] = 40000
        dst[sel] = VIP_LEGIT
    flags[fin] = 0x11
    with open(path, "wb") as out:
        out.write(np.array([0xa1b2c3d4], dtype="<u4").tobytes())
        out.write(np.array([2, 4], dtype="<u2").tobytes())
        out.write(np.array([0, 0, 65535, 1], dtype="<u4").tobytes())
        for i in range(0, n, 1 << 20):
            s = slice(i, i + (1 << 20))
            out.write(frames(src[s], sport[s], dst[s], flags[s]).tobytes())
    return n


def run(build, work, cache, duration, warmup, huge, capacity=CAPACITY):
    blocks = 4 * capacity // BLOCK
    path = os.path.join(cache, f"synflood-{blocks}.pcap")
    if not os.path.exists(path):
        log(f"generating {os.path.basename(path)}")
        write_pcap(path + ".tmp", blocks)
        os.rename(path + ".tmp", path)
    n = blocks * (BLOCK + 2)
    mem = (n + 16384) * mbuf_bytes(NEW_CONN_DATA_ROOM, huge) / 2**20 + capacity * 200 / 2**20 + 384
    svc = [{"vip": v, "port": 80, "proto": "tcp", "scheduler": "wrr", "reals": reals(),
            "forward": "dr"} for v in ("10.9.0.100", "10.9.0.101")]
    dp = {"flow_capacity": capacity, "mbufs": n + 16383, "max_reals": 64, "max_services": 16,
          "idle_sleep_us": 0, "mbuf_data_room": NEW_CONN_DATA_ROOM}
    with HugePages(mem + 512) if huge else _nothing() as hp:
        d = VdevDaemon(build, work, [f"net_pcap0,rx_pcap={path},infinite_rx=1",
                                     "net_null0,no-rx=1"],
                       ["10.2.0.2/24", "10.0.0.2/24"], mem, dp, svc, statics=statics(),
                       huge_dir=hp.dir if hp else None)
        try:
            wait_until(lambda: d.dataplane_stats()["flow_pressure"] == 1, 120, 0.2,
                       "the table under pressure")
            time.sleep(warmup)
            s0, l0 = d.dataplane_stats(), legit(d)
            held = []
            t_end = time.monotonic() + duration
            while time.monotonic() < t_end:
                time.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
                held.append(d.dataplane_stats()["flows"])
            s1, l1 = d.dataplane_stats(), legit(d)
            info = d.call("system.info")
        finally:
            d.stop()
        log("  ceiling: testpmd io on the same pcap")
        ceiling = run_ceiling(work, path, n, min(duration, 10), warmup, hp.dir if hp else None,
                              NEW_CONN_DATA_ROOM)
    dt = s1["t"] - s0["t"]

    def rate(k):
        return (s1[k] - s0[k]) / dt

    fwd = (l1["inpkts"] - l1["conns"]) - (l0["inpkts"] - l0["conns"])
    nof = s1["drop_reasons"]["no_flow"] - s0["drop_reasons"]["no_flow"]
    r = {"capacity": capacity, "ceiling_mpps": ceiling, "flow_table_bytes": info.get("flow_table_bytes"),
         "duration_s": dt, "pcap_packets": n, "rx_mpps": rate("rx_packets") / 1e6,
         "created_per_s": rate("flows_created"), "expired_per_s": rate("flows_expired"),
         "evicted_per_s": rate("half_open_evicted"),
         "expired_early_per_s": rate("half_open_expired_early"),
         "refused_per_s": (s1["drop_reasons"]["flow_table_full"] -
                           s0["drop_reasons"]["flow_table_full"]) / dt,
         "flows_held_min": min(held), "flows_held_max": max(held),
         "legit_new": l1["conns"] - l0["conns"], "legit_served": fwd, "legit_failed": nof,
         "legit_served_pct": 100.0 * fwd / (fwd + nof) if fwd + nof else None,
         "other_drops": {k: v - s0["drop_reasons"].get(k, 0)
                         for k, v in s1["drop_reasons"].items()
                         if k != "no_flow" and v != s0["drop_reasons"].get(k, 0)}}
    r["half_open_age_ms"] = 1e3 * capacity / r["created_per_s"] if r["created_per_s"] else None
    log(f"  {r['rx_mpps']:.2f} Mpps rx (ceiling {ceiling:.2f}); flows {r['flows_held_min']:,}-{r['flows_held_max']:,} "
        f"of {capacity:,}; created {r['created_per_s']:,.0f}/s, expired "
        f"{r['expired_per_s']:,.0f}/s (evicted {r['evicted_per_s']:,.0f}/s, early "
        f"{r['expired_early_per_s']:,.0f}/s), refused {r['refused_per_s']:,.0f}/s; legitimate "
        f"{r['legit_served']:,} served, {r['legit_failed']:,} not "
        f"({r['legit_served_pct']:.3f} %); other drops {r['other_drops']}")
    return r


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def legit(d):
    """The legitimate service's counters (10.9.0.101:80)."""
    s = d.call("stats.get", {"vip": "10.9.0.101", "port": 80, "proto": "tcp"})["services"][0]
    return {"conns": s["conns"], "inpkts": s["inpkts"]}


def rows(s):
    """Table rows (section, item, value, unit, baseline, ratio, goal, note) of the scenario."""
    if not s:
        return []
    if s.get("error"):
        return [("synflood", "SYN flood", "", "", "", "", "", "ERROR: " + s["error"][:120])]
    note = (f"{s['duration_s']:.0f} s at {s['rx_mpps']:.2f} Mpps of SYNs from random sources "
            f"(testpmd ceiling {s['ceiling_mpps']:.2f}), 1 legitimate connection in {BLOCK:,}")
    return [
        ("synflood", "flows held (of the table's capacity)",
         f"{s['flows_held_min']:,}-{s['flows_held_max']:,}", "flows", f"{s['capacity']:,}", "",
         "", note),
        ("synflood", "flows ended per second (evicted + expired early + expired)",
         f"{s['expired_per_s']:,.0f}", "/s", "", "", "",
         f"evicted {s['evicted_per_s']:,.0f}/s, expired early {s['expired_early_per_s']:,.0f}/s, "
         f"refused {s['refused_per_s']:,.0f}/s; a half-open flow lives "
         f"{s['half_open_age_ms']:.0f} ms"),
        ("synflood", "legitimate new connections served",
         f"{s['legit_served_pct']:.3f}" if s["legit_served_pct"] is not None else "", "%", "",
         "", ">= 99", f"{s['legit_served']:,} served, {s['legit_failed']:,} not"),
    ]
