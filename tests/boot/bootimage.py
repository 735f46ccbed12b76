"""A Debian 12 root with systemd and the package's dependencies (debootstrap, cached by the list
of packages under /var/tmp so that a second run only copies it), the package installed into a
per-run copy, and that copy booted with systemd-nspawn."""
import hashlib
import os
import shutil
import signal
import subprocess

from testbed import run, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = "/var/tmp/dlb-boot-cache"
MIRROR = os.environ.get("DPDK_LB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "iproute2", "procps", "man-db"]


def build_deb(outdir):
    """scripts/build-deb.sh into outdir (it runs lintian too); the .deb's path."""
    p = subprocess.run([os.path.join(REPO, "scripts", "build-deb.sh"), outdir],
                       capture_output=True, text=True, timeout=1500)
    assert p.returncode == 0, f"build-deb.sh failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout.strip().splitlines()[-1]


def runtime_packages(deb):
    """The package's Depends, names only (alternatives: the first)."""
    deps = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    return sorted({d.split("|")[0].split("(")[0].strip() for d in deps.split(",") if d.strip()})


def base_root(packages):
    """A cached debootstrap root holding packages (made once per package list)."""
    want = sorted(set(BASE_PACKAGES + packages))
    key = hashlib.sha256(" ".join(want).encode()).hexdigest()[:12]
    root = os.path.join(CACHE, key, "rootfs")
    if os.path.exists(os.path.join(CACHE, key, "complete")):
        return root
    shutil.rmtree(os.path.join(CACHE, key), ignore_errors=True)
    os.makedirs(os.path.dirname(root))
    p = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(want),
                        "bookworm", root, MIRROR], capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, f"debootstrap failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    open(os.path.join(CACHE, key, "complete"), "w").close()
    return root


def install_copy(base, deb, dest):
    """A copy of base at dest with deb installed (its postinst enables the unit)."""
    run(["cp", "-a", base, dest], timeout=300)
    shutil.copy(deb, os.path.join(dest, "tmp", "dpdk-lb.deb"))
    p = run(["chroot", dest, "dpkg", "-i", "/tmp/dpdk-lb.deb"], check=False, timeout=120)
    assert p.returncode == 0, f"dpkg -i failed in the image:\n{p.stdout}\n{p.stderr}"
    os.unlink(os.path.join(dest, "tmp", "dpdk-lb.deb"))


class Container:
    """root booted by systemd-nspawn in the network namespace netns; commands run inside with
    nsenter (no machined on this host: --register=no)."""

    def __init__(self, root, netns, name, log_path):
        self.root, self.name = root, name
        self.log = open(log_path, "w")
        self.log_path = log_path
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-D", root, "--boot", "--register=no", "--keep-unit",
             "--console=passive", "-M", name, f"--network-namespace-path=/run/netns/{netns}",
             "--capability=CAP_IPC_LOCK,CAP_NET_ADMIN"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.leader = wait_until(self._leader, timeout=30, what="the container's init")

    def _leader(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited {self.proc.returncode}:\n"
                                 + open(self.log_path).read()[-3000:])
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
        except FileNotFoundError:
            return None
        return int(kids[0]) if kids else None

    def sh(self, *args, check=True, timeout=30):
        """Runs args inside the container (its mounts, pids, network); CompletedProcess."""
        return run(["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "--"]
                   + list(args), check=check, timeout=timeout)

    def wait_booted(self, timeout=60):
        def booted():
            s = self.sh("systemctl", "is-system-running", check=False).stdout.strip()
            return s if s in ("running", "degraded") else None
        return wait_until(booted, timeout=timeout, interval=0.2, what="systemd to finish booting")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn: a clean shutdown of the container
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_for(predicate, what, timeout=30):
    return wait_until(predicate, timeout=timeout, interval=0.2, what=what)
