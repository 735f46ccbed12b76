"""Dataplane scenarios: one worker lcore, net_pcap (infinite_rx=1) in, net_null (no-rx=1) out,
60-byte frames (64 on the wire), and dpdk-testpmd --forward-mode=io on the same vdevs as the
I/O ceiling. Rates are counter deltas over a measured interval (stats.get / show port stats)."""
import os
import subprocess
import time

import contextlib

from common import (MBUF_BYTES, MBUF_BYTES_NOHUGE, PY, HugePages, Testpmd, VdevDaemon,
                    interval_rates, log, median, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
VIP = "10.9.0.100"
N_REALS = 10
NEW_CONN_DATA_ROOM = 128  # bytes of packet data per mbuf in the new-connection scenarios


def reals(weights=True):
    return [{"ip": f"10.0.0.{11 + i}", "weight": (i + 1) if weights else 1}
            for i in range(N_REALS)]


def statics():
    return [{"ip": f"10.0.0.{11 + i}", "mac": f"02:00:00:00:01:{i + 1:02x}"}
            for i in range(N_REALS)]


def pcap(cache, kind, *args):
    """Generates a pcap once into the cache directory; returns (path, packets)."""
    name = f"{kind}-" + "-".join(str(a) for a in args) + ".pcap"
    path = os.path.join(cache, name)
    if not os.path.exists(path):
        log(f"generating {name}")
        subprocess.run([PY, os.path.join(HERE, "mkpcap.py"), kind, path + ".tmp"] +
                       [str(a) for a in args], check=True)
        os.rename(path + ".tmp", path)
    return path, int(args[0])


class Scenario:
    def __init__(self, key, title, sched, in_pcap, in_pkts, flows, prefill_pcap=None,
                 syn_recv=3600, capacity=None, note="", huge=False, forward="dr", data_room=None,
                 dp_extra=None, extra=None, workers=1, lcores="0@0,1@1", n_reals=N_REALS):
        self.key, self.title, self.sched = key, title, sched
        self.n_reals = n_reals  # the first n of reals() (one: nat replies the pcap can name)
        # several workers: in_pcap and prefill_pcap are lists, one file (receive queue) per
        # worker, and capacity is per worker (each has its own flow table)
        self.workers, self.lcores = workers, lcores
        # received packets to wait for before the warm-up (scaling.py: past the first replay)
        self.settle_rx = 0
        self.dp_extra = dp_extra or {}  # dataplane keys over the defaults (source_slots ...)
        self.extra = extra or {}        # top-level config keys (blocklist ...)
        self.forward = forward
        # small mbufs let tens of millions of 64-byte frames stay resident (new connections)
        self.data_room = data_room
        self.in_pcap, self.in_pkts, self.flows = in_pcap, in_pkts, flows
        self.prefill_pcap = prefill_pcap
        self.syn_recv = syn_recv
        self.capacity = capacity or max(4096, flows + flows // 8)
        self.note = note
        self.huge = huge

    def mem_mb(self):
        # pool (the replayed pcap stays in mbufs) + flow table (~200 B/flow incl. the hash's
        # rings and buckets) + slack
        per = mbuf_bytes(self.data_room, self.huge)
        # (+ 96 MiB for the IPv4 LPM table of a blocklist: 64 MiB tbl24, tbl8 groups, rules)
        return (self.mbufs() + 1) * per / 2**20 + \
            self.workers * self.capacity * 200 / 2**20 + 384 + \
            (96 if "blocklist" in self.extra else 0)

    def mbufs(self):
        # slack: descriptors, per-lcore mempool caches and bursts in flight, per worker
        return self.in_pkts + 16383 + 2048 * (self.workers - 1)


def mbuf_bytes(data_room, huge):
    """Memory one mbuf of the pool takes (object, header, headroom, mempool overhead)."""
    if data_room is None:
        return MBUF_BYTES if huge else MBUF_BYTES_NOHUGE
    return data_room + 384 if huge else 4096 // max(1, 4096 // (data_room + 384))


def scenarios(cache, new_conn_syns, include_10m=True, quick=False, huge=True):
    s = []
    for n, key in ((100_000, "est_100k"), (1_000_000, "est_1m"), (10_000_000, "est_10m")):
        if key == "est_10m" and not include_10m:
            continue
        if quick and n > 100_000:
            continue
        sample = min(n, 1_000_000)
        ack, ack_n = pcap(cache, "ack", sample, n, 1)
        syn, _ = pcap(cache, "syn", n)
        note = ("every flow once per replay, random order" if sample == n else
                f"replay touches {sample:,} of the {n:,} flows (uniform sample), random order")
        s.append(Scenario(key, f"established DR, {n:,} flows", "wrr", ack, ack_n, n,
                          prefill_pcap=syn, note=note, huge=huge))
        if key == "est_100k":
            # The other transmit methods on the same traffic: what each rewrite costs.
            # nat/fnat flows hold two keys, hence twice the table capacity.
            for fwd, name in (("tun", "IP-in-IP"), ("nat", "NAT"), ("fnat", "full NAT")):
                s.append(Scenario(f"est_100k_{fwd}", f"established {name}, {n:,} flows", "wrr",
                                  ack, ack_n, n, prefill_pcap=syn, note=note, huge=huge,
                                  forward=fwd, capacity=(2 if fwd in ("nat", "fnat") else 1) *
                                  (n + n // 8)))
            # What observability costs per packet: the top-sources sketch (on by default)
            # turned off, and a blocklist of 1,000 prefixes none of the clients is in (every
            # packet is looked up and passes) next to the default empty list.
            # Both directions of nat connections, each client packet followed by its reply
            # (from the one real): the replies share the client packets' bulk lookup.
            both, both_n = pcap(cache, "both", sample, n, 1)
            s.append(Scenario("est_100k_nat_both", f"established NAT, {n:,} flows, client "
                              "packets and replies", "wrr", both, 2 * both_n, n,
                              prefill_pcap=syn, note=note + "; each followed by its reply",
                              huge=huge, forward="nat", capacity=2 * (n + n // 8), n_reals=1))
            s.append(Scenario("est_100k_nosketch", f"established DR, {n:,} flows, no source "
                              "sketch", "wrr", ack, ack_n, n, prefill_pcap=syn, note=note,
                              huge=huge, dp_extra={"source_slots": 0}))
            block = [{"cidr": f"172.{16 + i // 250}.{i % 250}.0/24"} for i in range(1000)]
            s.append(Scenario("est_100k_block", f"established DR, {n:,} flows, 1,000 blocklist "
                              "entries (no match)", "wrr", ack, ack_n, n, prefill_pcap=syn,
                              note=note + "; every packet looked up in the LPM", huge=huge,
                              extra={"blocklist": block}))
    syn, syn_n = pcap(cache, "syn", new_conn_syns)
    for sched in ("wrr", "mh"):
        s.append(Scenario(f"new_{sched}", f"new connections DR, {sched} over {N_REALS} reals",
                          sched, syn, syn_n, syn_n, syn_recv=1, capacity=syn_n,
                          note=f"{syn_n:,} unique SYNs, syn_recv timeout 1 s, 128-byte mbufs",
                          huge=huge, data_room=NEW_CONN_DATA_ROOM))
    return s


def pcap_vdev(name, pcaps, infinite):
    """A net_pcap vdev with one receive queue per file (a str is one file)."""
    files = [pcaps] if isinstance(pcaps, str) else pcaps
    return name + "".join(f",rx_pcap={p}" for p in files) + (",infinite_rx=1" if infinite else "")


def run_lb(build, work, sc, duration, warmup, huge_dir=None, during=None):
    vdevs = []
    ports = []
    if sc.prefill_pcap:
        # finite replay of one SYN per flow: fills the table once, then the port is silent
        vdevs.append(pcap_vdev("net_pcap1", sc.prefill_pcap, False))
        ports.append("10.1.0.2/24")
    vdevs.append(pcap_vdev("net_pcap0", sc.in_pcap, True))
    ports.append("10.2.0.2/24")
    vdevs.append("net_null0,no-rx=1")
    ports.append("10.0.0.2/24")
    dp = {"flow_capacity": sc.capacity, "mbufs": sc.mbufs(), "max_reals": 64, "max_services": 16,
          "idle_sleep_us": 0}
    if sc.prefill_pcap:
        # The prefill's flows stay half-open until their ACKs come round (at 10M, most never
        # do): no SYN-flood pressure, which would end them after 5 s, in a table this full.
        dp["half_open_pressure_percent"] = 100
    if sc.data_room:
        dp["mbuf_data_room"] = sc.data_room
    dp.update(sc.dp_extra)
    svc = [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": sc.sched,
            "reals": reals()[:sc.n_reals], "forward": sc.forward}]
    if sc.forward == "fnat":
        svc[0]["local_addresses"] = ["10.0.0.200", "10.0.0.201"]
    d = VdevDaemon(build, work, vdevs, ports, sc.mem_mb(), dp, svc,
                   timeouts={"syn_recv": sc.syn_recv}, statics=statics(), huge_dir=huge_dir,
                   extra=sc.extra, lcores=sc.lcores)
    try:
        if sc.prefill_pcap:
            wait_until(lambda: d.dataplane_stats()["flows"] >= sc.flows, 900, 0.5,
                       f"{sc.flows} flows in the table")
        if sc.settle_rx:
            wait_until(lambda: d.dataplane_stats()["rx_packets"] >= sc.settle_rx, 900, 0.2,
                       f"{sc.settle_rx} packets received")
        time.sleep(warmup)
        s0 = d.dataplane_stats()
        if during:
            during(d)  # e.g. a profiler attached to the daemon for the interval
        else:
            time.sleep(duration)
        s1 = d.dataplane_stats()
        r = interval_rates(s0, s1)
        info = d.call("system.info")
        r["flow_entry_bytes"] = info.get("flow_entry_bytes")
        r["flow_table_bytes"] = info.get("flow_table_bytes")
        r["flow_capacity"] = info.get("flow_capacity")
        r["flows_end"] = s1["flows"]
        return r
    finally:
        d.stop()


def run_ceiling(work, in_pcap, in_pkts, duration, warmup, huge_dir=None, data_room=None,
                lcores="0@0,1@1", cores=1, intervals=None):
    """testpmd io on the same vdevs: Mpps over `duration`; in_pcap may be a list (one queue and
    one forwarding lcore per file, `cores` of them, mapped by the EAL `lcores`). With
    `intervals`, that many consecutive intervals of one process: a list of Mpps."""
    vdevs = [pcap_vdev("net_pcap0", in_pcap, True), "net_null0,no-rx=1"]
    per = mbuf_bytes(data_room, huge_dir is not None)
    mem = (in_pkts + 40000 + 4096 * (cores - 1)) * per / 2**20 + 384
    tp = Testpmd(work, vdevs, mem, in_pkts + 32768 + 4096 * (cores - 1), huge_dir=huge_dir,
                 mbuf_size=data_room + 128 if data_room else None, lcores=lcores, cores=cores)
    try:
        tp.cmd("start")
        time.sleep(warmup)
        rates = []
        t0, c0 = tp.tx_packets(1)
        for _ in range(intervals or 1):
            time.sleep(duration)
            t1, c1 = tp.tx_packets(1)
            rates.append((c1 - c0) / (t1 - t0) / 1e6)
            t0, c0 = t1, c1
        return rates if intervals else rates[0]
    finally:
        tp.stop()


def run_all(build, work, cache, duration, runs, warmup, new_conn_syns, include_10m, quick,
            results, huge=True, only=None):
    """Appends one dict per scenario to results['dataplane']."""
    scs = scenarios(cache, new_conn_syns, include_10m, quick, huge)
    if only:
        scs = [s for s in scs if s.key in only]
    ceilings = {}
    out = results.setdefault("dataplane", [])
    for sc in scs:
        try:
            with (HugePages(sc.mem_mb() + 512) if sc.huge else contextlib.nullcontext()) as hp:
                one(build, work, sc, duration, runs, warmup, ceilings, out,
                    hp.dir if hp else None)
        except MemoryError as e:
            log(f"{sc.title}: SKIPPED: {e}")
            out.append({"key": sc.key, "title": sc.title, "note": sc.note, "error": str(e),
                        "mpps": None, "ratio": None, "ns_per_pkt": None, "ceiling_mpps": None})
    return out


def one(build, work, sc, duration, runs, warmup, ceilings, out, huge_dir):
    if True:
        ck = (sc.in_pcap if "ack" not in sc.in_pcap else f"ack{sc.in_pkts}")
        if ck not in ceilings:
            vals = []
            for i in range(runs):
                log(f"ceiling testpmd io, {os.path.basename(sc.in_pcap)}, run {i + 1}/{runs}")
                vals.append(run_ceiling(work, sc.in_pcap, sc.in_pkts, duration, warmup,
                                        huge_dir, sc.data_room))
                log(f"  {vals[-1]:.2f} Mpps")
            ceilings[ck] = vals
        rs = []
        for i in range(runs):
            log(f"{sc.title}: run {i + 1}/{runs}")
            try:
                r = run_lb(build, work, sc, duration, warmup, huge_dir)
            except Exception as e:  # noqa: BLE001 - one failed scenario must not stop the rest
                log(f"  FAILED: {e}")
                rs.append({"error": str(e)})
                break
            created = r["flows_created"] / r["rx_packets"] if r["rx_packets"] else 0
            log(f"  {r['tx_mpps']:.2f} Mpps tx, {r['rx_mpps']:.2f} Mpps rx, dropped "
                f"{r['dropped']} {r['drop_reasons']}, new flows/rx {created:.3f}, "
                f"flows {r['flows_end']}")
            r["created_per_rx"] = created
            rs.append(r)
        ok = [r for r in rs if "error" not in r]
        mpps = median([r["tx_mpps"] for r in ok]) if ok else None
        ceil = median(ceilings[ck])
        out.append({
            "key": sc.key, "title": sc.title, "note": sc.note, "runs": [r for r in rs],
            "mpps": mpps, "ns_per_pkt": 1e3 / mpps if mpps else None,
            "ceiling_mpps": ceil, "ceiling_runs": ceilings[ck],
            "ratio": mpps / ceil if mpps and ceil else None,
            "flow_entry_bytes": ok[0]["flow_entry_bytes"] if ok else None,
            "flow_table_bytes": ok[0]["flow_table_bytes"] if ok else None,
            "flow_capacity": ok[0]["flow_capacity"] if ok else None,
            "created_per_rx": median([r["created_per_rx"] for r in ok]) if ok else None,
            "dropped": sum(r["dropped"] for r in ok) if ok else None,
            "error": next((r["error"] for r in rs if "error" in r), None),
        })
