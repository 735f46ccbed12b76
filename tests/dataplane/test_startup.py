"""Daemon start-up: configs refused before the EAL starts exit 1 with a specific message and
leave nothing behind (no leak report from the sanitizer build, no stale temporary files)."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

from lbdaemon import DAEMON

SANITIZER_REPORTS = ("LeakSanitizer", "AddressSanitizer", "runtime error:")


def start(path, *extra):
    """Runs the daemon on config path until it exits; returns the finished process."""
    return subprocess.run([DAEMON, "-c", str(path), *extra], capture_output=True, text=True,
                          timeout=60)


def assert_refused(p, needle):
    assert p.returncode == 1, f"exit {p.returncode}:\n{p.stderr}"
    assert needle in p.stderr, p.stderr
    for report in SANITIZER_REPORTS:
        assert report not in p.stderr, p.stderr


@pytest.mark.parametrize("doc,needle", [
    ({"bogus": 1}, "config.bogus: unknown key"),
    # refused after EAL arguments, ports and a service were parsed: all of it must be freed
    ({"eal": ["--no-huge"], "ports": [{"address": "10.0.0.1/24"}],
      "services": [{"vip": "10.0.0.9", "port": 80, "proto": "tcp",
                    "reals": [{"ip": "10.0.0.2"}]},
                   {"vip": "10.0.0.9", "port": 80, "proto": "tcp"}]},
     "services[1]: duplicate of services[0]"),
    ({"services": [{"vip": "10.0.0.1", "port": 80, "proto": "tcp", "scheduler": "xx"}]},
     "services[0].scheduler"),
], ids=["unknown-key", "duplicate-service", "bad-scheduler"])
def test_refused_config_exits_1_without_leaks(tmp_path, doc, needle):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert_refused(start(path), needle)


def test_syntax_error_names_line_without_leaks(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "eal": ["--no-huge"],\n  "rpc": {"socket": }\n}\n')
    assert_refused(start(path), f"{path}:3:")


def test_directory_is_named_as_a_directory(tmp_path):
    p = start(tmp_path)
    assert_refused(p, f"{tmp_path}: is a directory")
    assert "expected" not in p.stderr, p.stderr


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "absent.json"
    assert_refused(start(path), f"{path}: No such file or directory")


def test_eal_refusal_exits_1_without_leaks(tmp_path):
    prefix = "dlbst" + uuid.uuid4().hex[:8]
    path = tmp_path / "eal.json"
    path.write_text(json.dumps({"eal": ["--no-huge", "--file-prefix", prefix,
                                        "--no-such-eal-option"]}))
    try:
        assert_refused(start(path), "EAL init failed")
    finally:
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


def dead_pid():
    """A pid whose process has exited (and been reaped)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_save_files_removed_by_save_and_start(pcap_daemon, tmp_path):
    from scapy.all import Ether, wrpcap
    from lbdaemon import RpcClient, wait_until
    wrpcap(str(tmp_path / "empty.pcap"), [Ether()])
    d = pcap_daemon([tmp_path / "empty.pcap"], {"ports": [{"address": "10.9.0.2/24"}]})
    d.rpc.call("service.add", {"vip": "10.9.0.100", "port": 80, "proto": "tcp",
                               "reals": [{"ip": "10.9.0.11"}]})
    cfg = d.config_path
    stale = f"{cfg}.tmp.{dead_pid()}"
    live = f"{cfg}.tmp.{os.getpid()}"  # a save in progress elsewhere: must be left alone
    other = os.path.join(d.dir, "unrelated.json.tmp.1")
    for path in (stale, live, other):
        with open(path, "w") as f:
            f.write('{"half": ')
    # config.save (to the file the daemon was started from) clears the stale one away
    res = d.rpc.call("config.save")
    assert res["path"] == cfg
    assert not os.path.exists(stale)
    assert os.path.exists(live) and os.path.exists(other)
    with open(cfg) as f:
        saved = json.load(f)
    running = d.rpc.call("config.get")
    running.pop("generation")  # config.get's own: not part of the file
    assert saved == running
    assert saved["services"][0]["reals"][0]["ip"] == "10.9.0.11"
    os.unlink(live)
    assert d.stop() == 0, d.read_log()

    # a save killed half-way, then a restart from the same file: start-up clears it away
    stale = f"{cfg}.tmp.{dead_pid()}"
    with open(stale, "w") as f:
        f.write('{"half": ')
    log = open(os.path.join(d.dir, "restart.log"), "w")
    p = subprocess.Popen([DAEMON, "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
    try:
        def up():
            assert p.poll() is None, f"restart exited {p.returncode}"
            try:
                return RpcClient(d.sock)
            except OSError:
                return None
        c = wait_until(up, timeout=20, what="the restarted daemon")
        assert not os.path.exists(stale)
        assert c.call("config.get")["services"] == saved["services"]
        c.close()
    finally:
        p.terminate()
        p.wait(timeout=20)
        log.close()
        shutil.rmtree(os.path.join("/var/run/dpdk", d.prefix), ignore_errors=True)
    assert p.returncode == 0, open(os.path.join(d.dir, "restart.log")).read()
