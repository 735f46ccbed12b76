"""Roles on the management socket (rpc.roles, SO_PEERCRED), with real Unix users and groups
created for the test and removed after it, even when it fails."""
import grp
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest
from scapy.all import Ether, wrpcap

from lbdaemon import DAEMON, wait_until

CLI = os.path.join(os.path.dirname(DAEMON), "..", "control", "cli", "dpdk-lb-cli")
SVC = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}
REAL = {"service": SVC, "ip": "10.9.0.11", "port": 80}
DENIED = -32007


@pytest.fixture
def accounts():
    """Users and groups with unique names: maint (user entry), viewer (in the reports group),
    admin (in the config group), nobody_role (in no entry)."""
    tag = uuid.uuid4().hex[:6]
    groups = {"reports": f"dlbrep{tag}", "config": f"dlbcfg{tag}"}
    users = {"maint": f"dlbm{tag}", "viewer": f"dlbv{tag}", "admin": f"dlba{tag}",
             "norole": f"dlbn{tag}"}
    made_users, made_groups = [], []
    try:
        for g in groups.values():
            subprocess.run(["groupadd", g], check=True)
            made_groups.append(g)
        extra = {"viewer": groups["reports"], "admin": groups["config"]}
        for key, u in users.items():
            cmd = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin"]
            if key in extra:
                cmd += ["-G", extra[key]]
            subprocess.run(cmd + [u], check=True)
            made_users.append(u)
        yield users, groups
    finally:
        for u in made_users:
            subprocess.run(["userdel", u], check=False)
        for g in made_groups:
            subprocess.run(["groupdel", g], check=False)


@pytest.fixture
def roles_daemon(pcap_daemon, tmp_path, accounts):
    users, groups = accounts
    # The socket's directory must be reachable by the test users: tmp_path is root's alone.
    top = tempfile.mkdtemp(prefix="dlb-roles-")
    os.chmod(top, 0o755)
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    cfg = {"ports": [{"address": "10.9.0.2/24"}],
           "rpc": {"socket": os.path.join(top, "run", "lb.sock"),
                   "roles": {"users": {users["maint"]: "maintenance"},
                             "groups": {groups["reports"]: "reports",
                                        groups["config"]: "config"}}},
           "services": [dict(SVC, reals=[{"ip": "10.9.0.11", "weight": 3},
                                         {"ip": "10.9.0.12"}])]}
    try:
        d = pcap_daemon([tmp_path / "empty.pcap"], cfg)
        yield d
        d.stop()  # while its socket is still there (pcap_daemon checks it again, stopped)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def call_as(d, user, method, params=None):
    """One JSON-RPC call from a process running as user (its groups included); the response."""
    pw = pwd.getpwnam(user)
    code = ("import json,socket,sys\n"
            "s=socket.socket(socket.AF_UNIX);s.settimeout(10);s.connect(sys.argv[1])\n"
            "s.sendall(sys.argv[2].encode()+b'\\n');b=b''\n"
            "while not b.endswith(b'\\n'):\n"
            "  c=s.recv(65536)\n"
            "  if not c: break\n"
            "  b+=c\n"
            "print(b.decode(),end='')\n")
    req = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                      **({"params": params} if params is not None else {})})
    r = subprocess.run(["/usr/bin/python3", "-c", code, d.sock, req], user=pw.pw_uid,
                       group=pw.pw_gid, extra_groups=os.getgrouplist(user, pw.pw_gid),
                       capture_output=True, text=True, timeout=20, cwd="/")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cli_as(d, user, *args):
    pw = pwd.getpwnam(user)
    return subprocess.run([CLI, "-s", d.sock, *args], user=pw.pw_uid, group=pw.pw_gid,
                          extra_groups=os.getgrouplist(user, pw.pw_gid), capture_output=True,
                          text=True, timeout=20, cwd="/")


def denied(resp, role, method):
    assert "error" in resp, resp
    assert resp["error"]["code"] == DENIED, resp
    assert f"role {role}" in resp["error"]["message"], resp
    assert method in resp["error"]["message"], resp


def test_socket_is_open_to_users_when_roles_are_configured(roles_daemon):
    assert oct(os.stat(roles_daemon.sock).st_mode & 0o777) == "0o666"
    assert oct(os.stat(os.path.dirname(roles_daemon.sock)).st_mode & 0o777) == "0o755"


def test_reports_role_reads_only(roles_daemon, accounts):
    d, (users, _) = roles_daemon, accounts
    v = users["viewer"]
    for m in ("service.list", "stats.get", "health.status", "config.get", "system.info",
              "config.backups"):
        assert "result" in call_as(d, v, m), m
    denied(call_as(d, v, "real.drain", REAL), "reports", "real.drain")
    denied(call_as(d, v, "service.del", SVC), "reports", "service.del")
    denied(call_as(d, v, "config.save"), "reports", "config.save")
    assert d.rpc.call("service.list")["services"][0]["reals"][0]["state"] == "online"


def test_maintenance_role_drains_and_weights_only(roles_daemon, accounts):
    d, (users, _) = roles_daemon, accounts
    m = users["maint"]
    assert call_as(d, m, "real.drain", REAL)["result"]["state"] == "drain"
    assert call_as(d, m, "real.online", REAL)["result"]["state"] == "online"
    assert call_as(d, m, "real.update", dict(REAL, weight=7))["result"]["weight"] == 7
    ok = call_as(d, m, "config.apply", {"edits": [
        {"method": "real.update", "params": dict(REAL, weight=5)},
        {"method": "real.offline", "params": dict(REAL, ip="10.9.0.12")}]})
    assert ok["result"]["applied"] == 2, ok
    # Anything beyond weight and state of existing reals needs config.
    denied(call_as(d, m, "real.update", dict(REAL, forward="nat")), "maintenance", "real.update")
    denied(call_as(d, m, "real.add", dict(REAL, ip="10.9.0.13")), "maintenance", "real.add")
    denied(call_as(d, m, "service.update", dict(SVC, scheduler="rr")), "maintenance",
           "service.update")
    denied(call_as(d, m, "config.apply", {"edits": [
        {"method": "real.update", "params": dict(REAL, weight=1)},
        {"method": "real.del", "params": REAL}]}), "maintenance", "config.apply")
    reals = d.rpc.call("service.list")["services"][0]["reals"]
    assert [(r["ip"], r["weight"], r["state"]) for r in reals] == [
        ("10.9.0.11", 5, "online"), ("10.9.0.12", 1, "offline")]
    assert d.rpc.call("service.list")["services"][0]["scheduler"] == "wlc"
    # The CLI shows the daemon's message and fails.
    r = cli_as(d, m, "service", "del", "tcp", "10.9.0.100:80")
    assert r.returncode == 1 and "code -32007" in r.stderr and "role maintenance" in r.stderr, r


def test_config_role_by_group_and_no_role_refused(roles_daemon, accounts):
    d, (users, _) = roles_daemon, accounts
    a = users["admin"]
    r = call_as(d, a, "real.add", dict(REAL, ip="10.9.0.13"))
    assert r["result"]["ip"] == "10.9.0.13", r
    n = users["norole"]
    for method in ("service.list", "real.drain"):
        resp = call_as(d, n, method, None if method == "service.list" else REAL)
        assert resp["error"]["code"] == DENIED, resp
        assert "role none" in resp["error"]["message"] and method in resp["error"]["message"]
        assert n in resp["error"]["message"], resp
    r = cli_as(d, n, "list")
    assert r.returncode == 1 and "code -32007" in r.stderr, r


def test_every_change_is_logged_with_who_made_it(roles_daemon, accounts):
    d, (users, _) = roles_daemon, accounts
    m, a = users["maint"], users["admin"]
    call_as(d, m, "real.drain", REAL)
    call_as(d, a, "service.update", dict(SVC, scheduler="rr"))
    call_as(d, m, "service.list")
    d.rpc.call("real.online", REAL)
    uid_m, uid_a = pwd.getpwnam(m).pw_uid, pwd.getpwnam(a).pw_uid
    wait_until(lambda: "rpc change: uid 0 user root: real.online" in d.read_log(),
               what="the root change in the log")
    log = d.read_log()
    assert (f"rpc change: uid {uid_m} user {m}: real.drain tcp 10.9.0.100:80 real 10.9.0.11:80"
            in log), log[-3000:]
    assert f"rpc change: uid {uid_a} user {a}: service.update tcp 10.9.0.100:80" in log
    assert "service.list" not in "".join(l for l in log.splitlines() if "rpc change" in l)


def test_without_roles_root_only(pcap_daemon, tmp_path, accounts):
    """The default: root is config and every other user is refused, whatever the socket mode."""
    users, _ = accounts
    top = tempfile.mkdtemp(prefix="dlb-roles-")
    os.chmod(top, 0o755)
    d = None
    try:
        wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
        d = pcap_daemon([tmp_path / "empty.pcap"],
                        {"ports": [{"address": "10.9.0.2/24"}],
                         "rpc": {"socket": os.path.join(top, "lb.sock")}})
        assert oct(os.stat(d.sock).st_mode & 0o777) == "0o660"
        os.chmod(d.sock, 0o666)  # even so, the role refuses
        resp = call_as(d, users["admin"], "stats.get")
        assert resp["error"]["code"] == DENIED and "role none" in resp["error"]["message"]
        assert "stats.get" in resp["error"]["message"]
        assert d.rpc.call("service.add", SVC)["port"] == 80
    finally:
        if d is not None:
            d.stop()
        shutil.rmtree(top, ignore_errors=True)


def test_bad_roles_refused_at_start(tmp_path):
    cfg = {"rpc": {"socket": str(tmp_path / "s"), "roles": {"users": {"alice": "admin"}}}}
    p = tmp_path / "c.json"
    p.write_text(json.dumps(cfg))
    r = subprocess.run([DAEMON, "-c", str(p)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "rpc.roles.users.alice: must be \"config\", \"maintenance\" or \"reports\"" in \
        r.stdout + r.stderr
