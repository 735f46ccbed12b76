"""RPC details no other test pins down: stats.get narrowed to one service, conn.list's
truncated flag, service.update of a group's ports and protos taking effect on traffic, IPv6
persistence netmasks, and a scheduler or method change keeping existing connections on their
reals. pcap vdev ports; where traffic must flow across a change, the port replays its pcap
forever and the tests read counters and the connection table."""
import pytest
from scapy.all import IP, TCP, UDP, Ether, IPv6, wrpcap

from lbdaemon import RpcError, wait_until

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP = "10.9.0.100"
CLIENT = "10.9.0.10"
REALS = {"10.9.0.11": "02:00:00:00:00:11", "10.9.0.12": "02:00:00:00:00:12"}
R1, R2 = REALS
VIP6 = "2001:db8:9::100"
REALS6 = {"2001:db8:9::11": "02:00:00:00:00:11", "2001:db8:9::12": "02:00:00:00:00:12"}


def base(services, **extra):
    cfg = {
        "ports": [{"address": "10.9.0.2/24", "address6": "2001:db8:9::2/64"}],
        "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in
                                  list(REALS.items()) + list(REALS6.items())]},
        "services": services,
    }
    cfg.update(extra)
    return cfg


def service(port=80, proto="tcp", scheduler="rr", vip=VIP, reals=(R1, R2), **svc):
    s = {"vip": vip, "port": port, "proto": proto, "scheduler": scheduler,
         "reals": [{"ip": ip, "port": port} for ip in reals]}
    s.update(svc)
    return s


def tcp(sport, dport=80, flags="S", src=CLIENT):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=src, dst=VIP) / \
        TCP(sport=sport, dport=dport, flags=flags)


def udp(sport, dport=80, src=CLIENT):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=src, dst=VIP) / \
        UDP(sport=sport, dport=dport)


def start(pcap_daemon, tmp_path, packets, cfg, replay_forever=False):
    path = tmp_path / "in.pcap"
    wrpcap(str(path), packets)
    d = pcap_daemon([path], cfg, replay_forever=replay_forever)
    if not replay_forever:
        d.wait_rx(len(packets))
    return d


def key(s):
    return {"vip": s["vip"], "port": s["port"], "proto": s["proto"]}


# ---- stats.get ------------------------------------------------------------------------------

def test_stats_get_narrowed_to_one_service(pcap_daemon, tmp_path):
    web, dns = service(80), service(53, "udp")
    pkts = [tcp(1000 + i) for i in range(3)] + [udp(2000 + i, 53) for i in range(5)]
    d = start(pcap_daemon, tmp_path, pkts, base([web, dns]))
    whole = d.rpc.call("stats.get")
    assert len(whole["services"]) == 2
    one = d.rpc.call("stats.get", key(dns))
    assert [key(s) for s in one["services"]] == [key(dns)]
    s = one["services"][0]
    assert (s["conns"], s["inpkts"]) == (5, 5)
    assert sorted(r["conns"] for r in s["reals"]) == [2, 3]
    # the same service as in the whole answer, and the dataplane counters with it
    assert s == next(x for x in whole["services"] if key(x) == key(dns))
    assert one["dataplane"]["rx_packets"] == 8
    web_only = d.rpc.call("stats.get", key(web))["services"]
    assert len(web_only) == 1 and web_only[0]["conns"] == 3
    with pytest.raises(RpcError) as e:
        d.rpc.call("stats.get", dict(key(web), port=81))
    assert e.value.code == -32001
    with pytest.raises(RpcError) as e:
        d.rpc.call("stats.get", {"vip": VIP, "port": 80})
    assert e.value.code == -32602 and "proto" in e.value.message
    assert d.stop() == 0


# ---- conn.list truncated --------------------------------------------------------------------

def test_conn_list_says_truncated_when_connections_remain(pcap_daemon, tmp_path):
    pkts = [tcp(3000 + i) for i in range(10)]
    d = start(pcap_daemon, tmp_path, pkts, base([service()]))
    first = d.rpc.call("conn.list", {"limit": 4})
    assert len(first["connections"]) == 4
    assert first["truncated"] is True and isinstance(first["cursor"], str)
    exact = d.rpc.call("conn.list", {"limit": 10})
    assert len(exact["connections"]) == 10
    assert exact["truncated"] is False and exact["cursor"] is None
    # the rest of the pages hold the 6 others, each once
    seen, cursor = [c["client"] for c in first["connections"]], first["cursor"]
    while cursor is not None:
        page = d.rpc.call("conn.list", {"limit": 4, "cursor": cursor})
        assert page["truncated"] == (page["cursor"] is not None)
        seen += [c["client"] for c in page["connections"]]
        cursor = page["cursor"]
    assert sorted(seen) == sorted(f"{CLIENT}:{3000 + i}" for i in range(10))
    assert d.stop() == 0


# ---- service.update of ports and protos -------------------------------------------------------

def group(ports, protos):
    return {"vip": VIP, "port": 0, "proto": "tcp", "scheduler": "rr", "ports": ports,
            "protos": protos, "reals": [{"ip": R1, "port": 0}]}


def cycles(dport, n=8):
    """n connections opened and closed (SYN, ACK, FIN) per replay: every replay opens n new
    connections, each scheduled (or refused) by the configuration of that moment."""
    return [tcp(4000 + i, dport, flags) for flags in ("S", "A", "FA") for i in range(n)]


def counters(d):
    s = d.stats()
    return s["services"][0]["conns"], s["dataplane"]["drop_reasons"]["not_vip"], \
        s["dataplane"]["rx_packets"]


def takes(d, served):
    """After a change: lets 200 packets pass (the workers pick the new snapshot up), then
    checks over the next 200 that the group takes new connections (served) and nothing is
    dropped as not_vip, or the reverse."""
    a = counters(d)
    b = wait_until(lambda: (x := counters(d)) and x[2] >= a[2] + 200 and x, what="traffic")
    c = wait_until(lambda: (x := counters(d)) and x[2] >= b[2] + 200 and x, what="more traffic")
    assert (c[0] > b[0]) == served, (b, c)
    assert (c[1] > b[1]) == (not served), (b, c)


def test_service_update_of_a_groups_ports_takes_effect(pcap_daemon, tmp_path):
    # The replayed connections go to port 443 only: no service for them until the group's
    # ports include 443, and none again once they no longer do.
    d = start(pcap_daemon, tmp_path, cycles(443), base([group([80], ["tcp"])]),
              replay_forever=True)
    gkey = {"vip": VIP, "port": 0, "proto": "tcp"}
    takes(d, served=False)
    got = d.rpc.call("service.update", dict(gkey, ports=[80, "440-450"]))
    assert got["ports"] == [80, "440-450"]
    takes(d, served=True)
    d.rpc.call("service.update", dict(gkey, ports=[8080]))
    takes(d, served=False)


def test_service_update_of_a_groups_protos_takes_effect(pcap_daemon, tmp_path):
    # TCP connections to a group of UDP only; then of both; then of UDP again.
    d = start(pcap_daemon, tmp_path, cycles(80), base([group([80], ["udp"])]),
              replay_forever=True)
    gkey = {"vip": VIP, "port": 0, "proto": "tcp"}
    takes(d, served=False)
    got = d.rpc.call("service.update", dict(gkey, protos=["tcp", "udp"]))
    assert got["protos"] == ["tcp", "udp"]
    takes(d, served=True)
    d.rpc.call("service.update", dict(gkey, protos=["udp"]))
    takes(d, served=False)


# ---- IPv6 persistence netmasks -----------------------------------------------------------------

def tcp6(src, sport):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IPv6(src=src, dst=VIP6) / \
        TCP(sport=sport, dport=80, flags="S")


@pytest.mark.parametrize("netmask,templates", [(128, 3), (120, 2), (64, 1)])
def test_ipv6_persistence_netmask(pcap_daemon, tmp_path, netmask, templates):
    # rr over two reals; three clients: two in one /120, one in another /120 of the same /64.
    clients = ["2001:db8:77::1:1", "2001:db8:77::1:2", "2001:db8:77::2:1"]
    pkts = [tcp6(c, 6000 + i) for i, c in enumerate(clients)]
    pkts += [tcp6(c, 6100 + i) for i, c in enumerate(clients)]  # a second connection each
    svc = service(vip=VIP6, reals=tuple(REALS6), persistent=300, netmask=netmask)
    d = start(pcap_daemon, tmp_path, pkts, base([svc]))
    assert d.rpc.call("service.list")["services"][0]["netmask"] == netmask
    conns = d.rpc.call("conn.list")["connections"]
    tmpl = sorted(c["client"] for c in conns if c.get("template"))
    masked = {128: ["[2001:db8:77::1:1]:0", "[2001:db8:77::1:2]:0", "[2001:db8:77::2:1]:0"],
              120: ["[2001:db8:77::1:0]:0", "[2001:db8:77::2:0]:0"],
              64: ["[2001:db8:77::]:0"]}[netmask]
    assert len(tmpl) == templates and tmpl == sorted(masked), tmpl
    real_of = {}
    for c in conns:
        if not c.get("template"):
            real_of.setdefault(c["client"].rsplit(":", 1)[0], set()).add(c["real"])
    # each client's two connections on one real; clients sharing a template share it, rr
    # gives the next template the other real
    assert all(len(r) == 1 for r in real_of.values()), real_of
    r = {c: next(iter(real_of[f"[{c}]"])) for c in clients}
    if netmask == 128:
        assert r[clients[0]] != r[clients[1]] and r[clients[2]] == r[clients[0]]
    elif netmask == 120:
        assert r[clients[0]] == r[clients[1]] != r[clients[2]]
    else:
        assert r[clients[0]] == r[clients[1]] == r[clients[2]]
    assert d.stats()["dataplane"]["templates_created"] == templates
    assert d.stop() == 0


# ---- scheduler and method changes keep existing connections ----------------------------------

def test_scheduler_and_method_changes_keep_connections_on_their_reals(pcap_daemon, tmp_path):
    # 12 long-lived connections (the replay repeats their SYNs: a SYN on an open flow stays on
    # it). rr spreads them 6/6. sh would put every one of them (one client address) on one real,
    # so a change that rescheduled existing connections would move half of them.
    pkts = [tcp(7000 + i) for i in range(12)]
    svc = service()
    d = start(pcap_daemon, tmp_path, pkts, base([svc]), replay_forever=True)

    def placement():
        return {c["client"]: (c["real"], c["forward"])
                for c in d.rpc.call("conn.list")["connections"]}
    before = wait_until(lambda: (p := placement()) and len(p) == 12 and p,
                        what="12 connections")
    assert sorted(r for r, _ in before.values()).count(f"{R1}:80") == 6

    def inpkts():
        return {r["ip"]: r["inpkts"] for r in d.stats()["services"][0]["reals"]}

    def after_more_traffic():
        a = inpkts()
        wait_until(lambda: all(inpkts()[ip] > a[ip] for ip in a),
                   what="more packets on both reals")
    d.rpc.call("service.update", dict(key(svc), scheduler="sh"))
    after_more_traffic()
    assert placement() == before
    # a new connection is scheduled by sh now: with one client address, always one real
    # (checked through a real's method change: the connection keeps the method it started with)
    d.rpc.call("real.update", {"service": key(svc), "ip": R1, "port": 80, "forward": "tun"})
    after_more_traffic()
    assert placement() == before
    assert all(f == "dr" for _, f in placement().values())
    d.rpc.call("service.update", dict(key(svc), scheduler="mh"))
    after_more_traffic()
    assert placement() == before
