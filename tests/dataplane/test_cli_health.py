"""dpdk-lb-cli's health commands against the real daemon (pcap ports, no network): check and
agent options of service/real add|update, real drain|offline|online, health and list's
EffWeight/State columns. The checks are of type on/off, which need no server."""
import json
import os
import subprocess

import pytest
from scapy.all import Ether, wrpcap

from lbdaemon import DAEMON, wait_until

CLI = os.path.join(os.path.dirname(DAEMON), "..", "control", "cli", "dpdk-lb-cli")
SVC = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}


@pytest.fixture
def daemon(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    return pcap_daemon([tmp_path / "empty.pcap"], {"ports": [{"address": "10.9.0.2/24"}]})


def cli(daemon, *args, ok=True):
    r = subprocess.run([CLI, "-s", daemon.sock] + list(args), capture_output=True, text=True,
                       timeout=20)
    assert "Sanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    if ok:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def health_rows(daemon):
    """{real: [state, admin, weight->eff]} from the health table."""
    rows = {}
    for line in cli(daemon, "health").stdout.splitlines()[2:]:
        f = line.split()
        if f[0] == "->":
            rows[f[1]] = [f[2], f[3], f[8]]
    return rows


def test_check_options_reach_the_daemon_and_update_merges(daemon):
    cli(daemon, "service", "add", "tcp", "10.9.0.100:80", "-s", "wrr", "--check", "negotiate",
        "--check-service", "http", "--request", "/health", "--receive", "ok",
        "--check-interval", "2.5", "--failures", "3", "--no-quiescent", "--agent", "haproxy",
        "--agent-port", "4444")
    svc = daemon.rpc.call("service.list")["services"][0]
    assert svc["check"]["type"] == "negotiate" and svc["check"]["service"] == "http"
    assert svc["check"]["request"] == "/health" and svc["check"]["receive"] == "ok"
    assert svc["check"]["interval"] == 2.5 and svc["check"]["failures"] == 3
    assert svc["check"]["quiescent"] is False
    assert svc["agent"]["type"] == "haproxy" and svc["agent"]["port"] == 4444
    assert svc["agent"]["interval"] == 2  # HAProxy's default

    # one option changes one key
    cli(daemon, "service", "update", "tcp", "10.9.0.100:80", "--check-timeout", "1")
    svc = daemon.rpc.call("service.list")["services"][0]
    assert svc["check"]["timeout"] == 1 and svc["check"]["request"] == "/health"
    assert svc["check"]["failures"] == 3 and svc["agent"]["port"] == 4444

    # a real's override merges too, and --check none removes it
    cli(daemon, "real", "add", "tcp", "10.9.0.100:80", "10.9.0.11", "--check-port", "8080")
    cli(daemon, "real", "update", "tcp", "10.9.0.100:80", "10.9.0.11", "--request", "/r")
    real = daemon.rpc.call("service.list")["services"][0]["reals"][0]
    assert real["check"] == {"port": 8080, "request": "/r"}
    cli(daemon, "real", "update", "tcp", "10.9.0.100:80", "10.9.0.11", "--check", "none")
    assert "check" not in daemon.rpc.call("service.list")["services"][0]["reals"][0]

    cli(daemon, "service", "update", "tcp", "10.9.0.100:80", "--check", "none", "--agent",
        "none")
    svc = daemon.rpc.call("service.list")["services"][0]
    assert svc["check"] is None and svc["agent"] is None


def test_daemon_refusal_is_shown(daemon):
    cli(daemon, "service", "add", "tcp", "10.9.0.100:80")
    r = cli(daemon, "service", "update", "tcp", "10.9.0.100:80", "--check", "negotiate",
            "--check-service", "gopher", ok=False)
    assert r.returncode == 1
    assert "service.update" in r.stderr and "check" in r.stderr and "(code -32602)" in r.stderr


def test_health_table_follows_checks_and_the_operators_wish(daemon):
    rpc = daemon.rpc
    rpc.call("service.add", dict(SVC, check={"type": "on"}, reals=[
        {"ip": "10.9.0.11", "weight": 5}, {"ip": "10.9.0.12", "weight": 3}]))
    wait_until(lambda: health_rows(daemon).get("10.9.0.11:80", [""])[0] == "up",
               what="10.9.0.11 up")
    assert health_rows(daemon) == {"10.9.0.11:80": ["up", "online", "5->5"],
                                   "10.9.0.12:80": ["up", "online", "3->3"]}
    out = cli(daemon, "health", "tcp", "10.9.0.100:80").stdout.splitlines()
    assert out[2] == "TCP  10.9.0.100:80 on -"

    # the wish: drain (weight 0), offline (out), online (the configured weight, not 1)
    assert cli(daemon, "real", "drain", "tcp", "10.9.0.100:80", "10.9.0.11").stdout == ""
    r = cli(daemon, "--json", "real", "offline", "tcp", "10.9.0.100:80", "10.9.0.12")
    assert json.loads(r.stdout)["state"] == "offline"
    rows = health_rows(daemon)
    assert rows["10.9.0.11:80"] == ["up", "drain", "5->0"]
    assert rows["10.9.0.12:80"] == ["up", "offline", "3->out"]
    listed = cli(daemon, "list").stdout.splitlines()
    assert listed[2].endswith("InActConn EffWeight State")
    assert listed[4].split()[-2:] == ["0", "up/drain"]
    assert listed[5].split()[-2:] == ["out", "up/offline"]
    cli(daemon, "real", "online", "tcp", "10.9.0.100:80", "10.9.0.11")
    cli(daemon, "real", "online", "tcp", "10.9.0.100:80", "10.9.0.12")
    assert health_rows(daemon)["10.9.0.12:80"] == ["up", "online", "3->3"]

    # a check that always fails: down, weight 0 (quiescent by default), all down
    cli(daemon, "service", "update", "tcp", "10.9.0.100:80", "--check", "off")
    wait_until(lambda: health_rows(daemon)["10.9.0.11:80"][0] == "down", what="down")
    wait_until(lambda: health_rows(daemon)["10.9.0.12:80"][0] == "down", what="down")
    assert health_rows(daemon)["10.9.0.11:80"][2] == "5->0"
    assert "(all down" in cli(daemon, "health").stdout

    # --state on real update
    cli(daemon, "real", "update", "tcp", "10.9.0.100:80", "10.9.0.11", "--state", "drain")
    assert health_rows(daemon)["10.9.0.11:80"][1] == "drain"
    r = cli(daemon, "real", "drain", "tcp", "10.9.0.100:80", "10.9.0.99", ok=False)
    assert r.returncode == 1 and "no such real server" in r.stderr
