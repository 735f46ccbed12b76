"""End-to-end: the holding page (issue 10, item 4). A service whose fallback is
{"local": true, "page": ...} is answered by the appliance itself while no real can take a new
connection: the dataplane hands the client's packets to the port's kernel interface, where the
daemon listens on VIP:port (the VIP on lo in its namespace) and answers 503 with the page.

Health checks are not merged yet, so "every real is down" is every real at weight 0, which makes
the dataplane fall back the same way. As soon as a real takes connections again (real.update
weight 1), new connections reach nginx; back to weight 0, the page again.
"""
import re

import pytest

from testbed import RpcError, nsrun, wait_until

PAGE = "<html><body><h1>Back soon</h1><p>holding-page-e2e</p></body></html>"


def fetch(tb, method="GET", max_time=3):
    """One request to the VIP from the client namespace over a new connection: (exit code,
    status, headers (lower-case names), body)."""
    # headers then body on stdout (HEAD: -I prints the headers alone)
    args = ["curl", "-s", "--max-time", str(max_time), "-I" if method == "HEAD" else "-i"]
    r = nsrun(tb.ns_cl, args + [f"http://{tb.vip}/"], check=False, timeout=max_time + 10)
    # text mode reads "\r\n" as "\n"
    head, _, body = r.stdout.replace("\r\n", "\n").partition("\n\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    headers = {}
    for line in head.split("\n")[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return r.returncode, int(m.group(1)) if m else None, headers, body


def vip_on_lo(tb):
    out = nsrun(tb.ns_lb, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]).stdout
    return f" {tb.vip}/32 " in out


def page_served(tb, page=PAGE):
    rc, status, _, body = fetch(tb)
    return rc == 0 and status == 503 and body == page


@pytest.fixture
def held(lb, testbed):
    """A TCP VIP:80 service with every real at weight 0 and a local fallback; removed after."""
    key = {"vip": testbed.vip, "port": 80, "proto": "tcp"}
    reals = [{"ip": b["ip"], "weight": 0} for b in testbed.backends]
    lb.call("service.add", dict(key, scheduler="rr", reals=reals,
                                fallback={"local": True, "page": PAGE}))
    try:
        yield key
    finally:
        if lb.alive():
            try:
                lb.call("service.del", key)
            except RpcError:
                pass


def set_weight(lb, key, b, weight):
    lb.call("real.update", {"service": key, "ip": b["ip"], "port": 80, "weight": weight})


def test_page_while_all_down_then_back_to_the_reals(testbed, lb, held):
    tb = testbed
    assert vip_on_lo(tb), "the VIP should be on lo in the daemon's namespace"
    # The first connection may wait for the kernel to resolve the client through the port.
    wait_until(lambda: page_served(tb), timeout=15, interval=0.2,
               what="the holding page through the VIP")
    rc, status, headers, body = fetch(tb)
    assert (rc, status, body) == (0, 503, PAGE)
    assert headers["content-type"].startswith("text/html")
    assert headers["content-length"] == str(len(PAGE))
    assert headers["connection"] == "close"
    assert headers["retry-after"] == "30"
    rc, status, headers, body = fetch(tb, method="HEAD")
    assert (rc, status, body) == (0, 503, "")
    assert headers["content-length"] == str(len(PAGE))
    # Counted against the fallback, which config.get writes back as it was given.
    svc = next(s for s in lb.call("service.list")["services"] if s["vip"] == tb.vip)
    assert svc["fallback"]["local"] is True
    assert svc["fallback"]["inactive"] + svc["fallback"]["active"] >= 1
    cfg = next(s for s in lb.call("config.get")["services"] if s["vip"] == tb.vip)
    assert cfg["fallback"] == {"local": True, "page": PAGE}
    assert lb.call("stats.get")["dataplane"]["exception_rx"] > 0

    # One real up: new connections reach it, none gets the page.
    b1 = tb.backends[0]
    set_weight(lb, held, b1, 1)
    assert tb.curl_many(10) == [b1["name"]] * 10
    # Down again: the page again.
    set_weight(lb, held, b1, 0)
    wait_until(lambda: page_served(tb), timeout=5, interval=0.1, what="the page again")


def test_page_change_and_removal(testbed, lb, held):
    tb = testbed
    wait_until(lambda: page_served(tb), timeout=15, interval=0.2, what="the holding page")
    new = "<html>maintenance until 23:00</html>"
    lb.call("service.update", dict(held, fallback={"local": True, "page": new}))
    wait_until(lambda: page_served(tb, new), timeout=5, interval=0.1, what="the new page")
    # No page given: the default one.
    lb.call("service.update", dict(held, fallback={"local": True}))
    def default_page():
        _, status, _, body = fetch(tb)
        return status == 503 and "temporarily unavailable" in body
    wait_until(default_page, timeout=5, interval=0.1, what="the default page")
    # Fallback removed: no page, no VIP on lo, connections go nowhere (no real can take them).
    lb.call("service.update", dict(held, fallback=None))
    assert not vip_on_lo(tb)
    rc, status, _, _ = fetch(tb, max_time=2)
    assert status is None and rc != 0
    assert lb.call("stats.get")["dataplane"]["drop_reasons"]["no_real"] > 0


def test_service_removal_takes_the_vip_off_lo(testbed, lb, held):
    tb = testbed
    assert vip_on_lo(tb)
    lb.call("service.del", held)
    assert not vip_on_lo(tb)
    out = nsrun(tb.ns_lb, ["ss", "-Hltn", f"src {tb.vip}:80"]).stdout
    assert out.strip() == ""


def test_invalid_local_fallbacks_are_refused(testbed, lb):
    tb = testbed
    udp = {"vip": tb.vip, "port": 53, "proto": "udp", "fallback": {"local": True}}
    with pytest.raises(RpcError) as e:
        lb.call("service.add", udp)
    assert e.value.code == -32602 and "fallback.local" in e.value.message
    assert "TCP services only" in e.value.message
    with pytest.raises(RpcError) as e:
        lb.call("service.add", {"vip": tb.vip, "port": 80, "proto": "tcp",
                                "fallback": {"local": True, "page": 3}})
    assert e.value.code == -32602 and "params.fallback.page" in e.value.message
    assert not vip_on_lo(tb)
