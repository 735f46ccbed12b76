"""Exception path and frame accounting on a pcap vdev port, the daemon in a network namespace of
its own (its kernel interface and addresses never touch the host's): every received frame is
transmitted or counted; traffic to the port's own addresses reaches the kernel interface within
exception.rx_pps; neighbour frames are counted (neighbour_frames) with or without one."""
import json
import shutil
import subprocess
import tempfile
import uuid

import pytest
from scapy.all import (ARP, GRE, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoReply, ICMPv6ND_NA,
                       ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, wrpcap)

from lbdaemon import PcapDaemon, wait_until

CLIENT_MAC = "02:00:00:00:00:0c"
PORT_MAC = "02:70:63:61:70:00"   # net_pcap's
PORT_ADDR = "10.9.0.2"
PORT_ADDR6 = "2001:db8:9::2"
CLIENT = "10.9.0.10"
CLIENT6 = "2001:db8:9::10"
VIP = "10.9.0.100"
REAL = "10.9.0.11"
REAL_MAC = "02:00:00:00:00:11"


def config(kernel_interface=None, exception=None):
    port = {"address": f"{PORT_ADDR}/24", "address6": f"{PORT_ADDR6}/64"}
    if kernel_interface is not None:
        port["kernel_interface"] = kernel_interface
    cfg = {
        "ports": [port],
        "neighbours": {"static": [{"ip": REAL, "mac": REAL_MAC}]},
        "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                      "reals": [{"ip": REAL, "port": 80}]}],
    }
    if exception:
        cfg["exception"] = exception
    return cfg


def eth(src=CLIENT_MAC, dst=PORT_MAC):
    return Ether(src=src, dst=dst)


def v4(l4, dst=PORT_ADDR, src=CLIENT):
    return eth() / IP(src=src, dst=dst) / l4


def v6(l4, dst=PORT_ADDR6, src=CLIENT6):
    return eth() / IPv6(src=src, dst=dst) / l4


# Every kind of frame the classifier tells apart, with what it becomes.
FRAMES = [
    ("arp_replies", eth(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=PORT_ADDR)),
    ("arp_replies", eth(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP)),
    ("neighbour", eth() / ARP(op=2, hwsrc=CLIENT_MAC, psrc=CLIENT, hwdst=PORT_MAC, pdst=PORT_ADDR)),
    ("neighbour", eth(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst="10.9.0.77")),
    ("neighbour", eth(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=CLIENT)),
    ("neighbour", v6(ICMPv6ND_NA(tgt=CLIENT6, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=CLIENT_MAC))),
    ("neighbour", v6(ICMPv6ND_NA(tgt=CLIENT6, O=1) / ICMPv6NDOptDstLLAddr(lladdr=CLIENT_MAC),
                     dst="ff02::1")),
    ("nd_advertisements", v6(ICMPv6ND_NS(tgt=PORT_ADDR6) / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC),
                             dst="ff02::1:ff00:2")),
    ("icmp_echo_replies", v4(ICMP(type=8, id=1, seq=1))),
    ("kernel", v4(TCP(sport=40000, dport=22, flags="S"))),
    ("kernel", v4(UDP(sport=40000, dport=5353) / b"q")),
    ("kernel", v4(ICMP(type=0, id=2, seq=1))),
    ("kernel", v4(GRE() / IP(src="1.1.1.1", dst="2.2.2.2"))),
    ("kernel", v6(TCP(sport=40001, dport=22, flags="S"))),
    ("kernel", v6(ICMPv6EchoReply(id=3, seq=1))),
    ("forwarded", v4(TCP(sport=40002, dport=80, flags="S"), dst=VIP)),
    ("not_vip", v4(TCP(sport=40003, dport=22, flags="S"), dst="10.9.0.50")),
]


@pytest.fixture
def netns_daemon(tmp_path, monkeypatch):
    """Factory: a pcap daemon inside a fresh network namespace; both go away after the test
    (the daemon's directory under tmp_path, so even one that failed to start leaves none)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ns = f"dlbx{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    started = []

    def start(packets, cfg):
        path = tmp_path / f"in{len(started)}.pcap"
        wrpcap(str(path), packets)
        d = PcapDaemon([str(path)], cfg, netns=ns)
        started.append(d)
        return d

    try:
        yield ns, start
    finally:
        bad = []
        for d in started:
            rc = d.stop()
            if rc != 0:
                bad.append(f"daemon exited {rc}:\n{d.read_log()[-4000:]}")
            shutil.rmtree(d.dir, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        assert not bad, "\n".join(bad)


def accounted(dp, forwarded):
    """Frames whose fate the counters name: answered, forwarded, dropped, to the kernel, to the
    neighbour table."""
    return (dp["arp_replies"] + dp["nd_advertisements"] + dp["icmp_echo_replies"] + forwarded +
            dp["dropped"] + dp["exception_rx"] + dp["exception_dropped"] + dp["neighbour_frames"])


def settled(d, n):
    """stats.get once all n frames are received and accounted for (or the last one read)."""
    def check():
        s = d.stats()
        fwd = s["services"][0]["inpkts"]
        return s if s["dataplane"]["rx_packets"] >= n and accounted(s["dataplane"], fwd) == n \
            else None
    try:
        return wait_until(check, timeout=15, what=f"{n} frames accounted for")
    except AssertionError:
        s = d.stats()
        raise AssertionError(f"not every frame is counted: {s['dataplane']}") from None


def expected(kind):
    return sum(1 for k, _ in FRAMES if k == kind)


def test_every_frame_is_counted_and_ours_reach_the_kernel(netns_daemon):
    ns, start = netns_daemon
    d = start([f for _, f in FRAMES], config())
    s = settled(d, len(FRAMES))
    dp = s["dataplane"]
    assert dp["arp_replies"] == expected("arp_replies")
    assert dp["nd_advertisements"] == expected("nd_advertisements")
    assert dp["icmp_echo_replies"] == expected("icmp_echo_replies")
    assert dp["neighbour_frames"] == expected("neighbour")
    assert dp["exception_rx"] == expected("kernel")
    assert dp["exception_dropped"] == 0
    assert s["services"][0]["inpkts"] == expected("forwarded")
    assert dp["drop_reasons"]["not_vip"] == expected("not_vip")
    assert dp["dropped"] == expected("not_vip")
    # The kernel got them: its interface counts what we wrote, and it answers through the
    # port (it asks who the client is before it can send its RST / port unreachable).
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/sys/class/net/dlb0/statistics/rx_packets"],
                         capture_output=True, text=True, check=True).stdout
    # the kernel frames, plus the ARP reply and the unicast NA addressed to the port
    assert int(out) >= expected("kernel") + 2, out
    wait_until(lambda: d.stats()["dataplane"]["exception_tx"] > 0, timeout=10,
               what="the kernel's frames to leave through the port")
    assert d.stop() == 0, d.read_log()
    sent = d.sent()
    asks = [p for p in sent if ARP in p and p[ARP].op == 1 and p[ARP].pdst == CLIENT]
    assert asks and all(p[ARP].psrc == PORT_ADDR and p[Ether].src == PORT_MAC for p in asks)


def test_kernel_interface_gets_port_mac_addresses_and_mtu(netns_daemon):
    ns, start = netns_daemon
    cfg = config(kernel_interface="dlb-ext.0")
    cfg["ports"][0]["mtu"] = 1400
    d = start([v4(ICMP(type=8))], cfg)
    settled(d, 1)
    show = subprocess.run(["ip", "-n", ns, "-j", "addr", "show", "dlb-ext.0"], capture_output=True,
                          text=True, check=True).stdout
    link = json.loads(show)[0]
    assert link["address"] == PORT_MAC and link["mtu"] == 1400 and "UP" in link["flags"]
    addrs = {(a["local"], a["prefixlen"]) for a in link["addr_info"]}
    assert (PORT_ADDR, 24) in addrs and (PORT_ADDR6, 64) in addrs, addrs


def test_flood_to_the_port_address_is_rate_limited(netns_daemon):
    _, start = netns_daemon
    flood = [v4(TCP(sport=20000 + i, dport=22, flags="S")) for i in range(200)]
    d = start(flood, config(exception={"rx_pps": 10, "burst": 5}))
    dp = settled(d, len(flood))["dataplane"]
    # the burst and at most a few seconds of 10/s (the pcap replays in well under a second)
    assert 5 <= dp["exception_rx"] <= 40, dp
    assert dp["exception_rx"] + dp["exception_dropped"] == len(flood)


def test_without_kernel_interface_frames_are_still_counted(netns_daemon):
    ns, start = netns_daemon
    d = start([f for _, f in FRAMES], config(kernel_interface=False))
    dp = settled(d, len(FRAMES))["dataplane"]
    assert dp["exception_rx"] == 0 and dp["exception_tx"] == 0
    assert dp["neighbour_frames"] == expected("neighbour")
    # what would have gone to the kernel is dropped: ICMP as icmp_other, the rest as not_vip
    assert dp["drop_reasons"]["icmp_other"] == 2
    assert dp["drop_reasons"]["not_vip"] == expected("not_vip") + expected("kernel") - 2
    links = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True).stdout
    assert "dlb0" not in links


def test_a_taken_interface_name_is_refused_clearly(netns_daemon):
    ns, start = netns_daemon
    subprocess.run(["ip", "-n", ns, "link", "add", "dlb0", "type", "bridge"], check=True)
    with pytest.raises(AssertionError) as e:
        start([v4(ICMP(type=8))], config())
    msg = str(e.value)
    assert "ports[0].kernel_interface: cannot create \"dlb0\"" in msg, msg
