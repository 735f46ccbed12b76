"""The one validator, through the RPCs: no edit may reach the dataplane unless it is safe.

Traffic to every service keeps flowing (the pcap port replays in a loop) while edits are tried;
a refused edit must leave config.get exactly as it was, and the daemon must survive them all
(it runs from build-san in the suite: ASan/UBSan reports fail the test)."""
import json
import os
import random

import pytest
from scapy.all import Ether, IP, UDP, TCP, IPv6, wrpcap

from lbdaemon import RpcError, wait_until

LB_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:99"
REALS = [f"10.9.0.{i}" for i in range(11, 17)]
NEIGHBOURS = [{"ip": ip, "mac": f"02:00:00:00:01:{i:02x}"} for i, ip in enumerate(REALS)]
BASE = {"ports": [{"address": "10.9.0.2/24", "address6": "2001:db8:9::2/64"}],
        "neighbours": {"static": NEIGHBOURS},
        "dataplane": {"flow_capacity": 4096, "mbufs": 8191, "max_reals": 24, "max_services": 6,
                      "idle_sleep_us": 200}}
OPS = {"vip": "10.9.0.100", "port": 53, "proto": "udp"}
WEB = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}


def traffic(services):
    """One datagram or SYN to each service from a few clients."""
    pkts = []
    for s in services:
        for c in range(4):
            l4 = UDP(sport=1000 + c, dport=s["port"]) if s["proto"] == "udp" else \
                TCP(sport=1000 + c, dport=s["port"], flags="S")
            ip = IPv6(src=f"2001:db8:9::5{c}", dst=s["vip"]) if ":" in s["vip"] else \
                IP(src=f"10.9.0.5{c}", dst=s["vip"])
            pkts.append(Ether(src=CLIENT_MAC, dst=LB_MAC) / ip / l4 / b"x" * 16)
    return pkts


def rx_packets(d):
    return d.stats()["dataplane"]["rx_packets"]


def start(pcap_daemon, tmp_path, services, cfg):
    path = tmp_path / "loop.pcap"
    wrpcap(str(path), traffic(services))
    d = pcap_daemon([path], cfg, replay_forever=True)
    wait_until(lambda: rx_packets(d) > 1000, timeout=20, what="traffic flowing")
    return d


def expect_refused(d, method, params, code, *needles):
    before = d.rpc.call("config.get")
    with pytest.raises(RpcError) as e:
        d.rpc.call(method, params)
    assert e.value.code == code, e.value
    for n in needles:
        assert n in e.value.message, e.value.message
    assert d.rpc.call("config.get") == before


def test_fnat_real_in_ops_service_is_refused_and_traffic_survives(pcap_daemon, tmp_path):
    """Issue 9's reproducer: this edit used to be accepted and crash the worker."""
    cfg = dict(BASE, services=[dict(OPS, scheduler="rr", ops=True, reals=[{"ip": REALS[0]}]),
                               dict(WEB, scheduler="rr", reals=[{"ip": REALS[1]}])])
    d = start(pcap_daemon, tmp_path, [OPS, WEB], cfg)
    d.rpc.call("service.update", dict(OPS, local_addresses=["10.9.0.3"]))
    expect_refused(d, "real.add", {"service": OPS, "ip": REALS[2], "forward": "fnat"}, -32602,
                   "reals[1].forward", "one-packet scheduling")
    expect_refused(d, "real.add", {"service": OPS, "ip": REALS[2], "forward": "nat"}, -32602,
                   "one-packet scheduling")
    expect_refused(d, "real.update", {"service": OPS, "ip": REALS[0], "forward": "nat"}, -32602,
                   "reals[0].forward")
    expect_refused(d, "service.update", dict(OPS, forward="fnat", fallback={"ip": REALS[3]}),
                   -32602, "one-packet scheduling")
    # fnat without local addresses: accepted before, then every SYN was dropped
    expect_refused(d, "real.add", {"service": WEB, "ip": REALS[2], "forward": "fnat"}, -32602,
                   "local_addresses")
    # off-link real, other family, port change with dr
    expect_refused(d, "real.add", {"service": WEB, "ip": "172.16.0.1"}, -32602, "on-link")
    expect_refused(d, "real.add", {"service": WEB, "ip": "2001:db8:9::11"}, -32602, "family")
    expect_refused(d, "real.add", {"service": WEB, "ip": REALS[2], "port": 81}, -32602,
                   "cannot change the port")
    n = rx_packets(d)
    wait_until(lambda: rx_packets(d) > n + 1000, timeout=10, what="the worker still forwarding")
    st = d.stats()["dataplane"]
    assert st["tx_packets"] > 0


def test_syn_proxy_only_for_nat_and_fnat_tcp_services(pcap_daemon, tmp_path):
    cfg = dict(BASE, services=[dict(OPS, scheduler="rr", reals=[{"ip": REALS[0]}]),
                               dict(WEB, scheduler="rr", forward="nat", syn_proxy=True,
                                    reals=[{"ip": REALS[1], "port": 8080}])])
    d = start(pcap_daemon, tmp_path, [OPS, WEB], cfg)
    svc = next(s for s in d.rpc.call("service.list")["services"] if s["port"] == 80)
    assert svc["syn_proxy"] is True
    # the dataplane answers the replayed SYNs itself, and makes no flows for them
    wait_until(lambda: d.stats()["dataplane"]["syn_proxy_cookies_sent"] > 100, timeout=10,
               what="SYNs answered with cookies")
    assert d.rpc.call("conn.list", {"proto": "tcp"})["connections"] == []
    assert d.rpc.call("conn.list", {"proto": "udp"})["connections"], "the UDP service's do"
    expect_refused(d, "real.add", {"service": WEB, "ip": REALS[2], "forward": "dr"}, -32602,
                   "reals[1].forward", "syn_proxy")
    expect_refused(d, "service.update", dict(WEB, syn_proxy="yes"), -32602,
                   "params.syn_proxy: must be true or false")
    expect_refused(d, "service.update", dict(OPS, syn_proxy=True), -32602, "syn_proxy",
                   "TCP services only")
    expect_refused(d, "service.add", dict(WEB, port=81, syn_proxy=True), -32602, "syn_proxy",
                   "nat or fnat")
    d.rpc.call("service.update", dict(WEB, syn_proxy=False))
    wait_until(lambda: d.rpc.call("conn.list", {"proto": "tcp"})["connections"], timeout=10,
               what="SYNs making flows again")


def test_unknown_key_in_the_service_object_is_refused(pcap_daemon, tmp_path):
    cfg = dict(BASE, services=[dict(WEB, reals=[{"ip": REALS[1]}])])
    d = start(pcap_daemon, tmp_path, [WEB], cfg)
    for method in ("real.add", "real.update", "real.del"):
        expect_refused(d, method, {"service": dict(WEB, prot="udp"), "ip": REALS[1]}, -32602,
                       "params.service.prot: unknown key")


# ---- randomised edits ---------------------------------------------------------------------

VIPS = ["10.9.0.100", "10.9.0.101", "2001:db8:9::100"]
PORTS = [53, 80, 0]
SCHEDS = ["rr", "wrr", "wlc", "sh", "mh", "dh", "lblc", "twos", "bogus"]
METHODS = ["dr", "tun", "nat", "fnat", "teleport"]


def rand_service_key(rng):
    return {"vip": rng.choice(VIPS), "port": rng.choice(PORTS), "proto": rng.choice(["tcp", "udp"])}


def rand_real_ip(rng, key):
    if ":" in key["vip"]:
        return rng.choice(["2001:db8:9::11", "2001:db8:9::12", "10.9.0.11"])
    return rng.choice(REALS + ["172.16.0.9", "2001:db8:9::11"])


def rand_real(rng, key):
    r = {"service": key, "ip": rand_real_ip(rng, key)}
    if rng.random() < 0.5:
        r["weight"] = rng.choice([0, 1, 3, 100, 65535, 65536, -1, "x"])
    if rng.random() < 0.4:
        r["forward"] = rng.choice(METHODS)
    if rng.random() < 0.3:
        r["port"] = rng.choice([0, 53, 80, 8080, 70000])
    if rng.random() < 0.15:
        r["u_threshold"] = rng.choice([0, 2, 10])
        r["l_threshold"] = rng.choice([0, 1, 5, 10])
    if rng.random() < 0.05:
        r[rng.choice(["colour", "weigth"])] = 1
    return r


def rand_service(rng, key):
    s = dict(key)
    if rng.random() < 0.6:
        s["scheduler"] = rng.choice(SCHEDS)
    if rng.random() < 0.3:
        s["forward"] = rng.choice(METHODS)
    if rng.random() < 0.3:
        s["ops"] = rng.choice([True, False])
    if rng.random() < 0.3:
        fam6 = ":" in key["vip"]
        s["local_addresses"] = rng.choice([[], ["10.9.0.3"], ["2001:db8:9::3"], ["10.9.0.3", "10.9.0.4"]]) \
            if not fam6 else rng.choice([[], ["2001:db8:9::3"], ["10.9.0.3"]])
    if rng.random() < 0.2:
        s["sched_flags"] = rng.choice([["fallback"], ["port"], ["fallback", "port"], ["x"]])
    if rng.random() < 0.15:
        s["persistent"] = rng.choice([0, 30, 300])
        s["netmask"] = rng.choice([24, 32, 64, 129])
    if rng.random() < 0.15:
        s["ports"] = rng.choice([[53, 80], ["8000-8010"], ["10-5"]])
    if rng.random() < 0.1:
        s["mh_table_size"] = rng.choice([251, 4093, 4096])
    if rng.random() < 0.15:
        s["fallback"] = rng.choice([None, {"ip": rand_real_ip(rng, key)},
                                    {"ip": rand_real_ip(rng, key), "forward": rng.choice(METHODS)}])
    if rng.random() < 0.1:
        s["client_address"] = rng.choice(["toa", "none"])
    return s


def rand_edit(rng):
    key = rand_service_key(rng)
    kind = rng.choice(["service.add", "service.add", "service.update", "service.del",
                       "real.add", "real.add", "real.update", "real.del", "config.apply"])
    if kind == "service.add":
        return kind, rand_service(rng, key)
    if kind == "service.update":
        return kind, rand_service(rng, key)
    if kind == "service.del":
        return kind, key
    if kind == "config.apply":
        edits = [dict(zip(("method", "params"), rand_edit(rng))) for _ in range(rng.randint(1, 4))]
        edits = [e for e in edits if e["method"] != "config.apply"] or \
            [{"method": "service.del", "params": key}]
        return kind, {"edits": edits}
    return kind, rand_real(rng, key)


def test_random_edits_never_hurt_the_dataplane(pcap_daemon, tmp_path):
    seed = int(os.environ.get("DPDK_LB_SEED") or random.randrange(1 << 30))
    print(f"seed {seed} (replay: DPDK_LB_SEED={seed})")
    rng = random.Random(seed)
    every = [{"vip": v, "port": p, "proto": pr} for v in VIPS for p in (53, 80, 8005)
             for pr in ("tcp", "udp")]
    d = start(pcap_daemon, tmp_path, every, dict(BASE))
    accepted = refused = 0
    trace = open(os.environ.get("DPDK_LB_TRACE", os.devnull), "w")
    cfg = d.rpc.call("config.get")
    for i in range(5000):
        method, params = rand_edit(rng)
        print(f"edit {i}: {method} {json.dumps(params)}", file=trace)
        try:
            d.rpc.call(method, params)
            accepted += 1
            cfg = d.rpc.call("config.get")
        except RpcError as e:
            refused += 1
            assert e.code in (-32602, -32001, -32002, -32003), (i, method, params, e)
            now = d.rpc.call("config.get")
            assert now == cfg, (i, method, params, e)
        assert d.proc.poll() is None, f"daemon died at edit {i}: {method} {params}\n" + \
            d.read_log()[-3000:]
    print(f"{accepted} accepted, {refused} refused")
    assert accepted > 200 and refused > 1000  # both kinds really exercised
    n = rx_packets(d)
    wait_until(lambda: rx_packets(d) > n + 1000, timeout=10, what="the worker still forwarding")
    assert "runtime error:" not in d.read_log()
