"""Shared helpers of the benchmark scripts: processes, the daemon on vdevs, JSON-RPC, testpmd."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"

# Size of one mbuf of the daemon's pool (RTE_MBUF_DEFAULT_BUF_SIZE data room + struct rte_mbuf
# + mempool object header, rounded up): used to size EAL -m for a pcap held in memory.
MBUF_BYTES = 2560
# Without hugepages a mempool object never straddles a 4 KiB page: one mbuf per page.
MBUF_BYTES_NOHUGE = 4096


class HugePages:
    """Reserves 2 MiB hugepages and mounts a private hugetlbfs for the duration (context
    manager); gives them back afterwards."""
    NR = "/proc/sys/vm/nr_hugepages"

    def __init__(self, mb):
        self.pages = int(mb + 1) // 2 + 1
        self.dir = None

    def __enter__(self):
        self.prev = int(open(self.NR).read())
        with open(self.NR, "w") as f:
            f.write(str(self.prev + self.pages))
        got = int(open(self.NR).read()) - self.prev
        if got < self.pages:
            self._release()
            raise MemoryError(f"only {got} of {self.pages} hugepages could be reserved")
        self.dir = f"/tmp/dlbb-huge-{uuid.uuid4().hex[:6]}"
        os.makedirs(self.dir)
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", self.dir],
                       check=True)
        return self

    def _release(self):
        with open(self.NR, "w") as f:
            f.write(str(self.prev))

    def __exit__(self, *exc):
        if self.dir:
            subprocess.run(["umount", self.dir], check=False)
            os.rmdir(self.dir)
        self._release()
        return False


def eal_mem_args(mem_mb, huge_dir):
    if huge_dir:
        return ["--huge-dir", huge_dir, "-m", str(int(mem_mb))]
    return ["--no-huge", "-m", str(int(mem_mb))]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def mem_available_mb():
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def wait_until(pred, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return None
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


class RpcError(Exception):
    pass


class Rpc:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.id = 0

    def call(self, method, params=None):
        self.id += 1
        req = {"jsonrpc": "2.0", "id": self.id, "method": method}
        if params is not None:
            req["params"] = params
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("daemon closed the RPC connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        rep = json.loads(line)
        if "error" in rep:
            raise RpcError(f"{method}: {rep['error']}")
        return rep["result"]

    def close(self):
        self.sock.close()


def kill_proc(p, timeout=30):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def eal_cleanup(prefix):
    if prefix.startswith("dlbb") and "/" not in prefix:
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


class VdevDaemon:
    """dpdk-lb on pcap/null vdevs, one worker on CPU 1, the control lcore on CPU 0 (or the EAL
    --lcores map given: lcore 0 is the control lcore, lcores 1..N the workers)."""

    def __init__(self, build, workdir, vdevs, ports, mem_mb, dataplane, services, timeouts=None,
                 statics=None, extra=None, wrapper=None, start_timeout=600, huge_dir=None,
                 lcores="0@0,1@1"):
        self.prefix = "dlbb" + uuid.uuid4().hex[:8]
        self.dir = workdir
        self.sock = os.path.join(workdir, f"{self.prefix}.sock")
        eal = eal_mem_args(mem_mb, huge_dir) + ["--no-pci", "--file-prefix", self.prefix,
               "--lcores", lcores, "--log-level", "lib.eal:warning"]
        for v in vdevs:
            eal += ["--vdev", v]
        cfg = {"eal": eal, "rpc": {"socket": self.sock}, "dataplane": dataplane,
               # no kernel interface: the benchmark runs in the host's namespace
               "ports": [{"address": a, "kernel_interface": False} for a in ports],
               "services": services}
        if timeouts:
            cfg["timeouts"] = timeouts
        if statics:
            cfg["neighbours"] = {"static": statics}
        if extra:
            cfg.update(extra)
        self.cfg_path = os.path.join(workdir, f"{self.prefix}.json")
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)
        self.log_path = os.path.join(workdir, f"{self.prefix}.log")
        logf = open(self.log_path, "w")
        cmd = (wrapper or []) + [os.path.join(build, "dataplane", "dpdk-lb"), "-c", self.cfg_path]
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        self.rpc = None
        try:
            self.rpc = wait_until(self._connect, start_timeout, 0.2, "the daemon's RPC socket")
        except BaseException:
            self.stop()
            raise

    def _connect(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"dpdk-lb exited with {self.proc.returncode}: "
                               f"{open(self.log_path).read()[-3000:]}")
        try:
            r = Rpc(self.sock)
            r.call("system.info")
            return r
        except (OSError, ConnectionError):
            return None

    def call(self, m, p=None):
        return self.rpc.call(m, p)

    def dataplane_stats(self):
        t0 = time.monotonic()
        s = self.rpc.call("stats.get")["dataplane"]
        t1 = time.monotonic()
        s["t"] = (t0 + t1) / 2
        return s

    def stop(self):
        if self.rpc:
            try:
                self.rpc.close()
            except OSError:
                pass
            self.rpc = None
        kill_proc(self.proc, timeout=60)
        eal_cleanup(self.prefix)
        for p in (self.cfg_path, self.sock):
            try:
                os.unlink(p)
            except OSError:
                pass


def interval_rates(s0, s1):
    dt = s1["t"] - s0["t"]
    d = {k: s1[k] - s0[k] for k in ("rx_packets", "tx_packets", "dropped", "flows_created",
                                     "flows_expired")}
    d["drop_reasons"] = {k: s1["drop_reasons"][k] - s0["drop_reasons"].get(k, 0)
                         for k in s1["drop_reasons"] if s1["drop_reasons"][k] != s0["drop_reasons"].get(k, 0)}
    d["dt"] = dt
    d["tx_mpps"] = d["tx_packets"] / dt / 1e6
    d["rx_mpps"] = d["rx_packets"] / dt / 1e6
    return d


class Testpmd:
    """dpdk-testpmd --forward-mode=io between the same vdevs: the I/O ceiling. With `cores` > 1
    (an EAL --lcores map for the main lcore and that many forwarding lcores), each forwarding
    lcore owns one queue pair of each port, as the daemon's workers do."""

    STAT_RE = re.compile(r"NIC statistics for port (\d+)")

    def __init__(self, workdir, vdevs, mem_mb, mbufs, huge_dir=None, mbuf_size=None,
                 lcores="0@0,1@1", cores=1):
        self.prefix = "dlbb" + uuid.uuid4().hex[:8]
        cmd = ["stdbuf", "-oL", "dpdk-testpmd"] + eal_mem_args(mem_mb, huge_dir) + [
               "--no-pci", "--file-prefix", self.prefix, "--lcores", lcores,
               "--log-level", "lib.eal:warning"]
        for v in vdevs:
            cmd += ["--vdev", v]
        cmd += ["--", "-i", "--forward-mode=io", f"--nb-cores={cores}",
                f"--total-num-mbufs={mbufs}"]
        if cores > 1:
            cmd += [f"--rxq={cores}", f"--txq={cores}"]
        if mbuf_size:
            cmd.append(f"--mbuf-size={mbuf_size}")
        self.log_path = os.path.join(workdir, f"{self.prefix}.testpmd.log")
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_for(lambda: any("testpmd>" in l for l in self.lines) or
                      any("Press enter" in l for l in self.lines), 600, "the testpmd prompt")

    def _read(self):
        buf = ""
        while True:
            ch = self.proc.stdout.read(1)
            if not ch:
                break
            buf += ch
            if ch == "\n" or buf.endswith("testpmd> "):
                self.logf.write(buf)
                with self.cond:
                    self.lines.append(buf)
                    self.cond.notify_all()
                buf = ""
        with self.cond:
            self.lines.append("<EOF>")
            self.cond.notify_all()

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                if "<EOF>" in self.lines:
                    raise RuntimeError(f"testpmd exited: {''.join(self.lines[-30:])}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"testpmd: {what}")
                self.cond.wait(left)

    def cmd(self, c):
        self.proc.stdin.write(c + "\n")
        self.proc.stdin.flush()

    def tx_packets(self, port):
        """Sends `show port stats`, returns (midpoint time, TX-packets of port)."""
        with self.cond:
            start = len(self.lines)
        t0 = time.monotonic()
        self.cmd(f"show port stats {port}")
        res = {}

        def done():
            seen = False
            for l in self.lines[start:]:
                if f"NIC statistics for port {port}" in l:
                    seen = True
                if seen:
                    m = re.search(r"TX-packets:\s*(\d+)", l)
                    if m:
                        res["tx"] = int(m.group(1))
                        return True
            return False
        self.wait_for(done, 30, "port stats")
        t1 = time.monotonic()
        return (t0 + t1) / 2, res["tx"]

    def stop(self):
        try:
            self.cmd("stop")
            self.cmd("quit")
            self.proc.stdin.close()
        except (OSError, ValueError):
            pass
        kill_proc(self.proc, timeout=60)
        self.logf.close()
        eal_cleanup(self.prefix)
