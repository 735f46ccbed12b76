"""The control plane through its JSON-RPC methods (pcap ports, no network needed)."""
import json
import os
import shutil
import subprocess

import pytest
from scapy.all import wrpcap, Ether

from lbdaemon import DAEMON, RpcClient, RpcError

SVC = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}
BASE = {"ports": [{"address": "10.9.0.2/24"}]}


@pytest.fixture
def daemon(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    return pcap_daemon([tmp_path / "empty.pcap"], dict(BASE))


def assert_closed_by_daemon(sock, timeout=5.0):
    """The daemon closed sock: reading gives EOF or a reset. Silence (a timeout) fails: an
    open connection that merely stopped answering is not closed."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass  # whatever the daemon said before closing
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection is still open after {timeout} s (no EOF, no reset)")


def expect_error(rpc, method, params, code, text=None):
    with pytest.raises(RpcError) as e:
        rpc.call(method, params)
    assert e.value.code == code, e.value
    if text:
        assert text in e.value.message, e.value.message
    return e.value


def test_service_and_real_lifecycle(daemon):
    rpc = daemon.rpc
    got = rpc.call("service.add", dict(SVC, scheduler="wrr"))
    assert got["scheduler"] == "wrr" and got["forward"] == "dr" and got["reals"] == []
    r = rpc.call("real.add", {"service": SVC, "ip": "10.9.0.11", "weight": 3})
    assert r == {"ip": "10.9.0.11", "port": 80, "weight": 3, "forward": "dr",
                 "u_threshold": 0, "l_threshold": 0, "state": "online"}
    rpc.call("real.add", {"service": SVC, "ip": "10.9.0.12"})
    assert rpc.call("real.update", {"service": SVC, "ip": "10.9.0.12", "weight": 0})["weight"] == 0
    assert rpc.call("service.update", dict(SVC, scheduler="rr"))["scheduler"] == "rr"
    listed = rpc.call("service.list")["services"]
    assert len(listed) == 1
    assert [(x["ip"], x["weight"]) for x in listed[0]["reals"]] == [("10.9.0.11", 3), ("10.9.0.12", 0)]
    assert rpc.call("real.del", {"service": SVC, "ip": "10.9.0.11"}) == {"deleted": True}
    assert [x["ip"] for x in rpc.call("service.list")["services"][0]["reals"]] == ["10.9.0.12"]
    assert rpc.call("service.del", SVC) == {"deleted": True}
    assert rpc.call("service.list")["services"] == []
    # boot + one snapshot per successful change (7 of them); the refused ones publish nothing
    assert rpc.call("system.info")["snapshot_generation"] == 8
    assert rpc.call("config.get")["generation"] == 8


def test_errors_are_specific(daemon):
    rpc = daemon.rpc
    expect_error(rpc, "service.add", dict(SVC, port=0), -32602, "ports: a service group (port 0) needs its ports")
    expect_error(rpc, "service.add", dict(SVC, proto="sctp"), -32602, "params.proto")
    expect_error(rpc, "service.add", dict(SVC, scheduler="nope"), -32602, "unknown scheduler")
    expect_error(rpc, "service.add", dict(SVC, colour="red"), -32602, "params.colour: unknown key")
    expect_error(rpc, "service.add", {"vip": "300.1.1.1", "port": 80, "proto": "tcp"}, -32602, "params.vip")
    rpc.call("service.add", SVC)
    expect_error(rpc, "service.add", SVC, -32002)
    expect_error(rpc, "service.del", dict(SVC, port=81), -32001)
    expect_error(rpc, "real.add", {"ip": "10.9.0.11"}, -32602, "params.service")
    expect_error(rpc, "real.add", {"service": SVC, "ip": "10.9.0.11", "port": 8080}, -32602,
                 "direct routing cannot change the port")
    expect_error(rpc, "real.add", {"service": SVC, "ip": "10.9.0.11", "weight": -1}, -32602, "params.weight")
    expect_error(rpc, "real.add", {"service": SVC, "ip": "fd00::1"}, -32602, "address family")
    expect_error(rpc, "real.add", {"service": SVC, "ip": "192.168.77.1"}, -32602, "subnets")
    expect_error(rpc, "real.update", {"service": SVC, "ip": "10.9.0.99", "weight": 2}, -32001)
    expect_error(rpc, "conn.list", {"limit": 0}, -32602, "params.limit")
    expect_error(rpc, "config.save", {"path": "/nonexistent-dir-dlb/x.json"}, -32004)
    # A failed change leaves the running configuration exactly as it was.
    assert rpc.call("service.list")["services"][0]["reals"] == []


def test_capacity_exhaustion_is_an_error_not_a_crash(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "e.pcap"), [Ether()])
    d = pcap_daemon([tmp_path / "e.pcap"], dict(BASE, dataplane={
        "max_reals": 2, "max_services": 2, "flow_capacity": 4096, "mbufs": 4095, "idle_sleep_us": 200}))
    rpc = d.rpc
    rpc.call("service.add", SVC)
    rpc.call("service.add", dict(SVC, port=443))
    expect_error(rpc, "service.add", dict(SVC, port=8080), -32003, "max_services")
    rpc.call("real.add", {"service": SVC, "ip": "10.9.0.11"})
    rpc.call("real.add", {"service": SVC, "ip": "10.9.0.12"})
    expect_error(rpc, "real.add", {"service": SVC, "ip": "10.9.0.13"}, -32003, "max_reals")
    # A removed real with no connections frees its id for reuse.
    rpc.call("real.del", {"service": SVC, "ip": "10.9.0.12"})
    from lbdaemon import wait_until
    wait_until(lambda: _try_add(rpc), timeout=5, what="the real id to be reclaimed")


def _try_add(rpc):
    try:
        rpc.call("real.add", {"service": SVC, "ip": "10.9.0.13"})
        return True
    except RpcError as e:
        assert e.code == -32003
        return False


def test_protocol_errors_and_daemon_keeps_serving(daemon):
    rpc = daemon.rpc
    rpc.send_line(b"{not json\n")
    assert rpc.read_reply()["error"]["code"] == -32700
    rpc.send_line(b'{"jsonrpc":"2.0","id":5,"method":"no.such"}\n')
    reply = rpc.read_reply()
    assert reply["error"]["code"] == -32601 and reply["id"] == 5
    rpc.send_line(b'{"jsonrpc":"1.0","id":6,"method":"system.info"}\n')
    assert rpc.read_reply()["error"]["code"] == -32600
    rpc.send_line(b'[{"jsonrpc":"2.0","id":7,"method":"system.info"}]\n')
    assert rpc.read_reply()[0]["id"] == 7  # a batch of one (tests/dataplane/test_rpc_server.py)
    rpc.send_line(b'{"jsonrpc":"2.0","id":8,"method":"service.add","params":[1,2]}\n')
    assert rpc.read_reply()["error"]["code"] == -32602
    # A notification runs but is not answered: the next reply belongs to id 9.
    rpc.send_line(b'{"jsonrpc":"2.0","method":"system.info"}\n{"jsonrpc":"2.0","id":9,"method":"system.info"}\n')
    assert rpc.read_reply()["id"] == 9
    assert rpc.call("system.info")["version"]


def test_oversized_request_is_refused_and_connection_closed(daemon):
    rpc = daemon.rpc
    try:  # the daemon stops reading at the cap, so our send may hit a closed socket
        rpc.send_line(b'{"jsonrpc":"2.0","id":1,"method":"system.info","params":{"x":"' + b"a" * (2 << 20))
    except BrokenPipeError:
        pass
    reply = rpc.read_reply()
    assert reply["error"]["code"] == -32600 and "max_request_bytes" in reply["error"]["message"]
    assert_closed_by_daemon(rpc.sock)
    fresh = RpcClient(daemon.sock)
    assert fresh.call("system.info")["workers"]
    fresh.close()


def test_several_clients_at_once(daemon):
    clients = [RpcClient(daemon.sock) for _ in range(8)]
    for i, c in enumerate(clients):
        c.send_line(json.dumps({"jsonrpc": "2.0", "id": i, "method": "system.info"}).encode() + b"\n")
    for i, c in enumerate(clients):
        assert c.read_reply()["id"] == i
        c.close()


def test_config_save_and_restart_restores_services(pcap_daemon, daemon, tmp_path):
    rpc = daemon.rpc
    rpc.call("service.add", dict(SVC, scheduler="wrr", reals=[{"ip": "10.9.0.11", "weight": 3},
                                                              {"ip": "10.9.0.12", "weight": 0}]))
    rpc.call("service.add", {"vip": "10.9.0.101", "port": 53, "proto": "udp", "scheduler": "rr"})
    saved = tmp_path / "saved.json"
    res = rpc.call("config.save", {"path": str(saved)})
    assert res["path"] == str(saved) and res["bytes"] == os.path.getsize(saved)
    assert [p for p in os.listdir(tmp_path) if ".tmp." in p] == []
    before = rpc.call("service.list")["services"]
    doc = json.loads(saved.read_text())
    running = rpc.call("config.get")
    assert isinstance(running.pop("generation"), int)  # config.get only: not part of the file
    assert doc == running
    daemon.stop()
    # Boot a second daemon from the saved file (its EAL args carry a fresh file prefix).
    prefix_at = doc["eal"].index("--file-prefix") + 1
    doc["eal"][prefix_at] += "r"
    doc["rpc"]["socket"] = str(tmp_path / "second.sock")
    saved.write_text(json.dumps(doc))
    second = subprocess.Popen([DAEMON, "-c", str(saved)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        from lbdaemon import wait_until
        c = wait_until(lambda: _connect(str(tmp_path / "second.sock")), timeout=20, what="restart")
        after = c.call("service.list")["services"]
        assert after == before
        c.close()
    finally:
        second.terminate()
        second.wait(timeout=20)
        shutil.rmtree(os.path.join("/var/run/dpdk", doc["eal"][prefix_at]), ignore_errors=True)


def _connect(path):
    try:
        return RpcClient(path)
    except OSError:
        return None


@pytest.mark.parametrize("doc,needle", [
    ({"services": [{"vip": "10.0.0.1", "port": 80, "proto": "tcp", "scheduler": "xx"}]}, "services[0].scheduler"),
    ({"dataplane": {"flow_capacity": 1}}, "dataplane.flow_capacity"),
    ({"bogus": 1}, "config.bogus: unknown key"),
    ({"timeouts": {"tcp": 0}}, "timeouts.tcp"),
])
def test_bad_config_file_names_the_key(tmp_path, doc, needle):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    p = subprocess.run([DAEMON, "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert needle in p.stderr, p.stderr


def test_config_syntax_error_names_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "rpc": {\n    "socket": \n}\n')
    p = subprocess.run([DAEMON, "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "bad.json:4" in p.stderr, p.stderr


def test_scheduler_flags_and_maglev_table_size(daemon):
    rpc = daemon.rpc
    got = rpc.call("service.add", dict(SVC, scheduler="mh", sched_flags=["fallback", "port"],
                                       mh_table_size=4093))
    assert got["sched_flags"] == ["fallback", "port"] and got["mh_table_size"] == 4093
    expect_error(rpc, "service.update", dict(SVC, mh_table_size=4096), -32602, "not a prime")
    expect_error(rpc, "service.update", dict(SVC, scheduler="rr"), -32602, "only the sh, dh and mh")
    got = rpc.call("service.update", dict(SVC, scheduler="sh", sched_flags=["fallback"]))
    assert got["scheduler"] == "sh" and got["sched_flags"] == ["fallback"]
    cli = os.path.join(os.path.dirname(DAEMON), "..", "control", "cli", "dpdk-lb-cli")
    out = subprocess.run([cli, "-s", daemon.sock, "list"], capture_output=True, text=True, timeout=10)
    assert "TCP  10.9.0.100:80 sh sh-fallback" in out.stdout, out.stdout


def test_fallback_and_thresholds_over_rpc(daemon):
    rpc = daemon.rpc
    rpc.call("service.add", SVC)
    got = rpc.call("service.update", dict(SVC, fallback={"ip": "10.9.0.50"}))
    assert got["fallback"]["ip"] == "10.9.0.50"
    listed = rpc.call("service.list")["services"][0]
    assert listed["fallback"]["inactive"] == 0
    rpc.call("real.add", {"service": SVC, "ip": "10.9.0.11", "u_threshold": 100})
    expect_error(rpc, "real.update", {"service": SVC, "ip": "10.9.0.11", "l_threshold": 100}, -32602,
                 "l_threshold: must be below")
    assert rpc.call("real.update", {"service": SVC, "ip": "10.9.0.11", "l_threshold": 10})["l_threshold"] == 10
    assert rpc.call("service.update", dict(SVC, fallback=None))["fallback"] is None
    expect_error(rpc, "service.update", dict(SVC, fallback={"ip": "10.9.0.50", "port": 8080}), -32602,
                 "direct routing cannot change the port")
