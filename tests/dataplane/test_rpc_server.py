"""The RPC server itself: connection limits, idle timeouts and JSON-RPC 2.0 batches."""
import json
import os
import socket
import subprocess
import time

import pytest
from scapy.all import wrpcap, Ether

from lbdaemon import DAEMON, RpcClient, RpcError, wait_until

CLI = os.path.join(os.path.dirname(DAEMON), "..", "control", "cli", "dpdk-lb-cli")
BASE = {"ports": [{"address": "10.9.0.2/24"}]}


def start(pcap_daemon, tmp_path, rpc):
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    return pcap_daemon([tmp_path / "empty.pcap"], dict(BASE, rpc=rpc))


def raw_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def read_all(s):
    """Everything the daemon sends until it closes the connection."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return data
        if not chunk:
            return data
        data += chunk


def run_cli(d, *args):
    return subprocess.run([CLI, "-s", d.sock, *args], capture_output=True, text=True, timeout=20)


def test_idle_connections_cannot_lock_out_the_cli(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path, {"max_clients": 64})
    d.rpc.close()  # every slot goes to the idle connections below
    d.rpc = None
    idle = [raw_connect(d.sock) for _ in range(64)]
    try:
        # Refused only while those connections are new (quiet < 0.5 s), and then with the
        # capacity error and the daemon's reason, never a bare "Broken pipe".
        def cli_gets_in():
            r = run_cli(d, "list")
            if r.returncode != 0:
                assert "code -32003" in r.stderr and "rpc.max_clients" in r.stderr, r.stderr
                assert "Broken pipe" not in r.stderr, r.stderr
            return r.returncode == 0
        wait_until(cli_gets_in, timeout=10, what="the CLI to get past 64 idle connections")
        # The connection that made way was told why before it was closed.
        evicted = []
        for s in idle:
            s.setblocking(False)
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            evicted.append(data)
        assert evicted, "no idle connection was closed"
        notice = json.loads(evicted[0].split(b"\n")[0])
        assert notice["error"]["code"] == -32003 and notice["id"] is None
        assert "quiet the longest" in notice["error"]["message"]
    finally:
        for s in idle:
            s.close()


def test_refusal_is_a_capacity_error_when_every_client_is_busy(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path, {"max_clients": 2})
    other = RpcClient(d.sock)
    try:
        refused = 0
        for _ in range(5):
            # Both slots were active just now, so neither may be evicted for a newcomer.
            d.rpc.call("system.info")
            other.call("system.info")
            s = raw_connect(d.sock)
            s.settimeout(1)
            data = read_all(s)
            s.close()
            if not data:
                continue  # this machine took > 0.5 s; the newcomer got a slot
            reply = json.loads(data.split(b"\n")[0])
            assert reply["error"]["code"] == -32003, reply
            assert "rpc.max_clients (2)" in reply["error"]["message"], reply
            refused += 1
            break
        assert refused, "a third client was never refused"
        # The CLI shows the daemon's reason rather than a socket error.
        for _ in range(5):
            d.rpc.call("system.info")
            other.call("system.info")
            r = run_cli(d, "list")
            if r.returncode != 0:
                assert "too many clients" in r.stderr and "code -32003" in r.stderr, r.stderr
                break
        else:
            pytest.fail("the CLI was never refused while both slots were busy")
    finally:
        other.close()


def test_idle_connections_are_closed_after_the_timeout(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path, {"idle_timeout_s": 1})
    s = raw_connect(d.sock)
    t0 = time.monotonic()
    try:
        assert read_all(s) == b""  # closed without a word (recv times out after 5 s)
        elapsed = time.monotonic() - t0
        assert 0.9 <= elapsed < 4, elapsed
    finally:
        s.close()
    # A client that keeps talking is not idle: two timeouts' worth of requests on one connection.
    c = RpcClient(d.sock)
    try:
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            assert c.call("system.info")["version"]
            time.sleep(0.2)  # pacing the requests, not waiting for a condition
    finally:
        c.close()
    d.rpc = None  # the fixture's own connection has long timed out


def test_batch_answers_each_call(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path, {})
    rpc = d.rpc
    svc = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "service.add", "params": svc},
        {"jsonrpc": "2.0", "method": "system.info"},  # a notification: no entry
        {"jsonrpc": "2.0", "id": "dup", "method": "service.add", "params": svc},
        5,
        {"jsonrpc": "2.0", "id": 4, "method": "no.such"},
        {"jsonrpc": "2.0", "id": 5, "method": "service.list"},
    ]
    rpc.send_line(json.dumps(batch).encode() + b"\n")
    got = rpc.read_reply()
    assert isinstance(got, list) and len(got) == 5
    by_id = {json.dumps(r["id"]): r for r in got}
    assert by_id["1"]["result"]["vip"] == "10.9.0.100"
    assert by_id['"dup"']["error"]["code"] == -32002
    assert by_id["null"]["error"]["code"] == -32600
    assert by_id["4"]["error"]["code"] == -32601
    # Calls run in order: the list sees the service the first call added.
    assert len(by_id["5"]["result"]["services"]) == 1
    # A batch of notifications gets no answer at all: the next line answers id 9.
    rpc.send_line(b'[{"jsonrpc":"2.0","method":"system.info"}]\n'
                  b'{"jsonrpc":"2.0","id":9,"method":"system.info"}\n')
    assert rpc.read_reply()["id"] == 9
    # An empty batch is one error, not an empty array.
    rpc.send_line(b"[]\n")
    reply = rpc.read_reply()
    assert reply["error"]["code"] == -32600 and reply["id"] is None
    # Non-objects get one error each.
    rpc.send_line(b"[1,2,3]\n")
    got = rpc.read_reply()
    assert [r["error"]["code"] for r in got] == [-32600] * 3
    # Too long a batch is refused whole, and nothing in it runs.
    big = [{"jsonrpc": "2.0", "id": i, "method": "service.add",
            "params": dict(svc, port=1000 + i)} for i in range(257)]
    rpc.send_line(json.dumps(big).encode() + b"\n")
    reply = rpc.read_reply()
    assert reply["error"]["code"] == -32600 and "limit of 256" in reply["error"]["message"]
    assert len(rpc.call("service.list")["services"]) == 1


CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"  # net_pcap's fixed MAC for port 0
VIP = "10.9.0.100"
REALS = {"10.9.0.11": "02:00:00:00:00:11", "10.9.0.12": "02:00:00:00:00:12"}


def conn_config():
    reals = [{"ip": ip} for ip in REALS]
    return {
        "ports": [{"address": "10.9.0.2/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in REALS.items()]},
        "services": [{"vip": VIP, "port": 80, "proto": "tcp", "reals": reals},
                     {"vip": VIP, "port": 443, "proto": "tcp", "reals": reals},
                     {"vip": VIP, "port": 53, "proto": "udp", "reals": reals, "persistent": 300}],
    }


def page_through(rpc, **params):
    """Every page of conn.list with params; returns (entries, pages)."""
    entries, pages, cursor = [], 0, None
    while True:
        got = rpc.call("conn.list", dict(params, cursor=cursor))
        pages += 1
        assert len(got["connections"]) <= params.get("limit", 1000)
        entries += got["connections"]
        assert got["truncated"] == (got["cursor"] is not None)
        if got["cursor"] is None:
            return entries, pages
        cursor = got["cursor"]
        assert pages < 100, "conn.list never ended"


def ident(c):
    return (c["proto"], c["client"], c["virtual"], bool(c.get("template")))


def test_conn_list_pages_with_a_cursor_and_filters(pcap_daemon, tmp_path):
    from scapy.all import IP, TCP, UDP, Raw

    def pkt(src, l4):
        return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=src, dst=VIP) / l4 / Raw(b"x")
    http = [pkt("10.9.0.10", TCP(sport=40000 + i, dport=80, flags="S")) for i in range(30)]
    https = [pkt("10.9.0.20", TCP(sport=41000 + i, dport=443, flags="S")) for i in range(10)]
    dns = [pkt("10.9.0.30", UDP(sport=42000 + i, dport=53)) for i in range(6)]
    q0, q1 = http[:15] + https[:5] + dns[:3], http[15:] + https[5:] + dns[3:]
    wrpcap(str(tmp_path / "q0.pcap"), q0)
    wrpcap(str(tmp_path / "q1.pcap"), q1)
    d = pcap_daemon([tmp_path / "q0.pcap", tmp_path / "q1.pcap"], conn_config(), workers=2)
    d.wait_rx(46)
    rpc = d.rpc

    whole = rpc.call("conn.list", {"limit": 100000})
    assert whole["cursor"] is None and whole["truncated"] is False
    assert len(whole["connections"]) == 47  # 46 connections and the udp service's template
    assert {c["worker"] for c in whole["connections"] if not c.get("template")} == {0, 1}
    # Pages of 7 give the same connections, each once, the template last.
    paged, pages = page_through(rpc, limit=7)
    assert pages == 7
    assert sorted(map(ident, paged)) == sorted(map(ident, whole["connections"]))
    assert len(set(map(ident, paged))) == 47
    assert paged[-1].get("template")

    def count(**f):
        entries, _ = page_through(rpc, limit=4, **f)
        return len(entries)
    assert count(proto="udp") == 7
    assert count(proto="tcp") == 40
    assert count(port=443) == 10
    assert count(client="10.9.0.20") == 10
    assert count(client="10.9.0.20", port=80) == 0
    assert count(vip=VIP) == 47
    assert count(vip="10.9.0.99") == 0
    assert count(vip=VIP, port=53, proto="udp") == 7

    for params, field in [({"cursor": "x"}, "params.cursor"), ({"cursor": "9:0"}, "params.cursor"),
                          ({"cursor": 5}, "params.cursor"), ({"proto": "sctp"}, "params.proto"),
                          ({"vip": "nope"}, "params.vip"), ({"client": 1}, "params.client"),
                          ({"port": 0}, "params.port"), ({"colour": 1}, "params.colour")]:
        with pytest.raises(RpcError) as e:
            rpc.call("conn.list", params)
        assert e.value.code == -32602 and field in e.value.message, (params, e.value)


def test_system_info_reports_the_control_loops_lateness(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path, {})
    loop = wait_until(lambda: (i := d.rpc.call("system.info")["control_loop"])["samples"] >= 3 and i,
                      timeout=10, what="three runs of the 100 ms probe timer")
    assert loop["probe_period_ms"] == 100
    assert 0 <= loop["late_p99_us"] <= loop["late_max_us"]


def test_conn_list_answers_later_and_in_order(pcap_daemon, tmp_path):
    """conn.list is served from the loop's timers: requests pipelined behind it, and calls
    around it in a batch, are still answered in order."""
    d = start(pcap_daemon, tmp_path, {})
    rpc = d.rpc
    rpc.send_line(b'{"jsonrpc":"2.0","id":1,"method":"conn.list"}\n'
                  b'{"jsonrpc":"2.0","id":2,"method":"system.info"}\n'
                  b'{"jsonrpc":"2.0","method":"conn.list"}\n'
                  b'{"jsonrpc":"2.0","id":3,"method":"conn.list","params":{"limit":0}}\n'
                  b'{"jsonrpc":"2.0","id":4,"method":"conn.list","params":{"limit":5}}\n')
    first = rpc.read_reply()
    assert first["id"] == 1 and first["result"] == {"connections": [], "truncated": False,
                                                    "cursor": None}
    assert rpc.read_reply()["id"] == 2
    bad = rpc.read_reply()
    assert bad["id"] == 3 and bad["error"]["code"] == -32602
    assert rpc.read_reply()["id"] == 4
    batch = [{"jsonrpc": "2.0", "id": i, "method": m}
             for i, m in enumerate(["system.info", "conn.list", "stats.get", "conn.list"])]
    rpc.send_line(json.dumps(batch).encode() + b"\n")
    assert [r["id"] for r in rpc.read_reply()] == [0, 1, 2, 3]
    # A client that leaves while its conn.list is under way takes nothing down with it.
    for _ in range(5):
        s = raw_connect(d.sock)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"conn.list"}\n')
        s.close()
    assert rpc.call("conn.list")["cursor"] is None


def test_a_slow_worker_is_an_error_and_does_not_hold_the_loop(pcap_daemon, tmp_path, monkeypatch):
    """A worker that does not answer (held by the test hook) is an error after conn.list's 1 s
    deadline for a worker's part of a page, and the loop serves other clients meanwhile."""
    import select
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    d = pcap_daemon([tmp_path / "empty.pcap"], BASE)
    other = RpcClient(d.sock)
    try:
        assert d.rpc.call("test.worker_hold", {"worker": 0, "held": True})["held"] is True
        t0 = time.monotonic()
        d.rpc.send_line(b'{"jsonrpc":"2.0","id":1,"method":"conn.list"}\n')
        # The loop serves others meanwhile: this answer comes while conn.list still waits.
        assert other.call("system.info")["version"]
        pending, _, _ = select.select([d.rpc.sock], [], [], 0)
        assert not pending, "conn.list was answered before the other client: the loop waited"
        reply = d.rpc.read_reply()
        waited = time.monotonic() - t0
        assert reply["id"] == 1 and "error" in reply and reply["error"]["code"] == -32603, \
            (waited, str(reply)[:300])
        assert waited >= 0.9, reply
        assert "did not answer within 1000 ms" in reply["error"]["message"]
        # The request given up on stays the worker's and is freed once it is done with it:
        # LeakSanitizer checks that when the fixture stops the daemon.
        d.rpc.call("test.worker_hold", {"worker": 0, "held": False})
        assert d.rpc.call("conn.list")["connections"] == []
    finally:
        other.close()


def test_a_page_holds_at_most_4096_connections(pcap_daemon, tmp_path):
    """A page is encoded in one loop turn, so it is capped whatever `limit` asks: 5,000
    connections come back as 4,096 and a cursor to the rest."""
    from scapy.all import IP, TCP
    syns = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) /
            IP(src=f"10.8.{i // 250}.{i % 250 + 1}", dst=VIP) / TCP(sport=20000, dport=80, flags="S")
            for i in range(5000)]
    wrpcap(str(tmp_path / "in.pcap"), syns)
    cfg = conn_config()
    cfg["dataplane"] = {"flow_capacity": 16384, "mbufs": 8191, "max_reals": 64, "max_services": 16}
    d = pcap_daemon([tmp_path / "in.pcap"], cfg)
    d.wait_rx(len(syns))
    first = d.rpc.call("conn.list", {"limit": 100000})
    assert len(first["connections"]) == 4096
    assert first["truncated"] is True and first["cursor"] is not None
    rest = d.rpc.call("conn.list", {"limit": 100000, "cursor": first["cursor"]})
    assert len(rest["connections"]) == 5000 - 4096 and rest["cursor"] is None


def test_worker_hold_hook_checks_its_input_and_is_off_by_default(pcap_daemon, tmp_path, monkeypatch):
    monkeypatch.delenv("DPDK_LB_TEST_HOOKS", raising=False)
    d = start(pcap_daemon, tmp_path, {})
    with pytest.raises(RpcError) as e:
        d.rpc.call("test.worker_hold", {"worker": 0, "held": True})
    assert e.value.code == -32601 and "DPDK_LB_TEST_HOOKS" in e.value.message
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    d = start(pcap_daemon, tmp_path, {"socket": str(tmp_path / "hooks.sock")})
    for params, text in (({"worker": 1}, "worker: must be an integer 0-0"),
                         ({"worker": "0"}, "worker: must be an integer"),
                         ({"worker": 0, "held": 1}, "held: must be true or false"),
                         ({"worker": 0, "hold": True}, "hold")):
        with pytest.raises(RpcError) as e:
            d.rpc.call("test.worker_hold", params)
        assert e.value.code == -32602 and text in e.value.message, (params, e.value.message)
    assert d.rpc.call("test.worker_hold", {"worker": 0}) == {"worker": 0, "held": False}


def test_a_bad_hold_list_stops_the_start_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    monkeypatch.setenv("DPDK_LB_TEST_HOLD_WORKERS", "0,7")
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    with pytest.raises(AssertionError) as e:
        from lbdaemon import PcapDaemon
        PcapDaemon([str(tmp_path / "empty.pcap")], BASE, 1)
    assert "DPDK_LB_TEST_HOLD_WORKERS: '7' is not a worker index" in str(e.value)
