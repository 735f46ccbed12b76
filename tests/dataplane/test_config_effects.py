"""Configuration keys whose effect no other test checks: each test sets the key and asserts the
behaviour it promises (docs/config.md) with exact counts, so that a daemon ignoring the key
fails. pcap vdev ports, no network needed."""
import json
import os
import socket
import stat

from scapy.all import ARP, IP, TCP, UDP, Ether, Raw, fragment, rdpcap, wrpcap

from lbdaemon import RpcClient, RpcError, wait_until

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"  # net_pcap's MAC for port 0
PORT_ADDR = "10.9.0.2"
VIP = "10.9.0.100"
CLIENT = "10.9.0.10"
REALS = {"10.9.0.11": "02:00:00:00:00:11", "10.9.0.12": "02:00:00:00:00:12"}
LOCAL = "10.9.0.200"


def config(proto="tcp", dataplane=None, forward="dr", reals=tuple(REALS), **svc):
    service = {"vip": VIP, "port": 80, "proto": proto, "scheduler": "rr", "forward": forward,
               "reals": [{"ip": ip, "port": 80} for ip in reals]}
    if forward == "fnat":
        service["local_addresses"] = [LOCAL]
    service.update(svc)
    dp = {"flow_capacity": 4096, "mbufs": 4095, "max_reals": 64, "max_services": 16,
          "idle_sleep_us": 200}
    dp.update(dataplane or {})
    return {
        "ports": [{"address": f"{PORT_ADDR}/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in REALS.items()]},
        "dataplane": dp,
        "services": [service],
    }


def syn(sport, src=CLIENT):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=src, dst=VIP) / \
        TCP(sport=sport, dport=80, flags="S")


def start(pcap_daemon, tmp_path, queues, cfg, workers=1):
    """A daemon reading one pcap per rx queue; waits until it has received every packet."""
    paths = []
    for i, pkts in enumerate(queues):
        paths.append(tmp_path / f"q{i}.pcap")
        wrpcap(str(paths[-1]), pkts)
    d = pcap_daemon(paths, cfg, workers)
    d.wait_rx(sum(len(q) for q in queues))
    return d


def client_addr(i):
    """The i-th of up to 65536 client addresses, outside the port's subnet."""
    return f"172.16.{i // 256}.{i % 256}"


# ---- capacities -----------------------------------------------------------------------------

def test_flow_capacity_bounds_the_flows_of_a_worker(pcap_daemon, tmp_path):
    # 1024 is the least flow_capacity: the 1024 first flows get one, the rest are refused and
    # counted, and every refused datagram is a drop of that reason, nothing else. (UDP: half-open
    # TCP flows would make room for new ones, test_syn_flood.py.)
    n = 1100
    dgrams = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=CLIENT, dst=VIP) /
              UDP(sport=10000 + i, dport=80) / Raw(b"x") for i in range(n)]
    d = start(pcap_daemon, tmp_path, [dgrams],
              config(proto="udp", dataplane={"flow_capacity": 1024}))
    dp = d.stats()["dataplane"]
    assert d.rpc.call("system.info")["flow_capacity"] == 1024
    assert dp["flows"] == 1024 and dp["flows_created"] == 1024
    assert dp["drop_reasons"]["flow_table_full"] == n - 1024
    assert dp["dropped"] == n - 1024 and dp["tx_packets"] == 1024
    assert d.stop() == 0
    assert len(d.sent()) == 1024


def test_persistence_capacity_bounds_the_templates(pcap_daemon, tmp_path):
    # 1100 clients. With 1024 template slots (the least) at most 1024 are pinned (a slot is
    # found by a bounded probe, so a little less); the others are still served, unpinned, and
    # counted in persistence_full. With 4096 slots (27% full) all but a rare collision get one.
    n = 1100
    clients = [syn(20000, src=client_addr(i)) for i in range(n)]
    for capacity in (1024, 4096):
        d = start(pcap_daemon, tmp_path, [clients],
                  config(dataplane={"persistence_capacity": capacity}, persistent=300))
        dp = d.stats()["dataplane"]
        templates = [c for c in d.rpc.call("conn.list", {"limit": 100000})["connections"]
                     if c.get("template")]
        assert dp["flows_created"] == n and dp["tx_packets"] == n
        assert dp["templates_created"] + dp["persistence_full"] == n
        assert len(templates) == dp["templates_created"]
        if capacity == 1024:
            assert 900 <= dp["templates_created"] <= 1024, dp["templates_created"]
            assert dp["persistence_full"] >= n - 1024
        else:
            assert dp["persistence_full"] <= 5, dp["persistence_full"]
        assert d.stop() == 0


# ---- fragments ------------------------------------------------------------------------------

def udp_datagram(size, sport):
    payload = bytes((i * 7) & 0xFF for i in range(size))
    p = IP(src=CLIENT, dst=VIP, id=sport) / UDP(sport=sport, dport=80) / Raw(payload)
    return p


def frames(ip_fragments):
    return [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / f for f in ip_fragments]


def test_frag_datagrams_caps_the_datagrams_being_reassembled(pcap_daemon, tmp_path):
    # frag_datagrams 16: the first fragments of 20 datagrams, none complete. 16 wait for the
    # rest (until the long timeout), the 4 beyond the cap are dropped at once.
    firsts = [frames(fragment(udp_datagram(2000, 30000 + i), fragsize=1024))[0] for i in range(20)]
    d = start(pcap_daemon, tmp_path, [firsts],
              config(proto="udp", dataplane={"frag_datagrams": 16, "frag_timeout_ms": 60000}))
    dp = d.stats()["dataplane"]
    assert dp["fragments_received"] == 20
    assert dp["drop_reasons"]["fragment"] == 4
    assert dp["datagrams_reassembled"] == 0 and dp["tx_packets"] == 0
    assert d.stop() == 0


def test_a_datagram_of_more_than_8_fragments_is_dropped(pcap_daemon, tmp_path):
    # 8 fragments are reassembled and forwarded; 9 are more than the reassembly keeps.
    eight = fragment(udp_datagram(8 * 128 - 8, 31000), fragsize=128)
    nine = fragment(udp_datagram(9 * 128 - 8, 31001), fragsize=128)
    assert (len(eight), len(nine)) == (8, 9)
    d = start(pcap_daemon, tmp_path, [frames(eight) + frames(nine)],
              config(proto="udp", dataplane={"frag_timeout_ms": 300}))
    # the 9th fragment (the last) overflows the 8 the datagram may hold: the 7 held and it
    # are dropped at once; the last one starts a new datagram that times out
    dp = wait_until(lambda: (s := d.stats()["dataplane"]) and s["drop_reasons"]["fragment"] == 9
                    and s, what="every fragment of the 9-fragment datagram dropped")
    assert dp["fragments_received"] == 17
    assert dp["datagrams_reassembled"] == 1
    assert dp["drop_reasons"]["fragment"] == 9
    assert d.stop() == 0
    sent = d.sent()
    # the 8-fragment datagram left whole (1024 bytes fit the MTU); nothing of the other
    assert len(sent) == 1 and sent[0][UDP].sport == 31000 and len(sent[0][UDP].payload) == 8 * 128 - 8


# ---- fnat port slices -----------------------------------------------------------------------

def test_fnat_local_ports_come_from_each_workers_slice(pcap_daemon, tmp_path):
    # Ports 2000-2007 over 2 workers: worker w owns 2000 + w + 2k, 4 ports each. 6 connections
    # per queue to one real: 4 get a port of their worker's slice, 2 find it exhausted.
    q0 = [syn(40000 + i) for i in range(6)]
    q1 = [syn(41000 + i) for i in range(6)]
    cfg = config(forward="fnat", reals=("10.9.0.11",),
                 dataplane={"fnat_port_min": 2000, "fnat_port_max": 2007})
    d = start(pcap_daemon, tmp_path, [q0, q1], cfg, workers=2)
    conns = [c for c in d.rpc.call("conn.list")["connections"] if c["forward"] == "fnat"]
    dp = d.stats()["dataplane"]
    by_worker = {}
    for c in conns:
        ip, port = c["local"].rsplit(":", 1)
        assert ip == LOCAL
        by_worker.setdefault(c["worker"], set()).add(int(port))
    assert by_worker == {0: {2000, 2002, 2004, 2006}, 1: {2001, 2003, 2005, 2007}}, by_worker
    assert dp["drop_reasons"]["local_ports_exhausted"] == 4
    assert d.stop() == 0


# ---- neighbours -----------------------------------------------------------------------------

def test_neighbour_refresh_and_ageing(pcap_daemon, tmp_path):
    # The real answers once, at start. With refresh 1 s the appliance asks again while the
    # entry is still resolved; with timeout 3 s it forgets the MAC (packets to it would go to a
    # MAC that may be gone). The defaults (30 s, 90 s) would do neither within the test.
    real = "10.9.0.11"
    is_at = Ether(src=REALS[real], dst=PCAP_PORT_MAC) / \
        ARP(op=2, hwsrc=REALS[real], psrc=real, hwdst=PCAP_PORT_MAC, pdst=PORT_ADDR)
    cfg = config(reals=(real,))
    cfg["neighbours"] = {"static": [], "refresh": 1, "timeout": 3}
    d = start(pcap_daemon, tmp_path, [[is_at]], cfg)

    def state():
        return {n["ip"]: n for n in d.rpc.call("system.info")["neighbours"]}.get(real)
    wait_until(lambda: (n := state()) and n["state"] == "resolved", what="the real resolved")
    # refreshed while resolved: ARP requests go out before the entry ages
    wait_until(lambda: d.stats()["dataplane"]["tx_packets"] >= 1 and state()["state"] == "resolved",
               timeout=2.5, what="a refresh ARP request while the entry is resolved")
    forgotten = wait_until(lambda: (n := state()) and n["state"] != "resolved" and n, timeout=8,
                           what="the silent real's MAC forgotten")
    assert forgotten["state"] == "unresolved"
    assert d.stop() == 0
    asks = [p for p in d.sent() if ARP in p and p[ARP].op == 1 and p[ARP].pdst == real]
    assert len(asks) >= 2 and len(asks) == len(d.sent())
    assert all(p[ARP].psrc == PORT_ADDR and p[ARP].hwsrc == PCAP_PORT_MAC for p in asks)


# ---- the RPC socket -------------------------------------------------------------------------

def test_rpc_max_clients_evicts_the_quietest_of_that_many(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "e.pcap"), [Ether()])
    d = pcap_daemon([tmp_path / "e.pcap"], dict(config(), rpc={"max_clients": 3}))
    d.rpc.close()
    d.rpc = None
    idle = []
    try:
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            idle.append(s)
        # once all three are quiet (> 0.5 s), a fourth takes the slot of the first: 3 slots,
        # not the default 64
        def fourth_served():
            try:
                c = RpcClient(d.sock, timeout=2)
                c.call("system.info")
                return c
            except (ConnectionError, OSError, RpcError):
                return None  # refused while the others were active in the last 0.5 s
        c = wait_until(fourth_served, timeout=10, what="a fourth client served")
        c.close()
        idle[0].settimeout(2)
        notice = json.loads(idle[0].recv(65536).split(b"\n")[0])
        assert notice["error"]["code"] == -32003
        assert "rpc.max_clients (3)" in notice["error"]["message"]
        for s in idle[1:]:
            s.setblocking(False)
            try:
                assert s.recv(65536) == b"", "a connection that was not the quietest was closed"
            except BlockingIOError:
                pass
    finally:
        for s in idle:
            s.close()


def test_rpc_socket_mode_and_directory(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "e.pcap"), [Ether()])
    sub = tmp_path / "rundir"  # missing: the daemon creates it
    d = pcap_daemon([tmp_path / "e.pcap"], dict(config(), rpc={"socket": str(sub / "lb.sock")}))
    assert d.sock == str(sub / "lb.sock")
    st = os.stat(sub / "lb.sock")
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    assert stat.S_IMODE(os.stat(sub).st_mode) == 0o750
    assert d.rpc.call("system.info")["version"]
