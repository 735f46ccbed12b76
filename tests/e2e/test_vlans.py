"""802.1Q VLANs end to end: nginx real servers on VLANs 10 and 20, the client on VLAN 30, all
on one port of the appliance (af_packet with DPDK_LB_WORKERS queue pairs, so the kernel hands the
daemon its tags in the mbuf's vlan_tci), through the user-space 802.1Q switch (vlan_switch.py; this kernel cannot tag):

    b1 (VLAN 10) --+                          +-- router (VLANs 10, 20, 30; dr replies)
    b2 (VLAN 20) --+-- vlan_switch.py -trunk--+-- appliance port: VLANs 10, 20, 30
    client (30)  --+   (access ports untagged)

The VIP is on VLAN 30's subnet: the client reaches it directly. Direct-routing replies go from
the reals to the client through the router; nat replies through the appliance.
"""
import os
import subprocess

import pytest

import testbed as tbmod
from testbed import nsrun, run, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
VLAN_IDS = (10, 20, 30)


class VlanTestbed(tbmod.Testbed):
    def __init__(self, workers=1):
        super().__init__(workers=workers, n_backends=2, big_mb=1, http_ports=(80,))
        a, b = self.net.split(".")[1:3]
        b = int(b) % 250
        self.subnets = {vid: f"10.{a}.{b + k + 1}" for k, vid in enumerate(VLAN_IDS + (99,))}
        self.native = f"10.{a}.{b}"
        self.lb_ip = f"{self.native}.2"
        self.client_ip = f"{self.subnets[30]}.50"
        self.vip = f"{self.subnets[30]}.100"
        self.ns_sw, self.ns_rt = f"{self.prefix}-sw", f"{self.prefix}-rt"
        self.trunk = f"{self.prefix}-tr"
        for b_, vid in zip(self.backends, (10, 20)):
            b_["ip"], b_["vlan"] = f"{self.subnets[vid]}.11", vid
        self.switch = None

    def _access(self, ns, ifname, vid):
        """A veth: ifname in ns (untagged, offloads off), its peer in the switch's namespace."""
        peer = ifname + "p"
        run(["ip", "-n", self.ns_sw, "link", "add", peer, "type", "veth", "peer", "name", ifname,
             "netns", ns])
        for n, i in ((self.ns_sw, peer), (ns, ifname)):
            run(["ip", "-n", n, "link", "set", i, "up"])
            nsrun(n, ["ethtool", "-K", i, "tso", "off", "gso", "off", "gro", "off", "tx", "off",
                      "rx", "off"], check=False)
        return f"{vid}={peer}"

    def _up(self):
        for ns in (self.ns_sw, self.ns_rt, self.ns_cl, self.ns_lb) + tuple(
                b["ns"] for b in self.backends):
            self._add_ns(ns)
        q = ["numtxqueues", str(self.workers), "numrxqueues", str(self.workers)]
        run(["ip", "-n", self.ns_sw, "link", "add", self.trunk] + q + ["type", "veth", "peer",
             "name", self.lb_if, "netns", self.ns_lb] + q)
        for n, i in ((self.ns_sw, self.trunk), (self.ns_lb, self.lb_if)):
            run(["ip", "-n", n, "link", "set", i, "up"])
            nsrun(n, ["ethtool", "-K", i, "tso", "off", "gso", "off", "gro", "off"], check=False)
        self.lb_mac = self.link_mac(self.ns_lb, self.lb_if)
        self._kernel_ignores_port()
        ports = [self._access(self.ns_cl, self.cl_if, 30)]
        run(["ip", "-n", self.ns_cl, "addr", "add", f"{self.client_ip}/24", "dev", self.cl_if])
        for vid in VLAN_IDS:  # the router: .1 on each VLAN
            ifn = f"{self.prefix}-r{vid}"
            ports.append(self._access(self.ns_rt, ifn, vid))
            run(["ip", "-n", self.ns_rt, "addr", "add", f"{self.subnets[vid]}.1/24", "dev", ifn])
        nsrun(self.ns_rt, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for k in ("all", "default"):
            nsrun(self.ns_rt, ["sysctl", "-qw", f"net.ipv4.conf.{k}.rp_filter=0"])
        self.www = os.path.join(self.tmp, "www")
        os.makedirs(self.www)
        for b in self.backends:
            ns, ifn, vid = b["ns"], b["ifname"], b["vlan"]
            ports.append(self._access(ns, ifn, vid))
            run(["ip", "-n", ns, "addr", "add", f"{b['ip']}/24", "dev", ifn])
            run(["ip", "-n", ns, "addr", "add", f"{self.vip}/32", "dev", "lo"])
            run(["ip", "-n", ns, "route", "add", "default", "via", f"{self.subnets[vid]}.1"])
            for k in ("all", ifn):
                nsrun(ns, ["sysctl", "-qw", f"net.ipv4.conf.{k}.arp_ignore=1"])
                nsrun(ns, ["sysctl", "-qw", f"net.ipv4.conf.{k}.arp_announce=2"])
            self._start_nginx(b, self.www)
        # a host on VLAN 99, which the appliance's port does not have
        self.stray_if = f"{self.prefix}-x99"
        ports.append(self._access(self.ns_cl, self.stray_if, 99))
        run(["ip", "-n", self.ns_cl, "addr", "add", f"{self.subnets[99]}.50/24", "dev",
             self.stray_if])
        self.switch = subprocess.Popen(
            ["ip", "netns", "exec", self.ns_sw, tbmod.PYTHON, os.path.join(HERE, "vlan_switch.py"),
             "--trunk", self.trunk] + [a for p in ports for a in ("--access", p)],
            stdin=subprocess.DEVNULL)
        self.add_pid(self.switch.pid)
        nsrun(self.ns_cl, ["ip", "route", "add", "default", "via", f"{self.subnets[30]}.1"])
        for b in self.backends:  # through the switch and the router: the testbed works
            wait_until(lambda: self._direct_ok(b), timeout=15, interval=0.1,
                       what=f"nginx on {b['name']} answering the client through the router")

    def daemon_config(self, workers=None, services=None, **dataplane):
        cfg = super().daemon_config(workers=workers, services=services, **dataplane)
        eal = cfg["eal"]
        if self.workers == 1:  # af_packet, not AF_XDP: the kernel hands over tags stripped
            eal[eal.index("--vdev") + 1] = f"net_af_packet0,iface={self.lb_if}"
        cfg["ports"][0]["vlans"] = [{"id": vid, "address": f"{self.subnets[vid]}.2/24"}
                                    for vid in VLAN_IDS]
        cfg["metrics"] = {"listen": "0.0.0.0:9108"}  # reached through VLAN 30's kernel interface
        return cfg

    def reals_route_via(self, who):
        """Default route of the reals: via the "router" (dr) or the "appliance" (nat)."""
        for b in self.backends:
            gw = f"{self.subnets[b['vlan']]}.{1 if who == 'router' else 2}"
            run(["ip", "-n", b["ns"], "route", "replace", "default", "via", gw])


@pytest.fixture(scope="module")
def vbed(workers):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    tb = VlanTestbed(workers)
    try:
        tb.up()
        yield tb
    finally:
        tb.down()


@pytest.fixture(scope="module")
def vlb(vbed):
    d = vbed.start_daemon(vbed.daemon_config())
    yield d
    assert d.stop() == 0, d.read_log()[-3000:]


@pytest.fixture
def vservice(vlb, vbed):
    keys = []

    def make(forward, **extra):
        key = {"vip": vbed.vip, "port": 80, "proto": "tcp"}
        vlb.call("service.add", dict(key, scheduler="rr", forward=forward, **extra,
                                     reals=[{"ip": b["ip"], "port": 80} for b in vbed.backends]))
        keys.append(key)
        return key
    yield make
    for key in keys:
        vlb.call("service.del", key)
    vbed.reals_route_via("router")


PING = """
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
body = struct.pack("!BBHHH", 8, 0, 0, 77, 1) + b"vlan"
c = sum(struct.unpack("!%dH" % (len(body) // 2), body))
c = (c & 0xffff) + (c >> 16)
s.sendto(body[:2] + struct.pack("!H", ~c & 0xffff) + body[4:], (sys.argv[1], 0))
try:
    while True:
        data, addr = s.recvfrom(2048)
        if data[20] == 0 and data[24:26] == struct.pack("!H", 77):
            print(addr[0])
            break
except socket.timeout:
    print("none")
"""


def ping(vbed, target):
    """One ICMP echo from the client namespace: the address that answered, or "none"."""
    return nsrun(vbed.ns_cl, [tbmod.PYTHON, "-c", PING, target]).stdout.strip()


def both_reals_answer(vbed, n=12):
    bodies = vbed.curl_many(n)
    assert None not in bodies, bodies
    assert sorted(set(bodies)) == ["b1", "b2"], bodies
    return bodies


def test_dr_reals_on_two_vlans_serve_a_client_on_a_third(vbed, vlb, vservice):
    vservice("dr")
    both_reals_answer(vbed)
    neigh = {n["ip"]: n for n in vlb.call("system.info")["neighbours"]}
    for b in vbed.backends:
        assert neigh[b["ip"]]["vlan"] == b["vlan"] and neigh[b["ip"]]["state"] == "resolved"
    assert vlb.call("stats.get")["dataplane"]["drop_reasons"]["unknown_vlan"] == 0
    # af_packet hands the tags over stripped (vlan_tci), not in the frames
    assert vlb.call("system.info")["ports"][0]["vlan_strip"] is True


def test_nat_reals_on_two_vlans_reply_through_the_appliance(vbed, vlb, vservice):
    vbed.reals_route_via("appliance")
    key = vservice("nat")
    both_reals_answer(vbed)
    stats = [s for s in vlb.call("stats.get")["services"] if s["vip"] == key["vip"]][0]
    assert stats["outpkts"] > 0  # the replies came back through the appliance


def test_health_checks_and_the_kernel_use_the_vlans(vbed, vlb, vservice):
    """Checks leave through the VLANs' kernel interfaces (dlb0.10, dlb0.20), tagged; the
    metrics listener answers the client through VLAN 30's."""
    key = vservice("dr", check={"type": "connect", "interval": 0.2, "timeout": 1})

    def all_checked_up():
        s = vlb.call("health.status", {"service": key})["services"][0]
        return all(r["state"] == "up" and r["checks"] > 0 for r in s["reals"])
    wait_until(all_checked_up, timeout=15, what="connect checks of both reals through VLANs")
    r = nsrun(vbed.ns_cl, ["curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w",
                           "%{http_code}", f"http://{vbed.subnets[30]}.2:9108/metrics"],
              check=False)
    assert r.stdout == "200", (r.returncode, r.stderr)
    assert ping(vbed, f"{vbed.subnets[30]}.2") == f"{vbed.subnets[30]}.2"


def test_frames_of_an_unknown_vlan_are_counted_drops(vbed, vlb):
    before = vlb.call("stats.get")["dataplane"]["drop_reasons"]["unknown_vlan"]
    # the client's kernel asks for the address by ARP, tagged 99 by the switch
    r = nsrun(vbed.ns_cl, ["curl", "-s", "--max-time", "2", "--interface", vbed.stray_if,
                           f"http://{vbed.subnets[99]}.2/"], check=False)
    assert r.returncode != 0
    wait_until(lambda: vlb.call("stats.get")["dataplane"]["drop_reasons"]["unknown_vlan"]
               >= before + 2, what="unknown_vlan drops of VLAN 99's ARP requests")
