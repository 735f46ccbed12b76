"""End-to-end: fragmented UDP datagrams, IPv4 and IPv6, through every forwarding method.

The client sends datagrams larger than the link MTU (IPv4 without DF, so its kernel fragments
them; IPv6 fragments at the source anyway) through the VIP to a UDP server on every backend
that answers with the length and SHA-256 of what it received; the answer travels back by the
method's normal path. The appliance reassembles each datagram (all its fragments reach one
real, translated for nat/fnat, inside the tunnel for tun) and fragments it again for the port
MTU. Also: fragments arriving last-first, and incomplete datagrams (which must not keep the
appliance's buffers).

With several workers the testbed uses net_af_packet, whose fanout socket (PACKET_FANOUT_FLAG_
DEFRAG) makes the kernel reassemble IPv4 fragments before DPDK sees them (testbed.py sizes its
ring frames so they arrive whole): the appliance then receives whole IPv4 datagrams and only
fragments them. The kernel does not do that for IPv6.

IPv6 addresses come from methods6.Env6; every test has its own service key."""
import collections

import pytest

import methods as M
import methods6 as M6
from methods import dataplane, delete_services, service_stats
from methods6 import METHODS6
from testbed import wait_until

# the UDP hash servers' port per method (dr and tun keep it; nat and fnat translate to it from
# VIP port + 100)
REAL_PORT = {m: 7001 + i for i, m in enumerate(METHODS6)}
SIZES = (3000, 8000) * 3   # 6 flows: with rr per worker, at least one worker schedules 3
# fragments of one datagram at MTU 1500: IPv4 1480 payload bytes each, IPv6 1448; whatever the
# method adds (tun: 20 or 40 bytes) does not change the count for these sizes
FRAGMENTS = {3000: 3, 8000: 6}


# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def plan(testbed):
    return M6.Plan6(testbed)


@pytest.fixture(scope="module")
def net6(testbed, plan):
    """IPv6 on the testbed and the UDP hash server on every backend (both families, the
    backend's addresses and the VIPs, every REAL_PORT). Undone after the module."""
    env = M6.Env6(testbed, plan)
    try:
        env.enable_ipv6()
        env.start_udp_hash_servers(sorted(REAL_PORT.values()))
        yield env
    finally:
        env.close()


@pytest.fixture(scope="module")
def lb_holder(testbed, plan, net6):
    """Overrides conftest's: the daemon with the port's address6."""
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
    """Both families' reals kept resolved (methods6.Pins): a test's first datagram must not
    meet an unresolved neighbour."""
    return M6.Pins.ensure(pin_state, lb, testbed, plan, families=(4, 6))


@pytest.fixture
def env(testbed, plan, net6):
    e = M6.Env6(testbed, plan)
    try:
        yield e
    finally:
        e.close()


@pytest.fixture
def svc(lb, testbed, plan, env, pinned):
    """Factory: svc(family, method) readies the backends and adds the UDP service of that
    family and method (rr over all backends); deleted after the test."""
    added = []

    def make(family, method):
        rport = REAL_PORT[method]
        port = rport if method in ("dr", "tun") else rport + 100
        if family == 6:
            env.prepare6(method)
            p = M6.service_params6(testbed, plan, method, port=port, proto="udp",
                                   real_port=rport)
        else:
            if method != "dr":
                env.prepare(method)
            p = M6.service_params_v4(testbed, method, port, real_port=rport)
        lb.call("service.add", p)
        key = {"vip": p["vip"], "port": p["port"], "proto": "udp"}
        added.append(key)
        return key

    yield make
    delete_services(lb, added)


# ---------------------------------------------------------------------------------------------
# helpers


def delta(d0, d1):
    """What changed in stats.get's dataplane section."""
    out = {k: d1[k] - d0[k] for k in d1 if isinstance(d1[k], int) and d1[k] != d0[k]}
    out.update({f"drop_reasons.{k}": v - d0["drop_reasons"].get(k, 0)
                for k, v in d1["drop_reasons"].items() if v != d0["drop_reasons"].get(k, 0)})
    return out


def flows_by_client(d, key):
    virtual = M6.addr_port(key["vip"], key["port"])
    return {c["client"]: c for c in d.call("conn.list", {"limit": 100000})["connections"]
            if not c.get("template") and c["virtual"] == virtual and c["proto"] == "udp"}


def addresses(tb, plan, family):
    """(client, VIP, fnat local address, {backend name: address}) of a family."""
    if family == 6:
        return plan.client, plan.vip, plan.local, dict(plan.backend)
    return tb.client_ip, tb.vip, M.local_address(tb), {b["name"]: b["ip"] for b in tb.backends}


def check_answer(r, names):
    """One UDP_FRAG_CLIENT / UDP_FRAG_CRAFTED result: answered by a backend that got the whole
    datagram. Returns the backend's name."""
    assert r["reply"] is not None, f"no answer to the {r.get('length')}-byte datagram: {r}"
    # every test here sends with its reals' neighbours resolved (Pins, or waited for): a
    # datagram that needed a retry was lost on the way
    assert r["tries"] == 1, f"answered only after {r['tries']} tries: {r}"
    name, length, digest = r["reply"].split()
    assert name in names, r
    assert int(length) == r.get("length", int(length)), r
    assert digest == r["sha256"], f"datagram corrupted on the way: {r}"
    return name


def appliance_saw_fragments(workers, family):
    """Whether the appliance itself receives the client's fragments: always with one worker
    (AF_XDP), with several (af_packet) only for IPv6: the fanout's DEFRAG flag makes the kernel
    reassemble IPv4 datagrams first (see the module docstring)."""
    return workers == 1 or family == 6


# ---------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("method", METHODS6)
@pytest.mark.parametrize("family", [4, 6])
def test_fragmented_udp_reassembled_at_the_real(testbed, plan, lb, svc, env, workers,
                                                family, method):
    key = svc(family, method)
    client, vip, local, real_ip = addresses(testbed, plan, family)
    names = {b["name"] for b in testbed.backends}
    d0 = dataplane(lb)
    results = env.python(testbed.ns_cl, M6.UDP_FRAG_CLIENT, vip, key["port"], *SIZES,
                         timeout=60)
    d1 = dataplane(lb)
    got = collections.Counter(check_answer(r, names) for r in results)
    # 6 flows, rr per worker: a worker that scheduled 3 of them used every real
    assert set(got) == names, dict(got)

    # one flow per datagram, on the real that answered, by the method
    flows = flows_by_client(lb, key)
    for r in results:
        c = flows.get(M6.addr_port(client, r["local_port"]))
        assert c is not None, (r, sorted(flows))
        name = r["reply"].split()[0]
        assert c["real"] == M6.addr_port(real_ip[name], REAL_PORT[method]), (r, c)
        assert c["forward"] == method, c
        if method == "fnat":
            assert M6.split_addr_port(c["local"])[0] == local, c

    # every datagram went to its real in fragments the appliance made (each is over the MTU)
    sent = sum(FRAGMENTS[r["length"]] * r["tries"] for r in results)
    change = delta(d0, d1)
    assert d1["fragments_sent"] - d0["fragments_sent"] >= sent, change
    if appliance_saw_fragments(workers, family):
        # ... and that it had reassembled from the client's fragments
        assert d1["fragments_received"] - d0["fragments_received"] >= sent, change
        assert d1["datagrams_reassembled"] - d0["datagrams_reassembled"] >= len(results), change
    # else: af_packet handed the appliance whole IPv4 datagrams; fragments_sent above shows
    # that it fragmented them for the MTU
    for reason in ("parse", "fragment", "too_big"):
        assert d1["drop_reasons"][reason] == d0["drop_reasons"][reason], change

    s = service_stats(lb, key)
    assert s["conns"] == len(results), s
    assert s["inbytes"] >= sum(SIZES), s   # whole datagrams counted
    if method in ("nat", "fnat"):
        assert s["outpkts"] >= len(results), s   # the answers came back through the appliance
    else:
        assert s["outpkts"] == 0, s
    if method == "tun":   # the datagrams really came through the tunnels
        wait_until(lambda: sum(env.decapsulated_by_family(family).values()) >= len(results),
                   timeout=5, what=f"{len(results)} datagrams decapsulated "
                                   f"(got {env.decapsulated_by_family(family)})")


@pytest.mark.parametrize("method", ["nat", "fnat"])
@pytest.mark.parametrize("family", [4, 6])
def test_fragments_out_of_order(testbed, plan, lb, svc, env, workers, family, method):
    """A datagram whose fragments arrive last-first: the first fragment, the only one with the
    ports, comes last, so nothing can be translated before the datagram is whole."""
    key = svc(family, method)
    client, vip, _, _ = addresses(testbed, plan, family)
    client_mac = testbed.link_mac(testbed.ns_cl, testbed.cl_if)
    d0 = dataplane(lb)
    r = env.python(testbed.ns_cl, M6.UDP_FRAG_CRAFTED, client, vip, key["port"], 5000,
                   client_mac, testbed.lb_mac, testbed.cl_if, "reverse", timeout=60)
    d1 = dataplane(lb)
    check_answer(dict(r, length=5000), {b["name"] for b in testbed.backends})
    assert r["fragments"] >= 4, r
    change = delta(d0, d1)
    if appliance_saw_fragments(workers, family):
        assert d1["fragments_received"] - d0["fragments_received"] >= r["fragments"], change
        assert d1["datagrams_reassembled"] > d0["datagrams_reassembled"], change
    assert d1["fragments_sent"] > d0["fragments_sent"], change
    flows = flows_by_client(lb, key)
    assert M6.addr_port(client, r["local_port"]) in flows, (r, sorted(flows))


# incomplete datagrams of FLOOD_PER fragments each: more fragments than the testbed daemon's
# mbuf pool (testbed.daemon_config: 8191) has buffers, fewer datagrams than one worker may
# reassemble at once (dataplane.frag_datagrams, 4096), so the table keeps them all
FLOOD_DATAGRAMS = 3000
FLOOD_PER = 3
FLOOD_TIMEOUT_MS = 500
def test_incomplete_datagrams_do_not_starve_the_dataplane(testbed, plan, lb_holder, net6):
    """Fragments of IPv6 datagrams never completed, more than the mbuf pool has buffers (IPv6:
    af_packet's kernel reassembly would keep IPv4 ones from the appliance). After
    frag_timeout_ms they must have been given up on (drop_reasons.fragment) and the appliance
    must forward again."""
    lb_holder.stop()   # one daemon per veth: the next test gets the module's daemon back
    cfg = M6.lb_config(testbed, plan, frag_timeout_ms=FLOOD_TIMEOUT_MS)
    assert FLOOD_DATAGRAMS * FLOOD_PER > cfg["dataplane"]["mbufs"], cfg["dataplane"]
    d = testbed.start_daemon(cfg)
    env = M6.Env6(testbed, plan)
    try:
        port = REAL_PORT["dr"]
        key = {"vip": plan.vip, "port": port, "proto": "udp"}
        d.call("service.add", M6.service_params6(testbed, plan, "dr", port=port, proto="udp"))
        wait_until(lambda: M6.reals_resolved(d, {plan.backend[b["name"]]: b["mac"]
                                                 for b in testbed.backends}),
                   timeout=10, what="the IPv6 reals resolved")

        def answered():
            r = env.python(testbed.ns_cl, M6.UDP_FRAG_CLIENT, plan.vip, port, 3000)
            return r[0]["reply"] is not None
        assert answered(), f"no answer before the flood: {dataplane(d)}"

        client_mac = testbed.link_mac(testbed.ns_cl, testbed.cl_if)
        d0 = dataplane(d)
        env.python(testbed.ns_cl, M6.FRAG6_FLOOD, plan.client, plan.vip, port, FLOOD_DATAGRAMS,
                   FLOOD_PER, client_mac, testbed.lb_mac, testbed.cl_if, timeout=60)
        wait_until(lambda: dataplane(d)["fragments_received"] > d0["fragments_received"],
                   timeout=5, what="the flood's fragments to arrive")
        def given_up():
            d1 = dataplane(d)
            return d1["drop_reasons"]["fragment"] - d0["drop_reasons"]["fragment"] >= \
                d1["fragments_received"] - d0["fragments_received"]
        wait_until(given_up, timeout=FLOOD_TIMEOUT_MS / 1000 + 5, interval=0.2,
                   what="every incomplete datagram given up on")
        wait_until(answered, timeout=10, interval=0.5,
                   what=f"answers through the VIP again after the flood "
                        f"({delta(d0, dataplane(d))})")
        # one connection before the flood, at least one after it (a new client port each time)
        assert service_stats(d, key)["conns"] >= 2
    finally:
        env.close()
        d.stop()
