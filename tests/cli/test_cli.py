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
               "address": "10.0.0.2/24", "rx_queues": 1, "tx_queues": 1}],
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
    for cmd in ["list", "service add", "real update", "stats", "conns", "config save", "info",
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
