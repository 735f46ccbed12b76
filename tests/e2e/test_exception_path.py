"""End-to-end: the exception path. The daemon gives its port a kernel interface (dlb0) in the
appliance's namespace, holding the port's MAC, IPv4 and IPv6 addresses; what the dataplane
neither forwards nor answers itself reaches that kernel, and what the kernel sends leaves
through the port.

- a TCP service bound to the port's address in the appliance's namespace (python3 -m
  http.server) answers the client, over IPv4 and IPv6;
- an ordinary kernel socket in the appliance's namespace (curl) reaches a real server's nginx
  through the DPDK port, over IPv4 and IPv6;
- a SYN flood at the port's address (hping3 --flood from the client, bounded in time) is
  counted and rate-limited (exception_dropped grows; the kernel interface receives at most about
  exception.rx_pps) while VIP forwarding keeps working. The VIP request rate with and without
  the flood is measured and printed (run with -s), not asserted: the testbed's two shared cores
  make timings meaningless as pass/fail criteria.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

import methods as M
import methods6 as M6
from methods import dataplane
from testbed import PYTHON, nsrun, run, wait_until

RX_PPS = 2000     # exception.rx_pps of this module's daemon
BURST = 200
LISTEN_PORT = 8765
FLOOD_PORT = 2222
FLOOD_S = 10
VIP_REQUESTS = 50


@pytest.fixture(scope="module")
def plan(testbed):
    return M6.Plan6(testbed)


@pytest.fixture(scope="module")
def net6(testbed, plan):
    """IPv6 on the client and the backends, nginx on [::] on every backend (methods6)."""
    env = M6.Env6(testbed, plan)
    try:
        env.enable_ipv6()
        env.start_nginx6()
        yield env
    finally:
        env.close()


@pytest.fixture(scope="module")
def lb_holder(testbed, plan, net6):
    """Overrides conftest's: a daemon with the port's address6 and a low exception.rx_pps."""
    from conftest import LB

    def config():
        cfg = M6.lb_config(testbed, plan)
        cfg["exception"] = {"rx_pps": RX_PPS, "burst": BURST}
        return cfg

    h = LB(testbed, config)
    try:
        yield h
    finally:
        h.stop()


@pytest.fixture
def env(testbed, plan, net6):
    e = M6.Env6(testbed, plan)
    try:
        yield e
    finally:
        e.close()


def kernel_rx(tb):
    """Frames the appliance's kernel received on its exception interface."""
    return int(nsrun(tb.ns_lb, ["cat", "/sys/class/net/dlb0/statistics/rx_packets"]).stdout)


def url(addr, port=80, path="/"):
    return f"http://{M6.url_host(addr)}:{port}{path}"


@pytest.mark.parametrize("family", [4, 6])
def test_listener_on_the_port_address_answers_the_client(testbed, plan, lb, env, family):
    addr = testbed.lb_ip if family == 4 else plan.lb
    root = os.path.join(testbed.tmp, f"kernel-www{family}")
    os.makedirs(root, exist_ok=True)
    body = f"kernel of the appliance, IPv{family}\n"
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write(body)
    before = dataplane(lb)
    env.start(testbed.ns_lb, [PYTHON, "-m", "http.server", "--bind", addr, "--directory", root,
                              str(LISTEN_PORT)], f"kernel-http{family}")

    def fetch():
        env.check_alive()
        r = nsrun(testbed.ns_cl, ["curl", "-s", "--max-time", "2",
                                  url(addr, LISTEN_PORT, "/hello.txt")], check=False)
        return r.stdout if r.returncode == 0 else None
    assert wait_until(fetch, timeout=20, what=f"http.server on {addr} answering") == body
    after = dataplane(lb)
    assert after["exception_rx"] > before["exception_rx"]
    assert after["exception_tx"] > before["exception_tx"]


@pytest.mark.parametrize("family", [4, 6])
def test_kernel_socket_reaches_a_real_server(testbed, plan, lb, family):
    b = testbed.backends[0]
    addr = b["ip"] if family == 4 else plan.backend[b["name"]]

    def fetch():
        r = nsrun(testbed.ns_lb, ["curl", "-s", "--max-time", "2", url(addr)], check=False)
        return r.stdout.strip() if r.returncode == 0 else None
    assert wait_until(fetch, timeout=20, what=f"curl from the appliance to {addr}") == b["name"]


def vip_rate(tb, seconds=3):
    """New connections per second through the VIP for `seconds`: wrk (8 connections; nginx
    closes each after one request) when installed, else sequential curls. (rate, tool)"""
    if shutil.which("wrk"):
        r = nsrun(tb.ns_cl, ["wrk", "-t1", "-c8", f"-d{seconds}s", f"http://{tb.vip}/"],
                  check=False, timeout=seconds + 30)
        m = re.search(r"Requests/sec:\s+([0-9.]+)", r.stdout)
        if m:
            return float(m.group(1)), "wrk"
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds:
        n += sum(1 for x in tb.curl_many(20, max_time=5) if x)
    return n / (time.monotonic() - t0), "curl"


def flood(tb, target, during):
    """hping3 --flood (SYNs to FLOOD_PORT) from the client at target for FLOOD_S seconds,
    calling during() one second in; returns (during()'s result, SYNs hping3 sent, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(["ip", "netns", "exec", tb.ns_cl, "timeout", "-s", "INT", str(FLOOD_S),
                          "hping3", "--flood", "-q", "-S", "-p", str(FLOOD_PORT), target],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tb.add_pid(p.pid)
    try:
        time.sleep(1)   # let the flood build up before measuring under it
        result = during()
        out, _ = p.communicate(timeout=FLOOD_S + 20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        tb.remove_pid(p.pid)
    sent = next((int(line.split()[0]) for line in out.splitlines()
                 if "packets transmitted" in line), None)
    return result, sent, time.monotonic() - t0


def test_flood_at_the_port_address_is_rate_limited(testbed, lb, service):
    service("rr")
    assert all(testbed.curl_many(20))            # warm: the reals are resolved
    base_rate, tool = vip_rate(testbed)
    before, krx0 = dataplane(lb), kernel_rx(testbed)

    def measure():
        return vip_rate(testbed)[0], testbed.curl_many(VIP_REQUESTS, max_time=5)
    (flood_rate, answered), sent, elapsed = flood(testbed, testbed.lb_ip, measure)
    after = dataplane(lb)
    krx = kernel_rx(testbed) - krx0
    rx = after["exception_rx"] - before["exception_rx"]
    dropped = after["exception_dropped"] - before["exception_dropped"]
    # The same flood at an address nobody owns (dropped as not_vip at once): what the flood's
    # load on the shared cores costs forwarding by itself, without the exception path.
    # (the client must send to the appliance's MAC: a permanent neighbour entry for it)
    unowned = f"{testbed.net}.77"
    neigh = ["ip", "-n", testbed.ns_cl, "neigh", "replace", unowned, "lladdr", testbed.lb_mac,
             "dev", testbed.cl_if, "nud", "permanent"]
    run(neigh)
    try:
        (other_rate, _), other_sent, _ = flood(testbed, unowned, measure)
    finally:
        run(["ip", "-n", testbed.ns_cl, "neigh", "del", unowned, "dev", testbed.cl_if],
            check=False)
    after_rate, _ = vip_rate(testbed)
    print(f"\nflood: hping3 sent {sent} SYNs in {FLOOD_S} s; exception_rx +{rx}, "
          f"exception_dropped +{dropped}, kernel interface rx +{krx} in {elapsed:.1f} s "
          f"(limit {RX_PPS}/s, burst {BURST}); VIP ({tool}): {base_rate:.0f} conn/s before, "
          f"{flood_rate:.0f} during, {after_rate:.0f} after the flood; "
          f"{sum(1 for a in answered if a)}/{VIP_REQUESTS} requests answered during it; "
          f"the same flood ({other_sent} SYNs) at an unowned address: {other_rate:.0f} conn/s")
    # the flood is counted, and the kernel got at most the rate
    assert dropped > 0
    assert rx <= RX_PPS * elapsed + BURST, (rx, elapsed)
    # (its interface also gets the neighbour frames addressed to it: a few ARP replies)
    assert krx <= RX_PPS * elapsed + BURST + 50, (krx, elapsed)
    # forwarding kept working under the flood
    assert all(answered), answered
