"""The SYN proxy end to end (docs/architecture.md, "SYN proxy"): curl fetches through nat and
fnat services with `syn_proxy` on, the appliance answering every SYN with a cookie and making a
flow only for the clients that complete the handshake; then the same during an
`hping3 -S --flood --rand-source` against the service: at least 99 % of the legitimate
connections succeed during the flood and at once after it, and the flood itself creates no flow
at all (stats.get `flows_created` grows by the legitimate connections only, the table never
comes under pressure). The table is small (16,384 flows), as in test_syn_flood.py, so that a
flood that did make flows would fill it."""
import time

import pytest

import methods as M
from flooders import small_table_lb, start_flooder, stop_flooders
from methods import dataplane, delete_services, service_stats
from testbed import wait_until

CAPACITY = 16384
FLOOD_S = 120      # upper bound; the test stops the flood itself
REQUESTS = 50      # per curl batch: each a new connection
GOAL = 0.99


@pytest.fixture(scope="module")
def lb_holder(testbed):
    """Overrides conftest's: a small flow table, as in test_syn_flood.py."""
    yield from small_table_lb(testbed, CAPACITY)


@pytest.fixture
def env(testbed):
    e = M.MethodEnv(testbed)
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def proxied(lb, testbed, env):
    """Factory: proxied(method, port) adds VIP:port with syn_proxy on, the testbed's backends as
    its reals on port 80; deleted after the test, before env undoes the nat routes."""
    added = []

    def make(method, port):
        env.prepare(method)
        stored = lb.call("service.add", M.service_params(testbed, method, port=port,
                                                         real_port=80, syn_proxy=True))
        assert stored["syn_proxy"] is True and stored["forward"] == method, stored
        key = {"vip": testbed.vip, "port": port, "proto": "tcp"}
        added.append(key)
        return key

    yield make
    delete_services(lb, added)


@pytest.fixture
def flood(testbed):
    procs = []

    def start(port):
        procs.append(start_flooder(testbed, ["-S", "-p", str(port), "--flood", "--rand-source",
                                             testbed.vip], FLOOD_S))

    def stop():
        stop_flooders(testbed, procs)

    try:
        yield start, stop
    finally:
        stop()


def delta(before, after, *keys):
    return {k: after[k] - before[k] for k in keys}


COUNTERS = ("syn_proxy_cookies_sent", "syn_proxy_valid_acks", "syn_proxy_bad_cookies",
            "syn_proxy_real_acks", "flows_created")


@pytest.mark.parametrize("method", ["nat", "fnat"])
def test_curl_through_the_syn_proxy(testbed, lb, proxied, method):
    key = proxied(method, 8200 + (method == "fnat"))
    before = dataplane(lb)
    n = 30
    bodies = testbed.curl_many(n, port=key["port"])
    assert bodies.count(None) == 0, f"{bodies.count(None)} of {n} requests failed"
    assert set(bodies) == {b["name"] for b in testbed.backends}
    d = delta(before, dataplane(lb), *COUNTERS)
    # one cookie per connection, each returned by a good ACK, each real's handshake answered
    assert d["syn_proxy_cookies_sent"] >= n and d["syn_proxy_valid_acks"] == n, d
    assert d["syn_proxy_real_acks"] >= n and d["syn_proxy_bad_cookies"] == 0, d
    assert d["flows_created"] == n, d
    s = service_stats(lb, key)
    assert s["conns"] == n and s["outpkts"] >= 2 * n, s


def served(testbed, port, batches):
    """batches x REQUESTS new connections; (answered, asked)."""
    ok = n = 0
    for _ in range(batches):
        res = testbed.curl_many(REQUESTS, port=port, max_time=10)
        ok += sum(1 for r in res if r)
        n += len(res)
    return ok, n


def test_a_syn_flood_creates_no_flows(testbed, lb, proxied, flood):
    start, stop = flood
    key = proxied("nat", 8202)
    assert all(testbed.curl_many(10, port=key["port"]))  # warm: reals resolved
    before = dataplane(lb)
    start(key["port"])
    wait_until(lambda: dataplane(lb)["syn_proxy_cookies_sent"]
               > before["syn_proxy_cookies_sent"] + 20000,
               timeout=30, interval=0.2, what="the flood answered with cookies")
    t0 = time.monotonic()
    ok, n = served(testbed, key["port"], 4)
    during = dataplane(lb)
    t_during = time.monotonic() - t0
    stop()
    ok_after, n_after = served(testbed, key["port"], 2)
    after = dataplane(lb)
    d = delta(before, after, *COUNTERS)
    flood_pps = (during["syn_proxy_cookies_sent"] - before["syn_proxy_cookies_sent"]) / t_during
    info = lb.call("system.info")
    print(f"\nSYN flood through the SYN proxy: {ok}/{n} connections served during it, "
          f"{ok_after}/{n_after} at once after; {d['syn_proxy_cookies_sent']:,} cookies sent "
          f"(about {flood_pps:,.0f}/s during the requests), flows created "
          f"{d['flows_created']}, table {during['flows']} of {info['flow_capacity']} flows")
    assert ok >= GOAL * n, (ok, n)
    assert ok_after >= GOAL * n_after, (ok_after, n_after)
    # the flood made no flow: only the legitimate connections did, and the table stayed empty
    assert d["flows_created"] <= n + n_after, d
    assert during["flows"] <= 2 * (n + n_after), during["flows"]
    assert d["syn_proxy_valid_acks"] >= ok + ok_after, d
    assert after["flow_pressure_episodes"] == before["flow_pressure_episodes"]
    assert after["half_open_evicted"] == before["half_open_evicted"]
    assert after["drop_reasons"]["flow_table_full"] == before["drop_reasons"]["flow_table_full"]
