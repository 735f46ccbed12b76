"""Forwarding methods on pcap vdev ports: nat, tun and fnat header rewrites and checksums,
replies, ICMP echo and error relay, local-port exhaustion and the hand-over between workers.
Checksums are checked by scapy recomputing them from scratch."""
import os
import struct

from scapy.all import ICMP, IP, TCP, UDP, Ether, IPerror, Raw, TCPerror, UDPerror, rdpcap, wrpcap

from lbdaemon import run_pcap

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP = "10.9.0.100"
CLIENT = "10.9.0.10"
REAL = "10.9.0.11"
REAL_MAC = "02:00:00:00:00:11"
REAL2 = "10.9.0.12"
REAL2_MAC = "02:00:00:00:00:12"
LOCAL = "10.9.0.200"
LOCAL2 = "10.9.0.201"
PORT_ADDR = "10.9.0.2"
TCP_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]


def config(forward, real_port=8080, proto="tcp", reals=((REAL, 1),), dataplane=None, **svc):
    service = {"vip": VIP, "port": 80, "proto": proto, "scheduler": "rr", "forward": forward,
               "reals": [{"ip": ip, "port": real_port if forward in ("nat", "fnat") else 80,
                          "weight": w} for ip, w in reals]}
    if forward == "fnat":
        service["local_addresses"] = [LOCAL]
    service.update(svc)
    cfg = {
        "ports": [{"address": f"{PORT_ADDR}/24"}],
        "neighbours": {"static": [{"ip": REAL, "mac": REAL_MAC}, {"ip": REAL2, "mac": REAL2_MAC}]},
        "services": [service],
    }
    if dataplane:
        cfg["dataplane"] = dataplane
    return cfg


def from_client(l4, src=CLIENT, dst=VIP, flags_df=True):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=src, dst=dst, flags="DF" if flags_df else 0) / l4


def from_real(l4, src=REAL, dst=CLIENT, mac=REAL_MAC):
    return Ether(src=mac, dst=PCAP_PORT_MAC) / IP(src=src, dst=dst) / l4


def run(pcap_daemon, tmp_path, packets, cfg, workers=1):
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, packets, cfg, workers)
    return out, stats, conns


def recomputed(layer):
    """The layer's checksum as scapy computes it from scratch."""
    clone = layer.copy()
    clone.chksum = None
    return type(layer)(bytes(clone)).chksum


def assert_checksums(pkt):
    ip = pkt[IP]
    assert ip.chksum == recomputed(ip), "IPv4 header checksum"
    rebuilt = IP(bytes(ip))
    for proto in (TCP, UDP, ICMP):
        if proto in ip and not (proto is UDP and ip[UDP].chksum == 0):
            layer = ip[proto]
            fresh = rebuilt.copy()
            fresh[proto].chksum = None
            assert layer.chksum == IP(bytes(fresh))[proto].chksum, f"{proto.__name__} checksum"
            break


def tcp_from_client(sport, flags="S", payload=b"", opts=TCP_OPTS):
    return from_client(TCP(sport=sport, dport=80, flags=flags, seq=1000, options=opts) / Raw(payload))


# ---- nat ------------------------------------------------------------------------------------

def test_nat_rewrites_destination_and_the_reply_source(pcap_daemon, tmp_path):
    syn = tcp_from_client(40000, payload=b"odd-length-13")
    reply = from_real(TCP(sport=8080, dport=40000, flags="SA", seq=5, ack=1001,
                          options=[("MSS", 1400), ("NOP", None), ("WScale", 3)]) / Raw(b"x" * 7))
    out, stats, conns = run(pcap_daemon, tmp_path, [syn, reply], config("nat"))
    to_real = [p for p in out if p[Ether].dst == REAL_MAC]
    to_client = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(to_real) == 1 and len(to_client) == 1, [p.summary() for p in out]
    fwd = to_real[0]
    assert (fwd[IP].src, fwd[IP].dst, fwd[TCP].sport, fwd[TCP].dport) == (CLIENT, REAL, 40000, 8080)
    assert bytes(fwd[TCP].payload) == b"odd-length-13"
    assert fwd[TCP].options == syn[TCP].options
    assert_checksums(fwd)
    back = to_client[0]
    assert (back[IP].src, back[IP].dst, back[TCP].sport, back[TCP].dport) == (VIP, CLIENT, 80, 40000)
    assert back[Ether].src == PCAP_PORT_MAC
    assert_checksums(back)
    assert stats["services"][0]["outpkts"] == 1
    assert conns[0]["forward"] == "nat" and conns[0]["real"] == f"{REAL}:8080"
    # the SYN-ACK moved the connection on: the appliance sees both directions
    assert conns[0]["state"] == "SYN_RECV"


def test_nat_reply_without_a_flow_is_dropped_not_leaked(pcap_daemon, tmp_path):
    stray = from_real(TCP(sport=8080, dport=41000, flags="SA"))
    out, stats, _ = run(pcap_daemon, tmp_path, [stray], config("nat"))
    assert out == []
    assert stats["dataplane"]["drop_reasons"]["no_reply_flow"] == 1


def test_nat_udp_checksums_including_a_datagram_without_checksum(pcap_daemon, tmp_path):
    with_sum = from_client(UDP(sport=5353, dport=80) / Raw(b"abc"))
    no_sum = from_client(UDP(sport=5354, dport=80, chksum=0) / Raw(b"abcd"))
    reply = from_real(UDP(sport=8080, dport=5353) / Raw(b"hello"))
    out, _, _ = run(pcap_daemon, tmp_path, [with_sum, no_sum, reply], config("nat", proto="udp"))
    fwd = {p[UDP].sport: p for p in out if p[Ether].dst == REAL_MAC}
    assert set(fwd) == {5353, 5354}
    assert fwd[5353][UDP].dport == 8080 and fwd[5353][IP].dst == REAL
    assert_checksums(fwd[5353])
    assert fwd[5354][UDP].chksum == 0, "a datagram without checksum must stay without"
    assert fwd[5354][IP].chksum == recomputed(fwd[5354][IP])
    back = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(back) == 1 and back[0][IP].src == VIP and back[0][UDP].sport == 80
    assert_checksums(back[0])


def test_nat_icmp_error_from_the_real_reaches_the_client_translated(pcap_daemon, tmp_path):
    dgram = from_client(UDP(sport=6000, dport=80) / Raw(b"q"))
    # what the real received (after nat) is what its ICMP error quotes
    quoted = IP(src=CLIENT, dst=REAL, flags="DF") / UDP(sport=6000, dport=8080) / Raw(b"q")
    err = from_real(ICMP(type=3, code=3) / quoted)
    out, stats, _ = run(pcap_daemon, tmp_path, [dgram, err], config("nat", proto="udp"))
    icmps = [p for p in out if ICMP in p]
    assert len(icmps) == 1, [p.summary() for p in out]
    e = icmps[0]
    assert e[Ether].dst == CLIENT_MAC
    assert (e[IP].src, e[IP].dst) == (VIP, CLIENT)
    assert (e[IPerror].src, e[IPerror].dst) == (CLIENT, VIP)
    assert (e[UDPerror].sport, e[UDPerror].dport) == (6000, 80)
    assert e[IPerror].chksum == recomputed(IP(bytes(e[IPerror])))
    assert_checksums(e)
    assert stats["dataplane"]["icmp_errors_relayed"] == 1


def test_nat_flows_are_handed_to_the_worker_owning_the_client(pcap_daemon, tmp_path):
    def owner(ip, port):
        addr = int.from_bytes(bytes(int(x) for x in ip.split(".")), "little")
        h = ((addr ^ ((port * 0x9E3779B1) & 0xFFFFFFFF)) * 0x85EBCA6B) & 0xFFFFFFFF
        return (h >> 16) % 2

    q0 = [tcp_from_client(42000 + i) for i in range(16)]
    q1 = [tcp_from_client(43000 + i) for i in range(16)]
    wrpcap(str(tmp_path / "q0.pcap"), q0)
    wrpcap(str(tmp_path / "q1.pcap"), q1)
    d = pcap_daemon([tmp_path / "q0.pcap", tmp_path / "q1.pcap"], config("nat"), workers=2)
    d.wait_rx(32)
    from lbdaemon import wait_until
    conns = wait_until(lambda: (c := d.rpc.call("conn.list")["connections"]) and len(c) == 32 and c,
                       what="32 nat connections")
    stats = d.stats()
    assert d.stop() == 0
    for c in conns:
        port = int(c["client"].rsplit(":", 1)[1])
        assert c["worker"] == owner(CLIENT, port), c
    # Every packet that arrived on the queue of the worker not owning it was handed over once.
    misplaced = sum(owner(CLIENT, 42000 + i) != 0 for i in range(16)) + \
        sum(owner(CLIENT, 43000 + i) != 1 for i in range(16))
    assert 0 < misplaced < 32
    assert stats["dataplane"]["handoffs"] == misplaced
    assert sum(len(rdpcap(f)) for f in d.tx_pcaps if os.path.getsize(f) > 24) == 32


# ---- tun ------------------------------------------------------------------------------------

def test_tun_encapsulates_the_untouched_packet(pcap_daemon, tmp_path):
    syn = tcp_from_client(44000, payload=b"hello")
    out, stats, conns = run(pcap_daemon, tmp_path, [syn], config("tun"))
    assert len(out) == 1
    p = out[0]
    assert p[Ether].dst == REAL_MAC and p[Ether].src == PCAP_PORT_MAC
    outer = p[IP]
    assert (outer.src, outer.dst, outer.proto, outer.ttl) == (PORT_ADDR, REAL, 4, 64)
    assert outer.flags.DF, "DF is copied from the inner packet"
    assert outer.len == 20 + len(syn[IP])
    assert outer.chksum == recomputed(outer)
    assert bytes(outer.payload) == bytes(syn[IP])
    assert conns[0]["forward"] == "tun"


def test_tun_too_big_with_df_answers_fragmentation_needed(pcap_daemon, tmp_path):
    # 20 (IP) + 40 (TCP with options) + 1421 = 1481 bytes: fits the link, not the tunnel
    big = tcp_from_client(45000, flags="A", payload=b"z" * 1421)
    syn = tcp_from_client(45000)
    ok = tcp_from_client(45000, flags="A", payload=b"z" * 100)
    cfg = config("tun")
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, big, ok], cfg)
    icmps = [p for p in out if ICMP in p and p[Ether].dst == CLIENT_MAC]
    assert len(icmps) == 1, [p.summary() for p in out]
    e = icmps[0]
    assert (e[ICMP].type, e[ICMP].code, e[ICMP].nexthopmtu) == (3, 4, 1480)
    assert (e[IP].src, e[IP].dst) == (VIP, CLIENT)
    assert (e[IPerror].src, e[IPerror].dst, e[TCPerror].sport) == (CLIENT, VIP, 45000)
    assert_checksums(e)
    assert stats["dataplane"]["drop_reasons"]["too_big"] == 1
    assert stats["dataplane"]["icmp_frag_needed_sent"] == 1
    assert len([p for p in out if p[Ether].dst == REAL_MAC]) == 2  # SYN and the small one


def test_tun_honours_the_configured_port_mtu(pcap_daemon, tmp_path):
    syn = tcp_from_client(45500)
    mid = tcp_from_client(45500, flags="A", payload=b"m" * 1000)  # 1060 + 20 > 1000
    cfg = config("tun")
    cfg["ports"][0]["mtu"] = 1000
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, mid], cfg)
    icmps = [p for p in out if ICMP in p]
    assert len(icmps) == 1 and icmps[0][ICMP].nexthopmtu == 980


# ---- fnat -----------------------------------------------------------------------------------

def test_fnat_rewrites_both_ends_and_adds_the_client_address_option(pcap_daemon, tmp_path):
    syn = tcp_from_client(46000, payload=b"")
    data = tcp_from_client(46000, flags="A", payload=b"GET / HTTP/1.0\r\n\r\n")
    reply = from_real(TCP(sport=8080, dport=5000, flags="SA", ack=1001) / Raw(b"abcde"), dst=LOCAL)
    cfg = config("fnat", client_address="toa", dataplane={"fnat_port_min": 5000, "fnat_port_max": 5000})
    out, stats, conns = run(pcap_daemon, tmp_path, [syn, data, reply], cfg)
    to_real = [p for p in out if p[Ether].dst == REAL_MAC]
    assert len(to_real) == 2, [p.summary() for p in out]
    s = to_real[0]
    assert (s[IP].src, s[IP].dst, s[TCP].sport, s[TCP].dport) == (LOCAL, REAL, 5000, 8080)
    toa = [o for o in s[TCP].options if o[0] == 254]
    assert len(toa) == 1, s[TCP].options
    port, addr = struct.unpack("!H4s", toa[0][1])
    assert (port, ".".join(str(b) for b in addr)) == (46000, CLIENT)
    assert s[IP].len == len(syn[IP]) + 8
    assert_checksums(s)
    d = to_real[1]
    assert [o for o in d[TCP].options if o[0] == 254] == [], "only SYNs carry the option"
    assert bytes(d[TCP].payload) == b"GET / HTTP/1.0\r\n\r\n"
    assert_checksums(d)
    back = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(back) == 1
    b = back[0]
    assert (b[IP].src, b[IP].dst, b[TCP].sport, b[TCP].dport) == (VIP, CLIENT, 80, 46000)
    assert_checksums(b)
    assert stats["dataplane"]["toa_added"] == 1
    assert conns[0]["local"] == f"{LOCAL}:5000" and conns[0]["forward"] == "fnat"


def test_fnat_syn_with_full_options_goes_without_the_option(pcap_daemon, tmp_path):
    full = [("NOP", None)] * 40  # 40 bytes of options: no room for 8 more
    syn = tcp_from_client(46500, opts=full)
    cfg = config("fnat", client_address="toa")
    out, stats, _ = run(pcap_daemon, tmp_path, [syn], cfg)
    assert len(out) == 1 and out[0][IP].src == LOCAL
    assert_checksums(out[0])
    assert stats["dataplane"]["toa_no_room"] == 1


def test_fnat_local_port_exhaustion_is_counted(pcap_daemon, tmp_path):
    # One local port, one real: a second client cannot get a (real, local) tuple of its own.
    pkts = [tcp_from_client(47000), from_client(TCP(sport=47001, dport=80, flags="S"), src="10.9.0.20")]
    cfg = config("fnat", dataplane={"fnat_port_min": 6000, "fnat_port_max": 6000})
    out, stats, _ = run(pcap_daemon, tmp_path, pkts, cfg)
    assert len(out) == 1
    assert stats["dataplane"]["drop_reasons"]["local_ports_exhausted"] == 1
    # a second local address doubles what one port can carry
    cfg["services"][0]["local_addresses"] = [LOCAL, LOCAL2]
    out, stats, _ = run(pcap_daemon, tmp_path, pkts, cfg)
    assert len(out) == 2 and {p[IP].src for p in out} == {LOCAL, LOCAL2}
    assert stats["dataplane"]["drop_reasons"]["local_ports_exhausted"] == 0


def test_fnat_icmp_error_from_the_real_is_translated_for_the_client(pcap_daemon, tmp_path):
    dgram = from_client(UDP(sport=7000, dport=80) / Raw(b"q"))
    quoted = IP(src=LOCAL, dst=REAL) / UDP(sport=5000, dport=8080) / Raw(b"q")
    err = from_real(ICMP(type=3, code=3) / quoted, dst=LOCAL)
    cfg = config("fnat", proto="udp", dataplane={"fnat_port_min": 5000, "fnat_port_max": 5000})
    out, stats, _ = run(pcap_daemon, tmp_path, [dgram, err], cfg)
    icmps = [p for p in out if ICMP in p]
    assert len(icmps) == 1, [p.summary() for p in out]
    e = icmps[0]
    assert (e[IP].src, e[IP].dst) == (VIP, CLIENT)
    assert (e[IPerror].src, e[IPerror].dst, e[UDPerror].sport, e[UDPerror].dport) == \
        (CLIENT, VIP, 7000, 80)
    assert_checksums(e)


def test_fnat_needs_local_addresses(pcap_daemon, tmp_path):
    cfg = config("dr")
    wrpcap(str(tmp_path / "e.pcap"), [tcp_from_client(1)])
    d = pcap_daemon([tmp_path / "e.pcap"], cfg)
    from lbdaemon import RpcError
    try:
        d.rpc.call("service.update", {"vip": VIP, "port": 80, "proto": "tcp", "forward": "fnat"})
        raise AssertionError("fnat without local addresses accepted")
    except RpcError as e:
        assert "local_addresses" in e.message
    r = d.rpc.call("service.update", {"vip": VIP, "port": 80, "proto": "tcp", "forward": "fnat",
                                      "local_addresses": [LOCAL]})
    assert r["local_addresses"] == [LOCAL] and r["forward"] == "fnat"


# ---- ICMP -----------------------------------------------------------------------------------

def test_echo_requests_to_our_addresses_are_answered(pcap_daemon, tmp_path):
    pings = [from_client(ICMP(type=8, id=7, seq=i) / Raw(b"ping-data-odd"), dst=dst)
             for i, dst in enumerate((VIP, PORT_ADDR, LOCAL, "10.9.0.99"))]
    out, stats, _ = run(pcap_daemon, tmp_path, pings, config("fnat"))
    replies = [p for p in out if ICMP in p and p[ICMP].type == 0]
    assert sorted(p[IP].src for p in replies) == sorted([VIP, PORT_ADDR, LOCAL])
    for p in replies:
        assert p[IP].dst == CLIENT and p[Ether].dst == CLIENT_MAC
        assert bytes(p[ICMP].payload) == b"ping-data-odd"
        assert_checksums(p)
    assert stats["dataplane"]["icmp_echo_replies"] == 3
    assert stats["dataplane"]["drop_reasons"]["not_vip"] == 1


def test_dr_icmp_error_about_a_reply_goes_to_the_flows_real(pcap_daemon, tmp_path):
    syn = tcp_from_client(48000)
    # a router tells the VIP its reply to the client was too big
    quoted = IP(src=VIP, dst=CLIENT) / TCP(sport=80, dport=48000, flags="A")
    err = Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.1", dst=VIP) / \
        ICMP(type=3, code=4, nexthopmtu=1200) / quoted
    unknown = Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.1", dst=VIP) / \
        ICMP(type=3, code=4, nexthopmtu=1200) / (IP(src=VIP, dst=CLIENT) / TCP(sport=80, dport=1))
    other = from_client(ICMP(type=13), dst=VIP)  # timestamp request: neither answered nor relayed
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, err, unknown, other], config("dr"))
    icmps = [p for p in out if ICMP in p]
    assert len(icmps) == 1
    assert icmps[0][Ether].dst == REAL_MAC
    assert bytes(icmps[0][IP]) == bytes(err[IP])
    assert stats["dataplane"]["icmp_errors_relayed"] == 1
    assert stats["dataplane"]["drop_reasons"]["icmp_no_flow"] == 1
    assert stats["dataplane"]["drop_reasons"]["icmp_other"] == 1


# ---- fragments ------------------------------------------------------------------------------

from scapy.all import defragment, fragment  # noqa: E402


def udp_datagram(size, sport=9000):
    payload = bytes((i * 7) & 0xFF for i in range(size))
    p = from_client(UDP(sport=sport, dport=80) / Raw(payload), flags_df=False)
    p[IP].id = sport  # one IP id per datagram, as a real sender does
    return p


def fragments_of(pkt, size):
    return [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / f for f in fragment(pkt[IP], fragsize=size)]


def reassembled(out, mac):
    frags = [p[IP] for p in out if p[Ether].dst == mac]
    whole = [p for p in defragment(frags) if UDP in p]
    return frags, whole


def test_fragmented_datagram_reaches_one_real_whole_even_out_of_order(pcap_daemon, tmp_path):
    dgram = udp_datagram(3000)
    frags = fragments_of(dgram, 1400)
    assert len(frags) == 3
    cfg = config("dr", proto="udp", reals=((REAL, 1), (REAL2, 1)))
    out, stats, _ = run(pcap_daemon, tmp_path, [frags[2], frags[0], frags[1]], cfg)
    macs = {p[Ether].dst for p in out}
    assert len(macs) == 1, "every fragment of one datagram goes to the same real"
    sent, whole = reassembled(out, macs.pop())
    assert all(len(f) <= 1500 for f in sent)
    assert len(whole) == 1 and bytes(whole[0][UDP]) == bytes(dgram[UDP])
    dp = stats["dataplane"]
    assert (dp["fragments_received"], dp["datagrams_reassembled"]) == (3, 1)
    assert dp["fragments_sent"] == len(sent) >= 3


def test_nat_rewrites_a_fragmented_datagram(pcap_daemon, tmp_path):
    dgram = udp_datagram(2500, sport=9100)
    out, stats, _ = run(pcap_daemon, tmp_path, fragments_of(dgram, 1200), config("nat", proto="udp"))
    sent, whole = reassembled(out, REAL_MAC)
    assert len(whole) == 1
    w = whole[0]
    assert (w[IP].dst, w[UDP].dport, w[UDP].sport) == (REAL, 8080, 9100)
    assert bytes(w[UDP].payload) == bytes(dgram[UDP].payload)
    assert_checksums(IP(bytes(w)))


def test_small_fragmented_datagram_leaves_as_one_packet(pcap_daemon, tmp_path):
    dgram = udp_datagram(600, sport=9200)
    out, stats, _ = run(pcap_daemon, tmp_path, fragments_of(dgram, 304), config("dr", proto="udp"))
    assert len(out) == 1
    assert bytes(out[0][IP]) == bytes(dgram[IP])
    assert stats["dataplane"]["fragments_sent"] == 0


def test_tun_fragments_the_outer_packet_of_a_big_datagram_without_df(pcap_daemon, tmp_path):
    dgram = udp_datagram(1470, sport=9300)  # 1498 bytes: fits the link, not the tunnel
    out, stats, _ = run(pcap_daemon, tmp_path, [dgram], config("tun", proto="udp"))
    assert stats["dataplane"]["drop_reasons"]["too_big"] == 0
    # scapy's defragment() passes a whole packet through: count the fragments themselves
    frags = [p[IP] for p in out]
    assert len(frags) >= 2, [p.summary() for p in out]
    for f in frags:
        assert len(f) <= 1500, len(f)
        assert (f.src, f.dst, f.proto) == (PORT_ADDR, REAL, 4)
        assert f.flags.MF or f.frag > 0, f.summary()
        assert f.chksum == recomputed(f)
    assert stats["dataplane"]["fragments_sent"] == len(frags)
    outer = defragment(frags)
    assert len(outer) == 1 and outer[0].proto == 4
    assert bytes(outer[0].payload) == bytes(dgram[IP])


def test_fragments_on_two_queues_are_reassembled_by_one_worker(pcap_daemon, tmp_path):
    dgrams = [udp_datagram(2000, sport=9400 + i) for i in range(8)]
    q0, q1 = [], []
    for d in dgrams:
        a, b = fragments_of(d, 1024)
        q0.append(a)
        q1.append(b)
    wrpcap(str(tmp_path / "q0.pcap"), q0)
    wrpcap(str(tmp_path / "q1.pcap"), q1)
    d = pcap_daemon([tmp_path / "q0.pcap", tmp_path / "q1.pcap"], config("dr", proto="udp"),
                    workers=2)
    from lbdaemon import wait_until
    wait_until(lambda: d.stats()["dataplane"]["datagrams_reassembled"] == 8,
               what="8 datagrams reassembled")
    stats = d.stats()
    assert d.stop() == 0
    out = d.sent()
    whole = [p for p in defragment([p[IP] for p in out]) if UDP in p]
    assert sorted(p[UDP].sport for p in whole) == [9400 + i for i in range(8)]
    assert stats["dataplane"]["handoffs"] >= 1


def test_conflicting_fragments_are_dropped_and_counted(pcap_daemon, tmp_path):
    """Two datagrams of one IP id with different contents: a second first (or last) fragment
    makes the appliance give up everything it held of that datagram, the duplicate included;
    the sender's retransmission is then reassembled whole, never mixed with the other one."""
    da = udp_datagram(2000, sport=9500)
    db = from_client(UDP(sport=9501, dport=80) / Raw(b"B" * 2000), flags_df=False)
    db[IP].id = da[IP].id  # "the same" datagram
    a = fragments_of(da, 1024)
    b = fragments_of(db, 1024)
    assert len(a) == len(b) == 2 and bytes(a[1][IP].payload) != bytes(b[1][IP].payload)
    # a0, then b0 (first again): both dropped; a1, then b1 (last again): both dropped;
    # then a0 and a1 retransmitted: reassembled
    pkts = [a[0], b[0], a[1], b[1], a[0], a[1]]
    out, stats, _ = run(pcap_daemon, tmp_path, pkts, config("dr", proto="udp"))
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["fragment"] == 4
    assert (dp["fragments_received"], dp["datagrams_reassembled"]) == (6, 1)
    whole = [p for p in defragment([p[IP] for p in out]) if UDP in p]
    assert len(whole) == 1
    assert bytes(whole[0][UDP]) in (bytes(da[UDP]), bytes(db[UDP]))
    assert bytes(whole[0][UDP]) == bytes(da[UDP])


# ---- IPv6 -----------------------------------------------------------------------------------

from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,  # noqa: E402
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                       ICMPv6PacketTooBig, IPerror6, IPv6)

VIP6 = "2001:db8:9::100"
CLIENT6 = "2001:db8:9::10"
REAL6 = "2001:db8:9::11"
LOCAL6 = "2001:db8:9::200"
PORT6 = "2001:db8:9::2"


def config6(forward, real_port=8080, proto="tcp", static=True, **svc):
    service = {"vip": VIP6, "port": 80, "proto": proto, "scheduler": "rr", "forward": forward,
               "reals": [{"ip": REAL6, "port": real_port if forward in ("nat", "fnat") else 80}]}
    if forward == "fnat":
        service["local_addresses"] = [LOCAL6]
    service.update(svc)
    return {
        "ports": [{"address": f"{PORT_ADDR}/24", "address6": f"{PORT6}/64"}],
        "neighbours": {"static": [{"ip": REAL6, "mac": REAL_MAC}] if static else []},
        "services": [service],
    }


def from_client6(l4, dst=VIP6):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IPv6(src=CLIENT6, dst=dst) / l4


def from_real6(l4, dst=CLIENT6):
    return Ether(src=REAL_MAC, dst=PCAP_PORT_MAC) / IPv6(src=REAL6, dst=dst) / l4


def assert_checksums6(pkt):
    ip = pkt[IPv6]
    for proto in (TCP, UDP, ICMPv6EchoReply, ICMPv6ND_NA, ICMPv6PacketTooBig, ICMPv6DestUnreach):
        if proto in ip:
            fresh = IPv6(bytes(ip))
            fresh[proto].cksum = None
            assert ip[proto].cksum == IPv6(bytes(fresh))[proto].cksum if proto not in (TCP, UDP) \
                else True
            if proto in (TCP, UDP):
                fresh[proto].chksum = None
                assert ip[proto].chksum == IPv6(bytes(fresh))[proto].chksum, proto.__name__
            return
    raise AssertionError("no checksummed layer")


def test_ipv6_neighbour_solicitation_for_vip_is_advertised(pcap_daemon, tmp_path):
    ns = Ether(src=CLIENT_MAC, dst="33:33:ff:00:01:00") / \
        IPv6(src=CLIENT6, dst="ff02::1:ff00:100", hlim=255) / ICMPv6ND_NS(tgt=VIP6) / \
        ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC)
    other = Ether(src=CLIENT_MAC, dst="33:33:ff:00:00:77") / \
        IPv6(src=CLIENT6, dst="ff02::1:ff00:77", hlim=255) / ICMPv6ND_NS(tgt="2001:db8:9::77")
    out, stats, _ = run(pcap_daemon, tmp_path, [ns, other], config6("dr"))
    nas = [p for p in out if ICMPv6ND_NA in p]
    assert len(nas) == 1, [p.summary() for p in out]
    na = nas[0]
    assert na[ICMPv6ND_NA].tgt == VIP6 and na[ICMPv6ND_NA].S == 1
    assert na[ICMPv6NDOptDstLLAddr].lladdr == PCAP_PORT_MAC
    assert (na[IPv6].src, na[IPv6].dst, na[IPv6].hlim) == (VIP6, CLIENT6, 255)
    assert na[Ether].dst == CLIENT_MAC
    assert_checksums6(na)
    assert stats["dataplane"]["nd_advertisements"] == 1


def test_ipv6_echo_to_vip_is_answered(pcap_daemon, tmp_path):
    ping = from_client6(ICMPv6EchoRequest(id=5, seq=1, data=b"odd-ping"))
    out, stats, _ = run(pcap_daemon, tmp_path, [ping], config6("dr"))
    assert len(out) == 1 and ICMPv6EchoReply in out[0]
    assert (out[0][IPv6].src, out[0][IPv6].dst) == (VIP6, CLIENT6)
    assert out[0][ICMPv6EchoReply].data == b"odd-ping"
    assert_checksums6(out[0])


def test_ipv6_dr_changes_only_the_mac(pcap_daemon, tmp_path):
    syn = from_client6(TCP(sport=50000, dport=80, flags="S"))
    out, _, conns = run(pcap_daemon, tmp_path, [syn], config6("dr"))
    assert len(out) == 1 and out[0][Ether].dst == REAL_MAC
    assert bytes(out[0])[14:] == bytes(syn)[14:]
    assert conns[0]["client"] == f"[{CLIENT6}]:50000"


def test_ipv6_nat_both_directions(pcap_daemon, tmp_path):
    syn = from_client6(TCP(sport=50100, dport=80, flags="S", options=TCP_OPTS) / Raw(b"abc"))
    reply = from_real6(TCP(sport=8080, dport=50100, flags="SA") / Raw(b"hello"))
    out, stats, conns = run(pcap_daemon, tmp_path, [syn, reply], config6("nat"))
    fwd = [p for p in out if p[Ether].dst == REAL_MAC]
    back = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(fwd) == 1 and len(back) == 1, [p.summary() for p in out]
    assert (fwd[0][IPv6].dst, fwd[0][TCP].dport) == (REAL6, 8080)
    assert_checksums6(fwd[0])
    assert (back[0][IPv6].src, back[0][TCP].sport) == (VIP6, 80)
    assert_checksums6(back[0])


def test_ipv6_nat_udp(pcap_daemon, tmp_path):
    q = from_client6(UDP(sport=5300, dport=80) / Raw(b"query"))
    a = from_real6(UDP(sport=8080, dport=5300) / Raw(b"answer!"))
    out, _, _ = run(pcap_daemon, tmp_path, [q, a], config6("nat", proto="udp"))
    assert len(out) == 2
    for p in out:
        assert_checksums6(p)
    assert {p[IPv6].src for p in out} == {CLIENT6, VIP6}


def test_ipv6_fnat_both_directions(pcap_daemon, tmp_path):
    syn = from_client6(TCP(sport=50200, dport=80, flags="S"))
    reply = from_real6(TCP(sport=8080, dport=5000, flags="SA"), dst=LOCAL6)
    cfg = config6("fnat")
    cfg["dataplane"] = {"fnat_port_min": 5000, "fnat_port_max": 5000}
    out, _, conns = run(pcap_daemon, tmp_path, [syn, reply], cfg)
    fwd = [p for p in out if p[Ether].dst == REAL_MAC]
    back = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(fwd) == 1 and len(back) == 1, [p.summary() for p in out]
    f = fwd[0]
    assert (f[IPv6].src, f[TCP].sport, f[IPv6].dst, f[TCP].dport) == (LOCAL6, 5000, REAL6, 8080)
    assert_checksums6(f)
    b = back[0]
    assert (b[IPv6].src, b[TCP].sport, b[IPv6].dst, b[TCP].dport) == (VIP6, 80, CLIENT6, 50200)
    assert_checksums6(b)
    assert conns[0]["local"] == f"[{LOCAL6}]:5000"


def test_ipv6_tun_encapsulates_and_answers_packet_too_big(pcap_daemon, tmp_path):
    syn = from_client6(TCP(sport=50300, dport=80, flags="S"))
    big = from_client6(TCP(sport=50300, dport=80, flags="A") / Raw(b"b" * (1500 - 40 - 20)))
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, big], config6("tun"))
    tun = [p for p in out if p[Ether].dst == REAL_MAC]
    assert len(tun) == 1
    outer = tun[0][IPv6]
    assert (outer.src, outer.dst, outer.nh) == (PORT6, REAL6, 41)
    assert bytes(outer.payload) == bytes(syn[IPv6])
    ptb = [p for p in out if ICMPv6PacketTooBig in p]
    assert len(ptb) == 1 and ptb[0][ICMPv6PacketTooBig].mtu == 1460
    assert (ptb[0][IPv6].src, ptb[0][IPv6].dst) == (VIP6, CLIENT6)
    assert_checksums6(ptb[0])
    assert stats["dataplane"]["drop_reasons"]["too_big"] == 1


def test_ipv6_nat_icmp_error_from_the_real_is_translated(pcap_daemon, tmp_path):
    q = from_client6(UDP(sport=5400, dport=80) / Raw(b"q"))
    quoted = IPv6(src=CLIENT6, dst=REAL6) / UDP(sport=5400, dport=8080) / Raw(b"q")
    err = from_real6(ICMPv6DestUnreach(code=4) / quoted)
    out, stats, _ = run(pcap_daemon, tmp_path, [q, err], config6("nat", proto="udp"))
    errs = [p for p in out if ICMPv6DestUnreach in p]
    assert len(errs) == 1, [p.summary() for p in out]
    e = errs[0]
    assert (e[IPv6].src, e[IPv6].dst) == (VIP6, CLIENT6)
    assert (e[IPerror6].dst, e[UDPerror].dport) == (VIP6, 80)
    assert_checksums6(e)


def test_ipv6_real_is_resolved_by_neighbour_discovery(pcap_daemon, tmp_path):
    na = Ether(src=REAL_MAC, dst=PCAP_PORT_MAC) / IPv6(src=REAL6, dst=PORT6, hlim=255) / \
        ICMPv6ND_NA(tgt=REAL6, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=REAL_MAC)
    wrpcap(str(tmp_path / "in.pcap"), [na])
    cfg = config6("dr", static=False)
    # a second real that never answers: the appliance keeps soliciting it
    cfg["services"][0]["reals"].append({"ip": "2001:db8:9::12", "port": 80})
    d = pcap_daemon([tmp_path / "in.pcap"], cfg)
    from lbdaemon import wait_until

    def neighbour():
        return [n for n in d.rpc.call("system.info")["neighbours"] if n["ip"] == REAL6]
    got = wait_until(lambda: (n := neighbour()) and n[0]["state"] == "resolved" and n,
                     what="the real resolved by its advertisement")
    assert got[0]["mac"] == REAL_MAC
    wait_until(lambda: d.stats()["dataplane"]["tx_packets"] >= 1, what="a solicitation sent")
    assert d.stop() == 0
    out = d.sent()
    ns = [p for p in out if ICMPv6ND_NS in p and p[ICMPv6ND_NS].tgt == "2001:db8:9::12"]
    assert ns, [p.summary() for p in out]
    n = ns[0]
    assert n[IPv6].dst == "ff02::1:ff00:12" and n[Ether].dst == "33:33:ff:00:00:12"
    assert (n[IPv6].src, n[IPv6].hlim) == (PORT6, 255)
    assert n[ICMPv6NDOptSrcLLAddr].lladdr == PCAP_PORT_MAC
    assert_checksums6_ns(n)


def assert_checksums6_ns(p):
    fresh = IPv6(bytes(p[IPv6]))
    fresh[ICMPv6ND_NS].cksum = None
    assert p[ICMPv6ND_NS].cksum == IPv6(bytes(fresh))[ICMPv6ND_NS].cksum


def test_ipv6_fragments_are_reassembled_and_fragmented_again(pcap_daemon, tmp_path):
    from scapy.all import IPv6ExtHdrFragment, defragment6, fragment6
    payload = bytes((i * 13) & 0xFF for i in range(3000))
    dgram = IPv6(src=CLIENT6, dst=VIP6) / IPv6ExtHdrFragment(id=0x1234) / \
        UDP(sport=5600, dport=80) / Raw(payload)
    frags = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / f for f in fragment6(dgram, 1280)]
    assert len(frags) >= 3
    out, stats, _ = run(pcap_daemon, tmp_path, list(reversed(frags)), config6("nat", proto="udp"))
    sent = [p[IPv6] for p in out if p[Ether].dst == REAL_MAC]
    assert len(sent) >= 3 and all(len(p) <= 1500 for p in sent)
    sent.sort(key=lambda f: f[IPv6ExtHdrFragment].offset)
    whole = IPv6(bytes(defragment6(sent)))
    assert (whole[IPv6].dst, whole[UDP].dport) == (REAL6, 8080)
    assert bytes(whole[UDP].payload) == payload
    fresh = IPv6(bytes(whole))
    fresh[UDP].chksum = None
    assert whole[UDP].chksum == IPv6(bytes(fresh))[UDP].chksum
    dp = stats["dataplane"]
    assert dp["datagrams_reassembled"] == 1 and dp["fragments_received"] == len(frags)


def test_icmp_error_walks_to_the_worker_holding_a_dr_flow(pcap_daemon, tmp_path):
    syn = tcp_from_client(49000)
    quoted = IP(src=VIP, dst=CLIENT) / TCP(sport=80, dport=49000, flags="A")
    err = Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.1", dst=VIP) / \
        ICMP(type=3, code=4, nexthopmtu=1200) / quoted
    # Ordered by construction, not by timing: worker 0 receives the SYN in its first rx burst
    # (the ports are started and the snapshot published before the workers are launched), and
    # every loop turn handles the rx burst before the walk ring (worker_main), so the error
    # that worker 1 misses and passes on meets the flow whenever worker 1 got it.
    wrpcap(str(tmp_path / "q0.pcap"), [syn])
    wrpcap(str(tmp_path / "q1.pcap"), [err])
    d = pcap_daemon([tmp_path / "q0.pcap", tmp_path / "q1.pcap"], config("dr"), workers=2)
    d.wait_rx(2)
    from lbdaemon import wait_until
    stats = wait_until(lambda: (s := d.stats()) and s["dataplane"]["icmp_errors_relayed"] == 1 and s,
                       what="the error relayed by the flow's worker")
    assert stats["dataplane"]["drop_reasons"]["icmp_no_flow"] == 0
    assert stats["dataplane"]["handoffs"] == 1
    assert d.stop() == 0
    out = d.sent()
    relayed = [p for p in out if ICMP in p]
    assert len(relayed) == 1 and relayed[0][Ether].dst == REAL_MAC


def test_nat_path_mtu_both_directions(pcap_daemon, tmp_path):
    syn = tcp_from_client(49500)
    big_in = tcp_from_client(49500, flags="A", payload=b"i" * 1400)  # 1460 bytes with DF
    big_out = Ether(src=REAL_MAC, dst=PCAP_PORT_MAC) / IP(src=REAL, dst=CLIENT, flags="DF") / \
        TCP(sport=8080, dport=49500, flags="A") / Raw(b"o" * 1400)
    cfg = config("nat")
    cfg["ports"][0]["mtu"] = 1400
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, big_in, big_out], cfg)
    icmps = [p for p in out if ICMP in p]
    assert len(icmps) == 2, [p.summary() for p in out]
    to_client = [p for p in icmps if p[IP].dst == CLIENT][0]
    assert (to_client[IP].src, to_client[ICMP].type, to_client[ICMP].nexthopmtu) == (VIP, 3, 1400)
    assert to_client[Ether].dst == CLIENT_MAC and to_client[TCPerror].sport == 49500
    to_real = [p for p in icmps if p[IP].dst == REAL][0]
    assert (to_real[IP].src, to_real[ICMP].nexthopmtu) == (CLIENT, 1400)
    assert to_real[Ether].dst == REAL_MAC and to_real[TCPerror].sport == 8080
    for p in icmps:
        assert_checksums(p)
    assert stats["dataplane"]["drop_reasons"]["too_big"] == 2
    assert stats["dataplane"]["icmp_frag_needed_sent"] == 2


def test_ipv6_fnat_too_big_answers_packet_too_big(pcap_daemon, tmp_path):
    syn = from_client6(TCP(sport=50400, dport=80, flags="S"))
    big = from_client6(TCP(sport=50400, dport=80, flags="A") / Raw(b"b" * 1400))  # 1460 bytes
    cfg = config6("fnat")
    cfg["ports"][0]["mtu"] = 1400
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, big], cfg)
    ptb = [p for p in out if ICMPv6PacketTooBig in p]
    assert len(ptb) == 1 and ptb[0][ICMPv6PacketTooBig].mtu == 1400
    assert (ptb[0][IPv6].src, ptb[0][IPv6].dst) == (VIP6, CLIENT6)
    assert_checksums6(ptb[0])


def test_a_removed_reals_mac_is_kept_for_its_comeback(pcap_daemon, tmp_path):
    from scapy.all import ARP
    is_at = Ether(src=REAL_MAC, dst=PCAP_PORT_MAC) / \
        ARP(op=2, hwsrc=REAL_MAC, psrc=REAL, hwdst=PCAP_PORT_MAC, pdst=PORT_ADDR)
    wrpcap(str(tmp_path / "in.pcap"), [is_at])
    cfg = config("dr")
    cfg["neighbours"] = {"static": []}
    d = pcap_daemon([tmp_path / "in.pcap"], cfg)
    from lbdaemon import wait_until

    def state():
        return {n["ip"]: n for n in d.rpc.call("system.info")["neighbours"]}.get(REAL)
    wait_until(lambda: (n := state()) and n["state"] == "resolved", what="the real resolved")
    d.rpc.call("service.del", {"vip": VIP, "port": 80, "proto": "tcp"})
    # a removed real's neighbour entry is let go once the snapshots using it are freed (RCU)
    kept = wait_until(lambda: (n := state()) and n["state"] != "resolved" and n, timeout=5,
                      what="the removed real's neighbour let go")
    assert (kept["state"], kept["mac"]) == ("kept", REAL_MAC), \
        "resolved MAC kept after the last user left"
    d.rpc.call("service.add", {"vip": VIP, "port": 81, "proto": "udp", "scheduler": "rr",
                               "reals": [{"ip": REAL, "port": 81}]})
    back = state()
    assert back["state"] == "resolved" and back["mac"] == REAL_MAC
    assert d.stop() == 0


def test_incomplete_datagrams_are_given_up_after_the_timeout(pcap_daemon, tmp_path):
    firsts = [fragments_of(udp_datagram(2000, sport=9600 + i), 1024)[0] for i in range(3)]
    wrpcap(str(tmp_path / "in.pcap"), firsts)
    cfg = config("dr", proto="udp", dataplane={"frag_timeout_ms": 100})
    d = pcap_daemon([tmp_path / "in.pcap"], cfg)
    from lbdaemon import wait_until
    stats = wait_until(lambda: (s := d.stats()["dataplane"]) and
                       s["drop_reasons"]["fragment"] == 3 and s,
                       timeout=5, what="the 3 incomplete datagrams given up on")
    assert stats["fragments_received"] == 3 and stats["datagrams_reassembled"] == 0
    assert d.stop() == 0


def test_ipv6_tun_fragments_the_outer_packet_at_small_mtus(pcap_daemon, tmp_path):
    """RFC 2473 7.1: with a port MTU between 1280 and 1319 a 1280-byte packet cannot fit the
    tunnel, and "packet too big" cannot help (1280 is the IPv6 minimum), so the appliance, the
    outer packet's source, fragments it. Bigger packets are still answered with the MTU the
    tunnel leaves, never below 1280."""
    from scapy.layers.inet6 import IPv6ExtHdrFragment, defragment6
    syn = from_client6(TCP(sport=50400, dport=80, flags="S"))
    full = from_client6(TCP(sport=50400, dport=80, flags="A") /
                        Raw(bytes(i & 0xFF for i in range(1280 - 40 - 20))))
    assert len(full[IPv6]) == 1280
    bigger = from_client6(TCP(sport=50400, dport=80, flags="A") / Raw(b"x" * (1300 - 40 - 20)))
    cfg = config6("tun")
    cfg["ports"][0]["mtu"] = 1300
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, full, bigger], cfg)
    to_real = [p for p in out if p[Ether].dst == REAL_MAC]
    whole = [p for p in to_real if IPv6ExtHdrFragment not in p]
    frags = [p for p in to_real if IPv6ExtHdrFragment in p]
    assert len(whole) == 1 and bytes(whole[0][IPv6].payload) == bytes(syn[IPv6])
    assert len(frags) >= 2, [p.summary() for p in out]
    for f in frags:
        assert len(f[IPv6]) <= 1300, len(f[IPv6])
        assert (f[IPv6].src, f[IPv6].dst, f[IPv6].nh) == (PORT6, REAL6, 44)
        assert f[IPv6ExtHdrFragment].nh == 41
    assert len({f[IPv6ExtHdrFragment].id for f in frags}) == 1
    outer = defragment6([f[IPv6] for f in frags])
    assert (outer.src, outer.dst, outer.nh) == (PORT6, REAL6, 41)
    assert bytes(outer.payload) == bytes(full[IPv6])
    ptb = [p for p in out if ICMPv6PacketTooBig in p]
    assert len(ptb) == 1 and ptb[0][ICMPv6PacketTooBig].mtu == 1280
    assert bytes(ptb[0][IPerror6])[:48] == bytes(bigger[IPv6])[:48]
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["too_big"] == 1
    assert dp["fragments_sent"] == len(frags)


def test_ipv6_tun_packet_too_big_reports_the_tunnel_mtu_above_1320(pcap_daemon, tmp_path):
    big = from_client6(TCP(sport=50500, dport=80, flags="A") / Raw(b"y" * (1400 - 40 - 20)))
    fits = from_client6(TCP(sport=50500, dport=80, flags="A") / Raw(b"z" * (1360 - 40 - 20)))
    cfg = config6("tun")
    cfg["ports"][0]["mtu"] = 1400
    syn = from_client6(TCP(sport=50500, dport=80, flags="S"))
    out, stats, _ = run(pcap_daemon, tmp_path, [syn, fits, big], cfg)
    ptb = [p for p in out if ICMPv6PacketTooBig in p]
    assert len(ptb) == 1 and ptb[0][ICMPv6PacketTooBig].mtu == 1360
    to_real = [p for p in out if p[Ether].dst == REAL_MAC]
    assert [len(p[IPv6]) for p in to_real] == [40 + len(syn[IPv6]), 1400]
    assert stats["dataplane"]["fragments_sent"] == 0
