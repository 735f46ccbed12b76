"""The snapshot's table of address roles (dataplane/snapshot_roles.h): one address with several
roles, VIPs with more services than its slot holds inline, a service group, a local address
that is the port's own address, and a VIP on one port with its real on another. Each packet
must take the path the roles give it, in the order the worker asks them."""
import shutil

from scapy.all import IP, TCP, UDP, Ether, rdpcap, wrpcap

from lbdaemon import PcapDaemon, run_pcap

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP = "10.9.0.100"
VIP2 = "10.9.0.101"
CLIENT = "10.9.0.10"
REAL = "10.9.0.11"
REAL_MAC = "02:00:00:00:00:11"
REAL2 = "10.9.0.12"
REAL2_MAC = "02:00:00:00:00:12"
PORT_ADDR = "10.9.0.2"
STATICS = [{"ip": REAL, "mac": REAL_MAC}, {"ip": REAL2, "mac": REAL2_MAC}]


def client_tcp(sport, dst=VIP, dport=80, flags="S"):
    return (Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=CLIENT, dst=dst) /
            TCP(sport=sport, dport=dport, flags=flags))


def from_host(src, sport, dport, mac, dst=CLIENT, flags="SA"):
    return Ether(src=mac, dst=PCAP_PORT_MAC) / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport,
                                                                          flags=flags)


def real(ip, port, weight=1):
    return {"ip": ip, "port": port, "weight": weight}


def test_an_address_that_is_a_vip_and_a_nat_real(pcap_daemon, tmp_path):
    # REAL is service B's VIP and service A's nat real: traffic to it on port 80 is B's,
    # its replies from port 8080 are A's, anything else from or to it is nobody's.
    cfg = {"ports": [{"address": f"{PORT_ADDR}/24"}], "neighbours": {"static": STATICS},
           "services": [
               {"vip": VIP, "port": 80, "proto": "tcp", "forward": "nat",
                "reals": [real(REAL, 8080)]},
               {"vip": REAL, "port": 80, "proto": "tcp", "forward": "dr",
                "reals": [real(REAL2, 80)]}]}
    pkts = [client_tcp(40001, dst=REAL),              # B: dr to REAL2
            client_tcp(40002),                        # A: nat to REAL:8080
            from_host(REAL, 8080, 40002, REAL_MAC),   # A's reply: to the client, from the VIP
            from_host(REAL, 9999, 40002, REAL_MAC),   # REAL, but not as A's real: not ours
            client_tcp(40003, dst=REAL, dport=81)]    # REAL is a VIP, but not on port 81
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    to_real2 = [p for p in out if p[Ether].dst == REAL2_MAC]
    to_real = [p for p in out if p[Ether].dst == REAL_MAC]
    to_client = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(out) == 3, [p.summary() for p in out]
    assert (to_real2[0][IP].dst, to_real2[0][TCP].dport) == (REAL, 80)  # dr: untouched
    assert (to_real[0][IP].dst, to_real[0][TCP].dport) == (REAL, 8080)
    assert (to_client[0][IP].src, to_client[0][TCP].sport) == (VIP, 80)
    assert stats["dataplane"]["drop_reasons"]["not_vip"] == 2
    assert sorted(c["forward"] for c in conns) == ["dr", "nat"]


def test_services_past_the_inline_ones_and_a_service_group(pcap_daemon, tmp_path):
    # Four services on one VIP (the slot holds three inline, then the service index answers),
    # and a group on another VIP whose port range holds a plain service of its own.
    svcs = [{"vip": VIP, "port": 80 + i, "proto": "tcp", "forward": "dr",
             "reals": [real(REAL if i % 2 == 0 else REAL2, 80 + i)]} for i in range(4)]
    svcs.append({"vip": VIP2, "port": 0, "proto": "udp", "ports": ["1000-1010"],
                 "forward": "dr", "reals": [real(REAL, 0)]})
    svcs.append({"vip": VIP2, "port": 1005, "proto": "udp", "forward": "dr",
                 "reals": [real(REAL2, 1005)]})
    cfg = {"ports": [{"address": f"{PORT_ADDR}/24"}], "neighbours": {"static": STATICS},
           "services": svcs}
    udp = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=CLIENT, dst=VIP2) /
           UDP(sport=5000 + p, dport=p) for p in (1000, 1005, 1010, 1011)]
    pkts = [client_tcp(41000 + i, dport=80 + i) for i in range(5)] + udp
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    by_port = {(TCP in p and p[TCP].dport) or p[UDP].dport: p[Ether].dst for p in out}
    assert by_port == {80: REAL_MAC, 81: REAL2_MAC, 82: REAL_MAC, 83: REAL2_MAC,
                       1000: REAL_MAC, 1005: REAL2_MAC, 1010: REAL_MAC}, by_port
    # port 84 of the VIP and 1011, past the group's range, are nobody's
    assert stats["dataplane"]["drop_reasons"]["not_vip"] == 2


def test_a_local_address_that_is_the_port_address(pcap_daemon, tmp_path):
    # The fnat local address is also the port's own address: the local address wins, so a
    # reply to it is fnat's (never the kernel's), and one without a connection is dropped.
    cfg = {"ports": [{"address": f"{PORT_ADDR}/24"}], "neighbours": {"static": STATICS},
           "dataplane": {"fnat_port_min": 5000, "fnat_port_max": 5001},
           "services": [{"vip": VIP, "port": 80, "proto": "tcp", "forward": "fnat",
                         "local_addresses": [PORT_ADDR], "reals": [real(REAL, 8080)]}]}
    pkts = [client_tcp(42000),
            from_host(REAL, 8080, 5000, REAL_MAC, dst=PORT_ADDR),  # its reply
            from_host(REAL, 8080, 5001, REAL_MAC, dst=PORT_ADDR)]  # a local port unused
    out, stats, conns = run_pcap(pcap_daemon, tmp_path, pkts, cfg)
    fwd = [p for p in out if p[Ether].dst == REAL_MAC]
    assert len(fwd) == 1 and (fwd[0][IP].src, fwd[0][TCP].sport) == (PORT_ADDR, 5000), \
        [p.summary() for p in out]
    back = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(back) == 1, [p.summary() for p in out]
    assert (back[0][IP].src, back[0][IP].dst, back[0][TCP].dport) == (VIP, CLIENT, 42000)
    reasons = stats["dataplane"]["drop_reasons"]
    assert reasons["no_reply_flow"] == 1 and reasons.get("not_vip", 0) == 0, reasons
    assert stats["dataplane"]["exception_rx"] == 0


def test_a_vip_on_one_port_and_its_nat_real_on_another(tmp_path):
    far_real, far_mac = "10.8.0.11", "02:00:00:00:08:11"
    cfg = {"ports": [{"address": f"{PORT_ADDR}/24"}, {"address": "10.8.0.2/24"}],
           "neighbours": {"static": [{"ip": far_real, "mac": far_mac}]},
           "services": [{"vip": VIP, "port": 80, "proto": "tcp", "forward": "nat",
                         "reals": [real(far_real, 8080)]}]}
    syn = tmp_path / "p0.pcap"
    wrpcap(str(syn), [client_tcp(43000)])
    # The worker reads port 0, then port 1, in each turn: the reply comes after the SYN.
    reply = tmp_path / "p1.pcap"
    wrpcap(str(reply), [from_host(far_real, 8080, 43000, far_mac),
                        # the real's address as a destination: not a VIP, nobody's
                        from_host(CLIENT, 43000, 8080, CLIENT_MAC, dst=far_real)])
    outs = [tmp_path / "out0.pcap", tmp_path / "out1.pcap"]
    d = PcapDaemon([], cfg, vdevs=[f"net_pcap{i},rx_pcap={rx},tx_pcap={outs[i]}"
                                   for i, rx in enumerate((syn, reply))])
    try:
        d.wait_rx(3)
        stats = d.stats()
    finally:
        assert d.stop() == 0, d.read_log()
        shutil.rmtree(d.dir, ignore_errors=True)
    fwd = rdpcap(str(outs[1]))
    assert len(fwd) == 1 and (fwd[0][IP].dst, fwd[0][TCP].dport) == (far_real, 8080)
    assert fwd[0][Ether].dst == far_mac
    back = rdpcap(str(outs[0]))
    assert len(back) == 1 and back[0][Ether].dst == CLIENT_MAC, [p.summary() for p in back]
    assert (back[0][IP].src, back[0][TCP].sport, back[0][TCP].dport) == (VIP, 80, 43000)
    assert stats["dataplane"]["drop_reasons"]["not_vip"] == 1, stats["dataplane"]["drop_reasons"]


def test_an_ipv4_tunnel_through_a_port_whose_address_is_ipv6_has_no_outer_source(pcap_daemon,
                                                                               tmp_path):
    # The port's one address is IPv6: an IPv4 tunnel has no outer source, so the packet is
    # dropped (counted), never sent from the IPv6 address's first four bytes (32.1.13.184).
    cfg = {"ports": [{"address": "2001:db8:9::2/64"}], "neighbours": {"static": STATICS},
           "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                         "forward": "tun", "reals": [real(REAL, 80)]}]}
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, [client_tcp(44100)], cfg)
    assert [p.summary() for p in out] == []
    assert stats["dataplane"]["drop_reasons"]["no_neighbour"] == 1
