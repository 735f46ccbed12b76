"""802.1Q VLANs (ports[].vlans) on a pcap vdev port: tagged frames in, the right tag out for
every forwarding method, ARP and ICMP answered per VLAN, neighbours resolved per VLAN, unknown
VLAN ids counted as drops."""
import json

import pytest
from scapy.all import ARP, ICMP, IP, TCP, Dot1Q, Ether, Raw, wrpcap

from lbdaemon import RpcError, run_pcap, wait_until

PCAP_PORT_MAC = "02:70:63:61:70:00"
CLIENT_MAC = "02:00:00:00:00:0c"
CLIENT = "10.30.0.50"  # on VLAN 30
VIP = "10.9.0.100"
R10, R10_MAC = "10.10.0.11", "02:00:00:00:10:11"  # on VLAN 10
R20, R20_MAC = "10.20.0.12", "02:00:00:00:20:12"  # on VLAN 20
LOCAL = "10.10.0.200"  # fnat local address, on VLAN 10's subnet
VLANS = {10: "10.10.0.2", 20: "10.20.0.2", 30: "10.30.0.2"}


def config(forward="dr", reals=(R10, R20), statics=True):
    port = 8080 if forward in ("nat", "fnat") else 80
    svc = {"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr", "forward": forward,
           "reals": [{"ip": ip, "port": port} for ip in reals]}
    if forward == "fnat":
        svc["local_addresses"] = [LOCAL]
    cfg = {"ports": [{"address": "10.9.0.2/24",
                      "vlans": [{"id": v, "address": f"{a}/24"} for v, a in VLANS.items()]}],
           "services": [svc]}
    if statics:
        cfg["neighbours"] = {"static": [{"ip": R10, "mac": R10_MAC}, {"ip": R20, "mac": R20_MAC}]}
    return cfg


def tagged(vlan, l3, src_mac=CLIENT_MAC, dst_mac=PCAP_PORT_MAC):
    return Ether(src=src_mac, dst=dst_mac) / Dot1Q(vlan=vlan) / l3


def syn(sport, vlan=30):
    return tagged(vlan, IP(src=CLIENT, dst=VIP) / TCP(sport=sport, dport=80, flags="S", seq=100))


def vid(p):
    return p[Dot1Q].vlan if Dot1Q in p else None


def test_dr_tags_each_packet_with_its_reals_vlan(pcap_daemon, tmp_path):
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, [syn(40000), syn(40001)], config())
    by_mac = {p[Ether].dst: p for p in out}
    assert set(by_mac) == {R10_MAC, R20_MAC}, [p.summary() for p in out]
    assert vid(by_mac[R10_MAC]) == 10 and vid(by_mac[R20_MAC]) == 20
    for p in out:
        assert p[Ether].src == PCAP_PORT_MAC
        assert (p[IP].src, p[IP].dst, p[TCP].dport) == (CLIENT, VIP, 80)  # dr: IP untouched
        assert p[Dot1Q].type == 0x0800
    assert stats["dataplane"]["drop_reasons"]["unknown_vlan"] == 0


def test_nat_tags_the_real_side_and_the_reply_with_the_clients_vlan(pcap_daemon, tmp_path):
    reply = tagged(10, IP(src=R10, dst=CLIENT) / TCP(sport=8080, dport=40000, flags="SA", ack=101),
                   src_mac=R10_MAC)
    out, _, conns = run_pcap(pcap_daemon, tmp_path, [syn(40000), reply], config("nat", (R10,)))
    to_real = [p for p in out if p[Ether].dst == R10_MAC]
    to_client = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(to_real) == 1 and len(to_client) == 1, [p.summary() for p in out]
    assert vid(to_real[0]) == 10 and to_real[0][IP].dst == R10 and to_real[0][TCP].dport == 8080
    assert vid(to_client[0]) == 30
    assert (to_client[0][IP].src, to_client[0][TCP].sport) == (VIP, 80)
    assert conns[0]["state"] == "SYN_RECV"


def test_fnat_tags_both_legs(pcap_daemon, tmp_path):
    first = run_pcap(pcap_daemon, tmp_path, [syn(40000)], config("fnat", (R10,)))[0]
    assert len(first) == 1 and vid(first[0]) == 10
    fwd = first[0]
    assert (fwd[IP].src, fwd[IP].dst) == (LOCAL, R10)
    reply = tagged(10, IP(src=R10, dst=LOCAL) /
                   TCP(sport=8080, dport=fwd[TCP].sport, flags="SA", ack=101), src_mac=R10_MAC)
    (tmp_path / "second").mkdir()
    out = run_pcap(pcap_daemon, tmp_path / "second", [syn(40000), reply],
                   config("fnat", (R10,)))[0]
    back = [p for p in out if p[Ether].dst == CLIENT_MAC]
    assert len(back) == 1 and vid(back[0]) == 30, [p.summary() for p in out]
    assert (back[0][IP].src, back[0][IP].dst, back[0][TCP].dport) == (VIP, CLIENT, 40000)


def test_tun_tags_and_uses_the_vlans_address_as_outer_source(pcap_daemon, tmp_path):
    out, _, _ = run_pcap(pcap_daemon, tmp_path, [syn(40000)], config("tun", (R20,)))
    assert len(out) == 1 and vid(out[0]) == 20
    outer = out[0][IP]
    assert (outer.src, outer.dst, outer.proto) == (VLANS[20], R20, 4)
    assert (outer.payload.src, outer.payload.dst) == (CLIENT, VIP)


def test_arp_and_ping_are_answered_on_their_own_vlan(pcap_daemon, tmp_path):
    who_has = tagged(20, ARP(op=1, hwsrc=R20_MAC, psrc=R20, pdst=VLANS[20]),
                     src_mac=R20_MAC, dst_mac="ff:ff:ff:ff:ff:ff")
    who_has_vip = tagged(30, ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP),
                         dst_mac="ff:ff:ff:ff:ff:ff")
    ping = tagged(30, IP(src=CLIENT, dst=VLANS[30]) / ICMP(id=7, seq=1) / Raw(b"ping"))
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, [who_has, who_has_vip, ping], config())
    replies = [p for p in out if ARP in p and p[ARP].op == 2]
    assert {(vid(p), p[ARP].psrc, p[ARP].pdst) for p in replies} == {
        (20, VLANS[20], R20), (30, VIP, CLIENT)}
    echo = [p for p in out if ICMP in p]
    assert len(echo) == 1 and vid(echo[0]) == 30 and echo[0][ICMP].type == 0
    assert (echo[0][IP].src, echo[0][IP].dst) == (VLANS[30], CLIENT)
    assert stats["dataplane"]["arp_replies"] == 2


def test_unknown_vlan_ids_are_counted_drops_and_untagged_frames_stay_the_ports(pcap_daemon,
                                                                                 tmp_path):
    stray = [syn(41000 + i, vlan=99) for i in range(3)]
    untagged = Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.50", dst=VIP) / \
        TCP(sport=42000, dport=80, flags="S")
    priority = tagged(0, IP(src="10.9.0.51", dst=VIP) / TCP(sport=42001, dport=80, flags="S"))
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, stray + [untagged, priority], config())
    assert stats["dataplane"]["drop_reasons"]["unknown_vlan"] == 3
    assert sorted(p[IP].src for p in out) == ["10.9.0.50", "10.9.0.51"]
    assert all(vid(p) in (10, 20) for p in out)


def test_reals_are_resolved_per_vlan(pcap_daemon, tmp_path):
    path = tmp_path / "in.pcap"
    # R20 answers on its VLAN; a host on VLAN 20 claiming VLAN 10's R10 is not believed
    claims = [tagged(20, ARP(op=2, hwsrc=mac, psrc=ip, hwdst=PCAP_PORT_MAC, pdst=VLANS[20]),
                     src_mac=mac) for ip, mac in ((R20, R20_MAC), (R10, "02:00:00:00:66:66"))]
    wrpcap(str(path), [syn(40000)] + claims)
    d = pcap_daemon([path], config(statics=False))
    d.wait_rx(3)

    def neighbours():
        n = {e["ip"]: e for e in d.rpc.call("system.info")["neighbours"]}
        return n if {R10, R20} <= set(n) and n[R20]["state"] == "resolved" else None
    n = wait_until(neighbours, what="neighbour entries, R20 resolved")
    assert (n[R10]["port"], n[R10]["vlan"], n[R20]["vlan"]) == (0, 10, 20)
    assert n[R20]["mac"] == R20_MAC
    assert n[R10]["state"] == "unresolved" and n[R10]["mac"] == "", n[R10]
    info = d.rpc.call("system.info")["ports"][0]
    assert [v["id"] for v in info["vlans"]] == [10, 20, 30]
    assert info["vlan_strip"] is False  # net_pcap strips nothing: the workers untag in band
    assert d.stop() == 0
    asks = [p for p in d.sent() if ARP in p and p[ARP].op == 1]
    seen = {(vid(p), p[ARP].psrc, p[ARP].pdst) for p in asks}
    # R10 is asked on VLAN 10 from that VLAN's address (R20 may have answered before its turn)
    assert (10, VLANS[10], R10) in seen, seen
    assert all(seen_pdst.rsplit(".", 1)[0] == VLANS[v].rsplit(".", 1)[0] and psrc == VLANS[v]
               for v, psrc, seen_pdst in seen), seen


def test_too_big_answers_and_neighbour_discovery_are_tagged_too(pcap_daemon, tmp_path):
    from scapy.all import ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6
    cfg = config("tun", (R20,))
    cfg["ports"][0]["vlans"][1]["mtu"] = 1400            # VLAN 20: the tunnel's way out
    cfg["ports"][0]["vlans"][2]["address6"] = "2001:db8:30::2/64"
    big = tagged(30, IP(src=CLIENT, dst=VIP, flags="DF") /
                 TCP(sport=40000, dport=80, flags="S") / Raw(b"x" * 1400))
    ns = tagged(30, IPv6(src="2001:db8:30::50", dst="ff02::1:ff00:2", hlim=255) /
                ICMPv6ND_NS(tgt="2001:db8:30::2") / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC),
                dst_mac="33:33:ff:00:00:02")
    out, stats, _ = run_pcap(pcap_daemon, tmp_path, [big, ns], cfg)
    need = [p for p in out if ICMP in p]
    assert len(need) == 1 and vid(need[0]) == 30, [p.summary() for p in out]
    assert (need[0][ICMP].type, need[0][ICMP].code, need[0][ICMP].nexthopmtu) == (3, 4, 1380)
    assert (need[0][IP].src, need[0][IP].dst) == (VIP, CLIENT)  # from the address it went to
    na = [p for p in out if ICMPv6ND_NA in p]
    assert len(na) == 1 and vid(na[0]) == 30 and na[0][ICMPv6ND_NA].tgt == "2001:db8:30::2"
    assert stats["dataplane"]["drop_reasons"]["too_big"] == 1


@pytest.mark.parametrize("vlans,needle", [
    ([{"id": 10, "address": "10.10.0.2/24"}, {"id": 10, "address": "10.11.0.2/24"}],
     "ports[0].vlans[1].id: VLAN 10 is ports[0].vlans[0]'s already (duplicate id)"),
    ([{"id": 10, "address": "10.10.0.2/24"}, {"id": 11, "address": "10.10.0.0/16"}],
     "ports[0].vlans[1].address: its subnet overlaps ports[0].vlans[0]'s"),
    ([{"id": 10, "address": "10.10.0.2/24", "mtu": 1600}],
     "ports[0].vlans[0].mtu: must be 576 to the port's mtu (1500)"),
    ([{"id": 4095, "address": "10.10.0.2/24"}], "ports[0].vlans[0].id"),
], ids=["duplicate-id", "overlap", "mtu", "id-range"])
def test_bad_vlans_refuse_the_start_by_field_and_rule(tmp_path, vlans, needle):
    from test_startup import assert_refused, start
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"ports": [{"address": "10.9.0.2/24", "vlans": vlans}]}))
    assert_refused(start(path), needle)


def test_config_get_shows_the_vlans_and_a_reload_refuses_bad_or_changed_ones(pcap_daemon,
                                                                             tmp_path):
    path = tmp_path / "in.pcap"
    wrpcap(str(path), [syn(40000)])
    d = pcap_daemon([path], config())
    d.wait_rx(1)
    before = d.rpc.call("config.get")
    assert [v["id"] for v in before["ports"][0]["vlans"]] == [10, 20, 30]
    with open(d.config_path) as f:
        cfg = json.load(f)
    cfg["ports"][0]["vlans"].append({"id": 20, "address": "10.40.0.2/24"})
    with open(d.config_path, "w") as f:
        json.dump(cfg, f)
    with pytest.raises(RpcError) as e:
        d.rpc.call("config.reload")
    assert e.value.code == -32602 and "ports[0].vlans[3].id: VLAN 20" in e.value.message
    cfg["ports"][0]["vlans"][3]["id"] = 40
    with open(d.config_path, "w") as f:
        json.dump(cfg, f)
    with pytest.raises(RpcError) as e:
        d.rpc.call("config.reload")
    assert e.value.code == -32602 and "ports" in e.value.message and "restart" in e.value.message
    assert d.rpc.call("config.get") == before
    assert d.stop() == 0
