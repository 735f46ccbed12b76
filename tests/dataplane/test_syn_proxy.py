"""The SYN proxy of nat and fnat services (syn_proxy: true; docs/architecture.md, "SYN proxy").

A live daemon (tests/dataplane/test_edges.py's veth in a namespace of its own) plays both sides
of one connection: the client's SYN is answered with a cookie and leaves no flow, a forged ACK
is dropped and counted, the good ACK becomes the SYN to the real, the real's SYN-ACK is answered
by the appliance, and data then flows both ways with each side's sequence numbers translated.
"""
import subprocess

import pytest
from scapy.all import IP, TCP, Ether, IPv6, Raw

from lbdaemon import wait_until
from test_edges import (CLIENT, CLIENT_MAC, LIVE_PORT_MAC, REAL, REAL_MAC, STATIC, VIP, config,
                        live, live_frame, service)  # noqa: F401 (live: the fixture)
from test_methods import assert_checksums

LOCAL = "10.9.0.200"
ADDRS = {4: {"vip": VIP, "client": CLIENT, "real": REAL, "local": LOCAL},
         6: {"vip": "2001:db8:9::100", "client": "2001:db8:9::10", "real": "2001:db8:9::11",
             "local": "2001:db8:9::200"}}
CLIENT_ISN = 1000
REAL_ISN = 0xfffffff0  # wraps: the delta arithmetic is modulo 2^32
CLIENT_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
               ("WScale", 7)]

# Sends frames on the veth's client end and prints the frames that come back (hex, one a line)
# until `want` arrived or the deadline passed: the socket is open before the first frame leaves.
EXCHANGE = r"""
import select, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
want = int(sys.argv[2])
for h in sys.argv[3:]:
    s.send(bytes.fromhex(h))
end = time.time() + 5
got = []
while len(got) < want and time.time() < end:
    if not select.select([s], [], [], max(0, end - time.time()))[0]:
        break
    data, addr = s.recvfrom(65535)
    if addr[2] != socket.PACKET_OUTGOING:
        got.append(data.hex())
print("\n".join(got))
"""


def exchange(ld, frames, want):
    """Sends frames into the daemon's port; returns the `want` frames it sent back (fewer when
    they did not come within the deadline)."""
    out = subprocess.run(["ip", "netns", "exec", ld.ns, "/usr/bin/python3", "-c", EXCHANGE, "cl",
                          str(want), *[bytes(f).hex() for f in frames]],
                         check=True, capture_output=True, text=True).stdout
    ld.sent += len(frames)
    return [Ether(bytes.fromhex(h)) for h in out.split()]


def one(ld, frame):
    got = exchange(ld, [frame], 1)
    assert len(got) == 1, f"no answer to {frame.summary()}"
    return got[0]


def ip_layer(family, src, dst):
    return IP(src=src, dst=dst) if family == 4 else IPv6(src=src, dst=dst)


def from_client(family, l4):
    a = ADDRS[family]
    return Ether(src=CLIENT_MAC, dst=LIVE_PORT_MAC) / ip_layer(family, a["client"], a["vip"]) / l4


def from_real(family, l4, dst):
    ip = ip_layer(family, ADDRS[family]["real"], dst)
    return Ether(src=REAL_MAC, dst=LIVE_PORT_MAC) / ip / l4


def checked(pkt):
    """assert_checksums for IPv4; for IPv6 the TCP checksum scapy computes from scratch."""
    if IPv6 not in pkt:
        assert_checksums(pkt)
        return
    fresh = pkt[IPv6].copy()
    fresh[TCP].chksum = None
    assert pkt[TCP].chksum == IPv6(bytes(fresh))[TCP].chksum, "TCP checksum"


def dp(ld):
    return ld.stats()["dataplane"]


def proxy_config(forward, family=4):
    a = ADDRS[family]
    extra = {"local_addresses": [a["local"]]} if forward == "fnat" else {}
    svc = service(forward=forward, syn_proxy=True, **extra)
    svc["vip"] = a["vip"]
    svc["reals"] = [{"ip": a["real"], "port": 8080}]
    cfg = config([svc])
    cfg["ports"][0]["address6"] = "2001:db8:9::2/64"
    cfg["neighbours"]["static"] = STATIC + [{"ip": ADDRS[6]["real"], "mac": REAL_MAC}]
    return cfg


@pytest.mark.parametrize("forward,family", [("nat", 4), ("fnat", 4), ("nat", 6), ("fnat", 6)])
def test_syn_proxy_handshake_and_sequence_translation(live, forward, family):
    a = ADDRS[family]
    vip, client, real, local = a["vip"], a["client"], a["real"], a["local"]
    ipl = IP if family == 4 else IPv6
    ld = live(proxy_config(forward, family))
    assert ld.rpc.call("service.list")["services"][0]["syn_proxy"] is True

    # 1. The SYN is answered by the appliance: a cookie, the client's ISN + 1, only an MSS.
    sa = one(ld, from_client(family, TCP(sport=40000, dport=80, flags="S", seq=CLIENT_ISN,
                                         options=CLIENT_OPTS)))
    assert (sa[Ether].src, sa[Ether].dst) == (LIVE_PORT_MAC, CLIENT_MAC)
    assert (sa[ipl].src, sa[ipl].dst, sa[TCP].sport, sa[TCP].dport) == (vip, client, 80, 40000)
    assert sa[TCP].flags == "SA" and sa[TCP].ack == CLIENT_ISN + 1
    assert sa[TCP].options == [("MSS", 1460)], "no SACK, timestamps or window scaling"
    checked(sa)
    cookie = sa[TCP].seq
    s = dp(ld)
    assert s["syn_proxy_cookies_sent"] == 1
    assert s["flows"] == 0 and s["flows_created"] == 0, "a SYN must leave nothing behind"
    assert ld.rpc.call("conn.list")["connections"] == []

    # 2. An ACK whose cookie is wrong is dropped and counted; still no flow.
    ld.send(from_client(family, TCP(sport=40000, dport=80, flags="A", seq=CLIENT_ISN + 1,
                                    ack=((cookie ^ 0x100) + 1) & 0xffffffff)))
    wait_until(lambda: dp(ld)["drop_reasons"]["syn_proxy_bad_cookie"] == 1, what="forged ACK")
    s = dp(ld)
    assert s["syn_proxy_bad_cookies"] == 1 and s["flows"] == 0

    # 3. The good ACK makes the flow and becomes the SYN to the real, with the client's ISN.
    syn = one(ld, from_client(family, TCP(sport=40000, dport=80, flags="A", seq=CLIENT_ISN + 1,
                                          ack=(cookie + 1) & 0xffffffff, window=29200)))
    assert (syn[Ether].dst, syn[ipl].dst, syn[TCP].dport) == (REAL_MAC, real, 8080)
    assert syn[TCP].flags == "S" and syn[TCP].seq == CLIENT_ISN and syn[TCP].ack == 0
    assert syn[TCP].options == [("MSS", 1460)] and syn[TCP].window == 29200
    checked(syn)
    if forward == "nat":
        assert (syn[ipl].src, syn[TCP].sport) == (client, 40000)
    else:
        assert syn[ipl].src == local
    lip, lport = syn[ipl].src, syn[TCP].sport
    s = dp(ld)
    assert s["syn_proxy_valid_acks"] == 1 and s["flows"] == 1

    # 4. Client data before the real answered: its first segment (the client retransmitting,
    # the cookie proves its ISN) is the SYN again, in case the first was lost; a later one is
    # dropped (the client sends it again).
    again = one(ld, from_client(family, TCP(sport=40000, dport=80, flags="PA", seq=CLIENT_ISN + 1,
                                            ack=(cookie + 1) & 0xffffffff) / Raw(b"early")))
    assert again[TCP].flags == "S" and again[TCP].seq == CLIENT_ISN and again[ipl].dst == real
    assert not again[TCP].payload and dp(ld)["syn_proxy_syns_resent"] == 1
    checked(again)
    ld.send(from_client(family, TCP(sport=40000, dport=80, flags="PA", seq=CLIENT_ISN + 6,
                                    ack=(cookie + 1) & 0xffffffff) / Raw(b"later")))
    wait_until(lambda: dp(ld)["drop_reasons"]["syn_proxy_handshake"] == 1, what="later data")

    # 5. The real's SYN-ACK is answered by the appliance with the ACK of its handshake.
    ack = one(ld, from_real(family, TCP(sport=8080, dport=lport, flags="SA", seq=REAL_ISN,
                                        ack=CLIENT_ISN + 1, options=[("MSS", 1400)]), lip))
    assert (ack[Ether].src, ack[Ether].dst) == (LIVE_PORT_MAC, REAL_MAC)
    assert (ack[ipl].src, ack[ipl].dst, ack[TCP].sport, ack[TCP].dport) == (lip, real, lport, 8080)
    assert ack[TCP].flags == "A"
    assert (ack[TCP].seq, ack[TCP].ack) == (CLIENT_ISN + 1, (REAL_ISN + 1) & 0xffffffff)
    checked(ack)
    assert dp(ld)["syn_proxy_real_acks"] == 1

    # 6. Data both ways: the client's ACK numbers move into the real's space, the real's
    # sequence numbers into the client's.
    req = one(ld, from_client(family, TCP(sport=40000, dport=80, flags="PA", seq=CLIENT_ISN + 1,
                                          ack=(cookie + 1) & 0xffffffff) / Raw(b"GET /")))
    assert req[Ether].dst == REAL_MAC and bytes(req[TCP].payload) == b"GET /"
    assert (req[TCP].seq, req[TCP].ack) == (CLIENT_ISN + 1, (REAL_ISN + 1) & 0xffffffff)
    checked(req)
    resp = one(ld, from_real(family, TCP(sport=8080, dport=lport, flags="PA",
                                 seq=(REAL_ISN + 1) & 0xffffffff, ack=CLIENT_ISN + 6)
                             / Raw(b"HTTP/1.0 200"), lip))
    assert (resp[Ether].dst, resp[ipl].src, resp[ipl].dst) == (CLIENT_MAC, vip, client)
    assert (resp[TCP].sport, resp[TCP].dport) == (80, 40000)
    assert (resp[TCP].seq, resp[TCP].ack) == ((cookie + 1) & 0xffffffff, CLIENT_ISN + 6)
    assert bytes(resp[TCP].payload) == b"HTTP/1.0 200"
    checked(resp)
    conns = ld.rpc.call("conn.list")["connections"]
    assert len(conns) == 1 and conns[0]["state"] == "ESTABLISHED"

    # 7. A client reusing its port: its SYN reaches the real as is (the client's sequence space
    # is the same on both sides), and the real's challenge ACK comes back translated.
    syn2 = one(ld, from_client(family, TCP(sport=40000, dport=80, flags="S", seq=777)))
    assert syn2[Ether].dst == REAL_MAC and syn2[TCP].flags == "S" and syn2[TCP].seq == 777
    checked(syn2)
    chal = one(ld, from_real(family, TCP(sport=8080, dport=lport, flags="A",
                                         seq=(REAL_ISN + 13) & 0xffffffff, ack=CLIENT_ISN + 6),
                             lip))
    assert chal[Ether].dst == CLIENT_MAC and chal[TCP].seq == (cookie + 13) & 0xffffffff
    checked(chal)
    ld.d.wait_rx(ld.sent)


def test_syn_flood_through_the_proxy_creates_no_flows(live):
    ld = live(proxy_config("nat"))
    frames = [live_frame(TCP(sport=1024 + i, dport=80, flags="S", seq=i),
                         src=f"11.0.{i // 250}.{i % 250 + 1}") for i in range(300)]
    ld.send(*frames)
    ld.d.wait_rx(ld.sent)
    s = dp(ld)
    assert s["syn_proxy_cookies_sent"] == 300
    assert s["flows"] == 0 and s["flows_created"] == 0
