"""Health checks without a network: external, on and off checks, the operator's wishes
(real.drain / offline / online) and their persistence, effective weights, observed
republication without a new generation, the process cap, notify commands, and the validator's
health rules, through the RPCs of a daemon on a pcap port. Checks that reach real servers over
the exception path are in tests/e2e/test_health_checks.py."""
import json
import os
import stat

import pytest
from scapy.all import Ether, wrpcap

from lbdaemon import RpcError, wait_until

SVC = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}
BASE = {"ports": [{"address": "10.9.0.2/24"}]}
R1, R2 = "10.9.0.11", "10.9.0.12"


@pytest.fixture
def start(pcap_daemon, tmp_path):
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])

    def go(services=(), **extra):
        cfg = dict(BASE, services=list(services))
        cfg.update(extra)
        return pcap_daemon([tmp_path / "empty.pcap"], cfg)
    return go


def reals_health(rpc, key=SVC):
    svc = rpc.call("health.status", {"service": key})["services"][0]
    return {r["ip"]: r for r in svc["reals"]}


def wait_state(rpc, ip, state, timeout=10):
    return wait_until(lambda: reals_health(rpc)[ip]["state"] == state and reals_health(rpc)[ip],
                      timeout=timeout, what=f"{ip} {state}")


def service(check=None, reals=(R1, R2), **kw):
    s = dict(SVC, scheduler="wrr", reals=[{"ip": ip, "weight": 4} for ip in reals], **kw)
    if check is not None:
        s["check"] = check
    return s


def test_external_check_up_and_down_per_real(start):
    """The service's external check, overridden by one real: /bin/true up, /bin/false down."""
    svc = service({"type": "external", "command": "/bin/true", "interval": 0.1, "timeout": 2})
    svc["reals"][1]["check"] = {"command": "/bin/false"}
    d = start([svc])
    r2 = wait_state(d.rpc, R2, "down")
    assert r2["last_error"] == "command exit status 1"
    assert r2["effective_weight"] == 0 and r2["in_service"] is True  # quiescent by default
    assert r2["reason"] == "down (quiescent)" and r2["failures"] >= 1
    r1 = wait_state(d.rpc, R1, "up")
    assert r1["effective_weight"] == 4 and r1["last_error"] == "" and r1["checks"] >= 1
    assert r1["latency_ms"] is not None and r1["last_check"] is not None
    listed = {r["ip"]: r for r in d.rpc.call("service.list")["services"][0]["reals"]}
    assert (listed[R1]["health"], listed[R1]["effective_weight"]) == ("up", 4)
    assert (listed[R2]["health"], listed[R2]["effective_weight"]) == ("down", 0)
    assert listed[R2]["weight"] == 4  # the wish is untouched
    assert "health: TCP 10.9.0.100:80 real 10.9.0.12:80 down (was unknown): command exit status 1" \
        in d.read_log()
    h = d.stats()["health"]
    assert h["checks"] >= 2 and h["checks_failed"] >= 1 and h["state_changes"] >= 2
    assert h["targets"] == 2


def test_observations_publish_without_a_new_generation(start):
    d = start([service({"type": "external", "command": "/bin/false", "interval": 0.1,
                        "quiescent": False})])
    gen = d.rpc.call("config.get")["generation"]
    r1 = wait_state(d.rpc, R1, "down")
    assert r1["in_service"] is False and r1["reason"] == "down"
    wait_state(d.rpc, R2, "down")
    # both state changes published (each its own observed snapshot), no new generation
    st = wait_until(lambda: (lambda s: s["all_down"] and s)(
        d.rpc.call("health.status")["services"][0]), what="all reals out")
    assert d.stats()["health"]["publications"] >= 1
    assert d.rpc.call("config.get")["generation"] == gen
    assert st["fallback_active"] is False  # no fallback configured


def test_on_and_off_and_fallback(start):
    svc = service({"type": "off"}, fallback={"ip": "10.9.0.99"})
    d = start([svc])
    wait_state(d.rpc, R1, "down")
    wait_until(lambda: d.rpc.call("health.status")["services"][0]["fallback_active"],
               what="fallback active")
    d.rpc.call("service.update", dict(SVC, check={"type": "on"}))
    wait_state(d.rpc, R1, "up")
    st = d.rpc.call("health.status")["services"][0]
    assert st["fallback_active"] is False and st["check"] == "on"
    assert [r["effective_weight"] for r in st["reals"]] == [4, 4]
    # a removed check: every real counts as up again, nothing is checked
    d.rpc.call("service.update", dict(SVC, check=None))
    st = d.rpc.call("health.status")["services"][0]
    assert st["check"] is None and all(r["checked"] is False for r in st["reals"])
    assert all(r["state"] == "up" for r in st["reals"])


def test_drain_offline_online(start, tmp_path):
    state_file = tmp_path / "admin.state"
    d = start([service()], health={"state_file": str(state_file)})
    rpc = d.rpc
    gen = rpc.call("config.get")["generation"]
    res = rpc.call("real.drain", {"service": SVC, "ip": R1})
    assert res == {"state": "drain", "weight": 4, "effective_weight": 0}
    res = rpc.call("real.offline", {"service": SVC, "ip": R2, "port": 80})
    assert res == {"state": "offline", "weight": 4, "effective_weight": 0}
    assert rpc.call("config.get")["generation"] == gen + 2  # wishes are configuration
    h = reals_health(rpc)
    assert (h[R1]["admin"], h[R1]["in_service"], h[R1]["reason"]) == ("drain", True, "drain")
    assert (h[R2]["admin"], h[R2]["in_service"], h[R2]["reason"]) == ("offline", False, "offline")
    saved = json.loads(state_file.read_text())
    assert sorted((e["ip"], e["state"]) for e in saved["reals"]) == [(R1, "drain"), (R2, "offline")]
    # online restores the configured weight, not 1
    rpc.call("real.update", {"service": SVC, "ip": R1, "weight": 9})
    assert rpc.call("real.online", {"service": SVC, "ip": R1})["effective_weight"] == 9
    saved = json.loads(state_file.read_text())
    assert [(e["ip"], e["state"]) for e in saved["reals"]] == [(R2, "offline")]
    # in config.apply too, and config.get shows the wish
    rpc.call("config.apply", {"edits": [{"method": "real.drain",
                                         "params": {"service": SVC, "ip": R1}}]})
    reals = rpc.call("config.get")["services"][0]["reals"]
    assert [r["state"] for r in reals] == ["drain", "offline"]


def test_wishes_survive_a_restart(start, tmp_path):
    state_file = tmp_path / "admin.state"
    d = start([service()], health={"state_file": str(state_file)})
    d.rpc.call("real.offline", {"service": SVC, "ip": R2})
    assert d.stop() == 0
    # the same config file (which still says online): the state file wins
    d2 = start([service()], health={"state_file": str(state_file)})
    h = reals_health(d2.rpc)
    assert (h[R1]["admin"], h[R2]["admin"]) == ("online", "offline")
    assert h[R2]["in_service"] is False
    assert "1 admin states restored" in d2.read_log()


def test_a_corrupt_state_file_is_reported_and_changes_nothing(start, tmp_path):
    state_file = tmp_path / "admin.state"
    state_file.write_text('{"reals": [{"service": {"vip": "10.9.0.100", "port": 80, "proto": '
                          '"tcp"}, "ip": "10.9.0.11", "port": 80, "state": "drain"}, {"ip": 5}]}')
    d = start([service()], health={"state_file": str(state_file)})
    assert reals_health(d.rpc)[R1]["admin"] == "online"
    assert "admin states not restored" in d.read_log()


def test_admin_errors(start):
    d = start([service()])
    for method in ("real.drain", "real.offline", "real.online"):
        with pytest.raises(RpcError) as e:
            d.rpc.call(method, {"service": SVC, "ip": "10.9.0.13"})
        assert e.value.code == -32001 and "no such real" in e.value.message
        with pytest.raises(RpcError) as e:
            d.rpc.call(method, {"service": SVC, "ip": R1, "weight": 3})
        assert e.value.code == -32602 and "weight" in e.value.message
        with pytest.raises(RpcError) as e:
            d.rpc.call(method, {"service": dict(SVC, port=81), "ip": R1})
        assert e.value.code == -32001
    with pytest.raises(RpcError) as e:
        d.rpc.call("real.update", {"service": SVC, "ip": R1, "state": "sleeping"})
    assert e.value.code == -32602 and "params.state" in e.value.message
    with pytest.raises(RpcError) as e:
        d.rpc.call("health.status", {"service": dict(SVC, port=81)})
    assert e.value.code == -32001


@pytest.mark.parametrize("check,path,words", [
    ({"type": "negotiate"}, "check.service", "no protocol is known for port 8080"),
    ({"type": "negotiate", "service": "dns"}, "check.request", "name to query"),
    ({"type": "negotiate", "service": "dns", "request": "a.example", "protocol": "tcp"},
     "check.protocol", "UDP only"),
    ({"type": "external"}, "check.command", "needs a command"),
    ({"type": "connect", "receive_regex": "a{"}, "check.receive_regex", ""),
    ({"type": "negotiate", "service": "https", "verify": True, "ca_file": "/nonexistent.pem"},
     "check.ca_file", "cannot read"),
    ({"type": "ping", "interval": 0}, "check.interval", "0.01-86400"),
    ({"type": "ping", "successes": 0}, "check.successes", "1-1000"),
])
def test_the_validator_refuses_checks_that_cannot_run(start, check, path, words):
    d = start([dict(SVC, port=8080, reals=[{"ip": R1}])])
    before = d.rpc.call("config.get")
    with pytest.raises(RpcError) as e:
        d.rpc.call("service.update", dict(SVC, port=8080, check=check))
    assert e.value.code == -32602
    assert path in e.value.message and words in e.value.message, e.value.message
    assert d.rpc.call("config.get") == before


def test_process_cap_and_notify(start, tmp_path):
    """health.max_processes bounds external commands; a check that finds no room is not run
    (the real keeps its state); notify runs on every change with the reason."""
    log = tmp_path / "notify.log"
    script = tmp_path / "notify.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    slow = tmp_path / "slow-check.sh"
    slow.write_text("#!/bin/sh\nsleep 1\n")
    for f in (script, slow):
        f.chmod(f.stat().st_mode | stat.S_IEXEC)
    reals = [f"10.9.0.{i}" for i in range(11, 17)]
    svc = service({"type": "external", "command": str(slow), "interval": 0.05,
                   "timeout": 3, "notify": str(script)}, reals=reals)
    d = start([svc], health={"max_processes": 2})
    wait_until(lambda: d.stats()["health"]["checks_not_run"] > 0, what="checks not run")
    assert d.stats()["health"]["processes"] <= 2
    wait_until(lambda: d.stats()["health"]["checks"] >= 2, timeout=15, what="sleep checks done")
    wait_until(lambda: log.exists() and "up 10.9.0.100:80" in log.read_text(), what="notify")
    line = log.read_text().splitlines()[0].split(" ", 3)
    assert line[0] == "up" and line[1] == "10.9.0.100:80" and line[2].startswith("10.9.0.1")
    assert line[3] == "exit status 0"
    # never more than the cap at once, notify commands included
    assert d.stats()["health"]["processes"] <= 2
    # a real without a free slot this round keeps its state (unknown, counted as up)
    assert all(r["state"] in ("up", "unknown") for r in reals_health(d.rpc).values())
