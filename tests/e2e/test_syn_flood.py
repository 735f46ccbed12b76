"""Surviving a SYN flood, end to end (docs/architecture.md, "Flow table under a SYN flood"):
`hping3 -S --flood --rand-source` against the VIP from the client namespace fills the flow
table with half-open flows, while curl connects to the VIP over new TCP connections. At least
99 % of those connections must succeed during the flood and at once after it; before the
admission policy, none did once the table was full (every new connection refused until the
half-open flows expired, 60 s). The table is small (16,384 flows) so that this 2-CPU testbed
really fills it."""
import time

import pytest

from methods import dataplane
from flooders import small_table_lb, start_flooder, stop_flooders
from testbed import wait_until

CAPACITY = 16384
FLOOD_S = 120      # upper bound; the test stops the flood itself
REQUESTS = 50      # per curl batch: each a new connection
GOAL = 0.99


@pytest.fixture(scope="module")
def lb_holder(testbed):
    """Overrides conftest's: a small flow table."""
    yield from small_table_lb(testbed, CAPACITY)


@pytest.fixture
def flood(testbed):
    procs = []

    def start():
        procs.append(start_flooder(testbed, ["-S", "-p", "80", "--flood", "--rand-source",
                                             testbed.vip], FLOOD_S))

    def stop():
        stop_flooders(testbed, procs)

    try:
        yield start, stop
    finally:
        stop()


def served(testbed, batches):
    """batches x REQUESTS new connections; (answered, asked)."""
    ok = n = 0
    for _ in range(batches):
        res = testbed.curl_many(REQUESTS, max_time=10)
        ok += sum(1 for r in res if r)
        n += len(res)
    return ok, n


def test_legitimate_connections_are_served_during_and_after_a_syn_flood(testbed, lb, service,
                                                                         flood):
    start, stop = flood
    service("rr")
    assert all(testbed.curl_many(10))  # warm: reals resolved
    before = dataplane(lb)
    start()
    # the table really is full: new SYNs now take the places of the oldest half-open flows
    wait_until(lambda: dataplane(lb)["half_open_evicted"] > before["half_open_evicted"] + 1000,
               timeout=30, interval=0.2, what="the flood filling the table")
    t0 = time.monotonic()
    ok, n = served(testbed, 4)
    during = dataplane(lb)
    t_during = time.monotonic() - t0
    flood_pps = (during["rx_packets"] - before["rx_packets"]) / max(t_during, 1e-9)
    stop()
    ok_after, n_after = served(testbed, 2)
    after = dataplane(lb)
    print(f"\nSYN flood: {ok}/{n} connections served during it, {ok_after}/{n_after} at once "
          f"after; table {during['flows']} flows ({CAPACITY} per worker); evicted "
          f"{after['half_open_evicted'] - before['half_open_evicted']}, expired early "
          f"{after['half_open_expired_early'] - before['half_open_expired_early']}, refused "
          f"{after['drop_reasons']['flow_table_full'] - before['drop_reasons']['flow_table_full']}"
          f"; about {flood_pps:,.0f} packets/s received during the requests")
    assert ok >= GOAL * n, (ok, n)
    assert ok_after >= GOAL * n_after, (ok_after, n_after)
    assert during["flow_pressure"] >= 1  # workers under pressure (one per worker at most)
    assert during["flow_pressure_episodes"] > before["flow_pressure_episodes"]
    # nothing was refused: there was always a half-open flow to end
    assert after["drop_reasons"]["flow_table_full"] == before["drop_reasons"]["flow_table_full"]
    # the pressure lifetime (5 s), not timeouts.syn_recv (60 s), empties the table afterwards
    t1 = time.monotonic()
    wait_until(lambda: dataplane(lb)["flow_pressure"] == 0, timeout=20, interval=0.2,
               what="the table back under its pressure mark")
    assert dataplane(lb)["half_open_expired_early"] > before["half_open_expired_early"]
    print(f"back under the pressure mark {time.monotonic() - t1:.1f} s after the last requests")
