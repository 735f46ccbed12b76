"""End-to-end tests of health checks, feedback agents and admin states over real traffic
(issue 10 item 7): new connections through the VIP (curl_many, one TCP connection per request)
show who is in the pool.

  - a killed backend is marked down within interval x failures + timeout and gets no new
    connections after that; restarted, it comes back;
  - the holding page (fallback {"local": true}) answers 503 when every real is down, and the
    reals get the connections again as soon as one is up;
  - weights follow the agents (HAProxy agent-check "50%", "drain", "down", "up ready 75%"; the
    LVS appliance agent's idle CPU "20" / "90", over TCP and HTTP), shown by the split of 200
    new connections;
  - real.drain / real.offline / real.online on new connections, and drain keeps a download.

Every backend runs the protocol servers' nginx on 8080 (/ answers its name, /health the
check's page, /big the testbed's rate-limited file); the service is VIP:8080 over all three.

Tolerance of a split: the dataplane's wrr is exact over each of its cycles (sum of weights /
gcd connections) per worker; a run of n connections starts anywhere in a cycle, so each count
may be off by up to one cycle's share per worker. SPLIT_TOL (0.05 n + 3 per worker) covers that
with room for a connection or two the client retried.
"""
import os
import time

import pytest

import healthlib as H
from agent_server import AgentServer
from methods import sha256_file
from protocol_servers import HEALTH_PATH, ProtocolServers
from testbed import nsrun

PORT = 8080
WEIGHT = 100
N = 200
PAGE = "<html><body>hc-holding: back soon</body></html>"


@pytest.fixture(scope="module")
def webs(testbed):
    """nginx on 8080 in every backend: {name: Nginx server}."""
    all_ps = []
    try:
        for b in testbed.backends:
            all_ps.append(ProtocolServers(testbed, b).start_all(["nginx"]))
        yield {ps.b["name"]: ps["nginx"] for ps in all_ps}
    finally:
        for ps in all_ps:
            ps.close()


@pytest.fixture
def web_restore(webs):
    """Whatever a test stops is started again afterwards."""
    yield webs
    for s in webs.values():
        s.start()
        s.set_wrong(False)


def _params(tb, check=None, scheduler="rr", **extra):
    p = {"vip": tb.vip, "port": PORT, "proto": "tcp", "scheduler": scheduler,
         "check": check if check is not None else H.check(type="negotiate", service="http",
                                                          request=HEALTH_PATH),
         "reals": [{"ip": b["ip"], "port": PORT, "weight": WEIGHT} for b in tb.backends]}
    p.update(extra)
    return p


def _split(tb, n):
    bodies = tb.curl_many(n, port=PORT)
    failed = bodies.count(None)
    assert failed == 0, f"{failed} of {n} requests failed: {bodies}"
    counts = {b["name"]: 0 for b in tb.backends}
    for body in bodies:
        assert body in counts, f"unexpected reply {body!r}"
        counts[body] += 1
    return counts


def _tol(n, workers):
    return 0.05 * n + 3 * workers


def _assert_shares(counts, weights, n, workers):
    """counts follow weights ({name: weight}) within the tolerance; weight 0 gets none."""
    total = sum(weights.values())
    tol = _tol(n, workers)
    for name, w in weights.items():
        want = n * w / total
        if w == 0:
            assert counts[name] == 0, f"{name} (weight 0) got {counts[name]}: {counts}"
        else:
            assert abs(counts[name] - want) <= tol, \
                f"{name}: {counts[name]} connections, {want:.1f} expected (+-{tol:.1f}) " \
                f"for weights {weights}: {counts}"


def _wait_all(lb, tb, key, state, timeout):
    for b in tb.backends:
        H.wait_real(lb, key, b["ip"], PORT, state, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# a killed backend


@pytest.mark.parametrize("quiescent", [True, False], ids=["quiescent", "not-quiescent"])
def test_killed_backend_is_marked_down_in_time_and_gets_no_new_connections(
        lb, testbed, workers, web_restore, quiescent):
    interval, timeout, failures = 0.5, 1.0, 2
    bound = interval * failures + timeout
    check = H.check(type="negotiate", service="http", request=HEALTH_PATH, interval=interval,
                    timeout=timeout, failures=failures, quiescent=quiescent)
    b2 = testbed.backends[1]
    with H.service(lb, _params(testbed, check)) as key:
        _wait_all(lb, testbed, key, "up", H.SLACK + bound)
        counts = _split(testbed, 60)
        assert counts["b2"] > 0, counts

        web_restore["b2"].stop()            # returns once nothing listens on 8080 any more
        t0 = time.monotonic()
        r, took = H.wait_real(lb, key, b2["ip"], PORT, "down", timeout=bound + H.SLACK)
        # polled every 0.05 s; 1 s of slack for check scheduling and RPC on 2 shared cores
        assert took <= bound + 1.0, f"marked down after {took:.2f}s, bound {bound}s + 1s"
        print(f"\nkilled backend down after {time.monotonic() - t0:.2f}s (bound {bound}s)")
        assert r["failures"] >= failures and r["effective_weight"] == 0, r
        # quiescent: still scheduled with weight 0; not quiescent: out of scheduling
        assert r["in_service"] is quiescent, r
        counts = _split(testbed, 60)
        assert counts["b2"] == 0, counts
        _assert_shares(counts, {"b1": 1, "b2": 0, "b3": 1}, 60, workers)

        web_restore["b2"].start()
        r, took = H.wait_real(lb, key, b2["ip"], PORT, "up", timeout=bound + H.SLACK)
        assert took <= interval + timeout + 1.0, f"back up after {took:.2f}s"
        assert r["in_service"] and r["effective_weight"] == WEIGHT, r
        counts = _split(testbed, 60)
        _assert_shares(counts, {"b1": 1, "b2": 1, "b3": 1}, 60, workers)


# ---------------------------------------------------------------------------------------------
# the holding page


def _curl_code(tb, path="/"):
    out = os.path.join(tb.tmp, "holding-body")
    r = nsrun(tb.ns_cl, ["curl", "-s", "--max-time", "5", "-o", out, "-w", "%{http_code}",
                         f"http://{tb.vip}:{PORT}{path}"], check=False, timeout=15)
    body = ""
    if os.path.exists(out):
        with open(out, errors="replace") as f:
            body = f.read()
        os.unlink(out)
    return r.stdout.strip(), body


def test_holding_page_when_all_reals_are_down(lb, testbed, workers, web_restore):
    params = _params(testbed, fallback={"local": True, "page": PAGE})
    with H.service(lb, params) as key:
        _wait_all(lb, testbed, key, "up", 10)
        assert H.service_status(lb, key)["fallback_active"] is False
        for s in web_restore.values():
            s.stop()
        _wait_all(lb, testbed, key, "down", 10)
        H.wait_until(lambda: H.service_status(lb, key)["fallback_active"], timeout=5,
                     what="fallback_active")
        for i in range(10):
            code, body = _curl_code(testbed, f"/?i={i}")
            assert code == "503", f"request {i}: status {code!r}, body {body!r}"
            assert PAGE in body, f"request {i}: body {body!r}"

        web_restore["b1"].start()
        H.wait_real(lb, key, testbed.backends[0]["ip"], PORT, "up", timeout=10)
        H.wait_until(lambda: not H.service_status(lb, key)["fallback_active"], timeout=5,
                     what="fallback no longer active")
        counts = _split(testbed, 30)
        assert counts == {"b1": 30, "b2": 0, "b3": 0}, counts


# ---------------------------------------------------------------------------------------------
# feedback agents


@pytest.fixture
def agents(testbed):
    """agents(mode, {name: reply}) starts an agent on 3333 in every backend named; all are
    stopped after the test."""
    started = {}

    def make(mode, replies):
        for name, reply in replies.items():
            b = next(b for b in testbed.backends if b["name"] == name)
            started[name] = AgentServer(testbed, b, mode, reply).start()
        return started

    yield make
    for a in started.values():
        a.stop()


def _eff(lb, tb, key):
    return {b["name"]: H.real_status(lb, key, b["ip"], PORT)["effective_weight"]
            for b in tb.backends}


def _wait_eff(lb, tb, key, want, timeout=10):
    return H.wait_until(lambda: (lambda e: e if e == want else None)(_eff(lb, tb, key)),
                        timeout=timeout, what=f"effective weights {want} "
                                              f"(now {_eff(lb, tb, key)})")


# reply, b1's effective weight, health.status "reason" (the health check keeps saying "up":
# an agent's "down" is the agent's observation, shown in reason and the weight)
HAPROXY_STEPS = [("50%", 50, "agent"), ("drain", 0, "agent drain"),
                 ("down", 0, "agent down (quiescent)"), ("up ready 75%", 75, "agent")]


class TestHaproxyAgent:
    """One service and three agents for the steps, which run in order on b1's agent."""

    @pytest.fixture(scope="class")
    def haproxy_service(self, lb_holder, testbed, webs):
        """VIP:8080 wrr, agent haproxy every 0.3 s sending "hc-send\\n", agents answering
        100%; b1's reply is what each step changes."""
        lb = lb_holder.ensure()
        agents = {}
        try:
            for b in testbed.backends:
                agents[b["name"]] = AgentServer(testbed, b, "haproxy", "100%").start()
            params = _params(testbed, scheduler="wrr",
                             agent={"type": "haproxy", "port": 3333, "interval": 0.3,
                                    "timeout": 1.0, "send": "hc-send\n"})
            with H.service(lb, params) as key:
                yield lb, key, agents
        finally:
            for a in agents.values():
                a.stop()

    @pytest.mark.parametrize("reply,weight,reason", HAPROXY_STEPS,
                             ids=[s[0].replace(" ", "-").replace("%", "pct")
                                  for s in HAPROXY_STEPS])
    def test_haproxy_agent_sets_the_weight(self, haproxy_service, testbed, workers, reply,
                                           weight, reason):
        lb, key, agents = haproxy_service
        agents["b1"].set(reply)
        polls = agents["b1"].connections()
        agents["b1"].wait_polled(polls + 1)
        _wait_eff(lb, testbed, key, {"b1": weight, "b2": WEIGHT, "b3": WEIGHT})
        r = H.real_status(lb, key, testbed.backends[0]["ip"], PORT)
        assert r["state"] == "up" and r["reason"] == reason, r
        assert r["agent"] is not None and r["agent"]["reply"].strip() == reply, r
        assert r["agent"]["error"] == "", r
        assert b"hc-send\n" in agents["b1"].sent()[-1], agents["b1"].sent()[-1:]
        counts = _split(testbed, N)
        _assert_shares(counts, {"b1": weight, "b2": WEIGHT, "b3": WEIGHT}, N, workers)


@pytest.mark.parametrize("mode", ["agent", "http"])
def test_lvs_agent_idle_cpu_sets_the_weight(lb, testbed, workers, webs, agents, mode):
    """new weight = idle / 10 x configured weight: 20 -> 2w, 90 -> 9w, so b1 gets 20/200."""
    w = 10
    params = _params(testbed, scheduler="wrr",
                     agent={"type": mode, "port": 3333, "interval": 0.3, "timeout": 1.0})
    for r in params["reals"]:
        r["weight"] = w
    agents(mode, {"b1": "20", "b2": "90", "b3": "90"})
    with H.service(lb, params) as key:
        _wait_eff(lb, testbed, key, {"b1": 2 * w, "b2": 9 * w, "b3": 9 * w})
        r = H.real_status(lb, key, testbed.backends[0]["ip"], PORT)
        assert r["agent"]["reply"].strip() == "20" and r["agent"]["error"] == "", r
        counts = _split(testbed, N)
        _assert_shares(counts, {"b1": 20, "b2": 90, "b3": 90}, N, workers)


def _health_counters(lb):
    """stats.get's health counters (top level "health"; HEALTH_API.md said under "global")."""
    st = H.call(lb, "stats.get")
    return st["health"] if "health" in st else st["global"]["health"]


def test_unreachable_agent_leaves_the_weight_and_is_counted(lb, testbed, webs, agents):
    params = _params(testbed, scheduler="wrr",
                     agent={"type": "haproxy", "port": 3333, "interval": 0.3, "timeout": 1.0})
    started = agents("haproxy", {"b1": "50%", "b2": "100%", "b3": "100%"})
    with H.service(lb, params) as key:
        _wait_eff(lb, testbed, key, {"b1": 50, "b2": WEIGHT, "b3": WEIGHT})
        before = _health_counters(lb)["agent_failures"]
        started["b1"].stop()
        r = H.wait_until(lambda: (lambda x: x if x["agent"] and x["agent"]["failures"] >= 2
                                  else None)(H.real_status(lb, key, testbed.backends[0]["ip"],
                                                           PORT)),
                         timeout=10, what="two failed agent polls")
        assert r["agent"]["error"] != "", r
        assert r["effective_weight"] == 50 and r["state"] == "up", r
        after = _health_counters(lb)["agent_failures"]
        assert after >= before + 2, (before, after)


# ---------------------------------------------------------------------------------------------
# admin states


def _admin(lb, key, ip, what):
    return H.call(lb, f"real.{what}", {"service": key, "ip": ip, "port": PORT})


def _serving_backend(tb):
    """The backend with an established connection on 8080 (the running download)."""
    for b in tb.backends:
        out = nsrun(b["ns"], ["ss", "-Htn", "state", "established", "sport", "=", f":{PORT}"],
                    check=False).stdout
        if out.strip():
            return b
    return None


def test_drain_offline_online_on_new_connections(lb, testbed, workers, webs):
    with H.service(lb, _params(testbed)) as key:
        _wait_all(lb, testbed, key, "up", 10)
        b1 = testbed.backends[0]["ip"]

        res = _admin(lb, key, b1, "drain")
        assert res == {"state": "drain", "weight": WEIGHT, "effective_weight": 0}, res
        r = H.real_status(lb, key, b1, PORT)
        assert r["admin"] == "drain" and r["state"] == "up" and r["effective_weight"] == 0, r
        counts = _split(testbed, 60)
        _assert_shares(counts, {"b1": 0, "b2": 1, "b3": 1}, 60, workers)

        res = _admin(lb, key, b1, "offline")
        assert res["state"] == "offline" and res["effective_weight"] == 0, res
        r = H.real_status(lb, key, b1, PORT)
        assert r["admin"] == "offline" and r["in_service"] is False, r
        counts = _split(testbed, 60)
        _assert_shares(counts, {"b1": 0, "b2": 1, "b3": 1}, 60, workers)

        res = _admin(lb, key, b1, "online")
        assert res == {"state": "online", "weight": WEIGHT, "effective_weight": WEIGHT}, res
        r = H.real_status(lb, key, b1, PORT)
        assert r["admin"] == "online" and r["in_service"] and r["effective_weight"] == WEIGHT
        counts = _split(testbed, 60)
        _assert_shares(counts, {"b1": 1, "b2": 1, "b3": 1}, 60, workers)


def test_drain_keeps_a_running_download(lb, testbed, workers, webs):
    with H.service(lb, _params(testbed)) as key:
        _wait_all(lb, testbed, key, "up", 10)
        out = os.path.join(testbed.tmp, "drain-download")
        p = testbed.download(out, path=f":{PORT}/big")
        try:
            b = H.wait_until(lambda: _serving_backend(testbed), timeout=10,
                             what="the download's backend")
            _admin(lb, key, b["ip"], "drain")
            counts = _split(testbed, 30)
            assert counts[b["name"]] == 0, counts
            p.wait(timeout=120)
            assert p.returncode == 0, p.stderr.read()
            assert os.path.getsize(out) == testbed.big_size
            assert sha256_file(out) == testbed.big_sha256, "download corrupted"
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            testbed.remove_pid(p.pid)
            if os.path.exists(out):
                os.unlink(out)
