"""Incremental publication: a change rebuilds only the services it touches, the others keep their
objects and their flows, and what a change leaves behind is freed after the grace period.

Traffic must flow while the configuration changes, so the port replays its pcap forever
(net_pcap infinite_rx; transmitted packets are dropped by the PMD) and the tests read counters
and the connection table instead of transmitted packets."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid

import pytest
from scapy.all import IP, TCP, Ether, wrpcap

from lbdaemon import DAEMON, RpcClient, wait_until

CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP_A, VIP_B, VIP_C = "10.9.0.100", "10.9.0.101", "10.9.0.102"
REALS = {f"10.9.0.{11 + i}": f"02:00:00:00:00:{0x11 + i:02x}" for i in range(6)}
R = list(REALS)
KEY_A = {"vip": VIP_A, "port": 80, "proto": "tcp"}
KEY_B = {"vip": VIP_B, "port": 80, "proto": "tcp"}
N_A, N_B = 40, 16


def pkt(vip, sport, flags):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.10", dst=vip) / \
        TCP(sport=sport, dport=80, flags=flags)


def traffic():
    """Each replay opens N_A new connections to A (SYN, ACK, FIN: the next SYN on that port is
    a new connection) and keeps N_B long-lived connections to B (their SYN only). Packets of one
    connection are more than a burst (32) apart."""
    pkts = [pkt(VIP_B, 30000 + i, "S") for i in range(N_B)]
    for flags in ("S", "A", "FA"):
        pkts += [pkt(VIP_A, 20000 + i, flags) for i in range(N_A)]
    return pkts


def config(sock, prefix, rx):
    svc = [{"vip": VIP_A, "port": 80, "proto": "tcp", "scheduler": "wrr",
            "reals": [{"ip": R[0], "weight": 1}, {"ip": R[1], "weight": 1}]},
           {"vip": VIP_B, "port": 80, "proto": "tcp", "scheduler": "rr",
            "reals": [{"ip": R[2], "weight": 1}, {"ip": R[3], "weight": 1}]},
           {"vip": VIP_C, "port": 80, "proto": "tcp", "scheduler": "mh",
            "reals": [{"ip": R[4], "weight": 1}, {"ip": R[5], "weight": 1}]}]
    return {
        "eal": ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix, "--lcores",
                "0@0,1@1", "--vdev", f"net_pcap0,rx_pcap={rx},infinite_rx=1",
                "--log-level", "lib.eal:warning"],
        "rpc": {"socket": sock},
        "dataplane": {"flow_capacity": 4096, "mbufs": 4095, "max_reals": 64,
                      "max_services": 16, "idle_sleep_us": 200},
        "ports": [{"address": "10.9.0.2/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": mac} for ip, mac in REALS.items()]},
        "services": svc,
    }


@pytest.fixture
def replaying_daemon():
    """A daemon whose port replays traffic() forever; stopped (exit code checked: a sanitizer
    report fails the test) and cleaned up after the test."""
    d = tempfile.mkdtemp(prefix="dlb-pub-")
    prefix = "dlbpub" + uuid.uuid4().hex[:8]
    rx = os.path.join(d, "in.pcap")
    wrpcap(rx, traffic())
    cfg_path = os.path.join(d, "config.json")
    sock = os.path.join(d, "lb.sock")
    with open(cfg_path, "w") as f:
        json.dump(config(sock, prefix, rx), f)
    log_path = os.path.join(d, "daemon.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([DAEMON, "-c", cfg_path], stdout=log, stderr=subprocess.STDOUT)

    def connect():
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited {proc.returncode}: {open(log_path).read()}")
        try:
            c = RpcClient(sock)
            c.call("system.info")
            return c
        except (FileNotFoundError, ConnectionRefusedError, ConnectionError):
            return None
    rpc = None
    try:
        rpc = wait_until(connect, timeout=20, what="the RPC socket")
        # what the reload tests (test_config_reload.py) need besides the RPC connection
        rpc.config_path, rpc.proc, rpc.log_path = cfg_path, proc, log_path
        yield rpc
    finally:
        if rpc:
            rpc.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        text = open(log_path).read()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    assert proc.returncode == 0, f"daemon exited {proc.returncode}:\n{text[-4000:]}"


def reals_of(rpc, vip):
    svc = next(s for s in rpc.call("stats.get")["services"] if s["vip"] == vip)
    return {r["ip"]: r for r in svc["reals"]}


def b_connections(rpc):
    conns = rpc.call("conn.list")["connections"]
    return {c["client"]: c["real"] for c in conns if c["virtual"].startswith(VIP_B + ":")}


def quiet(rpc):
    """Every object a publication left behind has been freed."""
    info = rpc.call("system.info")
    return info["snapshots_pending_free"] == 0 and info["snapshot_objects_pending_free"] == 0


def conns_delta(rpc, before, at_least):
    """Waits until A's reals took `at_least` more connections than in `before`."""
    def grown():
        now = reals_of(rpc, VIP_A)
        d = {ip: now[ip]["conns"] - before[ip]["conns"] for ip in now}
        return d if sum(d.values()) >= at_least else None
    return wait_until(grown, timeout=30, what=f"{at_least} new connections to A")


def test_weight_change_rebuilds_one_service_and_others_keep_their_flows(replaying_daemon):
    rpc = replaying_daemon
    wait_until(lambda: len(b_connections(rpc)) == N_B, what="B's connections")
    b_before = b_connections(rpc)
    b_pkts = {ip: r["inpkts"] for ip, r in reals_of(rpc, VIP_B).items()}
    gen = rpc.call("system.info")["snapshot_generation"]

    rpc.call("real.update", {"service": KEY_A, "ip": R[0], "port": 80, "weight": 3})
    info = rpc.call("system.info")
    assert info["snapshot_generation"] == gen + 1
    # Only A got a new object and a new scheduler; B and C were shared.
    assert info["last_snapshot_rebuilt_services"] == 1
    assert info["last_snapshot_rebuilt_schedulers"] == 1

    # A's wrr follows the new weights: 3:1 per cycle of 4 (counters are read a few
    # connections apart while traffic flows, hence the margin).
    before = reals_of(rpc, VIP_A)
    d = conns_delta(rpc, before, 400)
    assert abs(d[R[0]] - 3 * d[R[1]]) <= 20 + sum(d.values()) // 50, d

    # B's connections are the same and still on the same reals, which keep receiving.
    assert b_connections(rpc) == b_before
    wait_until(lambda: all(r["inpkts"] > b_pkts[ip] + 100
                           for ip, r in reals_of(rpc, VIP_B).items()),
               what="B's reals receiving after the change")
    dp = rpc.call("stats.get")["dataplane"]
    assert dp["dropped"] == 0, {k: v for k, v in dp["drop_reasons"].items() if v}


def test_threshold_change_keeps_the_scheduler(replaying_daemon):
    rpc = replaying_daemon
    rpc.call("real.update", {"service": KEY_A, "ip": R[1], "port": 80, "u_threshold": 100000})
    info = rpc.call("system.info")
    assert info["last_snapshot_rebuilt_services"] == 1
    assert info["last_snapshot_rebuilt_schedulers"] == 0
    # A service added is the only one built.
    rpc.call("service.add", {"vip": "10.9.0.103", "port": 80, "proto": "tcp",
                             "reals": [{"ip": R[0]}]})
    assert rpc.call("system.info")["last_snapshot_rebuilt_services"] == 1
    # The wrr sequence of A (not rebuilt by either change) goes on 1:1.
    before = reals_of(rpc, VIP_A)
    d = conns_delta(rpc, before, 200)
    assert abs(d[R[0]] - d[R[1]]) <= 20 + sum(d.values()) // 50, d


def test_removed_service_is_freed_after_the_grace_period(replaying_daemon):
    rpc = replaying_daemon
    wait_until(lambda: len(b_connections(rpc)) == N_B, what="B's connections")
    rpc.call("service.del", KEY_B)
    info = rpc.call("system.info")
    assert info["last_snapshot_rebuilt_services"] == 0  # the others moved, not rebuilt
    wait_until(lambda: quiet(rpc), what="the deleted service's objects freed")
    # A new service under the same key takes B's clients, all of them onto its one real, while
    # A keeps scheduling.
    rpc.call("service.add", dict(KEY_B, reals=[{"ip": R[2]}]))
    wait_until(lambda: set(b_connections(rpc).values()) == {R[2] + ":80"}
               and len(b_connections(rpc)) == N_B, what="B's clients on the new service's real")
    before = reals_of(rpc, VIP_A)
    conns_delta(rpc, before, 100)
    wait_until(lambda: quiet(rpc), what="everything freed")


def test_rapid_commits_leave_nothing_pending(replaying_daemon):
    rpc = replaying_daemon
    for i in range(300):
        rpc.call("real.update", {"service": KEY_A, "ip": R[i % 2], "port": 80,
                                 "weight": 1 + i % 5})
        if i % 50 == 0:  # a real removed and added back: ids and neighbours churn too
            rpc.call("real.del", {"service": KEY_B, "ip": R[3], "port": 80})
            rpc.call("real.add", {"service": KEY_B, "ip": R[3], "port": 80})
    wait_until(lambda: quiet(rpc), what="every publication's leftovers freed")
    # A schedules with the last weights it was given (R0 at i = 298, R1 at i = 299).
    last = {R[0]: 1 + 298 % 5, R[1]: 1 + 299 % 5}
    before = reals_of(rpc, VIP_A)
    d = conns_delta(rpc, before, 300)
    total = sum(last.values())
    for ip, w in last.items():
        assert abs(d[ip] / sum(d.values()) - w / total) < 0.05, (d, last)
