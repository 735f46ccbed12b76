"""End-to-end tests of every health-check type (issue 10 item 7) against real servers in a
backend namespace (tests/e2e/protocol_servers.py): each check is shown up against a healthy
server, down when the server is stopped, and down when it answers wrongly (wrong status, wrong
body, wrong banner, failed login), through health.status's state and last_error.

One direct-routing service per test on the VIP and the server's port, with backend b1 as its
only real; checks every 0.3 s (healthlib.INTERVAL), so each state change shows within about a
second. The servers start once for the module; a test that stops a server or makes it answer
wrongly puts it back in its finally.
"""
import os
import stat

import pytest

import healthlib as H
from protocol_servers import ProtocolServers


STOPPED_TCP = r"refused|connect|reset|closed"
STOPPED_UDP = r"refused|unreachable|time|no (answer|reply|response)"


@pytest.fixture(scope="module")
def servers(testbed):
    ps = ProtocolServers(testbed, testbed.backends[0])
    ps.start_all()
    try:
        yield ps
    finally:
        ps.close()


@pytest.fixture(scope="module")
def external(testbed):
    """An external check command: up while its flag file exists, hangs while the hang file
    exists (for the timeout); appends its arguments to a file."""
    d = os.path.join(testbed.tmp, "external-check")
    os.makedirs(d, exist_ok=True)
    script = os.path.join(d, "check.sh")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\necho \"$@\" >> {d}/args\n"
                f"[ -f {d}/hang ] && exec sleep 30\n"
                f"[ -f {d}/up ]\n")
    os.chmod(script, os.stat(script).st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    open(os.path.join(d, "up"), "w").close()
    return {"dir": d, "script": script}


def _flag(path, present):
    if present:
        open(path, "w").close()
    elif os.path.exists(path):
        os.unlink(path)


class Case:
    """One check type against one server: the service's port and protocol, the check, how to
    stop the server, and its wrong answers as (name, make wrong, undo, last_error regex)."""

    def __init__(self, server, check, port, proto="tcp", stopped=STOPPED_TCP, wrong=(),
                 real_ip=None, stop=None, start=None):
        self.server = server
        self.check = H.check(**check)
        self.port = port
        self.proto = proto
        self.stopped = stopped
        self.wrong = {w[0]: w[1:] for w in wrong}
        self.real_ip = real_ip
        self.deadline = self.check["interval"] + max(self.check["timeout"],
                                                     self.check["negotiate_timeout"]) + H.SLACK
        self._stop = stop or (lambda: server.stop())
        self._start = start or (lambda: server.start())

    def stop(self):
        self._stop()

    def start(self):
        self._start()


def _cases(tb, ps, ext):
    ng, dns, smtp = ps["nginx"], ps["dnsmasq"], ps["postfix"]
    ftp, dove, ldap, my = ps["vsftpd"], ps["dovecot"], ps["slapd"], ps["mariadb"]
    sip, nntp = ps["kamailio"], ps["jamnntpd"]

    def wrong(s, kind=True):
        return lambda: s.set_wrong(kind), lambda: s.set_wrong(False)

    status503 = ("status",) + wrong(ng, "status") + (r"503",)
    body = ("body",) + wrong(ng, "body") + (r"receive|body|expect|healthy|match",)
    simple_re = r"regex|match|expect|receive|answer"
    login = r"login|auth|pass|credential|denied|fail"
    ext_dir = ext["dir"]
    return {
        "connect-tcp": lambda: Case(ng, {"type": "connect"}, ng.port),
        "connect-udp": lambda: Case(dns, {"type": "connect", "protocol": "udp"}, 53, "udp",
                                    stopped=r"refused|unreachable|icmp"),
        "http": lambda: Case(ng, ng.check(), ng.port, wrong=[status503, body]),
        "https": lambda: Case(ng, ng.check(https=True), ng.https_port, wrong=[
            status503, body,
            ("certificate", lambda: None, lambda: None, r"certif|verif|ssl|tls")]),
        "dns": lambda: Case(dns, dns.check(), 53, "udp", stopped=STOPPED_UDP, wrong=[
            ("nxdomain",) + wrong(dns) + (r"nxdomain|rcode|no answer|answer|name",)]),
        "smtp": lambda: Case(smtp, smtp.check(), 25, wrong=[
            ("banner",) + wrong(smtp) + (r"554|banner|greeting|220",)]),
        # PAM delays a failed login by about 2 s
        "ftp": lambda: Case(ftp, ftp.check(negotiate_timeout=5), 21, wrong=[
            ("login",) + wrong(ftp) + (r"530|" + login,)]),
        "pop3": lambda: Case(dove, dove.check(pop3=True), 110, wrong=[
            ("login",) + wrong(dove) + (r"-ERR|" + login,)]),
        "imap": lambda: Case(dove, dove.check(), 143, wrong=[
            ("login",) + wrong(dove) + (r"\bNO\b|" + login,)]),
        "ldap": lambda: Case(ldap, ldap.check(), 389, wrong=[
            ("login",) + wrong(ldap) + (r"\b49\b|invalid|bind|" + login,)]),
        "mysql": lambda: Case(my, my.check(), 3306, wrong=[
            ("login",) + wrong(my) + (r"1045|access denied|" + login,)]),
        "sip": lambda: Case(sip, sip.check(), 5060, "udp", stopped=STOPPED_UDP),
        "nntp": lambda: Case(nntp, nntp.check(), 119, wrong=[
            ("banner",) + wrong(nntp) + (r"502|banner|greeting|20[01]",)]),
        "simpletcp": lambda: Case(ng, {"type": "negotiate", "service": "simpletcp",
                                       "request": "GET /health HTTP/1.0\r\n\r\n",
                                       "receive_regex": "^HTTP/1\\.[01] 200 .*healthy"},
                                  ng.port, wrong=[
                                      ("status",) + wrong(ng, "status") + (simple_re,),
                                      ("body",) + wrong(ng, "body") + (simple_re,)]),
        "connects-then-negotiate": lambda: Case(ng, ng.check(type=3), ng.port,
                                                wrong=[status503]),
        # ping: the stopped server is an address nobody has (the real itself is the case's)
        "ping": lambda: Case(None, {"type": "ping"}, 8080,
                             stopped=r"time|unreach|no (echo )?(reply|answer)|host",
                             stop=lambda: None, start=lambda: None),
        "on": lambda: Case(ng, {"type": "on"}, ng.port),
        "off": lambda: Case(ng, {"type": "off"}, ng.port),
        "external": lambda: Case(None, {"type": "external", "command": ext["script"]}, 8080,
                                 stopped=r"exit|status|code|fail|1",
                                 stop=lambda: _flag(f"{ext_dir}/up", False),
                                 start=lambda: _flag(f"{ext_dir}/up", True),
                                 wrong=[("hangs", lambda: _flag(f"{ext_dir}/hang", True),
                                         lambda: _flag(f"{ext_dir}/hang", False),
                                         r"time|kill|signal")]),
    }


UP = ["connect-tcp", "connect-udp", "http", "https", "dns", "smtp", "ftp", "pop3",
      "imap", "ldap", "mysql", "sip", "nntp", "simpletcp", "connects-then-negotiate", "ping",
      "on", "external"]
STOPPED = [c for c in UP if c != "on"]
WRONG = [("http", "status"), ("http", "body"), ("https", "status"), ("https", "body"),
         ("https", "certificate"), ("dns", "nxdomain"),
         ("smtp", "banner"), ("ftp", "login"), ("pop3", "login"), ("imap", "login"),
         ("ldap", "login"), ("mysql", "login"), ("nntp", "banner"), ("simpletcp", "status"),
         ("simpletcp", "body"), ("connects-then-negotiate", "status"), ("external", "hangs")]


@pytest.fixture
def case(request, testbed, servers, external, tmp_path):
    c = _cases(testbed, servers, external)[request.param]()
    c.name = request.param
    c.tmp = str(tmp_path)
    return c


def _params(tb, c, check=None):
    ip = c.real_ip or tb.backends[0]["ip"]
    return {"vip": tb.vip, "port": c.port, "proto": c.proto, "scheduler": "rr",
            "check": check or c.check, "reals": [{"ip": ip, "port": c.port, "weight": 5}]}, ip


def _assert_up(r, c, fresh=True):
    """An up real; fresh: never failed (last_error keeps the last failure's words)."""
    assert r["state"] == "up", r
    if fresh:
        assert r["last_error"] == "", r
    assert r["in_service"] is True and r["effective_weight"] == r["weight"] == 5, r
    assert r["admin"] == "online", r
    if c.check["type"] not in ("on", "off"):
        assert r["checks"] >= 1 and r["last_check"] is not None, r
        assert r["latency_ms"] is not None and r["latency_ms"] >= 0, r


@pytest.mark.parametrize("case", UP, indirect=True)
def test_up_against_a_healthy_server(lb, testbed, case):
    params, ip = _params(testbed, case)
    with H.service(lb, params) as key:
        r, _ = H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
        _assert_up(r, case, fresh=False)
        if case.check["type"] != "on":
            # and it stays up: two more checks, both successes
            r = H.wait_checks(lb, key, ip, case.port, r["checks"] + 2, case.deadline)
            assert r["state"] == "up" and r["successes"] >= 2 and r["failures"] == 0, r


@pytest.mark.parametrize("case", STOPPED, indirect=True)
def test_down_when_the_server_is_stopped(lb, testbed, case):
    if case.name == "ping":
        case.real_ip = f"{testbed.net}.99"   # nobody has it: no echo reply
        params, ip = _params(testbed, case)
        with H.service(lb, params) as key:
            r, _ = H.wait_down(lb, key, ip, case.port, case.stopped, case.deadline)
            assert r["effective_weight"] == 0 and r["failures"] >= 1, r
        return
    params, ip = _params(testbed, case)
    with H.service(lb, params) as key:
        r, _ = H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
        since_up = r["since"]
        try:
            case.stop()
            r, _ = H.wait_down(lb, key, ip, case.port, case.stopped, case.deadline)
            assert r["failures"] >= 1 and r["successes"] == 0, r
            assert r["since"] > since_up, r
            # quiescent (the default): weight 0, still in the table
            assert r["effective_weight"] == 0, r
        finally:
            case.start()
        r, _ = H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
        _assert_up(r, case, fresh=False)


@pytest.mark.parametrize("case,wrong", [pytest.param(c, w, id=f"{c}-{w}") for c, w in WRONG],
                         indirect=["case"])
def test_down_when_the_server_answers_wrongly(lb, testbed, case, wrong):
    make, undo, pattern = case.wrong[wrong]
    check = None
    if wrong == "certificate":
        # verification against a CA that did not sign the server's certificate
        from protocol_servers import make_cert
        other, _ = make_cert(case.tmp, "other-ca", cn="other.test")
        check = dict(case.check, ca_file=other)
    params, ip = _params(testbed, case, check)
    with H.service(lb, params) as key:
        if check is not None:
            # never up: the very first check fails verification
            r, _ = H.wait_down(lb, key, ip, case.port, pattern, case.deadline)
            return
        H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
        try:
            make()
            r, _ = H.wait_down(lb, key, ip, case.port, pattern, case.deadline)
            assert r["effective_weight"] == 0 and r["failures"] >= 1, r
        finally:
            undo()
        r, _ = H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
        _assert_up(r, case, fresh=False)


@pytest.mark.parametrize("case", ["off"], indirect=True)
def test_off_is_down_against_a_healthy_server(lb, testbed, case):
    assert case.server.probe(), "nginx answers the client: the real is healthy"
    params, ip = _params(testbed, case)
    with H.service(lb, params) as key:
        r, _ = H.wait_real(lb, key, ip, case.port, "down", timeout=case.deadline)
        assert r["effective_weight"] == 0, r


@pytest.mark.parametrize("case", ["on"], indirect=True)
def test_on_is_up_with_the_server_stopped(lb, testbed, case):
    params, ip = _params(testbed, case)
    case.stop()
    try:
        with H.service(lb, params) as key:
            r, _ = H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
            assert r["effective_weight"] == 5 and r["in_service"], r
    finally:
        case.start()


@pytest.mark.parametrize("case", ["external"], indirect=True)
def test_external_gets_vip_vport_rip_rport(lb, testbed, case, external):
    params, ip = _params(testbed, case)
    args = os.path.join(external["dir"], "args")
    _flag(args, False)
    with H.service(lb, params) as key:
        H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
    with open(args) as f:
        lines = f.read().split("\n")
    assert f"{testbed.vip} {case.port} {ip} {case.port}" in lines, lines


@pytest.mark.parametrize("case", ["http"], indirect=True)
def test_failures_and_successes_thresholds(lb, testbed, case):
    """failures 3: two failed checks leave the real up; successes 2 to come back."""
    params, ip = _params(testbed, case, dict(case.check, failures=3, successes=2))
    with H.service(lb, params) as key:
        H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)
        try:
            case.server.set_wrong("status")
            r, _ = H.wait_real(lb, key, ip, case.port, timeout=case.deadline, what="2 failures",
                               failures=2)
            assert r["state"] == "up", f"down after 2 of 3 failures: {r!r}"
            r, _ = H.wait_real(lb, key, ip, case.port, "down", timeout=case.deadline)
            assert r["failures"] >= 3, r
        finally:
            case.server.set_wrong(False)
        r, _ = H.wait_real(lb, key, ip, case.port, timeout=case.deadline, what="1 success",
                           successes=1)
        assert r["state"] == "down", f"up after 1 of 2 successes: {r!r}"
        H.wait_real(lb, key, ip, case.port, "up", timeout=case.deadline)


def test_health_status_of_a_missing_service_is_refused(lb, testbed):
    reply = lb.rpc.request("health.status", {"service": {"vip": testbed.vip, "port": 65000,
                                                         "proto": "tcp"}})
    assert "error" in reply, reply
    # docs/api.md: -32001 not found (HEALTH_API.md said -32602)
    assert reply["error"]["code"] == -32001, reply
    assert "65000" in reply["error"]["message"], reply
