"""dpdk-lb-cli conns (filters), summary, top-sources and block against the real daemon."""
import os
import subprocess

import pytest
from scapy.all import IP, TCP, Ether, wrpcap

from lbdaemon import BUILD, wait_until
from test_blocklist import LB_MAC, SVC, cfg, flood_pcap, syn

CLI = os.path.join(BUILD, "control", "cli", "dpdk-lb-cli")


def cli(d, *args, stdin=None):
    return subprocess.run([CLI, "-s", d.sock, *args], input=stdin, capture_output=True,
                          text=True, timeout=20)


def test_conns_summary_with_filters(pcap_daemon, tmp_path):
    pkts = [syn(f"10.6.0.{i}", 2000) for i in range(1, 11)] + \
        [Ether(dst=LB_MAC) / IP(src=f"10.6.0.{i}", dst=SVC["vip"]) /
         TCP(sport=2000, dport=80, flags="A") for i in range(1, 4)] + \
        [syn("10.5.0.1", 2000)]
    wrpcap(str(tmp_path / "in.pcap"), pkts)
    d = pcap_daemon([tmp_path / "in.pcap"], cfg())
    d.wait_rx(len(pkts))
    r = cli(d, "conns", "-c", "10.6.0.0/24", "--state", "established")
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[1].split() == ["pro", "expire", "state", "source", "virtual", "destination"]
    assert len(rows) == 5 and all(" ESTABLISHED " in x for x in rows[2:])
    r = cli(d, "conns", "-t", "10.9.0.100:80", "-r", "10.9.0.11", "--limit", "4")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 6
    assert "only the first 4" in r.stderr
    assert cli(d, "conns", "--state", "bogus").returncode == 1
    r = cli(d, "summary")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Connections 11 (TCP 11, UDP 0), persistence templates 0"
    assert lines[2].split() == ["ESTABLISHED", "3"] and lines[3].split() == ["SYN_RECV", "8"]
    assert any(x.startswith("TCP  10.9.0.100:80") and " 11 " in x for x in lines)
    r = cli(d, "top-sources", "--prefix", "24")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2].split()[:2] == ["10.6.0.0/24", "10"]


def test_block_verbs_and_from_top(pcap_daemon, tmp_path):
    d = pcap_daemon([flood_pcap(tmp_path)], cfg(), replay_forever=True)
    assert cli(d, "block", "add", "192.0.2.0/24", "--ttl", "60", "--reason", "test").returncode == 0
    r = cli(d, "block", "list")
    assert r.returncode == 0 and "192.0.2.0/24" in r.stdout and "test" in r.stdout
    assert cli(d, "block", "del", "192.0.2.0/24").returncode == 0
    assert cli(d, "block", "del", "192.0.2.0/24").returncode == 1
    assert cli(d, "block", "add", "10.1.2.3/8").returncode == 1  # host bits
    assert cli(d, "block", "add").returncode == 2
    wait_until(lambda: len(d.rpc.call("conn.top", {"by": "pps"})["sources"]) >= 3, timeout=10,
               what="rates")
    # refused at the prompt: nothing blocked
    r = cli(d, "block", "--from-top", "2", "--by", "pps", stdin="n\n")
    assert r.returncode == 1 and "Block these 2 sources?" in r.stderr
    assert d.rpc.call("block.list")["entries"] == []
    r = cli(d, "block", "add", "--from-top", "3", "--by", "pps", "--reason", "flood",
            stdin="y\n")
    assert r.returncode == 0, r.stderr
    assert {e["cidr"] for e in d.rpc.call("block.list")["entries"]} == \
        {"10.7.1.1/32", "10.7.1.2/32", "fd00:7::1/128"}
    wait_until(lambda: d.stats()["dataplane"]["drop_reasons"]["blocked"] > 1000, timeout=10,
               what="blocked drops")
