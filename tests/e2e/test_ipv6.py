"""End-to-end: IPv6 through every forwarding method (dr, tun, nat, fnat) with real clients and
servers in the namespace testbed, which gets an IPv6 /64 for this module (methods6.Env6): the
appliance's port has an address6, the backends an IPv6 address, the VIP6 on lo (dr, tun), an
IPv6-in-IPv6 decapsulator (tun) or a route to the client via the appliance (nat).

HTTP through [VIP6] (curl -6 to a second nginx on every backend, listening on [::]), the 20 MB
download, DNS over UDP (dig AAAA to dnsmasq on the backends' IPv6 addresses), a 2 MB upload
(through the tunnel thanks to the appliance's ICMPv6 packet-too-big), ping6 and neighbour
discovery of the appliance's addresses, and the daemon resolving its IPv6 reals.

Every test has its own service key (VIP6 port), so none meets flows an earlier test left in the
module daemon's tables."""
import collections

import pytest

import methods as M
import methods6 as M6
from methods import dataplane, delete_services, download_intact, route_mtu, service_stats
from methods6 import METHODS6
from testbed import nsrun, wait_until

UPLOAD_BYTES = 2 << 20


# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def plan(testbed):
    return M6.Plan6(testbed)


@pytest.fixture(scope="module")
def net6(testbed, plan):
    """IPv6 on the testbed, and on every backend: nginx on [::], dnsmasq on its IPv6 address
    and the VIP6, the IPv6 upload server. Undone after the module."""
    env = M6.Env6(testbed, plan)
    try:
        env.enable_ipv6()
        env.start_nginx6()
        env.start_dnsmasq6()
        env.start_hash_servers6()
        yield env
    finally:
        env.close()


@pytest.fixture(scope="module")
def lb_holder(testbed, plan, net6):
    """Overrides conftest's: the daemon with the port's address6 (conftest's `lb` hands it
    out)."""
    h = M6.LB6(testbed, plan)
    try:
        yield h
    finally:
        h.stop()


@pytest.fixture(scope="module")
def pin_state():
    state = {}
    yield state
    if state.get("pins"):
        state["pins"].remove()


@pytest.fixture
def pinned(lb, testbed, plan, pin_state):
    """The IPv6 reals' neighbour entries kept resolved (methods6.Pins)."""
    return M6.Pins.ensure(pin_state, lb, testbed, plan, families=(6,))


@pytest.fixture
def env(testbed, plan, net6):
    """Per-test backend preparation (nat routes, decapsulators); undone after the test."""
    e = M6.Env6(testbed, plan)
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def svc(lb, testbed, plan, env, pinned):
    """Factory: svc(method, **service_params6) readies the backends for the method and adds
    the IPv6 service; deleted after the test, before env undoes the preparation."""
    added = []

    def make(method, **kw):
        env.prepare6(method, kw.get("backends"))
        p = M6.service_params6(testbed, plan, method, **kw)
        stored = lb.call("service.add", p)
        assert stored["forward"] == method and stored["vip"] == plan.vip, stored
        key = {"vip": p["vip"], "port": p["port"], "proto": p["proto"]}
        added.append(key)
        return key

    yield make
    delete_services(lb, added)


# ---------------------------------------------------------------------------------------------
# helpers


def flows_of(lb, key, clients=None):
    """key's connections in conn.list (of clients only, when given: "[addr]:port" strings)."""
    virtual = M6.addr_port(key["vip"], key["port"])
    conns = lb.call("conn.list", {"limit": 100000})["connections"]
    return [c for c in conns if not c.get("template") and c["proto"] == key["proto"]
            and c["virtual"] == virtual and (clients is None or c["client"] in clients)]


# nginx's port per method: dr and tun keep the VIP's port, so they need different ones (no test
# may meet flows an earlier one left); nat and fnat translate from VIP ports of their own.
HTTP_PORT = {"dr": 80, "tun": 443, "nat": 80, "fnat": 443}


def vport(method, real_port, base):
    """dr and tun keep the real's port; nat and fnat get base + 1 / base + 2 (translated)."""
    return real_port if method in ("dr", "tun") else base + 1 + (method == "fnat")


def expected_source(plan, method):
    """The client address an IPv6 real server sees."""
    return plan.local if method == "fnat" else plan.client


def wait_access_lines6(net6, before, n):
    """The IPv6 nginx access log lines since `before`, once there are n."""
    def new():
        after = net6.access_lines6()
        lines = {name: after[name][len(before[name]):] for name in after}
        return lines if sum(len(v) for v in lines.values()) >= n else None
    return wait_until(new, timeout=5, what=f"{n} requests in the IPv6 access logs")


def by_name(tb):
    return {b["name"]: b for b in tb.backends}


# ---------------------------------------------------------------------------------------------
# tests


def test_port_address6_and_neighbour_discovery_of_reals(testbed, plan, lb, pinned):
    """The port reports its address6; the daemon resolved every IPv6 real by neighbour
    discovery (the pinning service's reals: the backends' MACs). A new real that answers
    solicitations (the client's address) gets resolved too, one that does not stays
    unresolved."""
    info = lb.call("system.info")
    assert info["ports"][0]["address6"] == f"{plan.lb}/{plan.prefix_len}", info["ports"]
    have = M6.neighbours(lb)
    for b in testbed.backends:
        assert have.get(plan.backend[b["name"]]) == ("resolved", b["mac"].lower()), have

    absent = str(plan.net[0x77])
    client_mac = testbed.link_mac(testbed.ns_cl, testbed.cl_if).lower()
    key = {"vip": plan.vip, "port": 7077, "proto": "tcp"}
    lb.call("service.add", dict(key, forward="dr", reals=[{"ip": plan.client}, {"ip": absent}]))
    try:
        wait_until(lambda: M6.neighbours(lb).get(plan.client) == ("resolved", client_mac),
                   timeout=10, what=f"{plan.client} resolved to {client_mac} "
                                    f"(now {M6.neighbours(lb)})")
        assert M6.neighbours(lb).get(absent) == ("unresolved", ""), M6.neighbours(lb)
    finally:
        lb.call("service.del", key)


def test_ping6_and_neighbour_solicitations_answered(testbed, plan, lb, svc, env):
    """ping6 to the VIP6, the fnat local address and the port's address6 is answered by the
    appliance, and the client's neighbour solicitations for them too (its neighbour table then
    has the appliance's MAC for each)."""
    svc("fnat", port=8099, real_port=80)   # the VIP6 and the local address
    targets = [plan.vip, plan.local, plan.lb]
    for t in targets:
        nsrun(testbed.ns_cl, ["ip", "-6", "neigh", "del", t, "dev", testbed.cl_if], check=False)
        n = M6.client_neighbour(testbed, t)
        assert n is None or n[1] is None, (t, n)
    d0 = dataplane(lb)
    got = env.python(testbed.ns_cl, M6.PING6, 3, *targets, timeout=60)
    assert got == {t: 3 for t in targets}, got
    for t in targets:
        n = M6.client_neighbour(testbed, t)
        assert n is not None and n[1] == testbed.lb_mac.lower(), (t, n)
    wait_until(lambda: dataplane(lb)["icmp_echo_replies"] >= d0["icmp_echo_replies"] + 9,
               timeout=5, what="icmp_echo_replies to count 9 more")
    assert dataplane(lb)["nd_advertisements"] >= d0["nd_advertisements"] + len(targets)


@pytest.mark.parametrize("method", METHODS6)
def test_http6_rr_over_100_connections(testbed, plan, lb, svc, env, net6, workers, method):
    rport = HTTP_PORT[method]
    key = svc(method, port=vport(method, rport, 8000), real_port=rport)
    before = net6.access_lines6()
    n = 100
    bodies = testbed.curl_many(n, port=key["port"], host=plan.vip)
    assert bodies.count(None) == 0, f"{bodies.count(None)} of {n} requests failed"
    got = collections.Counter(bodies)
    assert set(got) == {b["name"] for b in testbed.backends}, dict(got)
    for b in testbed.backends:
        # rr per worker: each extra worker may shift a real's count by one
        assert abs(got[b["name"]] - n / 3) <= 1 + (workers - 1), dict(got)

    # the real servers saw the client (dr, tun, nat) or the local address (fnat)
    lines = wait_access_lines6(net6, before, n)
    srcs = collections.Counter(M6.compressed(ln.split(" ", 1)[0])
                               for v in lines.values() for ln in v)
    assert srcs == {expected_source(plan, method): n}, srcs

    flows = flows_of(lb, key)
    assert len(flows) >= n, f"{len(flows)} flows listed for {n} connections"
    assert {c["forward"] for c in flows} == {method}
    assert {M6.split_addr_port(c["client"])[0] for c in flows} == {plan.client}, flows[:3]
    by_real = collections.Counter(M6.split_addr_port(c["real"]) for c in flows)
    assert by_real == collections.Counter(
        {(plan.backend[b["name"]], rport): got[b["name"]] for b in testbed.backends}), by_real
    for c in flows:
        if method == "fnat":
            laddr, lport = M6.split_addr_port(c["local"])
            assert laddr == plan.local and M6.FNAT_PORT_MIN <= lport <= M6.FNAT_PORT_MAX, c
        else:
            assert "local" not in c, c

    s = wait_until(lambda: (lambda s: s if s["conns"] >= n else None)(service_stats(lb, key)),
                   timeout=5, what=f"{n} connections in stats.get")
    assert s["conns"] == n, s
    if method in ("dr", "tun"):
        assert s["outpkts"] == 0, s   # the reals answer the client directly
    else:
        assert s["outpkts"] >= 2 * n and s["outbytes"] > 0, s   # replies pass the appliance
    if method == "tun":   # the decapsulators saw the requests come through the tunnel
        wait_until(lambda: sum(env.decapsulated_by_family(6).values()) >= 3 * n, timeout=5,
                   what=f"3 x {n} packets decapsulated (got {env.decapsulated_by_family(6)})")


@pytest.mark.parametrize("method", METHODS6)
def test_big_download6_intact(testbed, plan, lb, svc, method):
    rport = HTTP_PORT[method]
    key = svc(method, port=vport(method, rport, 8010), real_port=rport)
    download_intact(testbed, plan.vip, key["port"], f"6-{method}")
    s = service_stats(lb, key)
    assert s["conns"] == 1, s
    if method in ("dr", "tun"):
        assert s["outbytes"] == 0, s
    else:
        assert s["outbytes"] >= testbed.big_size, s


@pytest.mark.parametrize("method", METHODS6)
def test_dns6_over_udp(testbed, plan, lb, svc, workers, method):
    # dr and tun both serve [VIP6]:53 (dnsmasq's port): each method's queries come from source
    # ports of their own, so none meets a flow of an earlier test's service
    key = svc(method, port=vport(method, 53, 5300), proto="udp", real_port=53)
    ips = set(plan.backend.values())
    n = 12
    sports = [31000 + 100 * METHODS6.index(method) + i for i in range(n)]
    answers = M6.dig6_many(testbed, plan.vip, n, port=key["port"], source=plan.client,
                           sports=sports)
    assert answers.count(None) == 0, f"{answers.count(None)} of {n} queries unanswered: {answers}"
    got = collections.Counter(answers)
    assert set(got) <= ips, dict(got)
    # rr per worker: with 12 queries over at most 2 workers, one saw at least 6 and used all
    assert len(got) == 3, f"answered by {dict(got)} only"
    flows = flows_of(lb, key, {M6.addr_port(plan.client, p) for p in sports})
    assert len(flows) == n, flows
    assert {c["forward"] for c in flows} == {method}, flows
    assert collections.Counter(M6.split_addr_port(c["real"])[0] for c in flows) == got, flows
    s = service_stats(lb, key)
    assert s["conns"] == n, s
    if method in ("nat", "fnat"):
        assert s["outpkts"] >= n, s   # every answer came back through the appliance


@pytest.mark.parametrize("method", ["tun", "fnat"])
def test_upload6_2mb(testbed, plan, lb, svc, env, method):
    """2 MB from the client to a hashing server behind [VIP6]. Through the tunnel the client's
    full-size segments no longer fit once encapsulated (40 bytes more): the appliance drops them
    with ICMPv6 packet-too-big (MTU - 40), and the upload completes because the client then
    sends smaller ones. fnat (no encapsulation) needs none of that."""
    key = svc(method, port=vport(method, M.UPLOAD_PORT, 8080), real_port=M.UPLOAD_PORT)
    nsrun(testbed.ns_cl, ["ip", "-6", "route", "flush", "cache"])
    assert route_mtu(testbed, plan.vip) is None
    d0 = dataplane(lb)
    try:
        r = env.python(testbed.ns_cl, M.UPLOAD_CLIENT, plan.vip, key["port"], UPLOAD_BYTES,
                       timeout=90)
        name, length, digest = r["reply"].split()
        assert name in by_name(testbed), r
        assert int(length) == UPLOAD_BYTES, r
        assert digest == r["sha256"], f"{method}: upload corrupted ({r})"
        d1 = dataplane(lb)
        if method == "tun":
            assert d1["icmp_frag_needed_sent"] > d0["icmp_frag_needed_sent"], d1
            assert d1["drop_reasons"]["too_big"] > d0["drop_reasons"]["too_big"], d1
            assert route_mtu(testbed, plan.vip) == M6.PORT_MTU - 40
        else:
            assert d1["icmp_frag_needed_sent"] == d0["icmp_frag_needed_sent"], d1
            assert d1["drop_reasons"]["too_big"] == d0["drop_reasons"]["too_big"], d1
            assert route_mtu(testbed, plan.vip) is None
        s = service_stats(lb, key)
        assert s["conns"] == 1 and s["inbytes"] > UPLOAD_BYTES, s
    finally:
        nsrun(testbed.ns_cl, ["ip", "-6", "route", "flush", "cache"], check=False)
