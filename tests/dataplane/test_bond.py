"""Bonded ports (ports[].bond): the daemon comes up with one port made by DPDK's bonding PMD over
two net_tap members in a namespace of the test's own, forwards through the active member, fails
over when that member's link goes down, and shows the bond and its members in stats.ports.
Frames go in and come out through the taps' kernel side (scapy in the namespace): no reals."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

from lbdaemon import BUILD, DAEMON, PcapDaemon, wait_until

VIP = "10.9.0.100"
REALS = {"10.9.0.11": "02:00:00:00:00:11", "10.9.0.12": "02:00:00:00:00:12"}
CLIENT_MAC = "02:00:00:00:00:0c"

# Run in the namespace: sends SYNs (or ACKs) to the VIP on a tap, returns what the daemon
# forwarded back out of that tap (frames to a real's MAC) as JSON [[sport, dst, src, flags]].
EXCHANGE = r"""
import json, sys
from scapy.all import AsyncSniffer, Ether, IP, TCP, sendp, conf
conf.verb = 0
iface, dst_mac, flags, reals = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[5].split(","))
sports = [int(s) for s in sys.argv[4].split(",")]
sn = AsyncSniffer(iface=iface, lfilter=lambda p: Ether in p and p[Ether].dst in reals and TCP in p)
sn.start()
import time
time.sleep(0.3)  # the sniffer's socket is open before the first frame leaves
sendp([Ether(src="02:00:00:00:00:0c", dst=dst_mac) / IP(src="10.9.0.10", dst="10.9.0.100") /
       TCP(sport=s, dport=80, flags=flags) for s in sports], iface=iface)
deadline = time.monotonic() + 5
while time.monotonic() < deadline and len(sn.results or []) < len(sports):
    time.sleep(0.05)
got = sn.stop()
print(json.dumps([[p[TCP].sport, p[Ether].dst, p[Ether].src, str(p[TCP].flags)] for p in got]))
"""

# Run in the namespace: prints "ready", then the first gratuitous ARP for the VIP on a tap as
# JSON [address, MAC], or null after 10 s.
GARP = r"""
import json, sys, time
from scapy.all import ARP, AsyncSniffer
sn = AsyncSniffer(iface=sys.argv[1], count=1, lfilter=lambda p: ARP in p and p[ARP].psrc ==
                  "10.9.0.100" and p[ARP].pdst == "10.9.0.100")
sn.start()
time.sleep(0.3)
print("ready", flush=True)
sn.join(timeout=10)
got = sn.stop() if sn.running else sn.results
print(json.dumps([got[0][ARP].psrc, got[0][ARP].hwsrc] if got else None))
"""


def ns_run(ns, *args, check=True):
    return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True,
                          check=check, timeout=60)


@pytest.fixture
def bond_ns():
    """A namespace of the test's own, and a factory for daemons in it; all removed after."""
    ns = f"dlbbond{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    ns_run(ns, "ip", "link", "set", "lo", "up")
    ns_run(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
    started = []

    def start(bond, eal_vdevs):
        d = PcapDaemon([], {
            "ports": [{"address": "10.9.0.2/24", "kernel_interface": False, "bond": bond}],
            "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in REALS.items()]},
            "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                          "reals": [{"ip": ip} for ip in REALS]}],
        }, netns=ns, vdevs=eal_vdevs)
        started.append(d)
        return d

    try:
        yield ns, start
    finally:
        bad = [d.read_log() for d in started if d.stop() != 0]
        for d in started:
            shutil.rmtree(d.dir, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        assert not bad, bad


def exchange(ns, iface, mac, sports, flags="S"):
    r = ns_run(ns, "/usr/bin/python3", "-c", EXCHANGE, iface, mac, flags,
               ",".join(map(str, sports)), ",".join(REALS.values()))
    return json.loads(r.stdout.strip().splitlines()[-1])


def bond_of(d):
    ports = d.rpc.call("stats.ports")["ports"]
    assert len(ports) == 1, ports  # the members are no ports of their own
    return ports[0]


def test_active_backup_bond_forwards_and_fails_over(bond_ns):
    ns, start = bond_ns
    # bt0 is probed by the EAL and named in members; bt1 is probed by the daemon from devargs
    d = start({"mode": "active-backup", "primary": "net_tap_bt0",
               "members": ["net_tap_bt0", "net_tap_bt1,iface=bt1"]},
              ["net_tap_bt0,iface=bt0"])
    port = wait_until(lambda: (p := bond_of(d)) and p["bond"]["active"] == ["net_tap_bt0"] and p,
                      what="bt0 active")
    assert port["name"] == "net_bonding_dlb0" and port["link"]["up"] is True
    assert [(m["name"], m["link_up"], m["active"], m["primary"])
            for m in port["bond"]["members"]] == \
        [("net_tap_bt0", True, True, True), ("net_tap_bt1", True, False, False)]
    mac = port["mac"].lower()
    for iface in ("bt0", "bt1"):
        ns_run(ns, "ethtool", "-K", iface, "tx", "off", check=False)

    got = exchange(ns, "bt0", mac, range(44000, 44004))
    assert sorted(g[0] for g in got) == list(range(44000, 44004)), got
    assert {g[2] for g in got} == {mac}
    first_real = {g[0]: g[1] for g in got}

    # bt0's link goes down: the bond carries on over bt1, with the same MAC and flows, and
    # announces the VIP there (a gratuitous ARP, as Linux bonding does) for the switches
    garp = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", GARP, "bt1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert garp.stdout.readline().strip() == "ready"
        ns_run(ns, "ip", "link", "set", "bt0", "down")
        assert json.loads(garp.communicate(timeout=30)[0]) == [VIP, mac]
    finally:
        if garp.poll() is None:
            garp.kill()
            garp.wait()
    port = wait_until(lambda: (p := bond_of(d)) and p["bond"]["active"] == ["net_tap_bt1"] and p,
                      what="failover to bt1")
    assert [(m["name"], m["link_up"], m["active"]) for m in port["bond"]["members"]] == \
        [("net_tap_bt0", False, False), ("net_tap_bt1", True, True)]
    assert port["link"]["up"] is True and port["mac"].lower() == mac
    cli = subprocess.run([os.path.join(BUILD, "control", "cli", "dpdk-lb-cli"), "-s", d.sock,
                          "ports"], capture_output=True, text=True, timeout=20)
    assert "  bond active-backup: net_tap_bt0 (primary) link down; net_tap_bt1 link up, " \
        "active\n" in cli.stdout, cli.stdout + cli.stderr
    got = exchange(ns, "bt1", mac, [44000, 44001], flags="A")  # ongoing flows keep their real
    assert {g[0]: g[1] for g in got} == {s: first_real[s] for s in (44000, 44001)}, got
    got = exchange(ns, "bt1", mac, range(44100, 44104))  # new flows
    assert sorted(g[0] for g in got) == list(range(44100, 44104)), got
    assert {g[2] for g in got} == {mac}

    # bt0 comes back: the configured primary takes over again
    ns_run(ns, "ip", "link", "set", "bt0", "up")
    wait_until(lambda: bond_of(d)["bond"]["active"] == ["net_tap_bt0"], what="bt0 back")
    got = exchange(ns, "bt0", mac, [44200])
    assert [g[0] for g in got] == [44200], got


def test_8023ad_bond_sends_lacpdus_on_every_member_while_idle(bond_ns):
    # No LACP partner here: what shows the mode runs is the PMD's LACPDUs leaving both members
    # while no traffic flows (worker 0 calls tx_burst for them when idle), and their LACP state.
    ns, start = bond_ns
    d = start({"mode": "802.3ad", "xmit_policy": "layer3+4",
               "members": ["net_tap_bl0,iface=bl0", "net_tap_bl1,iface=bl1"]}, [])
    sniff = ("from scapy.all import sniff; import sys; "
             "print(len(sniff(iface=sys.argv[1], count=1, timeout=10, "
             "lfilter=lambda p: p.type == 0x8809)))")
    for iface in ("bl0", "bl1"):
        assert ns_run(ns, "/usr/bin/python3", "-c", sniff, iface).stdout.strip() == "1", iface
    bond = bond_of(d)["bond"]
    assert bond["mode"] == "802.3ad"
    assert [m["name"] for m in bond["members"]] == ["net_tap_bl0", "net_tap_bl1"]
    for m in bond["members"]:
        assert "lacp_active" in m["lacp"]["actor_state"], m
        assert m["lacp"]["selected"] in ("unselected", "standby", "selected")
    assert d.rpc.call("config.get")["ports"][0]["bond"]["xmit_policy"] == "layer3+4"


def refused(tmp_path, vdevs, members):
    cfg = tmp_path / "c.json"
    prefix = f"dlbbond{uuid.uuid4().hex[:6]}"
    eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix]
    for v in vdevs:
        eal += ["--vdev", v]
    cfg.write_text(json.dumps({
        "eal": eal, "metrics": {"listen": "off"}, "rpc": {"socket": str(tmp_path / "s.sock")},
        "ports": [{"address": "10.9.0.2/24", "kernel_interface": False,
                   "bond": {"members": members}}]}))
    try:
        p = subprocess.run([DAEMON, "-c", str(cfg)], capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    assert p.returncode != 0
    return p.stdout + p.stderr


def test_unknown_member_stops_the_start_naming_it(tmp_path):
    out = refused(tmp_path, ["net_null0,no-rx=1"], ["net_null0", "bogus_dev0"])
    assert 'ports[0].bond.members[1]: no DPDK port "bogus_dev0"' in out, out


def test_member_that_cannot_take_the_bond_mac_is_refused(tmp_path):
    pcap = tmp_path / "e.pcap"
    pcap.write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    out = refused(tmp_path, ["net_null0,no-rx=1"],
                  ["net_null0", f"net_pcap_x,rx_pcap={pcap},tx_pcap=/dev/null"])
    assert "ports[0].bond.members[1]" in out and "cannot change its MAC address" in out, out


def test_8023ad_bonds_aggregate_with_a_dpdk_partner_and_carry_traffic(bond_ns, tmp_path):
    """802.3ad needs an LACP partner and this kernel has no bonding driver: the partner is a
    second daemon with an 802.3ad bond of its own (DPDK's bonding PMD on both sides), in a
    second namespace, each member cabled to one of the partner's by a veth (tc mirred joins
    tap and veth both ways). Both sides must aggregate both members, each naming the other as
    its partner, and the kernels behind them must reach each other over the aggregate."""
    ns_a, _ = bond_ns
    ns_b = f"dlbbond{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns_b], check=True)
    daemons = []
    try:
        ns_run(ns_b, "ip", "link", "set", "lo", "up")
        bond = {"mode": "802.3ad", "xmit_policy": "layer3+4"}
        for ns, addr, side in ((ns_a, "10.9.0.2/24", "a"), (ns_b, "10.9.0.3/24", "b")):
            members = [f"net_tap_l{side}{i},iface=l{side}{i}" for i in range(2)]
            daemons.append(PcapDaemon([], {"ports": [{"address": addr, "bond": dict(
                bond, members=members)}]}, netns=ns, vdevs=[]))
        a, b = daemons
        for i in range(2):
            subprocess.run(["ip", "-n", ns_a, "link", "add", f"ca{i}", "type", "veth", "peer",
                            "name", f"cb{i}", "netns", ns_b], check=True)
            for ns, tap, cable in ((ns_a, f"la{i}", f"ca{i}"), (ns_b, f"lb{i}", f"cb{i}")):
                ns_run(ns, "ip", "link", "set", cable, "up")
                for x, y in ((tap, cable), (cable, tap)):
                    ns_run(ns, "tc", "qdisc", "add", "dev", x, "ingress")
                    ns_run(ns, "tc", "filter", "add", "dev", x, "parent", "ffff:", "protocol",
                           "all", "u32", "match", "u32", "0", "0", "action", "mirred", "egress",
                           "redirect", "dev", y)

        def aggregated(d, partner):
            bond = bond_of(d)["bond"]
            return all(m["lacp"]["selected"] == "selected" and
                       "distributing" in m["lacp"]["actor_state"] and
                       "distributing" in m["lacp"]["partner_state"] and
                       m["lacp"]["partner_system"] == partner for m in bond["members"]) and \
                len(bond["active"]) == 2 and bond
        mac_a, mac_b = (bond_of(d)["mac"].lower() for d in (a, b))
        wait_until(lambda: aggregated(a, mac_b) and aggregated(b, mac_a), timeout=30,
                   interval=0.2, what="both members aggregated on both sides")
        # the kernels behind the two daemons (their kernel interfaces) talk over the aggregate:
        # HTTP from A's kernel to a server on B's port address
        web = tmp_path / "www"
        web.mkdir()
        (web / "index.html").write_text("over the aggregate\n")
        server = subprocess.Popen(["ip", "netns", "exec", ns_b, "/usr/bin/python3", "-m",
                                   "http.server", "--bind", "10.9.0.3", "--directory", str(web),
                                   "8080"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def fetch():
            r = ns_run(ns_a, "curl", "-s", "--max-time", "2", "http://10.9.0.3:8080/", check=False)
            return r.returncode == 0 and r.stdout
        try:
            assert wait_until(fetch, timeout=20, interval=0.2, what="HTTP across the aggregate") \
                == "over the aggregate\n"
            assert all(fetch() == "over the aggregate\n" for _ in range(5))
        finally:
            server.kill()
            server.wait()
    finally:
        bad = [d.read_log() for d in daemons if d.stop() != 0]
        for d in daemons:
            shutil.rmtree(d.dir, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns_b], check=False)
        assert not bad, bad
