"""Spotting a flood and stopping it, end to end: three client addresses flood the VIP with SYNs
(hping3 from the client namespace), come out on top of conn.top by packets and by connections,
are blocked with `dpdk-lb-cli block add --from-top 3`, and from then on are dropped as `blocked`
while the ordinary client keeps being served."""
import time

import pytest

from flooders import start_flooder, stop_flooders
from methods import dataplane
from testbed import wait_until

FLOOD_S = 40          # upper bound; the test stops the floods itself
FLOOD_INTERVAL = "u200"  # 5,000 SYNs a second per address: a flood, not the testbed's ceiling


@pytest.fixture
def flooders(testbed):
    addrs = testbed.add_client_addresses(3)
    procs = []

    def start():
        for a in addrs:
            procs.append(start_flooder(testbed, ["-S", "-p", "80", "-i", FLOOD_INTERVAL, "-a", a,
                                                 testbed.vip], FLOOD_S))
    try:
        yield addrs, start
    finally:
        stop_flooders(testbed, procs)
        testbed.del_client_addresses(addrs)




def top(lb, by, n=3):
    return [s["source"] for s in lb.call("conn.top", {"by": by, "limit": n})["sources"]]


def test_flooders_come_out_on_top_and_are_blocked(testbed, lb, service, flooders):
    addrs, start = flooders
    service("rr")
    assert all(testbed.curl_many(10))  # warm: reals resolved
    expected = {f"{a}/32" for a in addrs}
    start()
    wait_until(lambda: set(top(lb, "pps")) == expected, timeout=20,
               what="the three flooders on top by packets per second")
    # their SYNs hold flows (SYN_RECV) too: on top by connections and new connections a second
    wait_until(lambda: set(top(lb, "conns")) == expected, timeout=10,
               what="the flooders on top by connections")
    assert set(top(lb, "cps")) == expected
    # aggregated to /24 they are one prefix with the ordinary client
    agg = lb.call("conn.top", {"by": "pps", "prefix": 24})["sources"]
    assert agg[0]["source"] == f"{testbed.net}.0/24" and len(agg) == 1
    summary = lb.call("conn.summary")
    assert summary["states"].get("SYN_RECV", 0) > 100

    r = lb.cli("block", "add", "--from-top", "3", "--by", "pps", "--ttl", "600", "--reason",
               "syn flood", "--yes")
    assert "blocked 3 sources" in r.stdout
    listed = lb.call("block.list")["entries"]
    assert {e["cidr"] for e in listed} == expected and all(e["reason"] == "syn flood"
                                                              for e in listed)
    before = dataplane(lb)
    t0 = time.monotonic()
    wait_until(lambda: all(e["hits"] > 1000 for e in lb.call("block.list")["entries"]),
               timeout=15, what="every blocked flooder hit")
    # the ordinary client is still served while the flood goes on
    answered = testbed.curl_many(30)
    assert all(answered), answered
    after = dataplane(lb)
    elapsed = time.monotonic() - t0
    blocked = after["drop_reasons"]["blocked"] - before["drop_reasons"]["blocked"]
    created = after["flows_created"] - before["flows_created"]
    print(f"\nflood: {blocked} SYNs blocked in {elapsed:.1f} s; {created} flows created meanwhile "
          f"(30 requests of the ordinary client, all answered)")
    assert blocked > 3000
    # no new flows for the flooders: what was created is the client's (plus SYNs in flight)
    assert created < 30 + 200
    # conn.top charges the drops to the flooders
    wait_until(lambda: set(top(lb, "drops")) == expected, timeout=10,
               what="the flooders on top by drops")
    for a in addrs:
        lb.call("block.del", {"cidr": f"{a}/32"})
    assert lb.call("block.list")["entries"] == []
