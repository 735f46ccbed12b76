"""A bonded port (ports[].bond, active-backup) end to end: the appliance's port is DPDK's bonding
PMD over two net_tap members, each cabled to the testbed's bridge by a wire of its own (a veth
whose peer is a bridge port, joined to the tap by tc mirred both ways, as a NIC is cabled to a
switch). nginx real servers behind direct routing, curl clients. A member's link is taken down
(`ip link set TAP down`): the bond fails over to the other member, and new and ongoing
connections carry on; stats.ports shows which member is active. Then the link comes back and the
primary takes over again.

    client, reals --veth-- bridge --veth w0-- (tc mirred) -- tap m0 --+
                                  --veth w1-- (tc mirred) -- tap m1 --+-- net_bonding (dpdk-lb)
"""
import hashlib
import os

import pytest

import testbed as tbmod
from testbed import nsrun, run, wait_until


@pytest.fixture(scope="module")
def bonded():
    """The testbed, its two wires and a daemon whose one port is a bond of two taps."""
    if os.geteuid() != 0:
        pytest.skip("the end-to-end suite needs root (network namespaces)")
    workers = int(os.environ.get("DPDK_LB_WORKERS", "1"))
    tb = tbmod.Testbed(workers=workers, n_backends=2, big_mb=6, rate="1m")
    try:
        tb.up()
        wires = [tb._veth(tb.ns_lb, f"{tb.prefix}-w{i}") and f"{tb.prefix}-w{i}"
                 for i in range(2)]
        taps = [f"{tb.prefix}m{i}" for i in range(2)]
        cfg = tb.daemon_config(workers=workers, services=[{
            "vip": tb.vip, "port": 80, "proto": "tcp", "scheduler": "rr",
            "reals": [{"ip": b["ip"]} for b in tb.backends]}])
        eal = cfg["eal"]
        i = eal.index("--vdev")
        del eal[i:i + 2]  # no AF_XDP port: the bond is the only one
        cfg["ports"][0]["bond"] = {"mode": "active-backup", "primary": "net_tap_bm0",
                                   "members": [f"net_tap_bm{k},iface={t}"
                                               for k, t in enumerate(taps)]}
        d = tb.start_daemon(cfg)
        for w, t in zip(wires, taps):
            nsrun(tb.ns_lb, ["ethtool", "-K", t, "tx", "off"], check=False)
            for a, b in ((w, t), (t, w)):
                nsrun(tb.ns_lb, ["tc", "qdisc", "add", "dev", a, "ingress"])
                nsrun(tb.ns_lb, ["tc", "filter", "add", "dev", a, "parent", "ffff:", "protocol",
                                 "all", "u32", "match", "u32", "0", "0", "action", "mirred",
                                 "egress", "redirect", "dev", b])
        yield tb, d, taps
        assert d.stop() == 0, d.read_log()[-4000:]
    finally:
        tb.down()


def bond_state(d):
    ports = d.call("stats.ports")["ports"]
    assert len(ports) == 1, ports
    return ports[0]["bond"]


def all_served(tb, n):
    bodies = tb.curl_many(n, max_time=3)
    return all(b in ("b1", "b2") for b in bodies) and bodies


def test_member_link_down_keeps_the_service(bonded):
    tb, d, taps = bonded
    wait_until(lambda: bond_state(d)["active"] == ["net_tap_bm0"], what="m0 active")
    bodies = wait_until(lambda: all_served(tb, 10), timeout=20, interval=0.5,
                        what="the service through the bond")
    assert sorted(set(bodies)) == ["b1", "b2"]

    out = os.path.join(tb.tmp, "big.out")
    dl = tb.download(out, max_time=90)
    try:
        wait_until(lambda: os.path.exists(out) and os.path.getsize(out) > (1 << 20), timeout=20,
                   what="the download under way")
        run(["ip", "-n", tb.ns_lb, "link", "set", taps[0], "down"])
        assert dl.poll() is None, "the download ended before the failover"
        state = wait_until(lambda: (s := bond_state(d)) and s["active"] == ["net_tap_bm1"] and s,
                           what="failover to m1")
        assert [(m["name"], m["link_up"], m["active"]) for m in state["members"]] == \
            [("net_tap_bm0", False, False), ("net_tap_bm1", True, True)]
        # new connections: served again within a deadline, then every one of a batch
        wait_until(lambda: all_served(tb, 5), timeout=15, interval=0.2,
                   what="new connections after the failover")
        assert all_served(tb, 20), "a connection failed after the failover"
        # the ongoing download finishes whole
        _, err = dl.communicate(timeout=120)
        assert dl.returncode == 0, err
        assert bond_state(d)["active"] == ["net_tap_bm1"]  # all of it after the failover
    finally:
        if dl.poll() is None:
            dl.kill()
            dl.wait()
        tb.remove_pid(dl.pid)
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == tb.big_sha256

    # the link comes back: the primary carries the bond again, and the service goes on
    run(["ip", "-n", tb.ns_lb, "link", "set", taps[0], "up"])
    wait_until(lambda: bond_state(d)["active"] == ["net_tap_bm0"], what="m0 active again")
    wait_until(lambda: all_served(tb, 5), timeout=15, interval=0.2, what="service after failback")
    assert all_served(tb, 20)
    assert "bond member net_tap_bm1 is the active one now" in d.read_log()
