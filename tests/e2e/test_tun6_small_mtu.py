"""End-to-end: an IPv6 upload through the tunnel with ports[].mtu 1300 (issue 9: between 1280
and 1319 the client cannot go below the 1280 bytes that still do not fit once encapsulated, and
the upload stalled for good). The appliance now fragments the outer packet of such packets
(RFC 2473 7.1) and the real's decapsulator gets them reassembled."""
import pytest

import methods as M
import methods6 as M6
from conftest import LB
from methods import dataplane
from testbed import nsrun
# the IPv6 module's fixtures: testbed IPv6, backends, pinned neighbours, per-test preparation
from test_ipv6 import env, net6, pin_state, pinned, plan, svc, vport  # noqa: F401

SMALL_MTU = 1300
UPLOAD_BYTES = 1 << 20


@pytest.fixture(scope="module")
def lb_holder(testbed, plan, net6):  # noqa: F811
    """The IPv6 module's daemon, with a port MTU of 1300."""
    def config():
        cfg = M6.lb_config(testbed, plan)
        cfg["ports"][0]["mtu"] = SMALL_MTU
        return cfg
    h = LB(testbed, config)
    try:
        yield h
    finally:
        h.stop()


def test_upload6_through_the_tunnel_at_mtu_1300(testbed, plan, lb, svc, env):  # noqa: F811
    key = svc("tun", port=vport("tun", M.UPLOAD_PORT, 8080), real_port=M.UPLOAD_PORT)
    nsrun(testbed.ns_cl, ["ip", "-6", "route", "flush", "cache"])
    d0 = dataplane(lb)
    try:
        r = env.python(testbed.ns_cl, M.UPLOAD_CLIENT, plan.vip, key["port"], UPLOAD_BYTES,
                       timeout=60)
        _, length, digest = r["reply"].split()
        assert int(length) == UPLOAD_BYTES and digest == r["sha256"], r
        d1 = dataplane(lb)
        # full-size segments were refused with "packet too big" (mtu 1280) ...
        assert d1["icmp_frag_needed_sent"] > d0["icmp_frag_needed_sent"], d1
        # ... and the 1280-byte ones that followed left as outer fragments
        assert d1["fragments_sent"] - d0["fragments_sent"] >= UPLOAD_BYTES // 1280, d1
    finally:
        nsrun(testbed.ns_cl, ["ip", "-6", "route", "flush", "cache"], check=False)
