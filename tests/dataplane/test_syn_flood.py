"""The flow table under a SYN flood (docs/architecture.md, "Flow table under a SYN flood").

A small table (flow_capacity 1024 keys per worker) filled with half-open flows from random
sources still gives legitimate SYNs a flow, by ending the oldest half-open flows
(`half_open_evicted`); established flows are never ended for a SYN (a table full of them refuses
it: `flow_table_full`); over the pressure mark half-open flows live
`dataplane.half_open_pressure_timeout_s`, oldest first (`half_open_expired_early`,
`flow_pressure`, `flow_pressure_episodes`).
"""
import random

from scapy.all import IP, TCP, Ether

from scapy.all import wrpcap

from lbdaemon import wait_until
from test_edges import (CLIENT, LIVE_PORT_MAC, REAL, REAL_MAC, LiveDaemon, config, frame,
                        service)

CAP = 1024  # keys per worker: a dr/tun flow takes one, a nat/fnat flow two
MARK = CAP - CAP // 16  # from here a new flow first ends the oldest half-open one


def flood_sources(n, seed=13):
    """n distinct random sources (11.0.0.0/8) with random ports: hping3 --rand-source."""
    rnd = random.Random(seed)
    seen = set()
    while len(seen) < n:
        seen.add((f"11.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}",
                  rnd.randrange(1024, 65536)))
    return sorted(seen, key=lambda s: rnd.random())


def syn(src, sport, mac=None):
    l4 = TCP(sport=sport, dport=80, flags="S", seq=1)
    return frame(l4, src=src) if mac is None else frame(l4, src=src, mac=mac)


def ack(src, sport):
    return frame(TCP(sport=sport, dport=80, flags="A", seq=2, ack=1), src=src)


def run_pcap(pcap_daemon, tmp_path, packets, cfg):
    """lbdaemon.run_pcap, listing every connection (over a thousand)."""
    path = tmp_path / "in.pcap"
    wrpcap(str(path), packets)
    d = pcap_daemon([path], cfg)
    d.wait_rx(len(packets))
    stats = d.stats()
    stats["flow_table"] = d.rpc.call("system.info")["flow_table"]
    conns = d.rpc.call("conn.list", {"limit": 5000})["connections"]
    assert d.stop() == 0, d.read_log()
    return d.sent(), stats, conns


def dataplane(**kw):
    return {"flow_capacity": CAP, "mbufs": 4095, "max_reals": 64, "max_services": 16,
            "idle_sleep_us": 200, **kw}


def test_legitimate_syns_get_flows_in_a_table_full_of_half_open_ones(pcap_daemon, tmp_path):
    """1024 flood SYNs: the first 960 (15/16) fill the table to its eviction mark, each of the
    next 64 and then of 10 legitimate connections (SYN, then ACK) takes the place of the oldest
    flood flow, and each ACK finds its flow: none refused, 74 evicted, the 74 oldest flood flows
    but for the few the table moved to make room (they queue again) or ended as the oldest of a
    new key's two full buckets. (Pressure at 100 %: eviction alone.)"""
    flood = flood_sources(CAP)
    gone = CAP - MARK + 10
    legit = [(CLIENT, 40000 + i) for i in range(10)]
    pkts = [syn(s, p) for s, p in flood]
    for s, p in legit:
        pkts += [syn(s, p), ack(s, p)]
    cfg = config([service("tcp")], dataplane=dataplane(half_open_pressure_percent=100))
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["flow_table_full"] == 0 and dp["dropped"] == 0
    assert dp["half_open_evicted"] == gone
    assert dp["half_open_expired_early"] == 0
    assert (dp["flows"], dp["flows_created"], dp["flows_expired"]) == (MARK, CAP + 10, gone)
    assert len(out) == len(pkts)
    by_client = {c["client"]: c["state"] for c in conns}
    assert len(by_client) == MARK
    assert all(by_client[f"{s}:{p}"] == "ESTABLISHED" for s, p in legit)
    # The oldest go first, but for flows the table moved to make room (they queue again) and
    # where a new key's two buckets were both full (the oldest of those goes).
    out_of_order = dp["half_open_evicted_bucket"] + stats["flow_table"]["moves"]
    assert sum(f"{s}:{p}" in by_client for s, p in flood[:gone]) <= out_of_order, "oldest first"
    assert sum(f"{s}:{p}" not in by_client for s, p in flood[gone:]) <= out_of_order
    assert out_of_order <= gone // 4


def test_established_flows_are_never_evicted_for_a_syn(pcap_daemon, tmp_path):
    """1000 established connections, past the eviction mark (960): nothing half-open to end,
    so they all go in. Then 64 flood SYNs: each takes the place of the one before it (the only
    half-open flow), never of an established one; the established connections all stay and
    their packets still pass."""
    est = [(f"12.0.{i // 250}.{i % 250 + 1}", 20000 + i) for i in range(1000)]
    flood = flood_sources(64, seed=2)
    pkts = []
    for s, p in est:
        pkts += [syn(s, p), ack(s, p)]
    pkts += [syn(s, p) for s, p in flood]
    pkts += [ack(s, p) for s, p in est]
    cfg = config([service("tcp")], dataplane=dataplane(half_open_pressure_percent=100))
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    dp = stats["dataplane"]
    assert dp["dropped"] == 0, dp["drop_reasons"]
    assert dp["half_open_evicted"] == 63
    assert dp["flows"] == 1001
    states = {c["client"]: c["state"] for c in conns}
    assert all(states[f"{s}:{p}"] == "ESTABLISHED" for s, p in est)
    assert not any(f"{s}:{p}" in states for s, p in flood[:-1])
    assert states[f"{flood[-1][0]}:{flood[-1][1]}"] == "SYN_RECV"
    assert len(out) == len(pkts)


def test_a_table_full_of_established_flows_refuses_syns_and_says_why(pcap_daemon, tmp_path):
    """Nothing half-open to end: a SYN is refused (flow_table_full), nothing is evicted."""
    est = [(f"12.1.{i // 250}.{i % 250 + 1}", 20000 + i) for i in range(CAP)]
    flood = flood_sources(10, seed=3)
    pkts = []
    for s, p in est:
        pkts += [syn(s, p), ack(s, p)]
    pkts += [syn(s, p) for s, p in flood]
    cfg = config([service("tcp")], dataplane=dataplane())
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["flow_table_full"] == 10 and dp["dropped"] == 10
    assert dp["half_open_evicted"] == 0 and dp["flows"] == CAP
    assert len(out) == 2 * CAP
    assert {c["state"] for c in conns} == {"ESTABLISHED"}


def test_a_nat_syn_ends_half_open_flows_for_both_of_its_keys(pcap_daemon, tmp_path):
    """nat: a flow takes two keys, so 480 half-open nat flows fill a 1024-key table to its
    eviction mark (960 keys); a dr connection of another service ends one of them (two keys
    freed, one taken), each of the next two nat ones takes the free key for its client key
    and ends one more for its reply key. Replies of the legitimate nat flow pass."""
    nat = service("tcp", forward="nat")
    nat["reals"] = [{"ip": REAL, "port": 8080, "forward": "nat"}]
    dr = dict(service("tcp"), port=81)
    dr["reals"] = [{"ip": REAL, "port": 81}]
    flood = flood_sources(MARK // 2, seed=4)
    pkts = [syn(s, p) for s, p in flood]
    pkts += [frame(TCP(sport=41000, dport=81, flags="S"))]
    pkts += [frame(TCP(sport=41001, dport=80, flags="S")),
             frame(TCP(sport=41002, dport=80, flags="S")),
             Ether(src=REAL_MAC, dst="02:70:63:61:70:00") /
             IP(src=REAL, dst=CLIENT) / TCP(sport=8080, dport=41002, flags="SA")]
    cfg = config([nat, dr], dataplane=dataplane(half_open_pressure_percent=100))
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    dp = stats["dataplane"]
    assert dp["dropped"] == 0, dp["drop_reasons"]
    assert dp["half_open_evicted"] == 3
    assert dp["flows"] == len(flood) - 3 + 3
    clients = {c["client"] for c in conns}
    assert {f"{CLIENT}:41000", f"{CLIENT}:41001", f"{CLIENT}:41002"} <= clients
    assert not any(f"{s}:{p}" in clients for s, p in flood[:3])
    assert all(f"{s}:{p}" in clients for s, p in flood[3:])
    assert len(out) == len(pkts)


def test_under_pressure_half_open_flows_live_shorter_oldest_first(tmp_path):
    """Mark at 50 % (512 keys), lifetime then 1 s (timeouts.syn_recv 60). 400 SYNs (no
    pressure: 60 s), then 200 more: the table goes over the mark, the last ones get 1 s, and the
    oldest flows end after 1 s until the table is back under 90 % of the mark; an established
    connection made before stays. Counted: one pressure episode, early expiries."""
    cfg = config([service("tcp")], timeouts={"syn_recv": 60},
                 dataplane={"flow_capacity": CAP, "half_open_pressure_percent": 50,
                            "half_open_pressure_timeout_s": 1})
    ld = LiveDaemon(tmp_path, cfg)
    try:
        first = flood_sources(400, seed=5)
        second = flood_sources(600, seed=6)[:200]
        estab = ("13.0.0.1", 30000)
        ld.send(syn(*estab, mac=LIVE_PORT_MAC),
                frame(TCP(sport=estab[1], dport=80, flags="A", seq=2, ack=1), src=estab[0],
                      mac=LIVE_PORT_MAC))
        for k in range(0, 400, 100):
            ld.send(*[syn(s, p, mac=LIVE_PORT_MAC) for s, p in first[k:k + 100]])
        s = ld.d.wait_rx(402)["dataplane"]
        assert (s["flows"], s["flow_pressure"], s["flow_pressure_episodes"]) == (401, 0, 0)
        for k in range(0, 200, 100):
            ld.send(*[syn(s_, p, mac=LIVE_PORT_MAC) for s_, p in second[k:k + 100]])
        s = ld.d.wait_rx(602)["dataplane"]
        assert s["flows"] == 601 and s["flow_pressure_episodes"] == 1
        # created under pressure: 1 s left at most; before it: still about a minute
        conns = {c["client"]: c for c in ld.rpc.call("conn.list", {"limit": 5000})["connections"]}
        assert all(conns[f"{a}:{p}"]["expires"] <= 1 for a, p in second[-50:])
        assert all(conns[f"{a}:{p}"]["expires"] >= 50 for a, p in first)
        dp = wait_until(lambda: (d := ld.stats()["dataplane"])["flow_pressure"] == 0 and d,
                        timeout=10, interval=0.1, what="the table back under the mark")
        assert dp["flows"] < 512 * 9 // 10 and dp["half_open_expired_early"] > 0
        # the youngest of the first 400 are left, the oldest went first
        left = {c["client"] for c in ld.rpc.call("conn.list", {"limit": 5000})["connections"]}
        assert f"{estab[0]}:{estab[1]}" in left
        kept = [i for i, (a, p) in enumerate(first) if f"{a}:{p}" in left]
        assert kept and kept == list(range(400 - len(kept), 400)), kept[:5]
        assert dp["flows_expired"] == 601 - dp["flows"]
        # those made under pressure end after their 1 s too, pressure or not (the sweep)
        wait_until(lambda: not any(f"{a}:{p}" in {c["client"] for c in ld.rpc.call(
            "conn.list", {"limit": 5000})["connections"]} for a, p in second[-50:]),
            timeout=10, interval=0.2, what="the flows made under pressure expired")
    finally:
        rc, log = ld.close()
    assert rc == 0, log[-3000:]
