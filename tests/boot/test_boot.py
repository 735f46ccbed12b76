"""The installed package boots: systemd starts dpdk-lb.service (enabled by the package) in a
Debian 12 root booted with systemd-nspawn inside the testbed's appliance namespace; the daemon
logs to the journal, answers RPC and dpdk-lb-cli, forwards HTTP from the client namespace to an
nginx real server, applies `systemctl reload`, refuses an invalid one without stopping, and is
started again by systemd after a kill -9. systemd-analyze verify checks the unit in place."""
import json
import os
import shutil
import tempfile
import uuid

import pytest

import bootimage
import testbed as tbmod

CONFIG = "/etc/dpdk-lb/dpdk-lb.json"


def appliance_config(tb):
    """The testbed's daemon config, made for the container: af_packet on the appliance veth
    (no BPF needed), no exception-path TAP (no /dev/net/tun in the container), the packaged
    socket path, one DR service to the first backend."""
    cfg = tb.daemon_config(workers=1, services=[{
        "vip": tb.vip, "port": 80, "proto": "tcp", "scheduler": "rr",
        "reals": [{"ip": tb.backends[0]["ip"], "forward": "dr"}]}])
    eal = cfg["eal"]
    eal[eal.index("--vdev") + 1] = f"net_af_packet0,iface={tb.lb_if}"
    eal[eal.index("--file-prefix") + 1] = "dpdk-lb"
    cfg["rpc"] = {"socket": "/run/dpdk-lb/dpdk-lb.sock"}
    cfg["ports"][0]["kernel_interface"] = False
    return cfg


@pytest.fixture(scope="module")
def appliance():
    if os.geteuid() != 0:
        pytest.fail("the boot suite needs root (debootstrap, namespaces, systemd-nspawn)")
    work = tempfile.mkdtemp(prefix="dlbboot-")
    tb = tbmod.Testbed(workers=1, n_backends=1, big_mb=1)
    box = None
    try:
        tb.up()
        deb = bootimage.build_deb(os.path.join(work, "dist"))
        base = bootimage.base_root(bootimage.runtime_packages(deb))
        root = os.path.join(work, "rootfs")
        bootimage.install_copy(base, deb, root)
        with open(os.path.join(root, CONFIG.lstrip("/")), "w") as f:
            json.dump(appliance_config(tb), f)
        box = bootimage.Container(root, tb.ns_lb, f"dlbboot{uuid.uuid4().hex[:6]}",
                                  os.path.join(work, "console.log"))
        tb.add_pid(box.proc.pid)
        box.wait_booted()
        box.tb = tb
        yield box
    finally:
        if box is not None:
            box.stop()
        tb.down()
        shutil.rmtree(work, ignore_errors=True)


def cli_json(box, *args):
    return json.loads(box.sh("dpdk-lb-cli", "--json", *args).stdout)


def main_pid(box):
    return int(box.sh("systemctl", "show", "-p", "MainPID", "--value", "dpdk-lb").stdout)


def active(box):
    return box.sh("systemctl", "is-active", "dpdk-lb", check=False).stdout.strip() == "active"


def test_the_enabled_unit_starts_at_boot_and_logs_to_the_journal(appliance):
    box = appliance
    assert box.sh("systemctl", "is-enabled", "dpdk-lb").stdout.strip() == "enabled"
    bootimage.wait_for(lambda: active(box), "dpdk-lb.service active")
    assert os.path.isdir(os.path.join(box.root, "run")) and \
        box.sh("stat", "-c", "%a", "/run/dpdk-lb").stdout.strip() == "750"
    journal = bootimage.wait_for(
        lambda: (j := box.sh("journalctl", "-u", "dpdk-lb", "--no-pager").stdout)
        and "RPC on /run/dpdk-lb/dpdk-lb.sock" in j and j, "the daemon's start in the journal")
    assert "dpdk-lb-setup: ready" in journal  # ExecStartPre ran first


def test_rpc_cli_and_traffic(appliance):
    box = appliance
    bootimage.wait_for(lambda: box.sh("dpdk-lb-cli", "info", check=False).returncode == 0,
                       "dpdk-lb-cli info")
    svc = cli_json(box, "list")["services"]
    assert [(s["vip"], s["port"]) for s in svc] == [(box.tb.vip, 80)]
    bodies = box.tb.curl_many(5)
    assert all(b is not None and box.tb.backends[0]["name"] in b for b in bodies), bodies
    stats = cli_json(box, "stats")
    assert stats["dataplane"]["rx_packets"] > 0


def test_systemctl_reload_applies_the_file_and_refuses_an_invalid_one(appliance):
    box = appliance
    path = os.path.join(box.root, CONFIG.lstrip("/"))
    gen = cli_json(box, "config", "get")["generation"]
    pid = main_pid(box)
    cfg = json.load(open(path))
    cfg["services"].append({"vip": box.tb.vip, "port": 8080, "proto": "tcp",
                            "reals": [{"ip": box.tb.backends[0]["ip"]}]})
    with open(path, "w") as f:
        json.dump(cfg, f)
    box.sh("systemctl", "reload", "dpdk-lb")
    bootimage.wait_for(lambda: cli_json(box, "config", "get")["generation"] == gen + 1,
                       "the reloaded configuration")
    assert {s["port"] for s in cli_json(box, "list")["services"]} == {80, 8080}
    with open(path, "a") as f:
        f.write("{ broken")
    box.sh("systemctl", "reload", "dpdk-lb")
    bootimage.wait_for(lambda: "reload refused" in box.sh(
        "journalctl", "-u", "dpdk-lb", "--no-pager").stdout, "the refusal in the journal")
    assert active(box) and main_pid(box) == pid  # never stopped or restarted
    assert cli_json(box, "config", "get")["generation"] == gen + 1
    assert all(b is not None for b in box.tb.curl_many(3))


def test_systemd_restarts_a_killed_daemon(appliance):
    box = appliance
    with open(os.path.join(box.root, CONFIG.lstrip("/")), "w") as f:
        json.dump(appliance_config(box.tb), f)  # the reload test left a broken file
    pid = main_pid(box)
    box.sh("kill", "-9", str(pid))
    new = bootimage.wait_for(lambda: active(box) and (p := main_pid(box)) not in (0, pid) and p,
                             "a new daemon started by systemd", timeout=40)
    assert new != pid
    bootimage.wait_for(lambda: box.sh("dpdk-lb-cli", "info", check=False).returncode == 0,
                       "RPC after the restart")
    assert all(b is not None for b in box.tb.curl_many(3))
    restarts = box.sh("systemctl", "show", "-p", "NRestarts", "--value", "dpdk-lb").stdout
    assert int(restarts) >= 1


def test_systemd_analyze_verify_accepts_the_unit(appliance):
    r = appliance.sh("systemd-analyze", "verify", "/lib/systemd/system/dpdk-lb.service",
                     check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr.strip() == "", r.stderr
