"""End-to-end: real TCP connections from a client namespace through the daemon (AF_XDP or
af_packet on a veth) to nginx real servers by direct routing."""
import collections
import hashlib
import os
import re

import pytest

from testbed import RpcError, nsrun, wait_until


def counts(bodies):
    return collections.Counter(bodies)


def tolerance(workers, weight):
    # Each worker lcore schedules its own share of the new connections (per-lcore scheduler
    # state), so every extra worker may shift a real's count by up to one weight cycle.
    return (workers - 1) * weight


def service_stats(lb, key):
    for s in lb.call("stats.get")["services"]:
        if (s["vip"], s["port"], s["proto"]) == (key["vip"], key["port"], key["proto"]):
            return s
    raise AssertionError(f"service {key} not in stats.get")


@pytest.mark.parametrize("scheduler,weights", [("rr", [1, 1, 1]), ("wrr", [3, 2, 1])])
def test_distribution_over_300_connections(testbed, lb, service, workers, scheduler, weights):
    service(scheduler, weights)
    n = 300
    bodies = testbed.curl_many(n)
    failed = bodies.count(None)
    assert failed == 0, f"{failed} of {n} requests failed"
    got = counts(bodies)
    total = sum(weights)
    for b, w in zip(testbed.backends, weights):
        want = n * w // total
        assert abs(got[b["name"]] - want) <= tolerance(workers, w), \
            f"{scheduler} {weights}: {b['name']} got {got[b['name']]}, want {want} ({dict(got)})"


def _backend_serving(tb, port=80):
    """(backend, client port) of the one established connection to :80 at the backends."""
    found = []
    for b in tb.backends:
        out = nsrun(b["ns"], ["ss", "-Htn", "state", "established", "sport", "=", f":{port}"]).stdout
        for line in out.splitlines():
            m = re.search(re.escape(tb.client_ip) + r":(\d+)", line)
            if m:
                found.append((b, int(m.group(1))))
    return found[0] if len(found) == 1 else None


def test_weight_zero_drains_without_breaking_a_long_download(testbed, lb, service, tmp_path):
    key = service("rr")
    out = str(tmp_path / "big")
    dl = testbed.download(out)
    try:
        backend, cport = wait_until(lambda: _backend_serving(testbed), timeout=10,
                                    what="the download's connection at a backend")
        # The daemon's connection table agrees on where the connection went.
        conns = lb.call("conn.list")["connections"]
        mine = [c for c in conns if c["client"] == f"{testbed.client_ip}:{cport}"]
        assert len(mine) == 1, conns
        assert mine[0]["real"] == f"{backend['ip']}:80"
        assert mine[0]["virtual"] == f"{testbed.vip}:80"

        assert dl.poll() is None, "download finished before the real was drained; make it slower"
        r = lb.call("real.update", {"service": key, "ip": backend["ip"], "port": 80, "weight": 0})
        assert r["weight"] == 0

        bodies = testbed.curl_many(30)
        assert bodies.count(None) == 0, bodies
        assert backend["name"] not in bodies, f"drained real {backend['name']} got new connections"
        still_running = dl.poll() is None

        dl.wait(timeout=120)
        assert dl.returncode == 0, dl.stderr.read()
        h = hashlib.sha256()
        with open(out, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        assert os.path.getsize(out) == testbed.big_size
        assert h.hexdigest() == testbed.big_sha256, "download corrupted after draining its real"
        assert still_running, "download was over before the new connections were checked"
    finally:
        if dl.poll() is None:
            dl.kill()
            dl.wait()
        testbed.remove_pid(dl.pid)


def test_real_del_takes_backend_out_of_scheduling(testbed, lb, service, workers):
    key = service("rr")
    gone = testbed.backends[1]
    assert lb.call("real.del", {"service": key, "ip": gone["ip"], "port": 80}) == {"deleted": True}
    listed = [s for s in lb.call("service.list")["services"] if s["vip"] == key["vip"]]
    assert [r["ip"] for r in listed[0]["reals"]] == [b["ip"] for b in testbed.backends
                                                     if b is not gone]
    with pytest.raises(RpcError) as e:
        lb.call("real.del", {"service": key, "ip": gone["ip"], "port": 80})
    assert e.value.code == -32001

    bodies = testbed.curl_many(30)
    assert bodies.count(None) == 0, bodies
    assert gone["name"] not in bodies
    got = counts(bodies)
    for b in testbed.backends:
        if b is not gone:
            assert abs(got[b["name"]] - 15) <= tolerance(workers, 1), dict(got)


def test_vip_answers_arp_and_unserved_port_is_dropped(testbed, lb, service):
    service("rr")
    info = lb.call("system.info")
    port_mac = info["ports"][0]["mac"].lower()
    assert port_mac == testbed.lb_mac.lower()

    assert testbed.arp_probe(testbed.vip) == port_mac
    assert testbed.arp_probe(testbed.lb_ip) == port_mac
    # An address in the subnet that nobody owns gets no answer (the daemon is not a proxy).
    assert testbed.arp_probe(f"{testbed.net}.77", timeout=1) is None

    before = lb.call("stats.get")["dataplane"]["drop_reasons"]["not_vip"]
    served_before = testbed.access_counts()
    rc, body = testbed.curl(port=81, max_time=3)
    # 28 = timed out. 7 (refused) would mean a SYN reached a real server and got a RST.
    assert rc == 28, f"curl to VIP:81 exited {rc} with {body!r}"
    wait_until(lambda: lb.call("stats.get")["dataplane"]["drop_reasons"]["not_vip"] > before,
               timeout=5, what="drop_reasons.not_vip to increase")
    assert testbed.access_counts() == served_before


def test_stats_count_connections_and_cli_lists_service(testbed, lb, service):
    key = service("rr")
    s0 = service_stats(lb, key)
    assert s0["conns"] == 0
    n = 20
    bodies = testbed.curl_many(n)
    assert bodies.count(None) == 0, bodies
    got = counts(bodies)

    wait_until(lambda: service_stats(lb, key)["conns"] >= n, timeout=5,
               what=f"service conns to reach {n}")
    s = service_stats(lb, key)
    assert s["conns"] == n
    assert s["inpkts"] >= 3 * n   # SYN, ACK, request at least
    assert s["inbytes"] > 0
    by_ip = {r["ip"]: r for r in s["reals"]}
    for b in testbed.backends:
        assert by_ip[b["ip"]]["conns"] == got[b["name"]], (b["name"], by_ip[b["ip"]], dict(got))
    assert sum(r["conns"] for r in s["reals"]) == n

    out = lb.cli("list").stdout
    svc_lines = [ln for ln in out.splitlines() if f"{testbed.vip}:80" in ln]
    assert svc_lines, out
    assert re.search(r"\brr\b", svc_lines[0]), out
    for b in testbed.backends:
        rows = [ln for ln in out.splitlines() if f"{b['ip']}:80" in ln]
        assert rows and "Route" in rows[0], out

    out = lb.cli("list", "--stats").stdout
    svc_lines = [ln for ln in out.splitlines() if f"{testbed.vip}:80" in ln]
    assert svc_lines, out
    # Conns is the first column after the address (ipvsadm -Ln --stats)
    assert tokens_after(svc_lines[0], f"{testbed.vip}:80")[0] == str(n), \
        f"service conns {n} not in its Conns column:\n{out}"
    for b in testbed.backends:
        rows = [ln for ln in out.splitlines() if f"{b['ip']}:80" in ln]
        assert rows, out
        assert tokens_after(rows[0], f"{b['ip']}:80")[0] == str(got[b["name"]]), out


def tokens_after(line, addr):
    toks = line.split()
    for i, t in enumerate(toks):
        if addr in t:
            return toks[i + 1:]
    return []


def test_daemon_runs_the_configured_workers_and_spreads_flows(testbed, lb, service, workers):
    info = lb.call("system.info")
    assert len(info["workers"]) == workers, info["workers"]
    assert info["ports"][0]["rx_queues"] == workers
    service("rr")
    bodies = testbed.curl_many(40)
    assert bodies.count(None) == 0, bodies
    conns = lb.call("conn.list", {"limit": 100000})["connections"]
    mine = [c for c in conns if c["virtual"] == f"{testbed.vip}:80"
            and c["client"].startswith(testbed.client_ip + ":")]
    assert len(mine) >= 40, f"{len(mine)} connections listed"
    used = {c["worker"] for c in mine}
    # With several workers, the port's queues spread the flows over all of them.
    assert len(used) == workers, f"flows only on workers {used} of {workers}"
