"""End-to-end: the nat, tun and fnat forwarding methods (IPv4) with real clients and servers in
the namespace testbed: HTTP through the VIP (curl to nginx), the 20 MB download, DNS over UDP
(dig to dnsmasq on every backend), 2 MB uploads (through the tunnel only thanks to path MTU
discovery: the appliance's ICMP "fragmentation needed"), ICMP errors relayed for live flows in
both directions, replies without a flow dropped, one service mixing methods per real, ping to
the appliance's addresses, and the TOA option of fnat. What the backends need per method (nat
routes, a tunnel device) is in methods.py.

Every test has its own service key (VIP port), so none meets flows an earlier test left in the
module daemon's flow tables."""
import collections
import json
import random

import pytest

import methods as M
from conftest import LB
from methods import (METHODS, dataplane, delete_services, download_intact, route_mtu,
                     service_stats)
from testbed import nsrun, wait_until, RpcError

FNAT_PORT_MIN, FNAT_PORT_MAX = 20000, 29999
PORT_MTU = 1500
UPLOAD_BYTES = 2 << 20


def methods_config(tb):
    """The module's daemon config: the port's MTU and a narrower fnat port range."""
    cfg = tb.daemon_config(fnat_port_min=FNAT_PORT_MIN, fnat_port_max=FNAT_PORT_MAX)
    cfg["ports"][0]["mtu"] = PORT_MTU
    return cfg


@pytest.fixture(scope="module")
def lb_holder(testbed):
    """Overrides conftest's: conftest's `lb` fixture then hands out this module's daemon."""
    h = LB(testbed, lambda: methods_config(testbed))
    try:
        yield h
    finally:
        h.stop()


@pytest.fixture(scope="module")
def servers(testbed):
    """dnsmasq and the hashing upload server on every backend, for the whole module."""
    env = M.MethodEnv(testbed)
    try:
        env.start_dnsmasq()
        env.start_hash_servers()
        yield env
    finally:
        env.close()


@pytest.fixture
def env(testbed):
    """Per-test backend preparation (nat routes, tunnel devices) and helper processes."""
    e = M.MethodEnv(testbed)
    try:
        yield e
    finally:
        e.close()


PIN_PORT = 9


@pytest.fixture(scope="module")
def neighbours(lb_holder, testbed):
    """Keeps the backends' MACs resolved in the daemon for the whole module: the daemon forgets
    a neighbour as soon as no service has it as a real, and drops packets to an unresolved one
    (no_neighbour) while it asks again. Without this, the first datagram of each test's fresh
    UDP service would be lost. A direct-routing service on VIP:9 pins them; one SYN to each
    real (answered with a RST by the real itself) proves each MAC is known."""
    d = lb_holder.ensure()
    key = {"vip": testbed.vip, "port": PIN_PORT, "proto": "tcp"}
    d.call("service.add", dict(key, scheduler="rr", forward="dr",
                               reals=[{"ip": b["ip"]} for b in testbed.backends]))

    def resolved():
        s = d.call("stats.get", key)["services"][0]
        if all(r["inpkts"] > 0 for r in s["reals"]):
            return True
        testbed.curl(port=PIN_PORT, max_time=1)
        return False

    try:
        wait_until(resolved, timeout=20, what="a SYN reaching every real (their MACs resolved)")
        yield
    finally:
        if lb_holder.d is not None and lb_holder.d.alive():
            try:
                lb_holder.d.call("service.del", key)
            except RpcError:
                pass


@pytest.fixture
def svc(lb, testbed, env, neighbours):
    """Factory: svc(method, **service_params) readies the backends for the method and adds the
    service (rr over the testbed's backends); deleted after the test, before env undoes the
    backends' preparation."""
    added = []

    def make(method, **kw):
        env.prepare(method, kw.get("backends"))
        p = M.service_params(testbed, method, **kw)
        stored = lb.call("service.add", p)
        assert stored["forward"] == method, stored
        key = {"vip": p["vip"], "port": p["port"], "proto": p["proto"]}
        added.append(key)
        return key

    yield make
    delete_services(lb, added)


# ---------------------------------------------------------------------------------------------
# helpers


def flows_of(lb, key):
    conns = lb.call("conn.list", {"limit": 100000})["connections"]
    return [c for c in conns if not c.get("template") and c["proto"] == key["proto"]
            and c["virtual"] == f"{key['vip']}:{key['port']}"]


def alt_port(tb):
    """A real port other than 80 that nginx also listens on (nat/fnat translate the port), or
    80 when the testbed's nginx has no other port."""
    others = [p for p in getattr(tb, "http_ports", (80,)) if p != 80]
    return others[0] if others else 80


def access_lines(tb):
    out = {}
    for b in tb.backends:
        try:
            with open(b["access_log"]) as f:
                out[b["name"]] = [ln for ln in f.read().split("\n")[:-1]]   # complete lines
        except FileNotFoundError:
            out[b["name"]] = []
    return out


def wait_access_lines(tb, before, n):
    """The access log lines since `before`, once there are n (nginx logs a request after it
    answered it, so the last ones may lag behind curl)."""
    def new():
        after = access_lines(tb)
        lines = {name: after[name][len(before[name]):] for name in after}
        return lines if sum(len(v) for v in lines.values()) >= n else None
    return wait_until(new, timeout=5, what=f"{n} requests in the access logs")


def new_access_sources(tb, before, n):
    """Client addresses nginx logged (first field) for the n requests since `before`."""
    return collections.Counter(ln.split(" ", 1)[0]
                               for lines in wait_access_lines(tb, before, n).values()
                               for ln in lines)


def stats_delta(d0, d1):
    """What changed in stats.get's dataplane section (for failure messages)."""
    out = {k: d1[k] - d0[k] for k in d1 if isinstance(d1[k], int) and d1[k] != d0[k]}
    out.update({f"drop_reasons.{k}": v - d0["drop_reasons"].get(k, 0)
                for k, v in d1["drop_reasons"].items() if v != d0["drop_reasons"].get(k, 0)})
    return out


def vport(method, real_port, base):
    """The VIP port of a test's service: the real's port for tun (which cannot translate it),
    base + 1 (nat) / base + 2 (fnat) otherwise. So no two tests share a service key and no test
    meets flows that an earlier one left in the module daemon's tables."""
    return real_port if method == "tun" else base + 1 + (method == "fnat")


def expected_source(tb, method):
    """The client address a real server sees."""
    return M.local_address(tb) if method == "fnat" else tb.client_ip


# ---------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("method", METHODS)
def test_http_rr_over_100_connections(testbed, lb, svc, env, workers, method):
    rport = 80 if method == "tun" else alt_port(testbed)
    key = svc(method, port=vport(method, rport, 8000), real_port=rport)
    before = access_lines(testbed)
    n = 100
    bodies = testbed.curl_many(n, port=key["port"])
    assert bodies.count(None) == 0, f"{bodies.count(None)} of {n} requests failed"
    got = collections.Counter(bodies)
    assert set(got) == {b["name"] for b in testbed.backends}, dict(got)
    for b in testbed.backends:
        # rr per worker: each extra worker may shift a real's count by one
        assert abs(got[b["name"]] - n / 3) <= 1 + (workers - 1), dict(got)

    # The real servers saw the client (nat, tun) or the local address (fnat).
    srcs = new_access_sources(testbed, before, n)
    assert srcs == {expected_source(testbed, method): n}, srcs

    flows = flows_of(lb, key)
    assert len(flows) >= n, f"{len(flows)} flows listed for {n} connections"
    assert {c["forward"] for c in flows} == {method}
    assert {c["real"].rsplit(":", 1)[1] for c in flows} == {str(rport)}
    by_real = collections.Counter(c["real"].rsplit(":", 1)[0] for c in flows)
    assert by_real == collections.Counter({b["ip"]: got[b["name"]] for b in testbed.backends})
    for c in flows:
        if method == "fnat":
            laddr, lport = c["local"].rsplit(":", 1)
            assert laddr == M.local_address(testbed), c
            assert FNAT_PORT_MIN <= int(lport) <= FNAT_PORT_MAX, c
        else:
            assert "local" not in c, c
    if method == "fnat":   # a local address:port may serve several reals, never one twice
        assert len({(c["local"], c["real"]) for c in flows}) == len(flows), flows

    s = wait_until(lambda: (lambda s: s if s["conns"] >= n else None)(service_stats(lb, key)),
                   timeout=5, what=f"{n} connections in stats.get")
    assert s["conns"] == n
    assert {r["forward"] for r in s["reals"]} == {method}
    if method == "tun":
        assert s["outpkts"] == 0, s   # the reals answer the client directly
        # every backend's decapsulator (tunl0 or the user-space one) counts what came
        # through the tunnel: without encapsulation the reals would still answer (the VIP is
        # on their lo), so this is what shows the method at work
        assert set(env.decapsulated()) == {b["name"] for b in testbed.backends}
        wait_until(lambda: sum(env.decapsulated().values()) >= 3 * n, timeout=5,
                   what=f"3 x {n} packets decapsulated (got {env.decapsulated()})")
    else:
        assert s["outpkts"] >= 2 * n and s["outbytes"] > 0, s   # replies pass the appliance


@pytest.mark.parametrize("method", METHODS)
def test_big_download_intact(testbed, lb, svc, method):
    key = svc(method, port=vport(method, 80, 8010), real_port=80)
    download_intact(testbed, testbed.vip, key["port"], method)
    s = service_stats(lb, key)
    assert s["conns"] == 1, s
    if method == "tun":
        assert s["outbytes"] == 0, s
    else:
        assert s["outbytes"] >= testbed.big_size, s


@pytest.mark.parametrize("method", METHODS)
def test_dns_over_udp(testbed, lb, svc, servers, workers, method):
    key = svc(method, port=vport(method, 53, 5300), proto="udp", real_port=53)
    ips = {b["ip"] for b in testbed.backends}
    n = 12
    answers = M.dig_many(testbed, testbed.vip, n, port=key["port"])
    assert answers.count(None) == 0, f"{answers.count(None)} of {n} queries unanswered: {answers}"
    got = collections.Counter(answers)
    assert set(got) <= ips, dict(got)
    # rr per worker: with 12 queries over at most 2 workers, one saw at least 6 and so used all
    assert len(got) == 3, f"answered by {dict(got)} only"
    flows = flows_of(lb, key)
    assert len(flows) >= n - 1, flows   # two digs may share a random source port
    assert {c["forward"] for c in flows} == {method}
    s = service_stats(lb, key)
    assert s["conns"] == len({c["client"] for c in flows}), (s, flows)
    if method != "tun":
        assert s["outpkts"] >= n, s   # every answer came back through the appliance


@pytest.mark.parametrize("method", METHODS)
def test_upload_2mb(testbed, lb, svc, servers, method):
    """2 MB from the client to a hashing server behind the VIP. Through the tunnel, the client's
    1500-byte segments no longer fit once encapsulated: the appliance answers ICMP frag-needed
    (MTU - 20) and drops them, and the upload completes only because the client then sends
    smaller segments (path MTU discovery)."""
    key = svc(method, port=vport(method, M.UPLOAD_PORT, 8080), real_port=M.UPLOAD_PORT)
    nsrun(testbed.ns_cl, ["ip", "route", "flush", "cache"])
    assert route_mtu(testbed, testbed.vip) is None
    d0 = dataplane(lb)
    try:
        r = servers.python(testbed.ns_cl, M.UPLOAD_CLIENT, testbed.vip, key["port"],
                           UPLOAD_BYTES, timeout=90)
        name, length, digest = r["reply"].split()
        assert name in {b["name"] for b in testbed.backends}, r
        assert int(length) == UPLOAD_BYTES, r
        assert digest == r["sha256"], f"{method}: upload corrupted ({r})"
        d1 = dataplane(lb)
        if method == "tun":
            assert d1["icmp_frag_needed_sent"] > d0["icmp_frag_needed_sent"], d1
            assert d1["drop_reasons"]["too_big"] > d0["drop_reasons"]["too_big"], d1
            assert route_mtu(testbed, testbed.vip) == PORT_MTU - 20
        else:
            assert d1["icmp_frag_needed_sent"] == d0["icmp_frag_needed_sent"], d1
            assert d1["drop_reasons"]["too_big"] == d0["drop_reasons"]["too_big"], d1
            assert route_mtu(testbed, testbed.vip) is None
        s = service_stats(lb, key)
        assert s["conns"] == 1 and s["inbytes"] > UPLOAD_BYTES, s
    finally:
        nsrun(testbed.ns_cl, ["ip", "route", "flush", "cache"], check=False)


@pytest.mark.parametrize("method", ["nat", "fnat"])
def test_icmp_port_unreachable_relayed(testbed, lb, svc, env, method):
    """UDP to a real port where nothing listens: the real's ICMP port unreachable goes to the
    appliance (nat: the backend's route to the client; fnat: to the local address), which
    translates it for the flow; the client's connected socket gets ECONNREFUSED, from the
    VIP."""
    rport = 5999
    key = svc(method, port=vport(method, rport, 5000), proto="udp", real_port=rport)
    before = dataplane(lb)["icmp_errors_relayed"]
    r = env.python(testbed.ns_cl, M.UDP_REFUSED, testbed.vip, key["port"], 10, timeout=30)
    assert r["errno"] == "ECONNREFUSED", r
    assert (r.get("type"), r.get("code")) == (3, 3), r       # port unreachable
    assert r.get("offender") == testbed.vip, r               # the client only knows the VIP
    assert r.get("about") == f"{testbed.vip}:{key['port']}", r
    wait_until(lambda: dataplane(lb)["icmp_errors_relayed"] > before, timeout=5,
               what="icmp_errors_relayed to grow")
    mine = [c for c in flows_of(lb, key) if c["client"] == f"{testbed.client_ip}:{r['local_port']}"]
    assert len(mine) == 1 and mine[0]["real"].endswith(f":{rport}"), mine


@pytest.mark.parametrize("method", ["nat", "fnat"])
def test_icmp_error_about_a_reply_reaches_the_real(testbed, lb, svc, env, method):
    """The other direction: the real's late answers find the client's sockets closed; the
    client's ICMP port unreachable (to the VIP, quoting VIP -> client) is translated for the
    real, which sees it about its own packet (nat: from the client, about the client's address;
    fnat: from and about the local address). Several flows, so that with several workers
    some are owned by a worker other than the one the ICMP errors arrive at."""
    b1 = testbed.backends[0]
    rport, n = 5998, 12
    key = svc(method, port=vport(method, rport, 5010), proto="udp", real_port=rport,
              backends=[b1])
    # the client's kernel answers all n at once (its default: a burst of 6, then 1/s)
    env.set_sysctl(testbed.ns_cl, "net.ipv4.icmp_ratelimit", 0)
    srv = env.start(b1["ns"], [M.PYTHON, "-c", M.UDP_LATE_REPLY, str(rport), str(n), "0.3",
                               "5"], f"late-{method}", ready="ready")
    d0 = dataplane(lb)
    c = env.python(testbed.ns_cl, M.UDP_FIRE_AND_FORGET, testbed.vip, key["port"], n)
    out, _ = srv.communicate(timeout=30)
    if not out.strip():
        raise AssertionError(f"the real's UDP server failed: {env.log(srv)}")
    r = json.loads(out.strip().splitlines()[-1])
    clients = {f"{testbed.client_ip}:{p}" for p in c["local_ports"]}
    flows = [f for f in flows_of(lb, key) if f["client"] in clients]
    assert len(flows) == n and len(r["peers"]) == n, (r, flows)
    if method == "nat":
        assert set(r["peers"]) == clients, r
        want_offender = testbed.client_ip
    else:
        assert set(r["peers"]) == {f["local"] for f in flows}, (r, flows)
        want_offender = M.local_address(testbed)
    d1 = dataplane(lb)
    about = sorted(e["about"] for e in r["errors"])
    assert about == sorted(r["peers"]), \
        (f"ICMP errors reached the real for {len(about)} of {n} answers: {r}\n"
         f"{stats_delta(d0, d1)}\nflows: {flows}")
    assert {(e["type"], e["code"], e["offender"]) for e in r["errors"]} == \
        {(3, 3, want_offender)}, r
    wait_until(lambda: dataplane(lb)["icmp_errors_relayed"] >= d0["icmp_errors_relayed"] + n,
               timeout=5, what=f"icmp_errors_relayed to grow by {n}")


def test_nat_reply_without_flow_is_dropped(testbed, lb, svc, env, servers):
    """With the nat route in place, a backend's answer to a query the client sent it directly
    (not through the VIP) reaches the appliance without a flow: dropped, never forwarded with
    the real's address."""
    key = svc("nat", port=5321, proto="udp", real_port=53)
    b1 = testbed.backends[0]
    assert M.dig(testbed, key["vip"], port=key["port"]), "no answer through the VIP"
    before = dataplane(lb)["drop_reasons"]["no_reply_flow"]
    assert M.dig(testbed, b1["ip"], time_s=1) == [], "the direct answer got through"
    wait_until(lambda: dataplane(lb)["drop_reasons"]["no_reply_flow"] > before, timeout=5,
               what="drop_reasons.no_reply_flow to grow")


def test_methods_mixed_per_real(testbed, lb, svc, env):
    """One service, each real with its own method: b1 tun, b2 nat, b3 fnat."""
    port = alt_port(testbed)   # tun keeps the port: nginx must listen on it
    b1, b2, b3 = testbed.backends
    env.prepare("tun", [b1])
    env.prepare("nat", [b2])
    reals = [{"ip": b1["ip"], "port": port, "forward": "tun"},
             {"ip": b2["ip"], "port": 80, "forward": "nat"},
             {"ip": b3["ip"], "port": 80, "forward": "fnat"}]
    key = svc("dr", port=port, reals=reals, local_addresses=[M.local_address(testbed)])
    listed = [s for s in lb.call("service.list")["services"]
              if (s["vip"], s["port"], s["proto"]) == (key["vip"], key["port"], "tcp")][0]
    assert listed["forward"] == "dr"
    assert {r["ip"]: (r["forward"], r["port"]) for r in listed["reals"]} == \
        {b1["ip"]: ("tun", port), b2["ip"]: ("nat", 80), b3["ip"]: ("fnat", 80)}
    before = access_lines(testbed)
    n = 30
    bodies = testbed.curl_many(n, port=port)
    assert bodies.count(None) == 0, bodies
    got = collections.Counter(bodies)
    assert set(got) == {"b1", "b2", "b3"}, dict(got)
    lines = wait_access_lines(testbed, before, n)
    for b, src in ((b1, testbed.client_ip), (b2, testbed.client_ip),
                   (b3, M.local_address(testbed))):
        new = lines[b["name"]]
        assert len(new) == got[b["name"]] and {ln.split(" ", 1)[0] for ln in new} == {src}, \
            (b["name"], new)
    by_real = {}
    for c in flows_of(lb, key):
        by_real.setdefault(c["real"], set()).add((c["forward"], "local" in c))
    assert by_real == {f"{b1['ip']}:{port}": {("tun", False)},
                       f"{b2['ip']}:80": {("nat", False)},
                       f"{b3['ip']}:80": {("fnat", True)}}, by_real


def test_ping_appliance_addresses(testbed, lb, svc, env):
    svc("fnat", port=8099, real_port=80)   # the VIP and a local address
    targets = [testbed.vip, M.local_address(testbed), testbed.lb_ip]
    before = dataplane(lb)["icmp_echo_replies"]
    got = env.python(testbed.ns_cl, M.PING, 3, *targets, timeout=60)
    assert got == {t: 3 for t in targets}, got
    wait_until(lambda: dataplane(lb)["icmp_echo_replies"] >= before + 9, timeout=5,
               what="icmp_echo_replies to count 9 more")


def _sniff_syn(tb, env, backend, port, curl_port, vip_port):
    """Starts a SYN sniffer on backend, makes one curl from client port curl_port, returns
    (curl body, captured SYN)."""
    p = env.start(backend["ns"], [M.PYTHON, "-c", M.SYN_SNIFFER, backend["ifname"], str(port),
                                  "15"], f"sniff-{backend['name']}-{curl_port}", ready="ready")
    r = nsrun(tb.ns_cl, ["curl", "-s", "--max-time", "5", "--local-port", str(curl_port),
                         f"http://{tb.vip}:{vip_port}/"], check=False, timeout=20)
    out, _ = p.communicate(timeout=20)
    env.stop(p)
    lines = out.strip().splitlines()
    return r.stdout.strip(), (json.loads(lines[-1]) if lines else None)


def test_fnat_toa_carries_client_address(testbed, lb, svc, env):
    b1 = testbed.backends[0]
    key = svc("fnat", port=8090, real_port=80, backends=[b1])
    port = random.randint(40000, 49999)

    body, syn = _sniff_syn(testbed, env, b1, 80, port, key["port"])
    assert body == "b1"
    assert syn is not None, "no SYN captured at the real server"
    assert syn["src"] == M.local_address(testbed) and syn["dst"] == b1["ip"], syn
    assert FNAT_PORT_MIN <= syn["sport"] <= FNAT_PORT_MAX, syn
    assert 254 not in [o[0] for o in syn["options"]], f"TOA without client_address: {syn}"

    assert lb.call("service.update", dict(key, client_address="toa"))["client_address"] == "toa"
    before = dataplane(lb)["toa_added"]
    body, syn = _sniff_syn(testbed, env, b1, 80, port + 1, key["port"])
    assert body == "b1", "the real server did not accept a SYN with TOA"
    assert syn is not None, "no SYN captured at the real server"
    assert syn["src"] == M.local_address(testbed), syn
    toa = [o for o in syn["options"] if o[0] == 254]
    assert len(toa) == 1 and toa[0][2] == 8, syn
    raw = bytes.fromhex(toa[0][1])
    assert int.from_bytes(raw[:2], "big") == port + 1, syn
    assert ".".join(str(x) for x in raw[2:6]) == testbed.client_ip, syn
    # the options the client sent are all still there
    assert {2, 4, 8} <= {o[0] for o in syn["options"]}, syn   # MSS, SACK-permitted, timestamps
    wait_until(lambda: dataplane(lb)["toa_added"] > before, timeout=5, what="toa_added to grow")
