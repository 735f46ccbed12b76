"""The metrics listener (metrics.listen): /metrics in the Prometheus text format with the IPVS
collector's names and labels, the status page, HTTP errors, DPDK telemetry, and clients that are
slow or flood, which must never hold up the RPC socket."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest
from scapy.all import IP, TCP, Ether, Raw, wrpcap

from lbdaemon import wait_until

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP = "10.9.0.100"
REALS = {"10.9.0.11": "02:00:00:00:00:11", "10.9.0.12": "02:00:00:00:00:12"}
N_FLOWS = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(port):
    return {
        "ports": [{"address": "10.9.0.2/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in REALS.items()]},
        "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                      "reals": [{"ip": ip, "port": 80, "weight": 3} for ip in REALS]}],
        "metrics": {"listen": f"127.0.0.1:{port}"},
    }


def packets():
    pkts = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.10", dst=VIP) /
            TCP(sport=42000 + i, dport=80, flags="S") / Raw(b"x" * 10) for i in range(N_FLOWS)]
    # one packet for a port no service has: a not_vip drop
    pkts.append(Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.10", dst="10.9.0.99") /
                TCP(sport=1, dport=81, flags="S"))
    return pkts


@pytest.fixture
def daemon(pcap_daemon, tmp_path):
    port = free_port()
    path = tmp_path / "in.pcap"
    pkts = packets()
    wrpcap(str(path), pkts)
    d = pcap_daemon([path], config(port))
    d.wait_rx(len(pkts))
    d.metrics_port = port
    wait_until(lambda: http_get(port, "/metrics", timeout=1)[0] == 200, timeout=10,
               what="the metrics listener")
    return d


def http_raw(port, request: bytes, timeout=5.0):
    """Sends request and returns everything the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def http_get(port, path, method="GET", timeout=5.0):
    """(status, headers dict, body) of one request; (0, {}, b"") when the connection failed."""
    try:
        raw = http_raw(port, f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), timeout)
    except OSError:
        return 0, {}, b""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of every sample; checks TYPE lines come first."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.groups()
        assert name in typed, f"{name} has no TYPE line before it"
        lab = frozenset(re.findall(r'(\w+)="([^"]*)"', labels or ""))
        samples[(name, lab)] = float(value)
    return samples


def svc_labels(**extra):
    return frozenset({"local_address": VIP, "local_port": "80", "proto": "TCP", **extra}.items())


def test_metrics_have_ipvs_names_labels_and_dataplane_counters(daemon):
    status, headers, body = http_get(daemon.metrics_port, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert int(headers["Content-Length"]) == len(body)
    m = parse_metrics(body.decode())
    svc = daemon.stats()["services"][0]
    assert m[("dpdk_lb_connections_total", svc_labels())] == N_FLOWS == svc["conns"]
    assert m[("dpdk_lb_incoming_packets_total", svc_labels())] == N_FLOWS
    assert m[("dpdk_lb_incoming_bytes_total", svc_labels())] == svc["inbytes"] > 0
    assert m[("dpdk_lb_outgoing_packets_total", svc_labels())] == 0
    for ip in REALS:
        real = svc_labels(remote_address=ip, remote_port="80")
        # rr: half the SYNs each; a SYN-only flow is inactive (IPVS: active = ESTABLISHED)
        assert m[("dpdk_lb_backend_connections_inactive", real)] == N_FLOWS / 2
        assert m[("dpdk_lb_backend_connections_active", real)] == 0
        assert m[("dpdk_lb_backend_weight", real)] == 3
        assert m[("dpdk_lb_backend_connections_total", real)] == N_FLOWS / 2
        assert m[("dpdk_lb_backend_health_state", real | {("state", "up")})] == 1
        assert m[("dpdk_lb_backend_health_state", real | {("state", "down")})] == 0
    assert m[("dpdk_lb_dataplane_rx_packets_total", frozenset())] == N_FLOWS + 1
    assert m[("dpdk_lb_dataplane_flows", frozenset())] == N_FLOWS
    assert m[("dpdk_lb_dataplane_dropped_packets_total", frozenset({("reason", "not_vip")}))] == 1
    ports = {k: v for k, v in m.items() if k[0] == "dpdk_lb_port_receive_packets_total"}
    assert list(ports.values()) == [N_FLOWS + 1], ports
    assert m[("dpdk_lb_port_link_up", next(iter(ports))[1])] == 1


def test_promtool_accepts_the_exposition(daemon):
    if shutil.which("promtool") is None:
        pytest.fail("promtool missing: scripts/bootstrap.sh installs Debian's prometheus")
    _, _, body = http_get(daemon.metrics_port, "/metrics")
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=30)
    # promtool exits 0 when the format is valid; lint remarks (none expected) would be printed
    assert p.returncode == 0 and p.stdout + p.stderr == b"", p.stdout + p.stderr


def test_status_page_and_http_errors(daemon):
    port = daemon.metrics_port
    status, headers, body = http_get(port, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    for chart in ("chart-conns", "chart-rates", "chart-bytes", "chart-drops"):
        assert f'id="{chart}"' in page
    assert f"{VIP}:80" in page and "10.9.0.11:80" in page
    status, headers, body = http_get(port, "/?res=60")
    assert status == 200 and b"per minute, last 24 h" in body
    status, headers, body = http_get(port, "/metrics", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert http_get(port, "/nothing")[0] == 404
    assert http_get(port, "/metrics", method="POST")[0] == 405
    assert http_raw(port, b"\x16\x03\x01\x02\x00\x01\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert http_raw(port, b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 414")
    # a head that never ends within the buffer
    big = b"GET / HTTP/1.1\r\n" + b"X-A: " + b"b" * 5000 + b"\r\n\r\n"
    assert http_raw(port, big).startswith(b"HTTP/1.1 431")


def rpc_latency(d, n=20):
    """The worst of n system.info round trips, in seconds."""
    worst = 0.0
    for _ in range(n):
        t0 = time.monotonic()
        d.rpc.call("system.info")
        worst = max(worst, time.monotonic() - t0)
    return worst


def test_slow_and_flooding_clients_never_starve_rpc(daemon):
    port = daemon.metrics_port
    stop = threading.Event()
    idle, threads = [], []
    try:
        # Slowloris: many more connections than the listener keeps, each sending half a head.
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
            idle.append(s)
        # Floods: threads asking for pages as fast as they can, and one connecting and dropping.
        def flood_pages():
            while not stop.is_set():
                for path in ("/metrics", "/"):
                    try:
                        http_get(port, path, timeout=2)
                    except (OSError, IndexError):
                        pass  # evicted before its answer: the flood's expected fate

        def flood_connects():
            while not stop.is_set():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    pass
        threads += [threading.Thread(target=flood_pages) for _ in range(3)]
        threads.append(threading.Thread(target=flood_connects))
        for t in threads:
            t.start()
        time.sleep(0.5)  # let the floods reach their pace (not synchronisation: load)
        worst = rpc_latency(daemon)
        assert worst < 0.5, f"an RPC round trip took {worst:.3f} s under the HTTP flood"
        # A scraper still gets through: newcomers evict the oldest connections.
        status, _, body = http_get(port, "/metrics")
        assert status == 200 and b"dpdk_lb_connections_total" in body
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for s in idle:
            s.close()
    m = parse_metrics(http_get(port, "/metrics")[2].decode())
    assert m[("dpdk_lb_metrics_http_closed_total", frozenset({("why", "evicted")}))] >= 100 - 32


def test_a_silent_client_is_closed_at_its_deadline(daemon):
    port = daemon.metrics_port
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
        t0 = time.monotonic()
        assert s.recv(100) == b""  # closed by the daemon, not answered
        waited = time.monotonic() - t0
        assert 4.0 <= waited <= 6.5, waited  # METRICS_HTTP_DEADLINE_MS is 5 s
    finally:
        s.close()
    m = parse_metrics(http_get(port, "/metrics")[2].decode())
    assert m[("dpdk_lb_metrics_http_closed_total", frozenset({("why", "deadline")}))] >= 1


def telemetry(prefix, *cmds):
    """Answers of dpdk-telemetry.py to cmds, by command."""
    p = subprocess.run(["dpdk-telemetry.py", "-f", prefix], input="\n".join(cmds) + "\n",
                       capture_output=True, text=True, timeout=30)
    answers = {}
    for line in p.stdout.splitlines():
        line = line.strip().lstrip("-> ").strip()
        if line.startswith("{"):
            answers.update(json.loads(line))
    return answers


def test_telemetry_commands_give_the_same_counters(daemon):
    stats = daemon.stats()
    cmds = ("/dpdk_lb/stats", "/dpdk_lb/drops", "/dpdk_lb/services", "/dpdk_lb/ports",
            "/dpdk_lb/health", "/")
    # /dpdk_lb/services reads a copy the control loop refreshes every second
    got = wait_until(lambda: (a := telemetry(daemon.prefix, *cmds)) and len(a) == len(cmds)
                     and a["/dpdk_lb/services"].get("0", {}).get("conns") == N_FLOWS and a,
                     timeout=15, what="telemetry answers")
    for c in cmds[:-1]:
        assert c in got["/"]
    assert got["/dpdk_lb/stats"]["rx_packets"] == stats["dataplane"]["rx_packets"] == N_FLOWS + 1
    assert got["/dpdk_lb/stats"]["flows"] == N_FLOWS
    assert got["/dpdk_lb/stats"]["dropped"] == 1
    assert got["/dpdk_lb/drops"]["not_vip"] == 1
    svc = got["/dpdk_lb/services"]["0"]
    assert (svc["proto"], svc["vip"], svc["port"]) == ("tcp", VIP, 80)
    assert svc["inpkts"] == N_FLOWS and svc["inactive"] == N_FLOWS and svc["active"] == 0
    assert got["/dpdk_lb/ports"]["0"]["rx_packets"] == N_FLOWS + 1
    health = got["/dpdk_lb/health"]
    assert health["targets"] == len(REALS) and health["checks"] == 0  # no checks configured


def test_metrics_off_opens_no_listener(pcap_daemon, tmp_path):
    port = free_port()
    path = tmp_path / "in.pcap"
    wrpcap(str(path), packets()[:1])
    cfg = config(port)
    cfg["metrics"] = {"listen": "off"}
    d = pcap_daemon([path], cfg)
    d.wait_rx(1)
    assert http_get(port, "/metrics", timeout=1)[0] == 0
    assert d.rpc.call("config.get")["metrics"] == {"listen": "off"}
