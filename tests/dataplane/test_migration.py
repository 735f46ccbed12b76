"""Migration from LVS through dpdk-lb-cli: import ipvsadm / ldirectord (realistic files covering
every key docs/migration.md lists), --dry-run, all-or-nothing with every bad line numbered,
export and round trip."""
import os
import subprocess

import pytest
from scapy.all import Ether, wrpcap

from lbdaemon import DAEMON

CLI = os.path.join(os.path.dirname(DAEMON), "..", "control", "cli", "dpdk-lb-cli")
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lvs")
RULES = os.path.join(HERE, "ipvsadm.rules")
LDCF = os.path.join(HERE, "ldirectord.cf")
MARK = "7=10.9.0.102:80,443"


@pytest.fixture
def lb(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    return pcap_daemon([tmp_path / "empty.pcap"],
                       {"ports": [{"address": "10.9.0.2/24", "address6": "2001:db8::2/64"}],
                        # room for a --replace that removes and adds every real in one change
                        "dataplane": {"flow_capacity": 4096, "mbufs": 4095, "max_reals": 256,
                                      "max_services": 64, "idle_sleep_us": 200}})


def cli(d, *args):
    return subprocess.run([CLI, "-s", d.sock, *args], capture_output=True, text=True, timeout=30)


def services(d):
    return d.rpc.call("config.get")["services"]


def by_key(d):
    return {(s["proto"], s["vip"], s["port"]): s for s in services(d)}


def test_import_ipvsadm_every_option(lb):
    r = cli(lb, "import", "ipvsadm", RULES, "--fwmark", MARK)
    assert r.returncode == 0, r.stderr
    s = by_key(lb)
    web = s[("tcp", "10.9.0.100", 80)]
    assert (web["scheduler"], web["persistent"], web["netmask"]) == ("wlc", 300, 24)  # -s -p -M
    assert [(x["ip"], x["forward"], x["weight"], x["u_threshold"], x["l_threshold"])
            for x in web["reals"]] == [("10.9.0.11", "dr", 1, 0, 0),
                                       ("10.9.0.12", "dr", 3, 1000, 500)]   # -g -w -x -y
    tls = s[("tcp", "10.9.0.100", 443)]                                      # service name https
    assert tls["sched_flags"] == ["fallback", "port"] and tls["scheduler"] == "sh"   # -b
    assert {x["forward"] for x in tls["reals"]} == {"tun"}                   # -i
    nat = s[("tcp", "10.9.0.101", 8080)]
    assert [(x["port"], x["forward"], x["weight"]) for x in nat["reals"]] == [
        (80, "nat", 1), (8080, "nat", 0)]                                    # -m, port map
    dns = s[("udp", "10.9.0.100", 53)]                                       # -u
    assert dns["ops"] is True and dns["scheduler"] == "mh" and dns["sched_flags"] == ["port"]
    grp = s[("tcp", "10.9.0.102", 0)]                                        # -f with --fwmark
    assert grp["ports"] == [80, 443] and grp["persistent"] == 600
    assert [(x["ip"], x["port"], x["weight"]) for x in grp["reals"]] == [
        ("10.9.0.11", 0, 1), ("10.9.0.12", 0, 2)]
    v6 = s[("tcp", "2001:db8::100", 80)]
    assert v6["scheduler"] == "lc" and [x["weight"] for x in v6["reals"]] == [1, 5]


def test_import_ldirectord_every_key(lb):
    r = cli(lb, "import", "ldirectord", LDCF, "--fwmark", MARK)
    assert r.returncode == 0, r.stderr
    # Global keys with no effect on dpdk-lb are reported with their line, not dropped silently.
    for line, key in ((7, "autoreload"), (8, "logfile"), (9, "emailalert")):
        assert f"ldirectord.cf:{line}: note: {key}: not imported" in r.stderr, r.stderr
    s = by_key(lb)
    web = s[("tcp", "10.9.0.100", 80)]
    assert (web["scheduler"], web["persistent"], web["netmask"]) == ("wlc", 600, 24)
    assert [(x["ip"], x["weight"]) for x in web["reals"]] == [
        ("10.9.0.11", 2), ("10.9.0.12", 1), ("10.9.0.13", 1), ("10.9.0.14", 1)]  # range
    c = web["check"]
    assert (c["type"], c["service"], c["port"], c["request"], c["receive_regex"], c["host"],
            c["method"]) == ("negotiate", "http", 80, "/health.html", "OK|healthy",
                             "www.example.com", "GET")
    # the global checktimeout, negotiatetimeout, checkinterval, failurecount, quiescent
    assert (c["timeout"], c["negotiate_timeout"], c["interval"], c["failures"],
            c["quiescent"]) == (3, 10, 5, 2, True)
    assert web["fallback"]["ip"] == "10.9.0.99" and web["fallback"]["port"] == 80  # global
    tls = s[("tcp", "10.9.0.100", 443)]
    assert tls["check"]["type"] == "connect" and tls["check"]["quiescent"] is False
    assert tls["fallback"]["ip"] == "10.9.0.98" and tls["reals"][0]["forward"] == "tun"
    nat = s[("tcp", "10.9.0.101", 8080)]
    assert nat["check"] is None                                              # checktype=on
    assert nat["reals"][0]["forward"] == "nat" and nat["reals"][1]["weight"] == 3
    assert (nat["reals"][0]["check"]["request"], nat["reals"][0]["check"]["receive_regex"]) == \
        ("/status", "up")
    dns = s[("udp", "10.9.0.100", 53)]                                       # protocol=udp
    assert (dns["check"]["service"], dns["check"]["request"]) == ("dns", "example.com")
    ftp = s[("tcp", "10.9.0.100", 21)]
    assert (ftp["check"]["type"], ftp["check"]["login"], ftp["check"]["password"]) == \
        (3, "anonymous", "guest@example.com")
    grp = s[("tcp", "10.9.0.102", 0)]
    assert grp["check"]["type"] == "ping" and grp["scheduler"] == "wrr"
    my = s[("tcp", "10.9.0.100", 3306)]["check"]
    assert (my["service"], my["login"], my["password"], my["database"]) == \
        ("mysql", "monitor", "secret", "test")
    ext = s[("tcp", "10.9.0.100", 25)]["check"]
    assert (ext["type"], ext["command"]) == ("external", "/bin/true")


def test_dry_run_applies_nothing(lb):
    gen = lb.rpc.call("config.get")["generation"]
    r = cli(lb, "import", "ldirectord", LDCF, "--fwmark", MARK, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "add     tcp 10.9.0.100:80" in r.stdout and "(line 14)" in r.stdout, r.stdout
    assert r.stdout.count("add ") == 8
    assert services(lb) == [] and lb.rpc.call("config.get")["generation"] == gen


def test_every_bad_line_numbered_and_nothing_applied(lb, tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text("-A -t 10.9.0.100:80 -s wlc\n"
                   "-a -t 10.9.0.100:80 -r 10.9.0.11:80 -g -w 1\n"
                   "-A -t www.example.com:80 -s rr\n"
                   "-a -t 10.9.0.100:80 -r 10.9.0.12:80 -g -w 70000\n"
                   "-A -f 3 -s rr\n"
                   "-A -t 10.9.0.100:81 -s wlc --pe sip\n"
                   "-a -t 10.9.0.200:80 -r 10.9.0.11:80 -g\n")
    gen = lb.rpc.call("config.get")["generation"]
    r = cli(lb, "import", "ipvsadm", str(bad))
    assert r.returncode == 1
    for n, what in ((3, "not a numeric IPv4 or IPv6 address"), (4, "-w '70000'"),
                    (5, "firewall mark 3"), (6, "option '--pe' is not taken"),
                    (7, "no -A line before it")):
        assert f"bad.rules:{n}: " in r.stderr and what in r.stderr, (n, r.stderr)
    assert "bad.rules:1:" not in r.stderr and "bad.rules:2:" not in r.stderr
    assert "5 lines not taken: nothing applied" in r.stderr
    assert services(lb) == [] and lb.rpc.call("config.get")["generation"] == gen
    # What only the daemon's validator can tell is numbered too, and nothing is applied.
    off = tmp_path / "offnet.cf"
    off.write_text("virtual=10.9.0.100:80\n\treal=10.9.0.11:80 gate\n\treal=192.0.2.5:80 gate\n"
                   "\tchecktype=on\n")
    r = cli(lb, "import", "ldirectord", str(off))
    assert r.returncode == 1 and "offnet.cf:3: " in r.stderr and "nothing applied" in r.stderr, r
    bad_cf = tmp_path / "bad.cf"
    bad_cf.write_text("checktimeout=3\nvirtual=10.9.0.100:80\n\treal=10.9.0.11:80 gate\n"
                      "\tservice=oracle\n\tchecktype=sometimes\n\tbogus=1\n\treal=10.9.0.12 bridge\n"
                      "nonsense\n")
    r = cli(lb, "import", "ldirectord", str(bad_cf))
    assert r.returncode == 1
    for n in (4, 5, 6, 7, 8):
        assert f"bad.cf:{n}: " in r.stderr, (n, r.stderr)
    assert services(lb) == []
    # A service that runs already is refused unless --replace.
    lb.rpc.call("service.add", {"vip": "10.9.0.100", "port": 80, "proto": "tcp"})
    r = cli(lb, "import", "ipvsadm", RULES, "--fwmark", MARK)
    assert r.returncode == 1 and "ipvsadm.rules:1: service tcp 10.9.0.100:80 is running" in r.stderr
    assert len(services(lb)) == 1


def test_round_trips(lb, tmp_path):
    for fmt, src in (("ipvsadm", RULES), ("ldirectord", LDCF)):
        r = cli(lb, "import", fmt, src, "--fwmark", MARK, "--replace")
        assert r.returncode == 0, r.stderr
        first = services(lb)
        out = tmp_path / f"export.{fmt}"
        r = cli(lb, "export", fmt, str(out))
        assert r.returncode == 0, r.stderr
        # The group's mark is renumbered; the note says how to import it back.
        assert "--fwmark 1=10.9.0.102:80,443" in r.stderr, r.stderr
        r = cli(lb, "import", fmt, str(out), "--fwmark", "1=10.9.0.102:80,443", "--replace")
        assert r.returncode == 0, r.stderr
        assert services(lb) == first, fmt
        again = cli(lb, "export", fmt)
        assert again.stdout == out.read_text()
