"""The local fallback (holding page) on a pcap vdev port: while no real can take a connection,
a SYN to the VIP goes unchanged to the port's kernel interface, where the daemon listens on
VIP:port; the kernel then resolves the client from the port's address (arp_announce=2), the only
address whose ARP replies the exception path passes back. The fallback is written back by
config.get as it was given, and bad ones are refused with the key path."""
import subprocess

import pytest
from scapy.all import ARP, IP, TCP, Ether

from lbdaemon import RpcError, wait_until
from test_exception import (CLIENT, PORT_ADDR, PORT_MAC, REAL, REAL_MAC, VIP, eth,  # noqa: F401
                            netns_daemon)

PAGE = "<html><body>back soon</body></html>"
KEY = {"vip": VIP, "port": 80, "proto": "tcp"}


def config(weight=0, fallback=None, kernel_interface=None):
    port = {"address": f"{PORT_ADDR}/24"}
    if kernel_interface is not None:
        port["kernel_interface"] = kernel_interface
    return {
        "ports": [port],
        "neighbours": {"static": [{"ip": REAL, "mac": REAL_MAC}]},
        "services": [dict(KEY, scheduler="rr", reals=[{"ip": REAL, "port": 80, "weight": weight}],
                          fallback=fallback if fallback is not None else
                          {"local": True, "page": PAGE})],
    }


def settled(d):
    """stats.get once the one SYN is received and went somewhere: the kernel, a real or a drop
    (the service's inpkts count it in the first two cases)."""
    def check():
        s = d.stats()
        dp = s["dataplane"]
        gone = dp["exception_rx"] + dp["exception_dropped"] + dp["dropped"] + \
            s["services"][0]["reals"][0]["inpkts"]
        return s if dp["rx_packets"] >= 1 and gone >= 1 else None
    return wait_until(check, timeout=15, what="the SYN handled")


def syn(sport=40000):
    return eth() / IP(src=CLIENT, dst=VIP) / TCP(sport=sport, dport=80, flags="S", seq=1000)


def test_syn_goes_to_the_kernel_listener(netns_daemon):
    ns, start = netns_daemon
    d = start([syn()], config())
    s = settled(d)
    dp = s["dataplane"]
    assert dp["exception_rx"] == 1 and dp["dropped"] == 0, dp
    fb = s["services"][0]["fallback"]
    assert fb["forward"] == "local" and fb["ip"] == VIP and fb["conns"] == 1, fb
    assert s["services"][0]["reals"][0]["conns"] == 0
    # the VIP is on lo and the page's listener on VIP:80 in the daemon's namespace
    lo = subprocess.run(["ip", "-n", ns, "-o", "-4", "addr", "show", "dev", "lo"],
                        capture_output=True, text=True, check=True).stdout
    assert f" {VIP}/32 " in lo, lo
    ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"src {VIP}:80"],
                        capture_output=True, text=True, check=True).stdout
    assert "LISTEN" in ss, ss
    cfg = d.rpc.call("config.get")
    assert cfg["services"][0]["fallback"] == {"local": True, "page": PAGE}
    assert d.stop() == 0, d.read_log()
    # The kernel answered the SYN: before its SYN-ACK (from the VIP) it asks who the client is,
    # from the port's address and MAC, never from the VIP.
    asks = [p for p in d.sent() if ARP in p and p[ARP].op == 1 and p[ARP].pdst == CLIENT]
    assert asks, [p.summary() for p in d.sent()]
    assert all(p[ARP].psrc == PORT_ADDR and p[Ether].src == PORT_MAC for p in asks)
    # stopping removed what the daemon added: the VIP is off lo
    lo = subprocess.run(["ip", "-n", ns, "-o", "-4", "addr", "show", "dev", "lo"],
                        capture_output=True, text=True, check=True).stdout
    assert VIP not in lo, lo


def test_a_real_that_takes_connections_gets_them(netns_daemon):
    _, start = netns_daemon
    d = start([syn()], config(weight=1))
    s = settled(d)
    assert s["dataplane"]["exception_rx"] == 0
    assert s["services"][0]["reals"][0]["conns"] == 1
    assert s["services"][0]["fallback"]["conns"] == 0


def rpc_error(d, method, params):
    with pytest.raises(RpcError) as e:
        d.rpc.call(method, params)
    assert e.value.code == -32602, e.value
    return e.value.message


def test_bad_local_fallbacks_are_refused(pcap_daemon, tmp_path):
    from scapy.all import wrpcap
    path = tmp_path / "none.pcap"
    wrpcap(str(path), [syn()])
    # no kernel interface (the pcap daemon outside a namespace has none)
    d = pcap_daemon([path], {"ports": [{"address": f"{PORT_ADDR}/24"}],
                             "neighbours": {"static": [{"ip": REAL, "mac": REAL_MAC}]}})
    msg = rpc_error(d, "service.add", dict(KEY, fallback={"local": True}))
    assert "fallback.local" in msg and "kernel_interface" in msg, msg
    msg = rpc_error(d, "service.add", dict(KEY, fallback={"local": False}))
    assert "params.fallback.local: must be true" in msg, msg
    msg = rpc_error(d, "service.add", dict(KEY, fallback={"local": True, "page": ""}))
    assert "params.fallback.page" in msg, msg
    msg = rpc_error(d, "service.add", dict(KEY, fallback={"local": True, "page": "x" * 65537}))
    assert "params.fallback.page: must be a string of 1-65536 bytes" in msg, msg
    msg = rpc_error(d, "service.add", dict(KEY, fallback={"local": True, "ip": REAL}))
    assert "params.fallback.ip: unknown key" in msg, msg
    # "local" is no forward a real can name
    msg = rpc_error(d, "service.add", dict(KEY, reals=[{"ip": REAL, "forward": "local"}]))
    assert "forward: must be one of: dr, tun, nat, fnat" in msg, msg
    d.rpc.call("service.add", KEY)
    msg = rpc_error(d, "real.add", {"service": KEY, "ip": REAL, "forward": "local"})
    assert "forward" in msg, msg
    assert d.rpc.call("config.get")["services"][0]["fallback"] is None
