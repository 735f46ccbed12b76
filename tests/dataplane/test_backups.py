"""config.backup, config.backups, config.restore and config.factory_reset, through RPC and the
CLI: timestamped copies, backups.keep, a corrupt backup refused with nothing changed."""
import json
import os
import subprocess

import pytest
from scapy.all import Ether, wrpcap

from lbdaemon import DAEMON, RpcError

CLI = os.path.join(os.path.dirname(DAEMON), "..", "control", "cli", "dpdk-lb-cli")
SVC = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}
SVC2 = {"vip": "10.9.0.101", "port": 443, "proto": "tcp"}


def start(pcap_daemon, tmp_path, **backups):
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    cfg = {"ports": [{"address": "10.9.0.2/24"}],
           "backups": dict({"dir": str(tmp_path / "backups")}, **backups),
           "services": [dict(SVC, scheduler="rr", reals=[{"ip": "10.9.0.11", "weight": 2}])]}
    return pcap_daemon([tmp_path / "empty.pcap"], cfg)


def cli(d, *args, stdin=None):
    return subprocess.run([CLI, "-s", d.sock, *args], capture_output=True, text=True, timeout=20,
                          input=stdin)


def keys(d):
    return [(s["vip"], s["port"], s["scheduler"], [(r["ip"], r["weight"]) for r in s["reals"]])
            for s in d.rpc.call("service.list")["services"]]


def test_backup_list_restore(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path)
    first = d.rpc.call("config.backup", {"label": "golden"})
    assert first["name"].startswith("dpdk-lb-") and first["name"].endswith("-golden.json")
    assert os.path.isfile(first["path"]) and first["bytes"] == os.path.getsize(first["path"])
    golden = keys(d)
    d.rpc.call("service.add", dict(SVC2, reals=[{"ip": "10.9.0.12"}]))
    d.rpc.call("real.update", {"service": SVC, "ip": "10.9.0.11", "port": 80, "weight": 9})
    second = d.rpc.call("config.backup")
    listed = d.rpc.call("config.backups")
    assert listed["keep"] == 20 and listed["dir"] == str(tmp_path / "backups")
    assert [b["name"] for b in listed["backups"]] == [second["name"], first["name"]]  # newest first
    assert listed["backups"][1]["label"] == "golden" and listed["backups"][0]["label"] == ""
    assert listed["backups"][0]["time"] >= listed["backups"][1]["time"] > 1.7e9
    gen = d.rpc.call("config.get")["generation"]
    r = d.rpc.call("config.restore", {"name": first["name"]})
    assert r["generation"] == gen + 1 and r["source"] == first["name"]
    assert r["backup_before"]["name"].endswith("-before-restore.json")
    assert r["not_applied"] == []
    assert keys(d) == golden
    # The state before the restore was kept, and brings the change back.
    d.rpc.call("config.restore", {"name": r["backup_before"]["name"]})
    assert [k[0] for k in keys(d)] == ["10.9.0.100", "10.9.0.101"]
    assert keys(d)[0][3] == [("10.9.0.11", 9)]


def test_keep_prunes_the_oldest(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path, keep=3)
    names = [d.rpc.call("config.backup", {"label": f"n{i}"})["name"] for i in range(5)]
    assert [b["name"] for b in d.rpc.call("config.backups")["backups"]] == names[:1:-1]
    assert sorted(os.listdir(tmp_path / "backups")) == sorted(names[2:])


def test_corrupt_or_invalid_backup_refused_and_nothing_changes(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path)
    good = d.rpc.call("config.backup")
    bdir = tmp_path / "backups"
    corrupt = good["name"].replace(".json", "-corrupt.json")
    text = (bdir / good["name"]).read_text()
    (bdir / corrupt).write_text(text[: len(text) // 2])  # cut short, as by a full disk
    invalid_name = good["name"].replace(".json", "-invalid.json")
    doc = json.loads(text)
    doc["services"][0]["reals"][0]["weight"] = 70000
    (bdir / invalid_name).write_text(json.dumps(doc))
    before, gen = keys(d), d.rpc.call("config.get")["generation"]
    n_files = len(os.listdir(bdir))
    for name, why in ((corrupt, "backup refused, nothing changed"),
                      (invalid_name, "services[0].reals[0].weight")):
        with pytest.raises(RpcError) as e:
            d.rpc.call("config.restore", {"name": name})
        assert e.value.code == -32602 and why in e.value.message, e.value.message
        assert name in e.value.message or "services[0]" in e.value.message
    assert keys(d) == before and d.rpc.call("config.get")["generation"] == gen
    assert len(os.listdir(bdir)) == n_files  # no "before-restore" copy either
    for bad in ("../etc/passwd", "dpdk-lb-x.json", "/tmp/dpdk-lb-20261201T010203.045Z.json"):
        with pytest.raises(RpcError) as e:
            d.rpc.call("config.restore", {"name": bad})
        assert e.value.code == -32602 and "params.name" in e.value.message
    with pytest.raises(RpcError) as e:
        d.rpc.call("config.restore", {"name": "dpdk-lb-20200101T000000.000Z.json"})
    assert e.value.code == -32001
    with pytest.raises(RpcError) as e:
        d.rpc.call("config.backup", {"label": "a b"})
    assert e.value.code == -32602 and "params.label" in e.value.message


def test_factory_reset(pcap_daemon, tmp_path):
    d = start(pcap_daemon, tmp_path)
    with pytest.raises(RpcError) as e:
        d.rpc.call("config.factory_reset")
    assert e.value.code == -32602 and "params.confirm" in e.value.message
    assert len(keys(d)) == 1
    r = d.rpc.call("config.factory_reset", {"confirm": True})
    assert r["source"] == "built-in default" and keys(d) == []
    assert r["backup_before"]["name"].endswith("-before-factory-reset.json")
    d.rpc.call("config.restore", {"name": r["backup_before"]["name"]})
    assert len(keys(d)) == 1


def test_factory_file_and_cli(pcap_daemon, tmp_path):
    factory = tmp_path / "factory.json"
    factory.write_text(json.dumps({"ports": [{"address": "10.9.0.2/24"}],
                                   "services": [dict(SVC2, reals=[{"ip": "10.9.0.20"}])]}))
    d = start(pcap_daemon, tmp_path, factory_file=str(factory))
    r = cli(d, "config", "backup", "--label", "pre")
    assert r.returncode == 0 and "-pre.json" in r.stdout, r
    r = cli(d, "config", "backups")
    assert r.returncode == 0 and "-pre.json" in r.stdout and "pre" in r.stdout, r
    # The CLI asks first; anything but "yes" leaves the configuration alone.
    r = cli(d, "config", "factory-reset", stdin="no\n")
    assert r.returncode == 1 and "not reset" in r.stderr, r
    assert keys(d)[0][0] == "10.9.0.100"
    r = cli(d, "config", "factory-reset", stdin="yes\n")
    assert r.returncode == 0, r
    assert keys(d) == [("10.9.0.101", 443, "wlc", [("10.9.0.20", 1)])]
    name = d.rpc.call("config.backups")["backups"][0]["name"]
    r = cli(d, "config", "restore", name)
    assert r.returncode == 0 and keys(d)[0][0] == "10.9.0.100", r
    r = cli(d, "config", "factory-reset", "--yes")
    assert r.returncode == 0 and keys(d)[0][0] == "10.9.0.101", r
    # A factory file that does not load is refused, and nothing changes.
    factory.write_text("{\"services\": [")
    r = cli(d, "config", "factory-reset", "--yes")
    assert r.returncode == 1 and "backups.factory_file refused, nothing changed" in r.stderr, r
    assert keys(d)[0][0] == "10.9.0.101"
