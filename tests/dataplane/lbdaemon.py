"""Runs the dpdk-lb daemon on pcap vdevs (no network at all) and talks JSON-RPC to it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, os.environ.get("DPDK_LB_BUILD", "build"))
DAEMON = os.path.join(BUILD, "dataplane", "dpdk-lb")

# With a sanitizer build (build-san), a UBSan finding stops the daemon with a stack trace, as an
# ASan one does (by default UBSan only prints and carries on); the log is scanned as well.
SANITIZER_ENV = {"UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
SANITIZER_MARKERS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer")


def sanitizer_report(log):
    """The first line of log that holds a sanitizer report marker, or None."""
    for line in log.splitlines():
        if any(m in line for m in SANITIZER_MARKERS):
            return line
    return None


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RpcClient:
    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def send_line(self, raw: bytes):
        self.sock.sendall(raw)

    def read_reply(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("daemon closed the RPC connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None):
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            req["params"] = params
        self.next_id += 1
        self.send_line(json.dumps(req).encode() + b"\n")
        reply = self.read_reply()
        if "error" in reply:
            raise RpcError(reply["error"]["code"], reply["error"]["message"])
        return reply["result"]

    def close(self):
        self.sock.close()


class PcapDaemon:
    """The daemon with net_pcap ports: rx from pcap files, tx into pcap files."""

    def __init__(self, rx_pcaps, config_extra, workers=1, netns=None, replay_forever=False,
                 vdevs=None):
        """replay_forever: the port replays its pcap in a loop (traffic that keeps flowing while
        a test changes the configuration) and sends into /dev/null. vdevs: the --vdev arguments
        to use instead of the pcap port (rx_pcaps empty; the test reads its own tx files)."""
        self.dir = tempfile.mkdtemp(prefix="dlb-dp-")
        self.sock = os.path.join(self.dir, "lb.sock")
        self.tx_pcaps = [os.path.join(self.dir, f"out{i}.pcap") for i in range(len(rx_pcaps))]
        vdev = "net_pcap0," + ",".join(f"rx_pcap={p}" for p in rx_pcaps) + "," + \
            ",".join(f"tx_pcap={p}" for p in self.tx_pcaps)
        if replay_forever:
            self.tx_pcaps = []
            vdev = f"net_pcap0,rx_pcap={rx_pcaps[0]},infinite_rx=1,tx_pcap=/dev/null"
        vdev_args = ["--vdev", vdev]
        if vdevs is not None:
            self.tx_pcaps = []
            vdev_args = [a for v in vdevs for a in ("--vdev", v)]
        lcores = "0@0," + ",".join(f"{w + 1}@{(w + 1) % max(1, os.cpu_count())}" for w in range(workers))
        self.prefix = "dlbdp" + uuid.uuid4().hex[:8]
        cfg = {
            "eal": ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.prefix,
                    "--lcores", lcores, *vdev_args, "--log-level", "lib.eal:warning"],
            "rpc": {"socket": self.sock},
            "dataplane": {"flow_capacity": 4096, "mbufs": 4095, "max_reals": 64, "max_services": 16,
                          "idle_sleep_us": 200},
            # No metrics listener unless a test asks for one (the default, 127.0.0.1:9108, is
            # one port for every daemon of the host namespace).
            "metrics": {"listen": "off"},
        }
        extra = dict(config_extra)
        cfg["rpc"].update(extra.pop("rpc", {}))  # a test may give its own socket path
        self.sock = cfg["rpc"]["socket"]
        cfg.update(extra)
        # Kernel interfaces (exception path) only where a test asks for them, and then in a
        # namespace of its own (netns): never the host's interfaces and routes.
        if netns is None:
            cfg["ports"] = [dict(p, kernel_interface=p.get("kernel_interface", False))
                            for p in cfg.get("ports", [])]
        self.config_path = os.path.join(self.dir, "config.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.log = open(self.log_path, "w")
        wrap = ["ip", "netns", "exec", netns] if netns else []
        self.proc = subprocess.Popen(wrap + [DAEMON, "-c", self.config_path], stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **SANITIZER_ENV))
        self.result = None
        self.rpc = None
        try:
            self.rpc = wait_until(self._connect, timeout=20, what="the RPC socket")
        except AssertionError:
            self.stop()
            raise AssertionError("daemon did not come up:\n" + self.read_log())

    def _connect(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.read_log()}")
        try:
            c = RpcClient(self.sock)
            c.call("system.info")
            return c
        except (FileNotFoundError, ConnectionRefusedError, ConnectionError, socket.timeout):
            return None

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stats(self):
        return self.rpc.call("stats.get")

    def wait_rx(self, n):
        """Waits until the dataplane has received n packets (the whole pcap) and every received
        frame has its fate in the counters (transmitted, handed on or dropped: the accounting
        rule, tests/dataplane/accounting.py), so that stats read next see all of them."""
        from accounting import problems, settled
        retired = getattr(self, "retired", 0)  # what deleted services forwarded
        try:
            return wait_until(lambda: (s := self.stats()) and settled(s, n, retired) and s,
                              timeout=15, what=f"{n} packets received and accounted for")
        except AssertionError:
            s = self.stats()
            raise AssertionError(f"{n} packets sent, rx_packets {s['dataplane']['rx_packets']}: "
                                 + "; ".join(problems(s, retired))) from None

    def sent(self):
        """Every packet the daemon transmitted, over all ports (read after stop())."""
        from scapy.all import rdpcap
        return [p for f in self.tx_pcaps if os.path.getsize(f) > 24 for p in rdpcap(f)]

    def stop(self):
        """SIGTERM and wait: the pcap PMD flushes the tx files when the port closes. Returns the
        exit status, or 1 when the daemon exited 0 but its log holds a sanitizer report (so that
        every `assert d.stop() == 0` also catches those)."""
        if self.log.closed:
            return self.result
        if self.rpc:
            self.rpc.close()
            self.rpc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # EAL leaves its runtime directory behind: a test run must not
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        self.result = self.proc.returncode
        if self.result == 0 and sanitizer_report(self.read_log()):
            self.result = 1
        return self.result


def run_pcap(pcap_daemon, tmp_path, packets, cfg, workers=1):
    """Feeds packets to a daemon with cfg through one pcap port and stops it once it has read
    them all. Returns (packets it sent, stats.get, conn.list connections)."""
    from scapy.all import wrpcap
    path = tmp_path / "in.pcap"
    wrpcap(str(path), packets)
    d = pcap_daemon([path], cfg, workers)
    d.wait_rx(len(packets))
    stats = d.stats()
    conns = d.rpc.call("conn.list")["connections"]
    assert d.stop() == 0, d.read_log()
    return d.sent(), stats, conns
