"""dpdk-lb-cli protocol, ports, list --rate and the live `top` view (in tmux) against the real
daemon with traffic on pcap ports."""
import os
import shutil
import subprocess
import uuid

import pytest
from scapy.all import ICMP, IP, TCP, Ether, wrpcap

from lbdaemon import BUILD, wait_until

CLI = os.path.join(BUILD, "control", "cli", "dpdk-lb-cli")
CLIENT_MAC = "02:00:00:00:00:0c"
PCAP_PORT_MAC = "02:70:63:61:70:00"
VIP = "10.9.0.100"
R1, R2, R3 = "10.9.0.11", "10.9.0.12", "10.9.0.13"


def config():
    return {
        "ports": [{"address": "10.9.0.2/24"}],
        "neighbours": {"static": [{"ip": ip, "mac": f"02:00:00:00:00:{ip.split('.')[-1]}"}
                                  for ip in (R1, R2, R3)]},
        "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                      "reals": [{"ip": R1}, {"ip": R2}]},
                     {"vip": VIP, "port": 443, "proto": "tcp", "reals": [{"ip": R3}]}],
    }


def packets():
    """Port 80 gets 24 connections, port 443 one; plus a ping, a segment without a flow."""
    eth = Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC)
    pkts = [eth / IP(src="10.9.0.10", dst=VIP) / TCP(sport=40000 + i, dport=80, flags="S")
            for i in range(24)]
    pkts.append(eth / IP(src="10.9.0.10", dst=VIP) / TCP(sport=45000, dport=443, flags="S"))
    pkts.append(eth / IP(src="10.9.0.10", dst="10.9.0.2") / ICMP(type=8))
    pkts.append(eth / IP(src="10.9.0.10", dst=VIP) / TCP(sport=46000, dport=80, flags="A"))
    return pkts


def cli(d, *args, rc=0):
    r = subprocess.run([CLI, "-s", d.sock, *args], capture_output=True, text=True, timeout=20)
    assert r.returncode == rc, (args, r.returncode, r.stdout, r.stderr)
    return r


@pytest.fixture
def daemon(pcap_daemon, tmp_path):
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"CLI not built: {CLI}")
    wrpcap(str(tmp_path / "in.pcap"), packets())
    d = pcap_daemon([tmp_path / "in.pcap"], config())
    d.wait_rx(len(packets()))
    return d


@pytest.fixture
def flowing(pcap_daemon, tmp_path):
    """The same packets replayed forever: rates that stay up."""
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"CLI not built: {CLI}")
    wrpcap(str(tmp_path / "in.pcap"), packets())
    return pcap_daemon([tmp_path / "in.pcap"], config(), replay_forever=True)


def test_protocol_prints_netstat_s(daemon):
    out = cli(daemon, "protocol").stdout
    assert out.startswith("Ip:\n    27 total packets received\n")
    for line in ("    1 ICMP messages received", "        echo_request (type 8): 1",
                 "        echo_reply (type 0): 1", "    25 connections created",
                 "    1 invalid segments dropped (no connection, not a SYN)", "Ip6:", "Udp6:"):
        assert line + "\n" in out, line
    import json
    assert json.loads(cli(daemon, "--json", "protocol").stdout) == \
        daemon.rpc.call("stats.protocol")
    assert "unexpected argument" in cli(daemon, "protocol", "x", rc=2).stderr


def test_ports_prints_netstat_i(daemon):
    out = cli(daemon, "ports").stdout.splitlines()
    assert out[0].split() == ["Iface", "Link", "Mbit/s", "RX-OK", "RX-ERR", "RX-MISS",
                              "RX-NOMBUF", "TX-OK", "TX-ERR", "RX-Bytes", "TX-Bytes"]
    p = daemon.rpc.call("stats.ports")["ports"][0]
    f = out[1].split()
    assert f[1] == "up" and f[3] == "27" and f[3] == str(p["rx_packets"])
    assert f[7] == str(p["tx_packets"]) and f[9] == str(p["rx_bytes"])
    x = cli(daemon, "ports", "--xstats").stdout
    assert "extended statistics:" in x and "rx_good_packets" in x


def test_list_rate_follows_traffic(flowing):
    d = flowing
    wait_until(lambda: d.stats()["services"][0]["inpps"] > 0, timeout=20, what="a rate")
    out = cli(d, "list", "--rate").stdout.splitlines()
    assert out[1].split() == ["Prot", "LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS",
                              "OutBPS"]
    f = out[3].split()
    assert f[:2] == ["TCP", f"{VIP}:80"] and (int(f[3]) > 0 or f[3][-1] in "KMGT"), out
    # --exact prints whole numbers, never a K/M/G suffix
    ex = cli(d, "list", "--rate", "--exact").stdout.splitlines()
    assert all(x.isdigit() for x in ex[3].split()[2:]), ex[3]


class Tmux:
    """A tmux server of its own (-L) running one command in a 160x50 window."""

    def __init__(self, command):
        self.sock = "dlbtop" + uuid.uuid4().hex[:8]
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d", "-s",
                        "top", "-x", "160", "-y", "50", command], check=True)

    def screen(self):
        return subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", "top"],
                              capture_output=True, text=True).stdout

    def keys(self, *k):
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "top", *k], check=True)

    def kill(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_top_live_view_in_tmux(flowing):
    d = flowing
    wait_until(lambda: d.stats()["services"][0]["inpps"] > 0, timeout=20, what="a rate")
    # the shell prints top's exit status and keeps the pane open for capture-pane to read it
    t = Tmux(f"sh -c '{CLI} -s {d.sock} top; echo top-exit=$?; sleep 60'")
    try:
        s = wait_until(lambda: (s := t.screen()) and f"TCP {VIP}:443" in s and s, timeout=10,
                       what="the first screen")
        assert "sort: cps" in s and "filter: all" in s
        for heading in ("SERVICE / -> REAL", "DROP REASON", "PORT"):
            assert heading in s, s
        assert f"TCP {VIP}:80" in s and f"  -> {R1}:80" in s and "no_flow" in s
        assert "net_pcap0" in s
        # the rates are live: port 80's InPPS column is not 0
        row80 = next(line for line in s.splitlines() if line.startswith(f"TCP {VIP}:80 "))
        assert row80.split()[3] != "0", row80
        # s: sort by the next column
        t.keys("s")
        wait_until(lambda: "sort: inpps" in t.screen(), timeout=5, what="sort: inpps")
        # by inpps, the busy port 80 comes before 443
        s = t.screen()
        assert s.index(f"TCP {VIP}:80 ") < s.index(f"TCP {VIP}:443"), s
        t.keys("S")
        wait_until(lambda: "sort: cps" in t.screen(), timeout=5, what="sort back to cps")
        # f: one service at a time, in the daemon's order; a: all again
        t.keys("f")
        s = wait_until(lambda: (s := t.screen()) and f"filter: tcp {VIP}:80" in s and s,
                       timeout=5, what="filter to the first service")
        assert f"TCP {VIP}:443" not in s and f"TCP {VIP}:80 " in s
        t.keys("f")
        s = wait_until(lambda: (s := t.screen()) and f"filter: tcp {VIP}:443" in s and s,
                       timeout=5, what="filter to the second service")
        assert f"TCP {VIP}:80 " not in s and f"  -> {R3}:443" in s
        t.keys("a")
        wait_until(lambda: "filter: all" in t.screen(), timeout=5, what="filter: all")
        # q quits with status 0 and gives the terminal back (alternate screen left)
        t.keys("q")
        s = wait_until(lambda: (s := t.screen()) and "top-exit=" in s and s, timeout=5,
                       what="top to exit")
        assert "top-exit=0" in s and "DROP REASON" not in s, s
    finally:
        t.kill()


def test_top_once_without_a_terminal(daemon):
    out = cli(daemon, "top", "--iterations", "1", "--sort", "active").stdout
    assert "sort: active" in out and f"TCP {VIP}:80" in out and "DROP REASON" in out
    assert "must be" in cli(daemon, "top", "--sort", "x", rc=2).stderr
    assert "must be" in cli(daemon, "top", "-n", "0", rc=2).stderr
