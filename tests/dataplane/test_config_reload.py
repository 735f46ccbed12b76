"""Reloading the configuration file (SIGHUP, as `systemctl reload` sends, and config.reload):
validate, then apply atomically; services that stay keep their ids and their flows; an invalid
file, or one that changes what takes a restart, leaves the running configuration untouched."""
import json
import signal

import pytest

from lbdaemon import RpcError, wait_until
from test_publish import KEY_A, N_B, VIP_A, VIP_B, b_connections, reals_of, replaying_daemon  # noqa: F401


def read_config(rpc):
    with open(rpc.config_path) as f:
        return json.load(f)


def write_config(rpc, cfg):
    with open(rpc.config_path, "w") as f:
        json.dump(cfg, f)


def generation(rpc):
    return rpc.call("config.get")["generation"]


def log_text(rpc):
    with open(rpc.log_path) as f:
        return f.read()


def test_sighup_applies_the_file_and_established_flows_carry_on(replaying_daemon):
    rpc = replaying_daemon
    wait_until(lambda: len(b_connections(rpc)) == N_B, what="B's connections")
    b_before = b_connections(rpc)
    b_pkts = {ip: r["inpkts"] for ip, r in reals_of(rpc, VIP_B).items()}
    gen = generation(rpc)
    cfg = read_config(rpc)
    cfg["services"][0]["reals"][0]["weight"] = 5  # A changes
    cfg["services"].append({"vip": "10.9.0.103", "port": 443, "proto": "tcp",
                            "reals": [{"ip": "10.9.0.11"}]})  # D is new
    write_config(rpc, cfg)
    rpc.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: generation(rpc) == gen + 1, what="the reloaded generation")
    info = rpc.call("system.info")
    assert info["last_snapshot_rebuilt_services"] == 2  # A and D; B and C kept their objects
    weights = {r["ip"]: r["weight"] for r in reals_of(rpc, VIP_A).values()}
    assert weights[cfg["services"][0]["reals"][0]["ip"]] == 5
    assert any(s["vip"] == "10.9.0.103" for s in rpc.call("service.list")["services"])
    # B's established connections stay with their reals and keep being forwarded
    assert b_connections(rpc) == b_before
    wait_until(lambda: all(r["inpkts"] > b_pkts[ip] for ip, r in reals_of(rpc, VIP_B).items()),
               what="B's flows still forwarded after the reload")
    assert rpc.call("stats.get")["dataplane"]["drop_reasons"]["no_real"] == 0
    assert "reload: " in log_text(rpc) and "applied, configuration generation" in log_text(rpc)


def test_an_unchanged_file_is_not_a_new_generation(replaying_daemon):
    rpc = replaying_daemon
    gen = generation(rpc)
    res = rpc.call("config.reload")
    assert res["changed"] is False and res["generation"] == gen
    assert res["path"] == rpc.config_path


def test_an_invalid_file_changes_nothing_and_says_why(replaying_daemon):
    rpc = replaying_daemon
    before = rpc.call("config.get")
    with open(rpc.config_path, "a") as f:
        f.write("{ not json")
    rpc.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in log_text(rpc), what="the refusal in the log")
    assert rpc.call("config.get") == before
    with pytest.raises(RpcError) as e:
        rpc.call("config.reload")
    assert e.value.code == -32602 and "nothing was changed" in e.value.message
    # a file that parses but fails the validator: a real with weight over the range
    cfg = json.loads(open(rpc.config_path).read().rsplit("{ not json", 1)[0])
    cfg["services"][0]["reals"][0]["weight"] = 70000
    write_config(rpc, cfg)
    with pytest.raises(RpcError) as e:
        rpc.call("config.reload")
    assert e.value.code == -32602 and "weight" in e.value.message
    assert rpc.call("config.get") == before
    assert rpc.proc.poll() is None


def test_restart_only_sections_are_refused_by_name(replaying_daemon):
    rpc = replaying_daemon
    before = rpc.call("config.get")
    cfg = read_config(rpc)
    cfg["dataplane"]["mbufs"] = 8191
    cfg["services"][0]["reals"][0]["weight"] = 9
    write_config(rpc, cfg)
    with pytest.raises(RpcError) as e:
        rpc.call("config.reload")
    assert e.value.code == -32602, e.value
    assert "dataplane" in e.value.message and "restart" in e.value.message
    assert "services" not in e.value.message.split("take a restart")[0]
    assert rpc.call("config.get") == before


def test_reload_from_another_path_and_bad_params(replaying_daemon, tmp_path):
    rpc = replaying_daemon
    cfg = read_config(rpc)
    cfg["services"] = [s for s in cfg["services"] if s["vip"] != VIP_A]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(cfg))
    gen = generation(rpc)
    res = rpc.call("config.reload", {"path": str(other)})
    assert res["changed"] is True and res["generation"] == gen + 1
    assert all(s["vip"] != VIP_A for s in rpc.call("service.list")["services"])
    with pytest.raises(RpcError) as e:
        rpc.call("config.reload", {"path": str(tmp_path / "missing.json")})
    assert e.value.code == -32602 and "missing.json" in e.value.message
    with pytest.raises(RpcError) as e:
        rpc.call("config.reload", {"path": 3})
    assert e.value.code == -32602 and "params.path" in e.value.message
    with pytest.raises(RpcError) as e:
        rpc.call("config.reload", {"service": KEY_A})
    assert e.value.code == -32602


def test_the_blocklist_changes_at_run_time_and_kept_entries_stay_blocked(replaying_daemon):
    """The replayed client (10.9.0.10) is blocked, then a reload keeps that entry and adds one:
    its packets must go on being dropped as `blocked` (an entry given a new dataplane slot would
    be taken out of the LPM table by the old slot's removal)."""
    rpc = replaying_daemon
    rpc.call("block.add", {"cidr": "10.9.0.10", "reason": "kept"})

    def blocked():
        return rpc.call("stats.get")["dataplane"]["drop_reasons"]["blocked"]
    wait_until(lambda: blocked() > 0, what="the client's packets blocked")
    cfg = read_config(rpc)
    cfg["blocklist"] = [{"cidr": "10.9.0.10", "reason": "kept"},
                        {"cidr": "198.51.100.7", "reason": "new"}]
    write_config(rpc, cfg)
    gen = generation(rpc)
    res = rpc.call("config.reload")
    assert res["changed"] is True and res["generation"] == gen + 1
    listed = {e["cidr"]: e["reason"] for e in rpc.call("block.list")["entries"]}
    assert listed == {"10.9.0.10/32": "kept", "198.51.100.7/32": "new"}
    after = blocked()
    wait_until(lambda: blocked() > after + 100, what="the client still blocked after the reload")
