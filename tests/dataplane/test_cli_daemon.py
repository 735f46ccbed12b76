"""Every dpdk-lb-cli command (docs/cli.md) against the real daemon (pcap ports), not the fake
server of tests/cli: each change is checked through the daemon's own RPCs, each table against
what the daemon holds."""
import json
import os
import subprocess

import pytest
from scapy.all import IP, TCP, Ether, wrpcap

from lbdaemon import BUILD

CLI = os.path.join(BUILD, "control", "cli", "dpdk-lb-cli")
CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP = "10.9.0.100"
R1, R2, R3 = "10.9.0.11", "10.9.0.12", "10.9.0.13"
KEY = {"vip": VIP, "port": 80, "proto": "tcp"}


def config():
    return {
        "ports": [{"address": "10.9.0.2/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": f"02:00:00:00:00:{ip.split('.')[-1]}"}
                                  for ip in (R1, R2, R3)]},
        "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                      "reals": [{"ip": R1, "weight": 1}, {"ip": R2, "weight": 2}]}],
    }


@pytest.fixture
def daemon(pcap_daemon, tmp_path):
    """A daemon that has taken 3 connections (rr: R1, R2, R1), all in SYN_RECV."""
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"CLI not built: {CLI}")
    pkts = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src="10.9.0.10", dst=VIP) /
            TCP(sport=50000 + i, dport=80, flags="S") for i in range(3)]
    wrpcap(str(tmp_path / "in.pcap"), pkts)
    d = pcap_daemon([tmp_path / "in.pcap"], config())
    d.wait_rx(3)
    return d


def cli(d, *args, rc=0, cwd=None):
    r = subprocess.run([CLI, "-s", d.sock, *args], capture_output=True, text=True, timeout=20,
                       cwd=cwd)
    assert r.returncode == rc, (args, r.returncode, r.stdout, r.stderr)
    return r


def svc(d, key=KEY):
    return next(s for s in d.rpc.call("service.list")["services"]
                if (s["vip"], s["port"], s["proto"]) == (key["vip"], key["port"], key["proto"]))


def test_list_shows_what_the_daemon_holds(daemon):
    version = cli(daemon, "--version").stdout.split()[-1]
    out = cli(daemon, "list").stdout.splitlines()
    assert out[0] == f"IP Virtual Server version {version} (dpdk-lb)"
    assert out[1:] == [
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn EffWeight State",
        f"TCP  {VIP}:80 rr",
        f"  -> {R1 + ':80':<28} {'Route':<7} {1:<6} {0:<10} {2:<9} {1:<9} up",
        f"  -> {R2 + ':80':<28} {'Route':<7} {2:<6} {0:<10} {1:<9} {2:<9} up",
    ]
    assert cli(daemon, "service", "list").stdout == cli(daemon, "list").stdout
    assert cli(daemon, "list", "-n", "tcp", f"{VIP}:80").stdout.splitlines() == out[1:]
    err = cli(daemon, "list", "tcp", f"{VIP}:81", rc=1).stderr
    assert err == f"dpdk-lb-cli: service.list: no such service tcp {VIP}:81\n"
    assert json.loads(cli(daemon, "list", "--json").stdout) == daemon.rpc.call("service.list")
    rate = cli(daemon, "list", "--rate").stdout.splitlines()
    assert rate[1] == "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS"
    assert [line.split()[:2] for line in rate[3:6]] == [["TCP", f"{VIP}:80"], ["->", f"{R1}:80"],
                                                       ["->", f"{R2}:80"]]
    # every figure is the daemon's, rounded as ipvsadm does
    s = daemon.stats()["services"][0]
    assert rate[3].split()[2:] == [str(s[k]) for k in ("cps", "inpps", "outpps", "inbps", "outbps")] \
        or daemon.stats()["services"][0] != s  # (a 2 s sample may land between the two reads)


def test_list_stats_and_stats(daemon):
    out = cli(daemon, "list", "--stats").stdout.splitlines()
    assert out[1:3] == ["Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
                        "  -> RemoteAddress:Port"]
    # 3 SYNs of 54 bytes (IP length 40) each: InBytes counts the IP packet
    inbytes = daemon.stats()["services"][0]["inbytes"]
    assert out[3].split() == ["TCP", f"{VIP}:80", "3", "3", "0", str(inbytes), "0"]
    assert out[4].split() == ["->", f"{R1}:80", "2", "2", "0", str(inbytes * 2 // 3), "0"]
    assert out[5].split() == ["->", f"{R2}:80", "1", "1", "0", str(inbytes // 3), "0"]
    assert cli(daemon, "list", "--stats", "--exact").stdout == "\n".join(out) + "\n"
    st = cli(daemon, "stats").stdout.splitlines()
    assert st[:5] == out[1:6]
    dp = daemon.stats()["dataplane"]
    assert "Dataplane" in st
    rows = {line.split()[0]: line.split()[1:] for line in st[st.index("Dataplane") + 1:]
            if len(line.split()) == 2}
    assert rows["rx_packets"] == [str(dp["rx_packets"])] and rows["flows"] == ["3"]
    assert rows["flows_created"] == ["3"]
    one = cli(daemon, "stats", "--exact", "tcp", f"{VIP}:80").stdout.splitlines()
    assert one[:5] == out[1:6]
    assert json.loads(cli(daemon, "--json", "stats").stdout)["services"] == \
        daemon.stats()["services"]


def test_conns(daemon):
    out = cli(daemon, "conns").stdout.splitlines()
    assert out[0] == "IPVS connection entries"
    assert out[1].split() == ["pro", "expire", "state", "source", "virtual", "destination"]
    rows = sorted(line.split() for line in out[2:])
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in rows] == [
        ("TCP", "SYN_RECV", f"10.9.0.10:{50000 + i}", f"{VIP}:80", f"{ip}:80")
        for i, ip in enumerate((R1, R2, R1))]
    short = cli(daemon, "conns", "--limit", "2")
    assert len(short.stdout.splitlines()) == 4
    assert "only the first 2 connections shown" in short.stderr
    assert len(json.loads(cli(daemon, "conns", "--json").stdout)["connections"]) == 3


def test_service_add_update_del(daemon):
    g = {"vip": VIP, "port": 0, "proto": "tcp"}
    cli(daemon, "service", "add", "tcp", f"{VIP}:0", "-s", "sh", "-p", "300",
        "-M", "255.255.255.0", "--ports", "8000,8443,9000-9010", "--protos", "tcp,udp",
        "-b", "sh-fallback,sh-port")
    s = svc(daemon, g)
    assert (s["scheduler"], s["persistent"], s["netmask"]) == ("sh", 300, 24)
    assert s["ports"] == [8000, 8443, "9000-9010"] and s["protos"] == ["tcp", "udp"]
    assert sorted(s["sched_flags"]) == ["fallback", "port"]
    assert cli(daemon, "service", "update", "tcp", f"{VIP}:0", "--scheduler", "mh").stdout == ""
    assert svc(daemon, g)["scheduler"] == "mh"
    # the daemon's refusal is the CLI's error: flags need sh, dh or mh
    err = cli(daemon, "service", "update", "tcp", f"{VIP}:0", "-s", "wlc", rc=1).stderr
    assert "sched_flags: only the sh, dh and mh schedulers take flags" in err and "(code -32602)" in err
    err = cli(daemon, "service", "add", "tcp", f"{VIP}:0", rc=1).stderr
    assert "service.add" in err and "(code -32002)" in err
    cli(daemon, "service", "del", "tcp", f"{VIP}:0")
    assert [s["port"] for s in daemon.rpc.call("service.list")["services"]] == [80]
    # the methods' options
    cli(daemon, "service", "add", "udp", f"{VIP}:53", "-o", "-i")
    s = svc(daemon, {"vip": VIP, "port": 53, "proto": "udp"})
    assert (s["ops"], s["forward"]) == (True, "tun")
    assert "one-packet scheduling works with dr and tun only" in \
        cli(daemon, "service", "update", "udp", f"{VIP}:53", "-m", rc=1).stderr
    cli(daemon, "service", "update", "udp", f"{VIP}:53", "-g")
    assert svc(daemon, {"vip": VIP, "port": 53, "proto": "udp"})["forward"] == "dr"
    cli(daemon, "service", "add", "tcp", f"{VIP}:443", "--fullnat", "--laddr", "10.9.0.200,10.9.0.201",
        "--client-address", "toa", "--fallback", f"{R3}:443")
    s = svc(daemon, {"vip": VIP, "port": 443, "proto": "tcp"})
    assert (s["forward"], s["local_addresses"], s["client_address"]) == \
        ("fnat", ["10.9.0.200", "10.9.0.201"], "toa")
    assert s["fallback"]["ip"] == R3 and s["fallback"]["port"] == 443
    cli(daemon, "service", "update", "tcp", f"{VIP}:443", "--fallback", "none", "-g")
    s = svc(daemon, {"vip": VIP, "port": 443, "proto": "tcp"})
    assert s["fallback"] is None and s["forward"] == "dr"
    got = json.loads(cli(daemon, "--json", "service", "del", "tcp", f"{VIP}:443").stdout)
    assert got == {"deleted": True}
    assert "(code -32001)" in cli(daemon, "service", "del", "tcp", f"{VIP}:443", rc=1).stderr
    # a usage mistake sends nothing
    gen = daemon.rpc.call("system.info")["snapshot_generation"]
    cli(daemon, "service", "update", "tcp", f"{VIP}:80", rc=2)
    cli(daemon, "service", "add", "sctp", f"{VIP}:80", rc=2)
    assert daemon.rpc.call("system.info")["snapshot_generation"] == gen


def test_real_add_update_del(daemon):
    cli(daemon, "real", "add", "tcp", f"{VIP}:80", R3, "-w", "5", "-x", "100", "-y", "50")
    r = {x["ip"]: x for x in svc(daemon)["reals"]}[R3]
    assert (r["port"], r["weight"], r["u_threshold"], r["l_threshold"], r["forward"]) == \
        (80, 5, 100, 50, "dr")
    got = json.loads(cli(daemon, "--json", "real", "update", "tcp", f"{VIP}:80", f"{R3}:80",
                         "--weight=0", "-i").stdout)
    assert (got["weight"], got["forward"]) == (0, "tun")
    assert {x["ip"]: x for x in svc(daemon)["reals"]}[R3]["weight"] == 0
    assert "direct routing cannot change the port" in \
        cli(daemon, "real", "add", "tcp", f"{VIP}:80", f"{R3}:8080", rc=1).stderr
    cli(daemon, "real", "update", "tcp", f"{VIP}:80", R3, rc=2)  # nothing to change
    cli(daemon, "real", "del", "tcp", f"{VIP}:80", f"{R3}:80")
    assert [x["ip"] for x in svc(daemon)["reals"]] == [R1, R2]
    assert "(code -32001)" in cli(daemon, "real", "del", "tcp", f"{VIP}:80", R3, rc=1).stderr
    # a nat real may map the port
    cli(daemon, "real", "add", "tcp", f"{VIP}:80", f"{R3}:8080", "-m")
    r = {x["ip"]: x for x in svc(daemon)["reals"]}[R3]
    assert (r["port"], r["forward"]) == (8080, "nat")


def test_config_get_and_save(daemon, tmp_path):
    got = json.loads(cli(daemon, "config", "get").stdout)
    assert got == daemon.rpc.call("config.get")
    assert json.loads(cli(daemon, "--json", "config", "get").stdout) == got
    out = cli(daemon, "config", "save", "saved.json", cwd=str(tmp_path)).stdout.strip()
    path = tmp_path / "saved.json"
    assert out == f"saved {path.stat().st_size} bytes to {path}"
    saved = json.loads(path.read_text())
    assert saved["services"] == got["services"]
    # without PATH: the file the daemon was started with
    out = cli(daemon, "config", "save").stdout.strip()
    assert out.endswith(f" bytes to {daemon.config_path}")
    assert json.loads(open(daemon.config_path).read())["services"] == got["services"]
    assert "(code -32004)" in cli(daemon, "config", "save", "/nonexistent-dlb/x.json", rc=1).stderr


def test_info(daemon):
    info = daemon.rpc.call("system.info")
    rows = {}
    for line in cli(daemon, "info").stdout.splitlines():
        parts = line.split(None, 1)
        if parts and not line.startswith(" "):
            rows[parts[0]] = parts[1] if len(parts) > 1 else ""
    assert rows["version"] == info["version"]
    assert rows["config_file"] == info["config_file"] == daemon.config_path
    assert rows["control_lcore"] == str(info["control_lcore"])
    assert rows["workers"] == str(len(info["workers"]))
    assert rows["flow_capacity"] == str(info["flow_capacity"])
    assert rows["schedulers"].split() == info["schedulers"]
    assert int(rows["snapshot_generation"]) == info["snapshot_generation"]
    assert json.loads(cli(daemon, "--json", "info").stdout)["version"] == info["version"]


def test_call(daemon):
    one = json.loads(cli(daemon, "call", "stats.get", json.dumps(KEY)).stdout)
    assert [(s["vip"], s["port"]) for s in one["services"]] == [(VIP, 80)]
    assert json.loads(cli(daemon, "call", "service.list").stdout) == \
        daemon.rpc.call("service.list")
    err = cli(daemon, "call", "no.such", rc=1).stderr
    assert err == "dpdk-lb-cli: no.such: method not found: no.such (code -32601)\n"
    cli(daemon, "call", "stats.get", "{not json", rc=2)
    err = cli(daemon, "call", "real.update", json.dumps({"service": KEY, "ip": R1, "weight": -1}),
              rc=1).stderr
    assert "params.weight" in err and "(code -32602)" in err


def test_unreachable_socket(daemon, tmp_path):
    r = subprocess.run([CLI, "-s", str(tmp_path / "none.sock"), "list"], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 1 and "cannot connect to" in r.stderr and "is dpdk-lb running?" in r.stderr
