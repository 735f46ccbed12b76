"""Runtime edges: expiry of flows and persistence templates, every drop reason the tests can
provoke, connections whose real or service goes away, and the thresholds' way back.

Most tests feed a pcap (everything arrives at start). Those that must send packets later (after
a timeout, after an RPC) run the daemon in a network namespace of their own on one end of a
veth pair (net_af_packet: net_af_xdp's libxdp leaks its umem struct at exit, which LeakSanitizer
reports) and write frames into the other end.

Drop reasons and where a test provokes each (docs/api.md, drop_reasons):
  parse, not_vip, no_flow: test_forwarding.py; no_reply_flow, local_ports_exhausted, too_big,
  icmp_no_flow (test_methods.py); fragment (test_methods.py); icmp_other: test_exception.py;
  flow_table_full, unsupported, control_ring_full, reply_tuple_in_use, handoff_ring_full,
  no_neighbour, no_real: here; blocked: test_blocklist.py.
  no_neighbour, no_real: here; ha_backup: test_ha_role.py.
  tx_full cannot be provoked: no vdev a test can run refuses a packet at its TX queue on
  demand (net_pcap writes every packet to its file, net_null swallows everything, AF_XDP and
  af_packet refuse only when the kernel falls behind, which a test cannot order).
"""
import os
import shutil
import subprocess
import time
import uuid

import pytest
from scapy.all import ARP, IP, TCP, UDP, Ether, Raw, wrpcap

from lbdaemon import PcapDaemon, run_pcap, wait_until

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
LIVE_PORT_MAC = "02:70:6c:69:76:65"   # the veth end the live daemon opens
VIP = "10.9.0.100"
VIP2 = "10.9.0.101"
CLIENT = "10.9.0.10"
REAL = "10.9.0.11"
REAL_MAC = "02:00:00:00:00:11"
REAL2 = "10.9.0.12"
REAL2_MAC = "02:00:00:00:00:12"
FALLBACK = "10.9.0.13"
FALLBACK_MAC = "02:00:00:00:00:13"
PORT_ADDR = "10.9.0.2"
SVC = {"vip": VIP, "port": 80, "proto": "tcp"}
USVC = {"vip": VIP, "port": 80, "proto": "udp"}
STATIC = [{"ip": REAL, "mac": REAL_MAC}, {"ip": REAL2, "mac": REAL2_MAC},
          {"ip": FALLBACK, "mac": FALLBACK_MAC}]


def config(services, dataplane=None, **extra):
    cfg = {"ports": [{"address": f"{PORT_ADDR}/24"}], "neighbours": {"static": STATIC},
           "services": services}
    if dataplane:
        cfg["dataplane"] = dataplane
    cfg.update(extra)
    return cfg


def service(proto="tcp", reals=(REAL,), **svc):
    s = {"vip": VIP, "port": 80, "proto": proto, "scheduler": "rr",
         "reals": [{"ip": ip, "port": 80} for ip in reals]}
    s.update(svc)
    return s


def frame(l4, src=CLIENT, dst=VIP, mac=PCAP_PORT_MAC):
    return Ether(src=CLIENT_MAC, dst=mac) / IP(src=src, dst=dst) / l4


def real_of(stats, ip, svc=0):
    return next(r for r in stats["services"][svc]["reals"] if r["ip"] == ip)


def conns_of(stats, ip, svc=0):
    r = real_of(stats, ip, svc)
    return r["active"] + r["inactive"]


# ---- a daemon that keeps receiving: veth in a namespace of its own --------------------------

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for h in sys.argv[2:]:
    s.send(bytes.fromhex(h))
"""


class LiveDaemon:
    """The daemon on veth end `lb` (net_af_packet) in namespace ns; send() writes frames into the
    other end. IPv6 is off in the namespace, so the kernel sends nothing of its own."""

    def __init__(self, tmp_path, cfg):
        self.ns = f"dlbe{uuid.uuid4().hex[:8]}"
        self.prefix = "dlbe" + uuid.uuid4().hex[:8]
        self.d = None
        self.sent = 0
        self._ip("netns", "add", self.ns)
        try:
            for k in ("all", "default"):
                self._ns("sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1")
            self._ns("ip", "link", "add", "lb", "address", LIVE_PORT_MAC, "type", "veth",
                     "peer", "name", "cl", "address", CLIENT_MAC)
            for i in ("lb", "cl", "lo"):
                self._ns("ip", "link", "set", i, "up")
            cfg = dict(cfg)
            cfg["eal"] = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.prefix,
                          "--lcores", "0@0,1@1", "--vdev", "net_af_packet0,iface=lb",
                          "--log-level", "lib.eal:warning"]
            cfg["ports"] = [dict(p, kernel_interface=False) for p in cfg.get("ports", [])]
            cfg["dataplane"] = {"flow_capacity": 4096, "mbufs": 4095, "max_reals": 64,
                                "max_services": 16, "idle_sleep_us": 200,
                                **cfg.get("dataplane", {})}
            self.d = PcapDaemon([os.devnull], cfg, netns=self.ns)
        except BaseException:
            self.close()
            raise

    def _ip(self, *args):
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def _ns(self, *args):
        self._ip("netns", "exec", self.ns, *args)

    def send(self, *frames):
        """Writes frames (scapy packets, addressed to the port's MAC) into the veth."""
        hexes = [bytes(f).hex() for f in frames]
        self._ns("/usr/bin/python3", "-c", SENDER, "cl", *hexes)
        self.sent += len(frames)

    @property
    def rpc(self):
        return self.d.rpc

    def stats(self):
        return self.d.stats()

    def close(self):
        """Stops the daemon, removes the namespace; returns (exit status, log)."""
        rc, log = 0, ""
        if self.d is not None:
            rc = self.d.stop()
            log = self.d.read_log()
            shutil.rmtree(self.d.dir, ignore_errors=True)
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        subprocess.run(["ip", "netns", "del", self.ns], check=False, capture_output=True)
        return rc, log


@pytest.fixture
def live(tmp_path):
    started = []

    def start(cfg):
        ld = LiveDaemon(tmp_path, cfg)
        started.append(ld)
        return ld

    yield start
    bad = [f"daemon exited {rc}:\n{log[-3000:]}" for rc, log in (ld.close() for ld in started)
           if rc != 0]
    assert not bad, "\n".join(bad)


def live_frame(l4, src=CLIENT, dst=VIP):
    return frame(l4, src=src, dst=dst, mac=LIVE_PORT_MAC)


def received(ld, n):
    """Waits until the daemon received n frames in all and each has its fate."""
    return ld.d.wait_rx(n)


# ---- expiry ---------------------------------------------------------------------------------

def test_flows_expire_at_their_timeouts_and_are_counted(pcap_daemon, tmp_path):
    """UDP flows at timeouts.udp, TCP flows in SYN_RECV at timeouts.syn_recv: each one leaves the
    table once (flows_expired, a conn_events 'ended') no sooner than its timeout."""
    udp = [frame(UDP(sport=30000 + i, dport=80) / Raw(b"u")) for i in range(5)]
    syn = [frame(TCP(sport=31000 + i, dport=80, flags="S")) for i in range(3)]
    cfg = config([service("udp"), service("tcp")], timeouts={"udp": 2, "syn_recv": 4})
    path = tmp_path / "in.pcap"
    wrpcap(str(path), udp + syn)
    d = pcap_daemon([path], cfg)
    t0 = time.monotonic()
    dp = d.wait_rx(8)["dataplane"]
    assert (dp["flows_created"], dp["flows"], dp["flows_expired"]) == (8, 8, 0)
    wait_until(lambda: d.stats()["dataplane"]["flows"] == 3, timeout=6, interval=0.1,
               what="the UDP flows expired")
    t_udp = time.monotonic() - t0
    dp = d.stats()["dataplane"]
    assert dp["flows_expired"] == 5
    assert len(d.rpc.call("conn.list")["connections"]) == 3
    wait_until(lambda: d.stats()["dataplane"]["flows"] == 0, timeout=6, interval=0.1,
               what="the SYN_RECV flows expired")
    t_syn = time.monotonic() - t0
    dp = d.stats()["dataplane"]
    assert (dp["flows_created"], dp["flows_expired"]) == (8, 8)
    assert d.rpc.call("conn.list")["connections"] == []
    # not long before the timeout (t0 is taken once the RPC answers, which can be a little
    # after the workers received the pcap)
    assert 1.5 <= t_udp and 3.5 <= t_syn, (t_udp, t_syn)
    ev = wait_until(lambda: (e := d.stats()["dataplane"]["conn_events"])["ended"] == 8 and e,
                    what="8 'ended' events")
    assert ev["created"] == 8
    for s in d.stats()["services"]:
        assert [r["active"] + r["inactive"] for r in s["reals"]] == [0]
        assert s["conns"] == (5 if s["proto"] == "udp" else 3)


def test_a_template_expires_and_its_client_is_scheduled_again(live):
    """persistent 2 s: the client's second connection follows the template; once the template
    has expired (conn.list no longer shows it), its next connection is scheduled afresh: rr
    gives it the other real and a new template is made."""
    svc = service("tcp", reals=(REAL, REAL2), persistent=2)
    ld = live(config([svc], timeouts={"syn_recv": 60}))
    ld.send(live_frame(TCP(sport=32000, dport=80, flags="S")),
            live_frame(TCP(sport=32001, dport=80, flags="S")))
    s = received(ld, 2)
    assert s["dataplane"]["templates_created"] == 1
    first = {r["ip"]: r["conns"] for r in s["services"][0]["reals"]}
    pinned = REAL if first[REAL] == 2 else REAL2
    assert sorted(first.values()) == [0, 2], first

    def templates():
        return [c for c in ld.rpc.call("conn.list")["connections"] if c.get("template")]
    t = templates()
    assert len(t) == 1 and t[0]["real"] == f"{pinned}:80" and t[0]["expires"] <= 2
    wait_until(lambda: templates() == [], timeout=5, interval=0.1, what="the template expired")
    ld.send(live_frame(TCP(sport=32002, dport=80, flags="S")))
    s = received(ld, 3)
    assert s["dataplane"]["templates_created"] == 2
    other = REAL2 if pinned == REAL else REAL
    assert real_of(s, other)["conns"] == 1 and real_of(s, pinned)["conns"] == 2
    assert [t["real"] for t in templates()] == [f"{other}:80"]
    # the connections themselves did not expire with the template (syn_recv 60 s)
    assert s["dataplane"]["flows"] == 3 and s["dataplane"]["flows_expired"] == 0


# ---- drop reasons ---------------------------------------------------------------------------

def test_flow_table_full_refuses_new_connections_only(pcap_daemon, tmp_path):
    """flow_capacity 1024 (per worker) of established connections: the 1025th connection and
    later ones are refused and counted (nothing half-open to end: test_syn_flood.py); packets
    of the connections in the table still pass."""
    est = []
    for i in range(1024):
        est += [frame(TCP(sport=10000 + i, dport=80, flags="S")),
                frame(TCP(sport=10000 + i, dport=80, flags="A"))]
    syns = [frame(TCP(sport=12000 + i, dport=80, flags="S")) for i in range(6)]
    acks = [frame(TCP(sport=10000 + i, dport=80, flags="A")) for i in range(3)]
    cfg = config([service("tcp")], dataplane={"flow_capacity": 1024})
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, est + syns + acks, cfg)
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["flow_table_full"] == 6
    assert dp["dropped"] == 6 and dp["half_open_evicted"] == 0
    assert (dp["flows"], dp["flows_created"]) == (1024, 1024)
    assert len(out) == 2048 + 3
    assert stats["services"][0]["inpkts"] == 2051


def test_unsupported_frames_are_counted(pcap_daemon, tmp_path):
    frames = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC, type=0x88B5) / Raw(b"x" * 46),
              Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC, type=0x88CC) / Raw(b"y" * 46),
              # ARP for another hardware type (not Ethernet)
              Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") /
              ARP(hwtype=6, op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP)]
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, frames, config([service()]))
    assert stats["dataplane"]["drop_reasons"]["unsupported"] == 3
    assert stats["dataplane"]["dropped"] == 3 and out == []


def test_no_neighbour_and_no_real(pcap_daemon, tmp_path):
    """An unresolved real server (no static entry, nobody answers ARP): no_neighbour. A service
    whose only real is quiescent (weight 0): no_real."""
    unresolved = service("tcp")
    quiescent = {"vip": VIP2, "port": 80, "proto": "tcp", "scheduler": "wlc",
                 "reals": [{"ip": REAL2, "port": 80, "weight": 0}]}
    cfg = config([unresolved, quiescent])
    cfg["neighbours"] = {"static": [{"ip": REAL2, "mac": REAL2_MAC}]}
    pkts = [frame(TCP(sport=11000 + i, dport=80, flags="S")) for i in range(3)] + \
        [frame(TCP(sport=11100 + i, dport=80, flags="S"), dst=VIP2) for i in range(2)]
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["no_neighbour"] == 3
    assert dp["drop_reasons"]["no_real"] == 2
    assert dp["dropped"] == 5
    # what left was the appliance asking for the unresolved real, nothing else
    assert out and all(ARP in p and p[ARP].op == 1 and p[ARP].pdst == REAL for p in out)


def test_nat_reply_tuple_in_use(pcap_daemon, tmp_path):
    """Two nat services on one real and port: the same client port to both VIPs would give
    both connections the reply tuple real:8080 -> client:port; the second is refused."""
    svcs = [{"vip": vip, "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "nat",
             "reals": [{"ip": REAL, "port": 8080}]} for vip in (VIP, VIP2)]
    pkts = [frame(TCP(sport=12000, dport=80, flags="S")),
            frame(TCP(sport=12000, dport=80, flags="S"), dst=VIP2),
            frame(TCP(sport=12001, dport=80, flags="S"), dst=VIP2)]
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, config(svcs))
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["reply_tuple_in_use"] == 1 and dp["dropped"] == 1
    assert sorted((c["virtual"], c["client"]) for c in conns) == \
        [(f"{VIP}:80", f"{CLIENT}:12000"), (f"{VIP2}:80", f"{CLIENT}:12001")]
    assert len(out) == 2


def test_control_ring_full_when_neighbour_frames_come_faster_than_it_drains(pcap_daemon,
                                                                            tmp_path):
    """ARP replies go to the control lcore over a 1024-slot ring that it drains every 1 ms:
    20,000 of them in one go overflow it. Each frame is counted once, either way."""
    n = 20000
    arp = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) /
           ARP(op=2, hwsrc=CLIENT_MAC, psrc=f"10.9.{1 + i // 250}.{1 + i % 250}",
               hwdst=PCAP_PORT_MAC, pdst=PORT_ADDR) for i in range(n)]
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, arp, config([service()]))
    dp = stats["dataplane"]
    full = dp["drop_reasons"]["control_ring_full"]
    assert full > 0, dp
    assert dp["neighbour_frames"] + full == n
    assert dp["dropped"] == full


def nat_owner(ip, port, workers=2):
    """The worker owning a nat connection (dataplane/flow_owner.h), as test_methods.py has it."""
    addr = int.from_bytes(bytes(int(x) for x in ip.split(".")), "little")
    h = ((addr ^ ((port * 0x9E3779B1) & 0xFFFFFFFF)) * 0x85EBCA6B) & 0xFFFFFFFF
    return (h >> 16) % workers


def test_handoff_ring_full_when_the_owner_falls_behind(pcap_daemon, tmp_path, monkeypatch):
    """Both queues carry packets of one nat client that worker 1 owns. Worker 1 is held (test
    hook) from the start, so it takes nothing off its 4096-slot ring (4095 usable): worker 0 hands
    4095 packets over and refuses the rest as handoff_ring_full. Released, worker 1 handles its
    own queue and the hand-overs. Every packet is counted once: handed over or refused."""
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    monkeypatch.setenv("DPDK_LB_TEST_HOLD_WORKERS", "1")
    sport = next(p for p in range(40000, 41000) if nat_owner(CLIENT, p) == 1)
    ack = frame(TCP(sport=sport, dport=80, flags="A"))  # no flow: handled as no_flow
    n = 20000
    wrpcap(str(tmp_path / "q0.pcap"), [ack] * n)
    wrpcap(str(tmp_path / "q1.pcap"), [ack] * n)
    svc = {"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "nat",
           "reals": [{"ip": REAL, "port": 8080}]}
    cfg = config([svc], dataplane={"mbufs": 32767, "flow_capacity": 4096})
    d = pcap_daemon([tmp_path / "q0.pcap", tmp_path / "q1.pcap"], cfg, workers=2)
    assert d.rpc.call("test.worker_hold", {"worker": 1}) == {"worker": 1, "held": True}

    def worker0_done():
        dp = d.stats()["dataplane"]
        return dp["handoffs"] + dp["drop_reasons"]["handoff_ring_full"] == n and dp
    dp = wait_until(worker0_done, timeout=30, what="worker 0 through its queue")
    assert dp["handoffs"] == 4095 and dp["drop_reasons"]["handoff_ring_full"] == n - 4095, dp
    assert dp["rx_packets"] == n, "worker 1 read its queue while held"
    d.rpc.call("test.worker_hold", {"worker": 1, "held": False})
    dp = d.wait_rx(2 * n)["dataplane"]
    full = dp["drop_reasons"]["handoff_ring_full"]
    assert full == n - 4095 and dp["handoffs"] == 4095
    assert dp["drop_reasons"]["no_flow"] == 2 * n - full
    assert dp["dropped"] == 2 * n


# ---- connections whose real or service goes away --------------------------------------------

def conn_reals(ld):
    return {c["client"]: c["real"] for c in ld.rpc.call("conn.list")["connections"]}


@pytest.mark.parametrize("expire_nodest_conn", [False, True])
def test_real_del_with_live_connections(live, expire_nodest_conn):
    """The connection's packets are dropped as no_real. expire_nodest_conn false: the flow stays
    until it times out and every packet is dropped; true: its next packet ends it (and the one
    after finds no flow). Either way the client's next SYN on that port goes to a real left."""
    ld = live(config([service("tcp", reals=(REAL, REAL2))],
                     ipvs={"expire_nodest_conn": expire_nodest_conn}))
    ld.send(live_frame(TCP(sport=33000, dport=80, flags="S")))
    received(ld, 1)
    assert conn_reals(ld) == {f"{CLIENT}:33000": f"{REAL}:80"}
    ld.rpc.call("real.del", {"service": SVC, "ip": REAL, "port": 80})
    ack = live_frame(TCP(sport=33000, dport=80, flags="A"))
    ld.send(ack, ack)
    dp = received(ld, 3)["dataplane"]
    if expire_nodest_conn:
        assert dp["drop_reasons"]["no_real"] == 1 and dp["drop_reasons"]["no_flow"] == 1
        assert (dp["flows"], dp["flows_expired"]) == (0, 1)
    else:
        assert dp["drop_reasons"]["no_real"] == 2 and dp["drop_reasons"]["no_flow"] == 0
        assert (dp["flows"], dp["flows_expired"]) == (1, 0)
    assert dp["dropped"] == 2
    ld.send(live_frame(TCP(sport=33000, dport=80, flags="S")))
    s = received(ld, 4)
    assert conn_reals(ld) == {f"{CLIENT}:33000": f"{REAL2}:80"}
    assert [(r["ip"], r["conns"], r["inpkts"]) for r in s["services"][0]["reals"]] == \
        [(REAL2, 1, 1)]
    assert s["dataplane"]["dropped"] == 2


def test_service_del_with_live_connections(live):
    """A deleted service's connections no longer match anything: their packets are not_vip."""
    ld = live(config([service("udp")]))
    ld.send(*[live_frame(UDP(sport=34000 + i, dport=80) / Raw(b"q")) for i in range(3)])
    s = received(ld, 3)
    assert s["services"][0]["inpkts"] == 3 and s["dataplane"]["flows"] == 3
    ld.rpc.call("service.del", USVC)
    ld.send(*[live_frame(UDP(sport=34000 + i, dport=80) / Raw(b"q")) for i in range(3)])
    dp = received(ld, 6)["dataplane"]
    assert dp["drop_reasons"]["not_vip"] == 3 and dp["dropped"] == 3
    assert ld.rpc.call("service.list")["services"] == []


# ---- thresholds: the way back ---------------------------------------------------------------

def threshold_daemon(live, u, l):
    """One UDP service: REAL with thresholds u/l, and a fallback server that takes what REAL
    refuses; UDP flows live 5 s."""
    svc = service("udp", fallback={"ip": FALLBACK, "port": 80})
    svc["reals"][0].update(u_threshold=u, l_threshold=l)
    return live(config([svc], timeouts={"udp": 5}))


def open_flows(ld, sports):
    ld.send(*[live_frame(UDP(sport=p, dport=80) / Raw(b"q")) for p in sports])
    return received(ld, ld.sent)


def probe(ld, sport):
    """A new connection: which server took it (by the servers' conns counters: conn.list shows a
    fallback server's connections with real "-")."""
    def taken(s):
        return {REAL: real_of(s, REAL)["conns"], FALLBACK: s["services"][0]["fallback"]["conns"]}
    before = taken(ld.stats())
    after = taken(open_flows(ld, [sport]))
    took = [k for k in before if after[k] == before[k] + 1]
    assert len(took) == 1 and sum(after.values()) == sum(before.values()) + 1, (before, after)
    return took[0]


def real_conns(ld):
    return conns_of(ld.stats(), REAL)


def staggered(ld, first, then):
    """Opens `first` flows, and `then` more once two seconds have passed, so that the first
    ones expire at least two seconds before the others (the window a probe has)."""
    open_flows(ld, range(35000, 35000 + first))
    # expires counts whole seconds left of 5: at most 2 left means at least 2 s passed
    wait_until(lambda: all(c["expires"] <= 2 for c in ld.rpc.call("conn.list")["connections"]),
               timeout=4, interval=0.05, what="two seconds to pass")
    open_flows(ld, range(35100, 35100 + then))
    assert real_conns(ld) == first + then


def test_overloaded_real_comes_back_below_three_quarters_of_u_threshold(live):
    """u_threshold 4 without l_threshold: at 4 the real takes nothing new; at 3 (not below 3/4
    of 4) still nothing; below 3 it is admitted again (IPVS)."""
    ld = threshold_daemon(live, 4, 0)
    staggered(ld, 1, 3)
    assert probe(ld, 36000) == FALLBACK
    wait_until(lambda: real_conns(ld) == 3, timeout=8, interval=0.05, what="one flow expired")
    assert probe(ld, 36001) == FALLBACK, "3 is not below 3/4 of 4"
    wait_until(lambda: real_conns(ld) == 0, timeout=8, interval=0.05, what="all flows expired")
    assert probe(ld, 36002) == REAL


def test_overloaded_real_comes_back_below_l_threshold(live):
    """u_threshold 4, l_threshold 2: at 2 (which the 3/4 rule would admit) the real still takes
    nothing; below 2 it is admitted again."""
    ld = threshold_daemon(live, 4, 2)
    staggered(ld, 2, 2)
    assert probe(ld, 36100) == FALLBACK
    wait_until(lambda: real_conns(ld) == 2, timeout=8, interval=0.05, what="two flows expired")
    assert probe(ld, 36101) == FALLBACK, "2 is not below l_threshold 2"
    wait_until(lambda: real_conns(ld) == 0, timeout=8, interval=0.05, what="all flows expired")
    assert probe(ld, 36102) == REAL
