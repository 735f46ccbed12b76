"""Unit test of dpdk-lb-cli's argument handling and output formatting.

The CLI runs against a small fake JSON-RPC server (a Unix socket in a temporary directory)
that records each request and answers it from a table, so the test needs no daemon, DPDK or
root. The binary is $DPDK_LB_CLI, else build/control/cli/dpdk-lb-cli in the repository.
"""
import json
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / os.environ.get("DPDK_LB_CLI", "build/control/cli/dpdk-lb-cli"))  # relative to the repo

SERVICES = {
    "services": [
        {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "dr",
         "reals": [
             {"ip": "10.0.0.11", "port": 80, "weight": 1, "forward": "dr",
              "active": 0, "inactive": 0},
             {"ip": "10.0.0.12", "port": 80, "weight": 100, "forward": "dr",
              "active": 12345, "inactive": 7},
         ]},
        {"vip": "2001:db8::100", "port": 443, "proto": "udp", "scheduler": "wlc",
         "forward": "tun",
         "reals": [
             {"ip": "2001:db8::11", "port": 8443, "weight": 0, "forward": "tun",
              "active": 0, "inactive": 3},
         ]},
    ]
}


def traffic(conns, inpkts, outpkts, inbytes, outbytes):
    return {"conns": conns, "inpkts": inpkts, "outpkts": outpkts, "inbytes": inbytes,
            "outbytes": outbytes, "active": 0, "inactive": 0}


STATS = {
    "services": [
        dict({"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr",
              "forward": "dr",
              "reals": [dict({"ip": "10.0.0.11", "port": 80, "weight": 1, "forward": "dr"},
                             **traffic(5, 99999999, 999999999, 99999999999, 12345678901234))]},
             **traffic(5, 99999999, 100000000, 1234567890, 123456789012345)),
    ],
    "dataplane": {"rx_packets": 10, "tx_packets": 9, "dropped": 1,
                  "drop_reasons": {"parse": 1, "not_vip": 0}, "arp_replies": 2, "flows": 3},
}

CONNS = {
    "connections": [
        {"proto": "tcp", "client": "192.0.2.1:40000", "virtual": "10.0.0.100:80",
         "real": "10.0.0.11:80", "state": "ESTABLISHED", "expires": 899, "worker": 0},
        {"proto": "udp", "client": "192.0.2.2:53", "virtual": "10.0.0.100:53",
         "real": "-", "state": "UDP", "expires": 61, "worker": 1},
    ],
    "truncated": False,
}

INFO = {
    "version": "0.1.0", "uptime": 90061, "config_file": "/etc/dpdk-lb/dpdk-lb.json",
    "control_lcore": 0,
    "workers": [{"lcore": 1, "queues": [{"port": 0, "queue": 0}, {"port": 1, "queue": 0}]}],
    "ports": [{"port": 0, "name": "0000:00:04.0", "mac": "02:00:00:00:00:01",
               "address": "10.0.0.2/24", "rx_queues": 1, "tx_queues": 1,
               "vlans": [{"id": 10, "address": "10.1.0.2/24", "mtu": 1500},
                         {"id": 20, "address": "10.2.0.2/24", "address6": "2001:db8::2/64",
                          "mtu": 1400}]}],
    "schedulers": ["rr", "wrr", "wlc"], "flow_capacity": 262144, "snapshot_generation": 4,
}


class FakeDaemon:
    """Answers one JSON-RPC line per connection. `answers` maps a method to a result, to
    ("error", code, message), or to a callable(request) -> raw bytes to send."""

    def __init__(self, path):
        self.path = str(path)
        self.requests = []
        self.answers = {}
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                try:
                    self._handle(conn)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, as some tests want

    def _handle(self, conn):
        conn.settimeout(5)
        data = b""
        while b"\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        req = json.loads(data.split(b"\n", 1)[0])
        self.requests.append(req)
        answer = self.answers.get(req["method"])
        if callable(answer):
            out = answer(req)
            for piece in out if isinstance(out, list) else [out]:
                if isinstance(piece, (int, float)):
                    time.sleep(piece)
                else:
                    conn.sendall(piece)
            return
        if answer is None:
            resp = {"jsonrpc": "2.0", "id": req["id"],
                    "error": {"code": -32601, "message": "method not found"}}
        elif isinstance(answer, tuple) and answer[0] == "error":
            resp = {"jsonrpc": "2.0", "id": req["id"],
                    "error": {"code": answer[1], "message": answer[2]}}
        else:
            resp = {"jsonrpc": "2.0", "id": req["id"], "result": answer}
        conn.sendall(json.dumps(resp).encode() + b"\n")

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def daemon(tmp_path):
    d = FakeDaemon(tmp_path / "lb.sock")
    yield d
    d.stop()


def run(*args, daemon=None, env=None, timeout=20):
    full_env = dict(os.environ)
    full_env.pop("DPDK_LB_SOCKET", None)
    full_env.update(env or {})
    argv = [CLI]
    if daemon is not None:
        argv += ["-s", daemon.path]
    r = subprocess.run(argv + list(args), capture_output=True, text=True, env=full_env,
                       timeout=timeout)
    check_sanitizers(r)
    return r


def check_sanitizers(r):
    # With an -fsanitize build a leak or UB on an error path would otherwise go unnoticed.
    assert "Sanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr


def test_binary_exists():
    assert os.access(CLI, os.X_OK), f"dpdk-lb-cli not found at {CLI} (set DPDK_LB_CLI)"


def test_list_table_layout(daemon):
    daemon.answers["service.list"] = SERVICES
    r = run("list", daemon=daemon)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"IP Virtual Server version \S+ \(dpdk-lb\)", lines[0])
    assert lines[1:] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "TCP  10.0.0.100:80 rr",
        "  -> 10.0.0.11:80                 Route   1      0          0",
        "  -> 10.0.0.12:80                 Route   100    12345      7",
        "UDP  [2001:db8::100]:443 wlc",
        "  -> [2001:db8::11]:8443          Tunnel  0      0          3",
    ]
    assert daemon.requests[0]["method"] == "service.list"
    assert daemon.requests[0]["jsonrpc"] == "2.0"
    assert "params" not in daemon.requests[0]
    assert r.stderr == ""


def test_service_list_alias_and_n_flag(daemon):
    daemon.answers["service.list"] = SERVICES
    a = run("list", "-n", daemon=daemon)
    b = run("service", "list", daemon=daemon)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_list_one_service(daemon):
    daemon.answers["service.list"] = SERVICES
    r = run("list", "UDP", "[2001:DB8:0::100]:443", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "UDP  [2001:db8::100]:443 wlc",
        "  -> [2001:db8::11]:8443          Tunnel  0      0          3",
    ]
    r = run("list", "tcp", "10.9.9.9:80", daemon=daemon)
    assert r.returncode == 1
    assert "no such service" in r.stderr


def test_forward_names(daemon):
    svc = {"vip": "10.0.0.1", "port": 80, "proto": "tcp", "scheduler": "wlc", "forward": "dr",
           "reals": [{"ip": f"10.0.0.{i}", "port": 80, "weight": 1, "forward": f,
                      "active": 0, "inactive": 0}
                     for i, f in enumerate(["dr", "tun", "nat", "fnat", "weird"], 2)]}
    daemon.answers["service.list"] = {"services": [svc]}
    r = run("list", daemon=daemon)
    forwards = [line.split()[2] for line in r.stdout.splitlines()[4:]]
    assert forwards == ["Route", "Tunnel", "Masq", "FullNat", "weird"]


def test_json_prints_raw_result(daemon):
    daemon.answers["service.list"] = SERVICES
    for argv in (["--json", "list"], ["list", "--json"]):
        r = run(*argv, daemon=daemon)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == SERVICES
        assert r.stdout.startswith("{\n  ")  # indented, for people


def test_list_stats_suffixes(daemon):
    daemon.answers["stats.get"] = STATS
    r = run("list", "--stats", daemon=daemon)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"IP Virtual Server version \S+ \(dpdk-lb\)", lines[0])
    assert lines[1:] == [
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
        "  -> RemoteAddress:Port",
        "TCP  10.0.0.100:80                       5 99999999  100000K    1234M     123T",
        "  -> 10.0.0.11:80                        5 99999999  999999K   99999M   12345G",
    ]
    assert daemon.requests[0]["method"] == "stats.get"
    assert "params" not in daemon.requests[0]


def test_list_stats_exact(daemon):
    daemon.answers["stats.get"] = STATS
    r = run("list", "--stats", "--exact", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[3] == (
        "TCP  10.0.0.100:80                       5 99999999 100000000 1234567890"
        " 123456789012345")


def test_list_stats_one_service_sends_key(daemon):
    daemon.answers["stats.get"] = STATS
    r = run("list", "--stats", "tcp", "10.0.0.100:80", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert daemon.requests[0]["params"] == {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}
    assert r.stdout.splitlines()[0].startswith("Prot LocalAddress:Port")


def test_list_rate_not_supported(daemon):
    daemon.answers["stats.get"] = STATS
    r = run("list", "--rate", daemon=daemon)
    assert r.returncode == 2
    assert "not supported" in r.stderr
    assert r.stdout == ""


def test_list_rate_when_daemon_has_rates(daemon):
    stats = json.loads(json.dumps(STATS))
    for o in [stats["services"][0]] + stats["services"][0]["reals"]:
        o.update({"cps": 1, "inpps": 2, "outpps": 3, "inbps": 4, "outbps": 5})
    daemon.answers["stats.get"] = stats
    r = run("list", "--rate", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1] == (
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS")
    assert r.stdout.splitlines()[3].split() == ["TCP", "10.0.0.100:80", "1", "2", "3", "4", "5"]


def test_stats_command_dataplane(daemon):
    daemon.answers["stats.get"] = STATS
    r = run("stats", daemon=daemon)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("Prot LocalAddress:Port               Conns")
    assert "\nDataplane\n" in out
    assert re.search(r"^  rx_packets +10$", out, re.M)
    assert re.search(r"^  drop_reasons$", out, re.M)
    assert re.search(r"^    parse +1$", out, re.M)


def test_rpc_error_printed_and_exit_1(daemon):
    daemon.answers["service.add"] = ("error", -32002, "service exists already")
    r = run("service", "add", "tcp", "10.0.0.100:80", daemon=daemon)
    assert r.returncode == 1
    assert r.stderr == "dpdk-lb-cli: service.add: service exists already (code -32002)\n"
    assert r.stdout == ""


def test_connection_failure(tmp_path):
    sock = tmp_path / "nobody.sock"
    r = run("-s", str(sock), "list")
    assert r.returncode == 1
    assert str(sock) in r.stderr
    assert "No such file or directory" in r.stderr


def test_connection_refused(tmp_path):
    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the file stays, nobody listens
    r = run("-s", str(path), "info")
    assert r.returncode == 1
    assert "Connection refused" in r.stderr and str(path) in r.stderr


def test_env_socket(daemon):
    daemon.answers["system.info"] = INFO
    r = run("info", env={"DPDK_LB_SOCKET": daemon.path})
    assert r.returncode == 0, r.stderr
    assert daemon.requests[0]["method"] == "system.info"
    # -s wins over the environment
    r = run("-s", "/nonexistent/x.sock", "info", env={"DPDK_LB_SOCKET": daemon.path})
    assert r.returncode == 1 and "/nonexistent/x.sock" in r.stderr


@pytest.mark.parametrize("argv", [
    [],
    ["frobnicate"],
    ["service"],
    ["service", "frob", "tcp", "1.2.3.4:80"],
    ["service", "add"],
    ["service", "add", "tcp"],
    ["service", "add", "icmp", "10.0.0.1:80"],
    ["service", "add", "tcp", "10.0.0.1"],
    ["service", "add", "tcp", "10.0.0.1:70000"],
    ["service", "add", "tcp", "10.0.0.1:65536"],
    ["service", "add", "tcp", "10.0.0.300:80"],
    ["service", "add", "tcp", "2001:db8::1:80"],
    ["service", "add", "tcp", "10.0.0.1:80", "extra"],
    ["service", "add", "tcp", "10.0.0.1:80", "--bogus"],
    ["service", "add", "tcp", "10.0.0.1:80", "--scheduler"],
    ["service", "update", "tcp", "10.0.0.1:80"],
    ["service", "del", "tcp", "10.0.0.1:80", "-s", "rr"],
    ["real", "add", "tcp", "10.0.0.1:80"],
    ["real", "add", "tcp", "10.0.0.1:80", "10.0.0.2", "-w", "65536"],
    ["real", "add", "tcp", "10.0.0.1:80", "10.0.0.2", "-w", "-1"],
    ["real", "add", "tcp", "10.0.0.1:80", "10.0.0.2", "--weight=x"],
    ["real", "add", "tcp", "10.0.0.1:80", "10.0.0.2:99999"],
    ["real", "update", "tcp", "10.0.0.1:80", "10.0.0.2"],
    ["list", "--stats", "--rate"],
    ["list", "tcp"],
    ["conns", "--limit", "0"],
    ["conns", "extra"],
    ["info", "extra"],
    ["call"],
    ["call", "system.info", "{not json"],
    ["--timeout", "soon", "info"],
    ["--no-such-option"],
])
def test_usage_errors(daemon, argv):
    r = run(*argv, daemon=daemon)
    assert r.returncode == 2, (argv, r.stdout, r.stderr)
    assert r.stderr.startswith("dpdk-lb-cli: ")
    assert r.stdout == ""
    assert daemon.requests == []  # nothing was sent


def test_help(daemon):
    r = run("--help")
    assert r.returncode == 0
    assert "usage: dpdk-lb-cli" in r.stdout
    for cmd in ["list", "service add", "real update", "stats", "conns", "config save", "config reload", "info",
                "call"]:
        assert cmd in r.stdout
    r = run("service", "add", "-h", daemon=daemon)
    assert r.returncode == 0 and r.stdout.startswith("usage: dpdk-lb-cli service add")
    assert daemon.requests == []


def test_service_commands_send_params(daemon):
    daemon.answers.update({"service.add": {"ok": 1}, "service.update": {"ok": 2},
                           "service.del": {"deleted": True}})
    assert run("service", "add", "TCP", "10.0.0.100:80", "-s", "rr", "-g",
               daemon=daemon).returncode == 0
    assert run("service", "update", "udp", "[2001:db8::1]:53", "--scheduler=wlc",
               "--forward", "tun", daemon=daemon).returncode == 0
    r = run("service", "del", "tcp", "10.0.0.100:80", "--json", daemon=daemon)
    assert r.returncode == 0 and json.loads(r.stdout) == {"deleted": True}
    assert [(q["method"], q["params"]) for q in daemon.requests] == [
        ("service.add", {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr",
                         "forward": "dr"}),
        ("service.update", {"vip": "2001:db8::1", "port": 53, "proto": "udp",
                            "scheduler": "wlc", "forward": "tun"}),
        ("service.del", {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}),
    ]


def test_mutations_are_quiet_without_json(daemon):
    daemon.answers["service.add"] = {"vip": "10.0.0.100"}
    r = run("service", "add", "tcp", "10.0.0.100:80", daemon=daemon)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def test_real_commands_send_params(daemon):
    daemon.answers.update({"real.add": {}, "real.update": {}, "real.del": {"deleted": True}})
    key = {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}
    assert run("real", "add", "tcp", "10.0.0.100:80", "10.0.0.11", daemon=daemon).returncode == 0
    assert run("real", "add", "tcp", "10.0.0.100:80", "10.0.0.12:8080", "-w", "5", "-m",
               daemon=daemon).returncode == 0
    assert run("real", "update", "tcp", "10.0.0.100:80", "10.0.0.12:8080", "--weight", "0",
               daemon=daemon).returncode == 0
    assert run("real", "del", "tcp", "10.0.0.100:80", "10.0.0.11:80",
               daemon=daemon).returncode == 0
    assert run("real", "add", "udp", "[2001:db8::1]:53", "2001:db8::2",
               daemon=daemon).returncode == 0
    assert [(q["method"], q["params"]) for q in daemon.requests] == [
        ("real.add", {"service": key, "ip": "10.0.0.11"}),
        ("real.add", {"service": key, "ip": "10.0.0.12", "port": 8080, "weight": 5,
                      "forward": "nat"}),
        ("real.update", {"service": key, "ip": "10.0.0.12", "port": 8080, "weight": 0}),
        ("real.del", {"service": key, "ip": "10.0.0.11", "port": 80}),
        ("real.add", {"service": {"vip": "2001:db8::1", "port": 53, "proto": "udp"},
                      "ip": "2001:db8::2"}),
    ]


def test_conns_table(daemon):
    daemon.answers["conn.list"] = CONNS
    r = run("conns", "--limit", "5", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "IPVS connection entries",
        "pro expire state       source             virtual            destination",
        "TCP 14:59  ESTABLISHED 192.0.2.1:40000    10.0.0.100:80      10.0.0.11:80",
        "UDP 01:01  UDP         192.0.2.2:53       10.0.0.100:53      -",
    ]
    assert daemon.requests[0]["params"] == {"limit": 5}


def test_conns_truncated_note_on_stderr(daemon):
    daemon.answers["conn.list"] = dict(CONNS, truncated=True)
    r = run("conns", daemon=daemon)
    assert r.returncode == 0
    assert "only the first 2 connections" in r.stderr
    assert "params" not in daemon.requests[0]


def test_conns_follows_the_cursor(daemon):
    """A page may stop short of its limit; the CLI asks for the rest with the cursor."""
    pages = {None: (CONNS["connections"][:1], "0:10"), "0:10": ([], "1:0"),
             "1:0": (CONNS["connections"][1:], None)}

    def page(req):
        got, cursor = pages[req.get("params", {}).get("cursor")]
        result = {"connections": got, "truncated": cursor is not None, "cursor": cursor}
        return json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}).encode() + b"\n"
    daemon.answers["conn.list"] = page
    r = run("conns", "--limit", "5", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 4 and "only the first" not in r.stderr
    assert [q.get("params") for q in daemon.requests] == [
        {"limit": 5}, {"limit": 4, "cursor": "0:10"}, {"limit": 4, "cursor": "1:0"}]


def test_refusal_before_the_request_shows_the_daemons_message(tmp_path):
    """A daemon with every slot busy answers and closes before reading the request: the CLI
    must show that answer, not the EPIPE its send then gets."""
    path = str(tmp_path / "busy.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    line = json.dumps({"jsonrpc": "2.0", "id": None, "error": {
        "code": -32003, "message": "too many clients: all rpc.max_clients (64) busy"}}).encode()

    def refuse():
        conn, _ = srv.accept()
        conn.sendall(line + b"\n")
        conn.close()
    t = threading.Thread(target=refuse, daemon=True)
    t.start()
    try:
        # A long request makes it likely that the send is still going when the daemon closes.
        r = run("-s", path, "service", "add", "tcp", "10.0.0.100:80", "--scheduler", "x" * 100000)
    finally:
        t.join(5)
        srv.close()
    assert r.returncode != 0
    assert "too many clients" in r.stderr and "-32003" in r.stderr, r.stderr
    assert "Broken pipe" not in r.stderr


def test_info(daemon):
    daemon.answers["system.info"] = INFO
    r = run("info", daemon=daemon)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert re.search(r"^version +0\.1\.0$", out, re.M)
    assert re.search(r"^uptime +1d 01:01:01 \(90061 s\)$", out, re.M)
    assert re.search(r"^schedulers +rr wrr wlc$", out, re.M)
    assert "port 0 queue 0, port 1 queue 0" in out
    assert "02:00:00:00:00:01" in out and "10.0.0.2/24" in out
    assert re.search(r"^    vlan 10 +address 10\.1\.0\.2/24 mtu 1500$", out, re.M), out
    assert re.search(r"^    vlan 20 +address 10\.2\.0\.2/24 address6 2001:db8::2/64 mtu 1400$",
                     out, re.M), out


def test_config_get_and_save(daemon, tmp_path, monkeypatch):
    cfg = {"rpc": {"socket": "/run/x.sock"}, "services": []}
    daemon.answers["config.get"] = cfg
    daemon.answers["config.save"] = lambda req: (json.dumps(
        {"jsonrpc": "2.0", "id": req["id"],
         "result": {"path": req.get("params", {}).get("path", "/etc/lb.json"), "bytes": 42}})
        + "\n").encode()
    r = run("config", "get", daemon=daemon)
    assert r.returncode == 0 and json.loads(r.stdout) == cfg
    r = run("config", "save", daemon=daemon)
    assert r.returncode == 0 and r.stdout == "saved 42 bytes to /etc/lb.json\n"
    assert "params" not in daemon.requests[-1]
    # a relative PATH is the user's, not the daemon's working directory
    sub = subprocess.run([CLI, "-s", daemon.path, "config", "save", "out.json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    check_sanitizers(sub)
    assert sub.returncode == 0, sub.stderr
    assert daemon.requests[-1]["params"] == {"path": str(tmp_path / "out.json")}
    daemon.answers["config.save"] = ("error", -32004, "/ro/x.json: Read-only file system")
    r = run("config", "save", "/ro/x.json", daemon=daemon)
    assert r.returncode == 1
    assert r.stderr == ("dpdk-lb-cli: config.save: /ro/x.json: Read-only file system"
                        " (code -32004)\n")


def test_config_reload(daemon, tmp_path):
    answers = iter([{"path": "/etc/lb.json", "generation": 7, "changed": True},
                    {"path": str(tmp_path / "new.json"), "generation": 7, "changed": False}])
    daemon.answers["config.reload"] = lambda req: (json.dumps(
        {"jsonrpc": "2.0", "id": req["id"], "result": next(answers)}) + "\n").encode()
    r = run("config", "reload", daemon=daemon)
    assert r.returncode == 0 and r.stdout == "reloaded /etc/lb.json: generation 7\n"
    assert "params" not in daemon.requests[-1]
    sub = subprocess.run([CLI, "-s", daemon.path, "config", "reload", "new.json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20)
    check_sanitizers(sub)
    assert sub.returncode == 0 and sub.stdout == f"{tmp_path / 'new.json'}: no change (generation 7)\n"
    assert daemon.requests[-1]["params"] == {"path": str(tmp_path / "new.json")}
    daemon.answers["config.reload"] = ("error", -32602, "changes to ports take a restart")
    r = run("config", "reload", daemon=daemon)
    assert r.returncode == 1 and "changes to ports take a restart (code -32602)" in r.stderr
    r = run("config", "reload", "a", "b", daemon=daemon)
    assert r.returncode == 2


def test_generic_call(daemon):
    daemon.answers["stats.get"] = STATS
    r = run("call", "stats.get", '{"vip": "10.0.0.100", "port": 80, "proto": "tcp"}',
            daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == STATS
    assert daemon.requests[0]["params"] == {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}
    r = run("call", "no.such", daemon=daemon)
    assert r.returncode == 1
    assert r.stderr == "dpdk-lb-cli: no.such: method not found (code -32601)\n"


def test_response_in_pieces(daemon):
    """The answer arrives in small chunks with pauses: the client must reassemble it."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": SERVICES}).encode() + b"\n"
    pieces = []
    for i in range(0, len(body), 7):
        pieces += [body[i:i + 7], 0.002]
    daemon.answers["service.list"] = lambda req: pieces
    r = run("list", "--json", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == SERVICES


def test_timeout(daemon):
    daemon.answers["system.info"] = lambda req: [1.5]  # never answers in time
    start = time.monotonic()
    r = run("--timeout", "0.3", "info", daemon=daemon)
    assert r.returncode == 1
    assert time.monotonic() - start < 1.4
    assert "timed out" in r.stderr and daemon.path in r.stderr


@pytest.mark.parametrize("raw,needle", [
    (b"", "closed without a response"),
    (b'{"jsonrpc": "2.0", "id": 1, "result"', "in the middle of the response"),
    (b"garbage\n", "invalid response"),
    (b"[1, 2]\n", "invalid response"),
    (b'{"jsonrpc": "2.0", "id": 7, "result": {}}\n', "id does not match"),
    (b'{"jsonrpc": "2.0", "id": 1}\n', "neither result nor error"),
])
def test_bad_responses(daemon, raw, needle):
    daemon.answers["system.info"] = lambda req: raw
    r = run("info", daemon=daemon)
    assert r.returncode == 1
    assert r.stderr.startswith("dpdk-lb-cli: system.info: ")
    assert needle in r.stderr


def test_oversized_response_refused(daemon):
    chunk = b"x" * (1 << 20)
    daemon.answers["system.info"] = lambda req: [b'{"a":"'] + [chunk] * 65 + [b'"}\n']
    r = run("info", daemon=daemon)
    assert r.returncode == 1
    assert "longer than 64 MiB" in r.stderr


def test_persistence_group_threshold_and_fallback_options(daemon):
    daemon.answers.update({"service.add": {"ok": 1}, "service.update": {"ok": 1},
                           "real.add": {"ok": 1}})
    assert run("service", "add", "tcp", "10.0.0.100:0", "-s", "mh", "-p", "300", "-M",
               "255.255.255.0", "-b", "mh-fallback,mh-port", "--ports", "80,443,30000-30100",
               "--protos", "tcp,udp", "--fallback", "10.0.0.9", daemon=daemon).returncode == 0
    assert run("service", "update", "udp", "10.0.0.100:53", "--ops", "--fallback", "none",
               daemon=daemon).returncode == 0
    assert run("real", "add", "tcp", "10.0.0.100:80", "10.0.0.11", "-x", "100", "-y", "50",
               daemon=daemon).returncode == 0
    sent = [q["params"] for q in daemon.requests]
    assert sent[0] == {"vip": "10.0.0.100", "port": 0, "proto": "tcp", "scheduler": "mh",
                       "persistent": 300, "netmask": "255.255.255.0",
                       "sched_flags": ["fallback", "port"], "ports": [80, 443, "30000-30100"],
                       "protos": ["tcp", "udp"], "fallback": {"ip": "10.0.0.9"}}
    assert sent[1] == {"vip": "10.0.0.100", "port": 53, "proto": "udp", "ops": True,
                       "fallback": None}
    assert sent[2]["u_threshold"] == 100 and sent[2]["l_threshold"] == 50


def test_fullnat_local_addresses_and_client_address_options(daemon):
    daemon.answers.update({"service.add": {"ok": 1}, "real.add": {"ok": 1}})
    assert run("service", "add", "tcp", "10.0.0.100:80", "--fullnat", "--laddr",
               "10.0.0.200,10.0.0.201", "--client-address", "toa", daemon=daemon).returncode == 0
    assert run("real", "add", "tcp", "10.0.0.100:80", "10.0.0.11:8080", "-m",
               daemon=daemon).returncode == 0
    assert run("real", "add", "tcp", "10.0.0.100:80", "10.0.0.12", "-i",
               daemon=daemon).returncode == 0
    sent = [q["params"] for q in daemon.requests]
    assert sent[0] == {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "forward": "fnat",
                       "local_addresses": ["10.0.0.200", "10.0.0.201"], "client_address": "toa"}
    assert sent[1]["forward"] == "nat" and sent[1]["port"] == 8080
    assert sent[2]["forward"] == "tun"


def test_list_forward_column_names_every_method(daemon):
    daemon.answers["service.list"] = {"services": [
        {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "dr",
         "sched_flags": [], "persistent": 0, "netmask": 32,
         "reals": [{"ip": f"10.0.0.{11 + i}", "port": 80, "weight": 1, "forward": f,
                    "active": 0, "inactive": 0}
                   for i, f in enumerate(("dr", "tun", "nat", "fnat"))]}]}
    out = run("list", daemon=daemon).stdout
    for word in ("Route", "Tunnel", "Masq", "FullNat"):
        assert word in out, out


def test_list_shows_persistence_and_group_ports(daemon):
    daemon.answers["service.list"] = {"services": [
        {"vip": "10.0.0.100", "port": 0, "proto": "tcp", "scheduler": "rr", "forward": "dr",
         "sched_flags": [], "persistent": 300, "netmask": 24, "ports": [80, "443-444"],
         "reals": []}]}
    r = run("list", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert "TCP  10.0.0.100:0 rr persistent 300 mask 255.255.255.0 ports 80,443-444" in r.stdout


def test_local_fallback_option_and_listing(daemon):
    daemon.answers["service.update"] = {"ok": 1}
    assert run("service", "update", "tcp", "10.0.0.100:80", "--fallback", "local",
               daemon=daemon).returncode == 0
    assert daemon.requests[0]["params"] == {"vip": "10.0.0.100", "port": 80, "proto": "tcp",
                                            "fallback": {"local": True}}
    svc = {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "dr",
           "reals": [], "fallback": {"local": True, "page": "<p>x</p>", "active": 2,
                                     "inactive": 1}}
    daemon.answers["service.list"] = {"services": [svc]}
    r = run("list", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "  -> holding page                 Local   -      2          1"


# ---- health checks, feedback agents and the operator's wish (issue 10) ----

def health_status(now):
    """A health.status result whose ages are stable for the length of a test."""
    return {"services": [
        {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "check": "negotiate",
         "agent": "haproxy", "all_down": False, "fallback_active": False, "reals": [
             {"ip": "10.0.0.11", "port": 80, "state": "up", "admin": "online", "checked": True,
              "since": now - (3 * 86400 + 5 * 3600 + 1800), "last_check": now - (125 * 60 + 30),
              "latency_ms": 1.234, "last_error": "", "failures": 0, "successes": 57,
              "checks": 90, "weight": 10, "effective_weight": 7, "in_service": True,
              "reason": "agent",
              "agent": {"reply": "up 75%", "error": "", "weight_pct": 75, "failures": 0,
                        "last_poll": now - 1}},
             {"ip": "10.0.0.12", "port": 8080, "state": "down", "admin": "drain",
              "checked": True, "since": now - (2 * 3600 + 3 * 60 + 20),
              "last_check": now - 7200.5, "latency_ms": 123.4,
              "last_error": "status 503 not in 200-299", "failures": 3, "successes": 0,
              "checks": 12, "weight": 5, "effective_weight": 0, "in_service": True,
              "reason": "drain",
              "agent": {"reply": "", "error": "connection refused", "weight_pct": None,
                        "failures": 4, "last_poll": None}},
         ]},
        {"vip": "2001:db8::100", "port": 443, "proto": "udp", "check": 3, "agent": None,
         "all_down": True, "fallback_active": True, "reals": [
             {"ip": "2001:db8::11", "port": 443, "state": "unknown", "admin": "offline",
              "checked": True, "since": None, "last_check": None, "latency_ms": None,
              "last_error": "", "failures": 0, "successes": 0, "checks": 0, "weight": 1,
              "effective_weight": 0, "in_service": False, "reason": "offline", "agent": None},
         ]},
    ]}


def test_health_table(daemon):
    daemon.answers["health.status"] = health_status(time.time())
    r = run("health", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "Prot LocalAddress:Port Check Agent",
        "  -> RemoteAddress:Port           State   Admin   Since   Checked Latency  Fail/OK"
        " Weight->Eff Why",
        "TCP  10.0.0.100:80 negotiate haproxy",
        "  -> 10.0.0.11:80                 up      online  3d05h   2h05m   1.23ms   0/57   "
        " 10->7       agent \"up 75%\"",
        "  -> 10.0.0.12:8080               down    drain   2h03m   2h00m   123ms    3/0    "
        " 5->0        drain; status 503 not in 200-299; agent error: connection refused",
        "UDP  [2001:db8::100]:443 3 - (all down: fallback active)",
        "  -> [2001:db8::11]:443           unknown offline -       -       -        0/0    "
        " 1->out      offline",
    ]
    assert daemon.requests[0]["method"] == "health.status"
    assert "params" not in daemon.requests[0]
    assert r.stderr == ""


def test_health_one_service_and_json(daemon):
    status = health_status(1e9)
    daemon.answers["health.status"] = status
    r = run("health", "tcp", "10.0.0.100:80", "--json", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == status
    assert daemon.requests[0]["params"] == {
        "service": {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}}
    daemon.answers["health.status"] = ("error", -32602, "params.service: no such service")
    r = run("health", "udp", "10.0.0.1:53", daemon=daemon)
    assert r.returncode == 1
    assert r.stderr == ("dpdk-lb-cli: health.status: params.service: no such service"
                        " (code -32602)\n")


def test_health_ages_and_latencies(daemon):
    now = time.time()
    status = health_status(now)
    real = status["services"][0]["reals"][0]
    shown = []
    for since, latency in ((now - 42.4, 0.5), (now - 61, 12.34), (now + 30, 4321.0)):
        real.update(since=since, latency_ms=latency)
        daemon.answers["health.status"] = status
        r = run("health", daemon=daemon)
        assert r.returncode == 0, r.stderr
        shown.append(r.stdout.splitlines()[3].split()[4:7:2])
    # seconds, minutes and seconds; a time in the future (another clock) is 0 s
    assert [s[0] for s in shown][2] == "0s"
    assert re.fullmatch(r"4[23]s", shown[0][0]) and re.fullmatch(r"1m0[12]s", shown[1][0])
    assert [s[1] for s in shown] == ["0.50ms", "12.3ms", "4321ms"]


def test_real_admin_commands(daemon):
    key = {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}
    for state in ("drain", "offline", "online"):
        daemon.answers[f"real.{state}"] = {"state": state, "weight": 5,
                                           "effective_weight": 5 if state == "online" else 0}
    assert run("real", "drain", "tcp", "10.0.0.100:80", "10.0.0.11", daemon=daemon).stdout == ""
    r = run("real", "offline", "TCP", "10.0.0.100:80", "10.0.0.11:8080", daemon=daemon)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    r = run("--json", "real", "online", "tcp", "10.0.0.100:80", "10.0.0.11", daemon=daemon)
    assert r.returncode == 0 and json.loads(r.stdout) == {"state": "online", "weight": 5,
                                                          "effective_weight": 5}
    assert [(q["method"], q["params"]) for q in daemon.requests] == [
        ("real.drain", {"service": key, "ip": "10.0.0.11"}),
        ("real.offline", {"service": key, "ip": "10.0.0.11", "port": 8080}),
        ("real.online", {"service": key, "ip": "10.0.0.11"}),
    ]
    daemon.answers["real.drain"] = ("error", -32003, "no such real server in this service")
    r = run("real", "drain", "tcp", "10.0.0.100:80", "10.0.0.99", daemon=daemon)
    assert r.returncode == 1 and "no such real server" in r.stderr


def test_service_add_check_and_agent_options(daemon):
    daemon.answers["service.add"] = {"ok": 1}
    assert run("service", "add", "tcp", "10.0.0.100:80", "-s", "wlc", "--check", "negotiate",
               "--check-service", "http", "--check-port", "8080", "--check-interval", "2.5",
               "--check-timeout", "1", "--negotiate-timeout", "20", "--failures", "3",
               "--successes", "2", "--no-quiescent", "--request", "/health", "--method", "head",
               "--host", "www.example.com", "--status", "200-299,301", "--receive", "ok",
               "--receive-regex", "^up", "--verify", "--ca-file", "/etc/ca.pem",
               "--login", "u", "--password", "p", "--database", "db", "--query-type", "AAAA",
               "--notify", "/usr/local/bin/alert", "--check-protocol", "TCP",
               "--agent", "haproxy", "--agent-port", "4444", "--agent-interval", "2",
               "--agent-timeout", "0.5", "--agent-send", "ping\n",
               daemon=daemon).returncode == 0
    assert daemon.requests[0]["params"] == {
        "vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "wlc",
        "check": {"type": "negotiate", "service": "http", "port": 8080, "interval": 2.5,
                  "timeout": 1, "negotiate_timeout": 20, "failures": 3, "successes": 2,
                  "quiescent": False, "request": "/health", "method": "HEAD",
                  "host": "www.example.com", "status": "200-299,301", "receive": "ok",
                  "receive_regex": "^up", "verify": True, "ca_file": "/etc/ca.pem",
                  "login": "u", "password": "p", "database": "db", "query_type": "AAAA",
                  "notify": "/usr/local/bin/alert", "protocol": "tcp"},
        "agent": {"type": "haproxy", "port": 4444, "interval": 2, "timeout": 0.5,
                  "send": "ping\n"}}


def test_ldirectord_spellings_and_check_types(daemon):
    daemon.answers["service.add"] = {"ok": 1}
    assert run("service", "add", "tcp", "10.0.0.100:21", "--checktype", "3", "--checkport", "21",
               "--checkinterval", "10", "--checktimeout", "5", "--negotiatetimeout", "30",
               "--failurecount", "2", "--quiescent", "--httpmethod", "GET", "--virtualhost",
               "h", "--passwd", "x", "--login", "anonymous", "--no-verify",
               daemon=daemon).returncode == 0
    assert daemon.requests[0]["params"]["check"] == {
        "type": 3, "port": 21, "interval": 10, "timeout": 5, "negotiate_timeout": 30,
        "failures": 2, "quiescent": True, "method": "GET", "host": "h", "password": "x",
        "login": "anonymous", "verify": False}
    for t in ("connect", "ping", "external", "on", "off"):
        assert run("service", "add", "udp", "10.0.0.100:53", "--check", t,
                   daemon=daemon).returncode == 0
        assert daemon.requests[-1]["params"]["check"] == {"type": t}
    assert run("service", "add", "tcp", "10.0.0.100:80", "--check", "external",
               "--check-command", "/bin/check.sh", daemon=daemon).returncode == 0
    assert daemon.requests[-1]["params"]["check"] == {"type": "external",
                                                      "command": "/bin/check.sh"}


CURRENT = {"services": [
    {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "dr",
     "check": {"type": "negotiate", "service": "", "port": 0, "interval": 10.0, "timeout": 5.0,
               "request": "/health", "receive": "ok", "quiescent": True},
     "agent": {"type": "agent", "port": 3333, "interval": 10.0, "timeout": 5.0, "send": ""},
     "reals": [
         {"ip": "10.0.0.11", "port": 80, "weight": 1, "forward": "dr", "state": "online",
          "check": {"port": 8081, "request": "/other"}},
         {"ip": "10.0.0.12", "port": 80, "weight": 1, "forward": "dr", "state": "online"},
     ]},
    {"vip": "10.0.0.100", "port": 80, "proto": "udp", "scheduler": "rr", "forward": "dr",
     "check": None, "agent": None, "reals": []},
]}


def test_service_update_merges_into_the_current_check(daemon):
    """Only the keys given change: the others keep what the service has."""
    daemon.answers.update({"service.list": CURRENT, "service.update": {"ok": 1}})
    assert run("service", "update", "tcp", "10.0.0.100:80", "--check-interval", "2",
               "--agent-timeout", "1", daemon=daemon).returncode == 0
    assert [q["method"] for q in daemon.requests] == ["service.list", "service.update"]
    sent = daemon.requests[1]["params"]
    assert sent["check"] == dict(CURRENT["services"][0]["check"], interval=2)
    assert sent["agent"] == dict(CURRENT["services"][0]["agent"], timeout=1)
    # a new agent type takes its own default interval unless one is given
    assert run("service", "update", "tcp", "10.0.0.100:80", "--agent", "haproxy",
               daemon=daemon).returncode == 0
    assert daemon.requests[-1]["params"]["agent"] == {"type": "haproxy", "port": 3333,
                                                      "timeout": 5.0, "send": ""}
    # a service without a check gets one from the keys given (the other keys: defaults)
    assert run("service", "update", "udp", "10.0.0.100:80", "--check", "connect",
               "--check-port", "53", daemon=daemon).returncode == 0
    assert daemon.requests[-1]["params"]["check"] == {"type": "connect", "port": 53}
    # removing needs no lookup
    n = len(daemon.requests)
    assert run("service", "update", "tcp", "10.0.0.100:80", "--check", "none", "--agent",
               "none", daemon=daemon).returncode == 0
    assert [q["method"] for q in daemon.requests[n:]] == ["service.update"]
    assert daemon.requests[-1]["params"] == {"vip": "10.0.0.100", "port": 80, "proto": "tcp",
                                             "check": None, "agent": None}


def test_service_update_agent_options_need_an_agent(daemon):
    daemon.answers.update({"service.list": CURRENT, "service.update": {"ok": 1}})
    r = run("service", "update", "udp", "10.0.0.100:80", "--agent-port", "4444", daemon=daemon)
    assert r.returncode == 2 and "need an agent" in r.stderr
    assert [q["method"] for q in daemon.requests] == ["service.list"]  # nothing changed


def test_real_check_override_and_state(daemon):
    key = {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}
    daemon.answers.update({"service.list": CURRENT, "real.add": {}, "real.update": {}})
    assert run("real", "add", "tcp", "10.0.0.100:80", "10.0.0.13", "-w", "2", "--state",
               "drain", "--check-port", "8443", "--check", "connect",
               daemon=daemon).returncode == 0
    assert daemon.requests[-1]["params"] == {"service": key, "ip": "10.0.0.13", "weight": 2,
                                             "state": "drain",
                                             "check": {"port": 8443, "type": "connect"}}
    # an update merges into the real's own override (the port defaults to the service's)
    assert run("real", "update", "tcp", "10.0.0.100:80", "10.0.0.11", "--receive", "alive",
               daemon=daemon).returncode == 0
    assert [q["method"] for q in daemon.requests[-2:]] == ["service.list", "real.update"]
    assert daemon.requests[-1]["params"] == {"service": key, "ip": "10.0.0.11", "check": {
        "port": 8081, "request": "/other", "receive": "alive"}}
    assert run("real", "update", "tcp", "10.0.0.100:80", "10.0.0.12:80", "--request", "/x",
               daemon=daemon).returncode == 0
    assert daemon.requests[-1]["params"]["check"] == {"request": "/x"}
    # --state alone and --check none need no lookup
    n = len(daemon.requests)
    assert run("real", "update", "tcp", "10.0.0.100:80", "10.0.0.11", "--state", "offline",
               "--check", "none", daemon=daemon).returncode == 0
    assert [q["method"] for q in daemon.requests[n:]] == ["real.update"]
    assert daemon.requests[-1]["params"] == {"service": key, "ip": "10.0.0.11",
                                             "state": "offline", "check": None}


def test_list_effective_weight_and_state_columns(daemon):
    services = json.loads(json.dumps(SERVICES))
    r0, r1 = services["services"][0]["reals"]
    r0.update(state="online", health="up", effective_weight=1, in_service=True)
    r1.update(state="drain", health="down", effective_weight=0, in_service=True)
    services["services"][1]["reals"][0].update(state="offline", health="unknown",
                                               effective_weight=0, in_service=False)
    services["services"][1]["fallback"] = {"ip": "2001:db8::99", "port": 443, "forward": "tun",
                                           "active": 1, "inactive": 2}
    daemon.answers["service.list"] = services
    r = run("list", daemon=daemon)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn EffWeight State",
        "TCP  10.0.0.100:80 rr",
        "  -> 10.0.0.11:80                 Route   1      0          0         1         up",
        "  -> 10.0.0.12:80                 Route   100    12345      7         0         down/drain",
        "UDP  [2001:db8::100]:443 wlc",
        "  -> [2001:db8::11]:8443          Tunnel  0      0          3         out       "
        "unknown/offline",
        "  -> [2001:db8::99]:443           Tunnel  -      1          2         -         -",
    ]


@pytest.mark.parametrize("argv", [
    ["service", "add", "tcp", "10.0.0.1:80", "--check", "bogus"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check", "0"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check", "1001"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check-interval", "0"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check-interval", "-1"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check-interval", "1e9"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check-timeout", "soon"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check-port", "65536"],
    ["service", "add", "tcp", "10.0.0.1:80", "--failures", "0"],
    ["service", "add", "tcp", "10.0.0.1:80", "--successes", "1001"],
    ["service", "add", "tcp", "10.0.0.1:80", "--method", "POST"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check-protocol", "sctp"],
    ["service", "add", "tcp", "10.0.0.1:80", "--check", "none", "--check-port", "80"],
    ["service", "add", "tcp", "10.0.0.1:80", "--agent", "snmp"],
    ["service", "add", "tcp", "10.0.0.1:80", "--agent-port", "0"],
    ["service", "add", "tcp", "10.0.0.1:80", "--agent-port", "4444"],
    ["service", "add", "tcp", "10.0.0.1:80", "--agent", "none", "--agent-port", "4444"],
    ["service", "add", "tcp", "10.0.0.1:80", "--quiescent=yes"],
    ["service", "del", "tcp", "10.0.0.1:80", "--check", "on"],
    ["real", "add", "tcp", "10.0.0.1:80", "10.0.0.2", "--state", "maint"],
    ["real", "add", "tcp", "10.0.0.1:80", "10.0.0.2", "--agent", "http"],
    ["real", "del", "tcp", "10.0.0.1:80", "10.0.0.2", "--state", "drain"],
    ["real", "drain", "tcp", "10.0.0.1:80"],
    ["real", "drain", "tcp", "10.0.0.1:80", "10.0.0.2", "extra"],
    ["real", "drain", "tcp", "10.0.0.1:80", "10.0.0.2", "-w", "1"],
    ["real", "online", "icmp", "10.0.0.1:80", "10.0.0.2"],
    ["health", "tcp"],
    ["health", "tcp", "10.0.0.1"],
    ["health", "tcp", "10.0.0.1:80", "extra"],
])
def test_health_usage_errors(daemon, argv):
    r = run(*argv, daemon=daemon)
    assert r.returncode == 2, (argv, r.stdout, r.stderr)
    assert r.stderr.startswith("dpdk-lb-cli: ")
    assert r.stdout == ""
    assert daemon.requests == []


def test_health_help(daemon):
    r = run("--help")
    for cmd in ["health [PROTO VIP:PORT]", "real drain|offline|online", "--check TYPE"]:
        assert cmd in r.stdout, cmd
    r = run("service", "update", "--help", daemon=daemon)
    assert r.returncode == 0
    for opt in ["--check TYPE|N|none", "--check-interval S", "--agent none|agent|http|haproxy",
                "--receive-regex RE", "--no-quiescent"]:
        assert opt in r.stdout, opt
    r = run("real", "add", "-h", daemon=daemon)
    assert "--state online|drain|offline" in r.stdout and "--check-port N" in r.stdout
    assert "--agent" not in r.stdout
    assert daemon.requests == []
