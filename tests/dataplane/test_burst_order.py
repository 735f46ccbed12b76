"""Client packets and replies of nat connections mixed in one burst (docs/architecture.md,
"Packet path"): both classes share one bulk flow lookup and are handled in arrival order, so a
reply sees the flow as the packets before it left it. pcap vdev: the first 32 packets of the
file are the first burst, the next 32 the second.

Burst 1: connection B opens and closes (client and real alternating), then A does the same
with data; the rest are client segments of no connection (dropped, counted).
Burst 2: D's SYN, then B's port reused by a SYN (B is closed: released, scheduled afresh, to the
other real), then a late segment of the old B from its real (its flow is gone: dropped, even
though the bulk lookup found it before the release), then the new B's SYN-ACK (its flow did not
exist at the bulk lookup: found after all).
"""
from scapy.all import IP, TCP, Ether

from test_config_effects import CLIENT, CLIENT_MAC, PCAP_PORT_MAC, REALS, VIP, config, start

B, A, D, STRAY = 40001, 40002, 40003, 45000


def client(sport, flags, seq=1, ack=0):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=CLIENT, dst=VIP) / \
        TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack)


def real(ip, dport, flags, seq=1, ack=0):
    return Ether(src=REALS[ip], dst=PCAP_PORT_MAC) / IP(src=ip, dst=CLIENT) / \
        TCP(sport=80, dport=dport, flags=flags, seq=seq, ack=ack)


def open_and_close(sport, r):
    """A whole connection on real r, each side in turn: 7 packets (the last three close it)."""
    return [client(sport, "S", 1), real(r, sport, "SA", 100, 2), client(sport, "A", 2, 101),
            real(r, sport, "PA", 101, 2), client(sport, "FA", 2, 102),
            real(r, sport, "FA", 102, 3), client(sport, "A", 3, 103)]


def seen(pkt):
    """What a forwarded packet is: (to the real's IP or 'client', its flags, the client port)."""
    if pkt[IP].dst == CLIENT:
        assert (pkt[IP].src, pkt[TCP].sport) == (VIP, 80), pkt.summary()
        assert pkt[Ether].dst == CLIENT_MAC
        return ("client", str(pkt[TCP].flags), pkt[TCP].dport)
    assert pkt[IP].src == CLIENT and pkt[Ether].dst == REALS[pkt[IP].dst], pkt.summary()
    return (pkt[IP].dst, str(pkt[TCP].flags), pkt[TCP].sport)


def expected(pkts, dropped):
    return [("client", str(p[TCP].flags), p[TCP].dport) if p[IP].src != CLIENT
            else (None, str(p[TCP].flags), p[TCP].sport)
            for k, p in enumerate(pkts) if k not in dropped]


def test_replies_and_client_packets_of_one_burst_keep_their_order(pcap_daemon, tmp_path):
    # rr over the two reals: B takes the first, A the second, D the first, the new B the second
    r1, r2 = REALS
    burst1 = open_and_close(B, r1) + open_and_close(A, r2)
    burst1 += [client(STRAY + k, "A", 5, 5) for k in range(32 - len(burst1))]
    burst2 = [client(D, "S"), client(B, "S", 500), real(r1, B, "PA", 103, 3),
              real(r2, B, "SA", 900, 501)]
    pkts = burst1 + burst2
    assert len(burst1) == 32
    strays = set(range(14, 32))
    late = 32 + 2
    d = start(pcap_daemon, tmp_path, [pkts], config(forward="nat"))
    dp = d.stats()["dataplane"]
    conns = {int(c["client"].rsplit(":", 1)[1]): c for c in d.rpc.call("conn.list")["connections"]}
    assert d.stop() == 0
    out = [seen(p) for p in d.sent()]

    want = expected(pkts, strays | {late})
    assert [(None if o[0] != "client" else o[0],) + o[1:] for o in out] == want, out
    # each connection's client packets went to one real, the new B's to the other one
    to_real = {}
    for (dest, _, port), k in zip(out, [k for k in range(len(pkts)) if k not in strays | {late}]):
        if dest != "client":
            to_real.setdefault((port, k >= 32), set()).add(dest)
    assert to_real[(B, False)] != to_real[(B, True)] and len(to_real[(B, False)]) == 1
    assert to_real[(B, True)] == {conns[B]["real"].rsplit(":", 1)[0]}
    assert dp["drop_reasons"]["no_reply_flow"] == 1
    assert dp["drop_reasons"]["no_flow"] == len(strays) and dp["dropped"] == len(strays) + 1
    assert dp["flows_created"] == 4 and dp["flows"] == 3  # A, D, the new B; the old B released
    assert conns[B]["state"] == "SYN_RECV" and conns[D]["state"] == "SYN_RECV"
