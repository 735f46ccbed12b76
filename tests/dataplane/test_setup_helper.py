"""dpdk-lb-setup (the unit's ExecStartPre): hugepages and NIC binding from the config's `system`
section, run against a sysfs/procfs tree made by the test (--root) so that nothing on the host
changes, with a stand-in for dpdk-devbind.py that records its arguments and moves the driver link
as the real tool would."""
import json
import os
import subprocess

from lbdaemon import BUILD

SETUP = os.path.join(BUILD, "control", "setup", "dpdk-lb-setup")
PCI = "0000:03:00.0"


def run(tmp_path, system, root=None, devbind=None, dry_run=False):
    cfg = tmp_path / "lb.json"
    cfg.write_text(json.dumps({"system": system}))
    args = [SETUP, "-c", str(cfg)] + (["--root", str(root)] if root else [])
    args += ["--devbind", str(devbind)] if devbind else []
    args += ["--dry-run"] if dry_run else []
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def fake_root(tmp_path, hugepages_2m=0, mounted=True, iommu=False, driver="ixgbe"):
    root = tmp_path / "root"
    hp = root / "sys/kernel/mm/hugepages/hugepages-2048kB"
    hp.mkdir(parents=True)
    (hp / "nr_hugepages").write_text(f"{hugepages_2m}\n")
    (root / "proc").mkdir()
    (root / "proc/mounts").write_text(
        "proc /proc proc rw 0 0\n" + ("hugetlbfs /dev/hugepages hugetlbfs rw,pagesize=2M 0 0\n"
                                       if mounted else ""))
    (root / "sys/kernel/iommu_groups").mkdir(parents=True)
    if iommu:
        (root / "sys/kernel/iommu_groups/7").mkdir()
    dev = root / "sys/bus/pci/devices" / PCI
    dev.mkdir(parents=True)
    for d in ("ixgbe", "vfio-pci", "uio_pci_generic"):
        (root / "sys/bus/pci/drivers" / d).mkdir(parents=True)
    if driver:
        os.symlink(f"../../../bus/pci/drivers/{driver}", dev / "driver")
    return root


def fake_devbind(tmp_path, root, exit_code=0):
    """Records its arguments and re-points the device's driver link, as dpdk-devbind.py does."""
    log = tmp_path / "devbind.log"
    script = tmp_path / "devbind"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {log}
[ {exit_code} -eq 0 ] || exit {exit_code}
drv=${{1#--bind=}}
ln -sfn ../../../bus/pci/drivers/$drv {root}/sys/bus/pci/devices/$2/driver
""")
    script.chmod(0o755)
    return script, log


def test_nothing_to_do_without_hugepages_or_nics(tmp_path):
    r = run(tmp_path, {})
    assert r.returncode == 0, r.stderr
    assert "no hugepages configured" in r.stdout and "ready" in r.stdout


def test_hugepages_are_reserved_and_an_existing_mount_kept(tmp_path):
    root = fake_root(tmp_path, hugepages_2m=16)
    r = run(tmp_path, {"hugepages": 256}, root=root)
    assert r.returncode == 0, r.stderr
    nr = root / "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    assert nr.read_text().strip() == "256"
    assert "256 hugepages of 2M reserved" in r.stdout and "already mounted" in r.stdout


def test_a_dry_run_changes_nothing(tmp_path):
    root = fake_root(tmp_path, hugepages_2m=16, mounted=False)
    r = run(tmp_path, {"hugepages": 256, "nics": [{"pci": PCI, "driver": "uio_pci_generic"}]},
            root=root, dry_run=True)
    assert r.returncode == 0, r.stderr
    assert "would reserve 256 hugepages of 2M (16 now)" in r.stdout
    assert "would mount hugetlbfs on /dev/hugepages" in r.stdout
    assert f"would bind NIC {PCI} (now ixgbe) to uio_pci_generic" in r.stdout
    assert (root / "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages").read_text() == "16\n"
    assert os.readlink(root / "sys/bus/pci/devices" / PCI / "driver").endswith("/ixgbe")


def test_a_page_size_the_kernel_lacks_is_a_clear_error(tmp_path):
    root = fake_root(tmp_path)
    r = run(tmp_path, {"hugepages": 4, "hugepage_size": "1G"}, root=root)
    assert r.returncode == 1
    assert "hugepages of 1G are missing" in r.stderr and "--no-huge" in r.stderr


def test_vfio_without_iommu_is_refused_with_the_fix(tmp_path):
    root = fake_root(tmp_path, iommu=False)
    script, log = fake_devbind(tmp_path, root)
    r = run(tmp_path, {"nics": [{"pci": PCI}]}, root=root, devbind=script)
    assert r.returncode == 1
    assert "vfio-pci needs the IOMMU" in r.stderr and "intel_iommu=on" in r.stderr
    assert not log.exists()  # nothing was run


def test_nics_are_bound_once(tmp_path):
    root = fake_root(tmp_path, iommu=True)
    script, log = fake_devbind(tmp_path, root)
    r = run(tmp_path, {"nics": [{"pci": PCI, "driver": "vfio-pci"}]}, root=root, devbind=script)
    assert r.returncode == 0, r.stderr
    assert log.read_text().split() == ["--bind=vfio-pci", PCI]
    assert f"NIC {PCI} bound to vfio-pci" in r.stdout
    r = run(tmp_path, {"nics": [{"pci": PCI, "driver": "vfio-pci"}]}, root=root, devbind=script)
    assert r.returncode == 0 and "already bound to vfio-pci" in r.stdout
    assert len(log.read_text().splitlines()) == 1  # not run again


def test_binding_failures_and_missing_nics_stop_the_boot(tmp_path):
    root = fake_root(tmp_path)
    script, _ = fake_devbind(tmp_path, root, exit_code=3)
    r = run(tmp_path, {"nics": [{"pci": PCI, "driver": "uio_pci_generic"}]}, root=root,
            devbind=script)
    assert r.returncode == 1 and "failed (exit 3)" in r.stderr
    r = run(tmp_path, {"nics": [{"pci": "0000:04:00.1", "driver": "uio_pci_generic"}]},
            root=root, devbind=script)
    assert r.returncode == 1 and "NIC 0000:04:00.1 not found" in r.stderr


def test_an_invalid_configuration_stops_the_boot_with_the_daemons_message(tmp_path):
    r = run(tmp_path, {"hugepages": "many"})
    assert r.returncode == 1 and "system.hugepages" in r.stderr
    cfg = tmp_path / "bad.json"
    cfg.write_text("{\"services\": [")
    r = subprocess.run([SETUP, "-c", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "bad.json" in r.stderr
