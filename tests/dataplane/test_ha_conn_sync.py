"""Connection sync of the failover pair (docs/ha.md, "Connection sync"), driven through the
test-hook RPCs (ha.sync.test_*, DPDK_LB_TEST_HOOKS=1) without a peer: a master's records as it
sends them, a backup installing crafted or captured records on its worker, and then forwarding
a mid-connection packet of each installed flow to the right real, nat and fnat replies included.

The daemons receive live through a veth in a namespace of their own (net_pcap rx_iface_in, so
packets arrive after records were installed) and transmit into a pcap file read after stop."""
import hashlib
import hmac
import ipaddress
import os
import shutil
import struct
import subprocess
import uuid

import pytest
from scapy.all import ICMP, IP, TCP, Ether, IPerror, Raw, TCPerror

from lbdaemon import PcapDaemon, RpcError, wait_until

KEY = bytes(range(32))
CLIENT_MAC = "02:00:00:00:00:0c"
PORT_MAC = "02:70:63:61:70:00"
CLIENT = "10.9.0.10"
PORT_ADDR = "10.9.0.2"
VIP_DR, VIP_NAT, VIP_FNAT = "10.9.0.100", "10.9.0.101", "10.9.0.102"
REAL_DR, REAL_NAT, REAL_FNAT = "10.9.0.11", "10.9.0.12", "10.9.0.13"
REAL_MACS = {REAL_DR: "02:00:00:00:00:11", REAL_NAT: "02:00:00:00:00:12",
             REAL_FNAT: "02:00:00:00:00:13"}
LOCAL = "10.9.0.200"
FNAT_MIN, FNAT_MAX = 5000, 5999

TCP_ESTABLISHED = 1
FWD = {"dr": 0, "tun": 1, "nat": 2, "fnat": 3}
EV_CREATED, EV_STATE, EV_ENDED, EV_REFRESH = 1, 2, 3, 4
REC = struct.Struct("!BBBBBBBBBBHI16sHHHHHH16s16s16s16s")
HDR = struct.Struct("!IBBHIQHH")
assert REC.size == 108 and HDR.size == 24


def config():
    svc = [
        {"vip": VIP_DR, "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "dr",
         "reals": [{"ip": REAL_DR, "port": 80}]},
        {"vip": VIP_NAT, "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "nat",
         "reals": [{"ip": REAL_NAT, "port": 8080}]},
        {"vip": VIP_FNAT, "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "fnat",
         "local_addresses": [LOCAL], "reals": [{"ip": REAL_FNAT, "port": 8080}]},
    ]
    return {"ports": [{"address": f"{PORT_ADDR}/24"}],
            "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in REAL_MACS.items()]},
            "dataplane": {"fnat_port_min": FNAT_MIN, "fnat_port_max": FNAT_MAX},
            "services": svc}


# ---- the wire format, as docs/ha.md has it ----------------------------------------------------

def a16(ip):
    return ipaddress.ip_address(ip).packed.ljust(16, b"\0")


def ip_of(raw, family=4):
    return str(ipaddress.ip_address(raw[:4] if family == 4 else raw))


def record(forward, vip, real, real_port, sport, event=EV_REFRESH, state=TCP_ESTABLISHED,
           reply=None, timeout=300, worker=0, svc_port=80):
    """A connection record; reply = (real, real port, dst address, dst port) for nat/fnat."""
    flags = 1 if reply else 0
    rs, rsp, rd, rdp = reply if reply else ("0.0.0.0", 0, "0.0.0.0", 0)
    return REC.pack(1, event, state, FWD[forward], worker, flags, 4, 6, 4, 6, svc_port,
                    0 if event == EV_ENDED else timeout, a16(real), real_port, sport, 80,
                    rsp, rdp, 0, a16(CLIENT), a16(vip),
                    a16(rs) if reply else bytes(16), a16(rd) if reply else bytes(16))


def message(records, seq=1, flags=0, mtype=2):
    body = struct.pack("!HH", len(records), 0) + b"".join(records)
    head = HDR.pack(0x444C4248, 1, mtype, flags, 42, seq, len(body), 0)
    return (head + body + hmac.new(KEY, head + body, hashlib.sha256).digest()).hex()


def parse(hexmsg):
    """(type, flags, records as dicts or the FULL_SYNC body) of a message the daemon sent."""
    raw = bytes.fromhex(hexmsg)
    magic, ver, mtype, flags, _, _, blen, _ = HDR.unpack_from(raw)
    assert (magic, ver, len(raw)) == (0x444C4248, 1, 24 + blen + 32)
    assert hmac.compare_digest(raw[24 + blen:], hmac.new(KEY, raw[:24 + blen], hashlib.sha256).digest())
    body = raw[24:24 + blen]
    if mtype == 5:
        return mtype, flags, struct.unpack("!IIQ", body)
    names = ("kind event state forward worker flags family proto real_family svc_proto svc_port "
             "timeout real_addr real_port client_sport client_dport reply_sport reply_dport "
             "reserved client_src client_dst reply_src reply_dst").split()
    (n,) = struct.unpack_from("!H", body)
    recs = [dict(zip(names, REC.unpack_from(body, 4 + i * REC.size))) for i in range(n)]
    return mtype, flags, recs


# ---- a daemon receiving live on a veth ---------------------------------------------------------

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for h in sys.argv[2:]:
    s.send(bytes.fromhex(h))
"""


class SyncDaemon:
    """The daemon reading veth end `lb` (net_pcap rx_iface_in) in a namespace of its own and
    writing what it sends into a pcap file; send() writes frames into the other end `cl`."""

    def __init__(self, cfg, workers=1):
        self.ns = f"dlbs{uuid.uuid4().hex[:8]}"
        self.prefix = "dlbs" + uuid.uuid4().hex[:8]
        self.d = None
        self.out = None
        self._ip("netns", "add", self.ns)
        try:
            for k in ("all", "default"):
                self._ns("sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1")
            self._ns("ip", "link", "add", "lb", "type", "veth", "peer", "name", "cl",
                     "address", CLIENT_MAC)
            for i in ("lb", "cl", "lo"):
                self._ns("ip", "link", "set", i, "up")
            self.dir = os.path.join("/tmp", self.prefix)
            os.makedirs(self.dir)
            self.out = os.path.join(self.dir, "out.pcap")
            # one queue pair per worker: the first receives from `lb`, the others from veths
            # nothing is sent into; each transmits into a file of its own
            outs = [self.out] + [os.path.join(self.dir, f"out{w}.pcap") for w in range(1, workers)]
            for w in range(1, workers):
                self._ns("ip", "link", "add", f"lb{w}", "type", "veth", "peer", "name", f"cl{w}")
                for i in (f"lb{w}", f"cl{w}"):
                    self._ns("ip", "link", "set", i, "up")
            vdev = "net_pcap0,rx_iface_in=lb," + "".join(f"rx_iface_in=lb{w}," for w in range(1, workers)) + \
                ",".join(f"tx_pcap={o}" for o in outs)
            lcores = "0@0," + ",".join(f"{w + 1}@{(w + 1) % max(1, os.cpu_count())}"
                                       for w in range(workers))
            cfg = dict(cfg)
            cfg["eal"] = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.prefix,
                          "--lcores", lcores, "--vdev", vdev, "--log-level", "lib.eal:warning"]
            cfg["ports"] = [dict(p, kernel_interface=False) for p in cfg.get("ports", [])]
            cfg["dataplane"] = {"flow_capacity": 4096, "mbufs": 4095, "max_reals": 64,
                                "max_services": 16, "idle_sleep_us": 200,
                                **cfg.get("dataplane", {})}
            self.d = PcapDaemon([os.devnull], cfg, netns=self.ns)
            self.d.tx_pcaps = outs
        except BaseException:
            self.close()
            raise

    def _ip(self, *args):
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def _ns(self, *args):
        self._ip("netns", "exec", self.ns, *args)

    @property
    def rpc(self):
        return self.d.rpc

    def send(self, *frames):
        self._ns("/usr/bin/python3", "-c", SENDER, "cl", *[bytes(f).hex() for f in frames])

    def sync(self):
        return self.rpc.call("ha.sync.test_stats")

    def sent(self):
        """What the daemon transmitted (stops it first: the pcap file is written on close)."""
        assert self.d.stop() == 0, self.d.read_log()
        return self.d.sent()

    def close(self):
        rc, log = 0, ""
        if self.d is not None:
            rc = self.d.stop()
            log = self.d.read_log()
            shutil.rmtree(self.d.dir, ignore_errors=True)
        if self.out is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        subprocess.run(["ip", "netns", "del", self.ns], check=False, capture_output=True)
        return rc, log


@pytest.fixture
def sync_daemon(monkeypatch):
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    started = []

    def start(cfg=None, workers=1):
        sd = SyncDaemon(cfg or config(), workers)
        started.append(sd)
        return sd

    yield start
    bad = [f"daemon exited {rc}:\n{log[-3000:]}" for rc, log in (sd.close() for sd in started)
           if rc != 0]
    assert not bad, "\n".join(bad)


def from_client(vip, sport, flags="A", payload=b"data"):
    return Ether(src=CLIENT_MAC, dst=PORT_MAC) / IP(src=CLIENT, dst=vip) / \
        TCP(sport=sport, dport=80, flags=flags, seq=100, ack=200) / Raw(payload)


def from_real(real, rport, dst, dport, payload=b"answer"):
    return Ether(src=REAL_MACS[real], dst=PORT_MAC) / IP(src=real, dst=dst) / \
        TCP(sport=rport, dport=dport, flags="PA", seq=200, ack=104) / Raw(payload)


def rpc_fails(rpc, method, params, code):
    with pytest.raises(RpcError) as e:
        rpc.call(method, params)
    assert e.value.code == code, e.value
    return e.value.message


# ---- tests -------------------------------------------------------------------------------------

def test_backup_installs_records_and_forwards_their_packets(sync_daemon):
    """Crafted records of a dr, a nat and an fnat connection, established on a master: the
    backup installs them, and their next packets (from the client, and from the real for nat
    and fnat) are forwarded as the master would have, without a SYN."""
    b = sync_daemon()
    b.rpc.call("ha.sync.test_role", {"role": "backup"})
    local_port = FNAT_MIN + 7  # worker 0 owns every port of the range with one worker
    recs = [record("dr", VIP_DR, REAL_DR, 80, 41000),
            record("nat", VIP_NAT, REAL_NAT, 8080, 41001, reply=(REAL_NAT, 8080, CLIENT, 41001)),
            record("fnat", VIP_FNAT, REAL_FNAT, 8080, 41002,
                   reply=(REAL_FNAT, 8080, LOCAL, local_port))]
    assert b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": [message(recs)]}) == \
        {"batches": 1, "full_sync_ends": 0}
    st = wait_until(lambda: (s := b.sync())["installed"] == 3 and s, what="3 installed")
    assert st["records_received"] == 3 and st["posted"] == 3 and sum(st["refused"].values()) == 0
    conns = {c["virtual"].split(":")[0]: c for c in b.rpc.call("conn.list")["connections"]}
    assert set(conns) == {VIP_DR, VIP_NAT, VIP_FNAT}
    assert all(c["state"] == "ESTABLISHED" for c in conns.values()), conns
    assert conns[VIP_FNAT]["local"] == f"{LOCAL}:{local_port}"
    # a reply before any client packet: no hop known yet on this worker (counted, not sent)
    # (and an ICMP error about a packet sent to the real, relayed to the client the same way)
    icmp = Ether(src=REAL_MACS[REAL_NAT], dst=PORT_MAC) / IP(src=REAL_NAT, dst=CLIENT) / \
        ICMP(type=3, code=4, nexthopmtu=1400) / IPerror(src=CLIENT, dst=REAL_NAT) / \
        TCPerror(sport=41001, dport=8080, flags="A")
    b.send(from_real(REAL_NAT, 8080, CLIENT, 41001, b"early"), icmp)
    wait_until(lambda: b.d.stats()["dataplane"]["drop_reasons"]["sync_hop_unknown"] == 2,
               what="the early reply and ICMP error dropped as sync_hop_unknown")
    b.send(from_client(VIP_DR, 41000), from_client(VIP_NAT, 41001), from_client(VIP_FNAT, 41002))
    b.d.wait_rx(5)
    # (with the fnat flow's second client packet: its entry learnt its local endpoint from the
    # reply key on the first)
    b.send(from_real(REAL_NAT, 8080, CLIENT, 41001), from_real(REAL_FNAT, 8080, LOCAL, local_port),
           from_client(VIP_FNAT, 41002))
    stats = b.d.wait_rx(8)
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["no_flow"] == 0 and dp["drop_reasons"]["no_reply_flow"] == 0
    assert b.sync()["hops_learned"] == 2
    out = b.sent()
    to = {(p[IP].src, p[IP].dst): p for p in out}
    dr = to[(CLIENT, VIP_DR)]
    assert dr[Ether].dst == REAL_MACS[REAL_DR] and dr[TCP].dport == 80
    nat = to[(CLIENT, REAL_NAT)]
    assert nat[Ether].dst == REAL_MACS[REAL_NAT] and (nat[TCP].sport, nat[TCP].dport) == (41001, 8080)
    fnat = to[(LOCAL, REAL_FNAT)]
    assert (fnat[TCP].sport, fnat[TCP].dport) == (local_port, 8080)
    nat_back = to[(VIP_NAT, CLIENT)]
    assert (nat_back[TCP].sport, nat_back[TCP].dport) == (80, 41001)
    assert nat_back[Ether].dst == CLIENT_MAC  # the hop the client's packet taught
    assert bytes(nat_back[TCP].payload) == b"answer"
    fnat_back = to[(VIP_FNAT, CLIENT)]
    assert (fnat_back[TCP].sport, fnat_back[TCP].dport) == (80, 41002)
    assert fnat_back[Ether].dst == CLIENT_MAC
    fnats = [p for p in out if (p[IP].src, p[IP].dst) == (LOCAL, REAL_FNAT)]
    assert [(p[TCP].sport, p[TCP].dport) for p in fnats] == [(local_port, 8080)] * 2, fnats
    assert len(out) == 6, [p.summary() for p in out]


def test_backup_refuses_what_it_cannot_own_and_ended_removes(sync_daemon):
    b = sync_daemon()
    msg = [message([record("dr", VIP_DR, REAL_DR, 80, 42000)])]
    # INIT (not backup): refused, nothing installed
    b.rpc.call("ha.sync.test_role", {"role": "init"})
    b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": msg})
    assert b.sync()["refused"]["not_backup"] == 1
    b.rpc.call("ha.sync.test_role", {"role": "backup"})
    bad = [record("dr", "10.9.0.99", REAL_DR, 80, 42001),                  # no such service
           record("dr", VIP_DR, "10.9.0.77", 80, 42002),                    # no such real
           record("nat", VIP_DR, REAL_DR, 80, 42003, reply=(REAL_DR, 80, CLIENT, 42003)),
           record("dr", VIP_DR, REAL_DR, 80, 42004, worker=3),             # we have one worker
           record("fnat", VIP_FNAT, REAL_FNAT, 8080, 42005,                # port outside range
                  reply=(REAL_FNAT, 8080, LOCAL, FNAT_MAX + 1)),
           record("fnat", VIP_FNAT, REAL_FNAT, 8080, 42006,                # not a local address
                  reply=(REAL_FNAT, 8080, "10.9.0.201", FNAT_MIN))]
    b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": msg + [message(bad, seq=2)]})
    st = wait_until(lambda: (s := b.sync())["installed"] == 1 and s, what="the good one installed")
    assert {k: v for k, v in st["refused"].items() if v} == \
        {"not_backup": 1, "no_service": 1, "no_real": 1, "forward": 1, "worker": 1, "fnat_port": 2}
    # the same record again updates, a second connection on the same fnat port is refused
    fn = lambda sport: record("fnat", VIP_FNAT, REAL_FNAT, 8080, sport,  # noqa: E731
                              reply=(REAL_FNAT, 8080, LOCAL, FNAT_MIN))
    b.rpc.call("ha.sync.test_inject",
               {"key": KEY.hex(), "messages": [message(msg_r, seq=3 + i) for i, msg_r in
                                               enumerate([[record("dr", VIP_DR, REAL_DR, 80, 42000)],
                                                          [fn(42010)], [fn(42011)]])]})
    st = wait_until(lambda: (s := b.sync())["refused"]["reply_in_use"] == 1 and s,
                    what="the fnat port in use refused")
    assert st["installed"] == 2 and st["updated"] == 1
    # ENDED removes; a packet of the removed flow is then not forwarded
    b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": [message(
        [record("dr", VIP_DR, REAL_DR, 80, 42000, event=EV_ENDED)], seq=9)]})
    wait_until(lambda: b.sync()["removed"] == 1, what="the ENDED record applied")
    assert len(b.rpc.call("conn.list")["connections"]) == 1
    b.send(from_client(VIP_DR, 42000))
    dp = b.d.wait_rx(1)["dataplane"]
    assert dp["drop_reasons"]["no_flow"] == 1
    # a message that does not decode is refused by name, nothing of it used
    forged = message([record("dr", VIP_DR, REAL_DR, 80, 42020)], seq=10)
    forged = forged[:-2] + ("00" if forged[-2:] != "00" else "01")
    msg = rpc_fails(b.rpc, "ha.sync.test_inject", {"key": KEY.hex(), "messages": [forged]}, -32602)
    assert "messages[0]" in msg and "authentication failed" in msg
    assert b.sync()["records_received"] == 1 + (1 + 6) + 3 + 1  # the forged one not among them


def test_master_records_round_trip_to_a_backup(sync_daemon):
    """A nat and an fnat connection opened on a master: its records (created, state changes,
    then a full sync) name services and reals by key; fed to a backup with the same
    configuration, the connections continue there."""
    m = sync_daemon()
    m.rpc.call("ha.sync.test_role", {"role": "master"})
    m.send(from_client(VIP_NAT, 43000, "S", b""), from_client(VIP_FNAT, 43001, "S", b""),
           from_client(VIP_DR, 43002, "S", b""))
    m.d.wait_rx(3)
    conns = {c["virtual"].split(":")[0]: c for c in m.rpc.call("conn.list")["connections"]}
    local_ip, local_port = conns[VIP_FNAT]["local"].split(":")
    local_port = int(local_port)
    m.send(from_real(REAL_NAT, 8080, CLIENT, 43000), from_real(REAL_FNAT, 8080, LOCAL, local_port))
    m.d.wait_rx(5)
    sent = []

    def captured(pred):
        sent.extend(parse(h) for h in m.rpc.call("ha.sync.test_capture",
                                                 {"key": KEY.hex()})["messages"])
        return pred()

    def conns_seen():
        ports = {}
        for _, _, rs in sent:
            for r in rs:
                ports.setdefault(r["client_sport"], []).append(r)
        return ports

    # CREATED and a state change (SYN) each, and one more for nat and fnat (their real's reply)
    wait_until(lambda: captured(lambda: sum(len(v) for v in conns_seen().values()) >= 8),
               what="the records of 3 connections")
    by_port = conns_seen()
    recs = [r for v in by_port.values() for r in v]
    assert sorted(by_port) == [43000, 43001, 43002]
    nat = by_port[43000]
    assert nat[0]["event"] == EV_CREATED and nat[0]["forward"] == FWD["nat"]
    assert ip_of(nat[0]["client_dst"]) == VIP_NAT and nat[0]["svc_port"] == 80
    assert ip_of(nat[0]["real_addr"]) == REAL_NAT and nat[0]["real_port"] == 8080
    assert nat[0]["flags"] == 1 and ip_of(nat[0]["reply_dst"]) == CLIENT
    assert nat[0]["reply_dport"] == 43000 and ip_of(nat[0]["reply_src"]) == REAL_NAT
    assert {r["event"] for r in nat[1:]} == {EV_STATE}
    fnat = by_port[43001]
    assert ip_of(fnat[0]["reply_dst"]) == LOCAL and fnat[0]["reply_dport"] == local_port
    assert by_port[43002][0]["flags"] == 0 and by_port[43002][0]["forward"] == FWD["dr"]
    assert all(t == 2 and f == 0 for t, f, _ in sent)
    st = m.sync()
    assert st["records_sent"] == len(recs) and st["events_unmapped"] == 0
    # full sync: every live connection as REFRESH with the FULL_SYNC flag, then END
    m.rpc.call("ha.sync.test_full_sync")
    full = []
    wait_until(lambda: full.extend(parse(h) for h in m.rpc.call(
        "ha.sync.test_capture", {"key": KEY.hex()})["messages"]) or (full and full[-1][0] == 5),
        what="the full sync")
    assert full[-1][0] == 5 and full[-1][2][:2] == (1, 3), full[-1]  # conns, 3 records
    frecs = [r for t, f, rs in full[:-1] for r in rs]
    assert all(f == 1 for t, f, _ in full[:-1]) and len(frecs) == 3
    assert {r["event"] for r in frecs} == {EV_REFRESH}
    assert m.sync()["full_syncs_sent"] == 1
    # the backup takes a full sync and forwards the connections' next packets
    b = sync_daemon()
    b.rpc.call("ha.sync.test_role", {"role": "backup"})
    m.rpc.call("ha.sync.test_full_sync")
    hexes = []
    wait_until(lambda: hexes.extend(m.rpc.call("ha.sync.test_capture", {"key": KEY.hex()})["messages"])
               or (hexes and parse(hexes[-1])[0] == 5), what="the second full sync")
    assert b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": hexes})["full_sync_ends"] == 1
    wait_until(lambda: b.sync()["installed"] == 3, what="3 installed on the backup")
    b.send(from_client(VIP_NAT, 43000), from_client(VIP_FNAT, 43001))
    b.d.wait_rx(2)
    b.send(from_real(REAL_FNAT, 8080, LOCAL, local_port))
    b.d.wait_rx(3)
    assert b.sync()["full_syncs_received"] == 1
    out = b.sent()
    to = {(p[IP].src, p[IP].dst): p for p in out}
    assert to[(CLIENT, REAL_NAT)][TCP].dport == 8080
    assert to[(LOCAL, REAL_FNAT)][TCP].sport == local_port
    assert to[(VIP_FNAT, CLIENT)][TCP].dport == 43001


def test_hooks_need_the_environment_and_check_params(sync_daemon, monkeypatch):
    b = sync_daemon()
    msg = rpc_fails(b.rpc, "ha.sync.test_role", {"role": "leader"}, -32602)
    assert "role" in msg
    msg = rpc_fails(b.rpc, "ha.sync.test_inject", {"key": "abcd", "messages": []}, -32602)
    assert "key" in msg
    msg = rpc_fails(b.rpc, "ha.sync.test_inject", {"key": KEY.hex(), "messages": ["zz"]}, -32602)
    assert "messages[0]" in msg
    monkeypatch.delenv("DPDK_LB_TEST_HOOKS")
    off = sync_daemon()
    msg = rpc_fails(off.rpc, "ha.sync.test_stats", None, -32601)
    assert "DPDK_LB_TEST_HOOKS" in msg


def test_master_refreshes_live_connections_every_period(sync_daemon):
    """IPVS's sync period: a live connection is sent again (REFRESH, not flagged full sync)
    every period while it lives, so a record a lost datagram took comes back."""
    m = sync_daemon()
    m.rpc.call("ha.sync.test_role", {"role": "master", "period_s": 1})
    m.send(from_client(VIP_DR, 44000, "S", b""))
    m.d.wait_rx(1)
    seen = []

    def refreshed():
        seen.extend(parse(h) for h in m.rpc.call("ha.sync.test_capture",
                                                 {"key": KEY.hex()})["messages"])
        return [r for t, f, rs in seen if f == 0 for r in rs if r["event"] == EV_REFRESH]

    recs = wait_until(refreshed, timeout=5, interval=0.2, what="a REFRESH record")
    assert recs[0]["client_sport"] == 44000 and recs[0]["timeout"] > 0
    assert m.sync()["refresh_records"] >= 1
    # and again one period later: a second walk
    wait_until(lambda: len(refreshed()) >= 2, timeout=5, interval=0.2, what="a second REFRESH")


def persistent_config():
    cfg = config()
    cfg["services"].append({"vip": "10.9.0.103", "port": 80, "proto": "tcp", "scheduler": "rr",
                            "forward": "dr", "persistent": 300, "netmask": 24,
                            "reals": [{"ip": REAL_DR, "port": 80}, {"ip": REAL_NAT, "port": 80}]})
    return cfg


def template(real, vip="10.9.0.103", client="10.9.0.0", timeout=250):
    return REC.pack(2, EV_REFRESH, 0, FWD["dr"], 0, 0, 4, 6, 4, 6, 80, timeout, a16(real), 80,
                    0, 0, 0, 0, 0, a16(client), a16(vip), bytes(16), bytes(16))


def test_persistence_templates_are_sent_and_pin_the_backups_new_connections(sync_daemon):
    m = sync_daemon(persistent_config())
    m.rpc.call("ha.sync.test_role", {"role": "master"})
    m.send(from_client("10.9.0.103", 45000, "S", b""))
    m.d.wait_rx(1)
    seen = []
    wait_until(lambda: seen.extend(parse(h) for h in m.rpc.call(
        "ha.sync.test_capture", {"key": KEY.hex()})["messages"]) or
        any(r["kind"] == 2 for _, _, rs in seen for r in rs), what="a template record")
    tpl = next(r for _, _, rs in seen for r in rs if r["kind"] == 2)
    assert tpl["event"] == EV_CREATED and ip_of(tpl["client_src"]) == "10.9.0.0"
    assert ip_of(tpl["client_dst"]) == "10.9.0.103" and 290 <= tpl["timeout"] <= 300
    assert ip_of(tpl["real_addr"]) in (REAL_DR, REAL_NAT)
    # the backup: a template naming the second real pins every new connection of the client's /24
    b = sync_daemon(persistent_config())
    b.rpc.call("ha.sync.test_role", {"role": "backup"})
    b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": [message(
        [template(REAL_NAT), template(REAL_NAT, vip=VIP_DR)])]})
    st = b.sync()
    assert st["templates_stored"] == 1 and st["refused"]["bad_record"] == 1  # VIP_DR: not persistent
    b.send(*[from_client("10.9.0.103", 45001 + i, "S", b"") for i in range(4)])
    b.d.wait_rx(4)
    out = b.sent()
    assert len(out) == 4 and {p[Ether].dst for p in out} == {REAL_MACS[REAL_NAT]}


def test_two_workers_nat_goes_to_the_clients_owner_and_fnat_ports_to_their_slice(sync_daemon):
    """With two workers a nat connection belongs to the worker its client hashes to (computed
    here, whatever the record says) and an fnat one to the worker whose slice holds its local
    port, which must be the worker the record names."""
    b = sync_daemon(workers=2)
    b.rpc.call("ha.sync.test_role", {"role": "backup"})
    nat = [record("nat", VIP_NAT, REAL_NAT, 8080, 46000 + i, worker=0,
                  reply=(REAL_NAT, 8080, CLIENT, 46000 + i)) for i in range(6)]
    fnat_ok = record("fnat", VIP_FNAT, REAL_FNAT, 8080, 46100, worker=0,
                     reply=(REAL_FNAT, 8080, LOCAL, FNAT_MIN + 2))  # worker 0's slice
    fnat_bad = record("fnat", VIP_FNAT, REAL_FNAT, 8080, 46101, worker=0,
                      reply=(REAL_FNAT, 8080, LOCAL, FNAT_MIN + 1))  # worker 1's
    b.rpc.call("ha.sync.test_inject", {"key": KEY.hex(), "messages": [message(nat + [fnat_ok, fnat_bad])]})
    st = wait_until(lambda: (s := b.sync())["installed"] == 7 and s, what="7 installed")
    assert st["refused"]["fnat_port"] == 1
    workers = {c["client"]: c["worker"] for c in b.rpc.call("conn.list")["connections"]}
    assert len(set(workers.values())) == 2, workers  # six clients ports spread over both
    # one worker receives (one queue): packets reach the owner by hand-off and are forwarded
    b.send(*[from_client(VIP_NAT, 46000 + i) for i in range(6)], from_client(VIP_FNAT, 46100))
    b.d.wait_rx(7)
    b.send(*[from_real(REAL_NAT, 8080, CLIENT, 46000 + i) for i in range(6)],
           from_real(REAL_FNAT, 8080, LOCAL, FNAT_MIN + 2))
    dp = b.d.wait_rx(14)["dataplane"]
    assert dp["drop_reasons"]["no_flow"] == 0 and dp["drop_reasons"]["sync_hop_unknown"] == 0
    out = b.sent()
    assert sum(1 for p in out if p[IP].dst == REAL_NAT) == 6
    assert sum(1 for p in out if (p[IP].src, p[IP].dst) == (VIP_NAT, CLIENT)) == 6
    assert sum(1 for p in out if (p[IP].src, p[IP].dst) == (VIP_FNAT, CLIENT)) == 1
