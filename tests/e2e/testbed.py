"""A one-armed direct-routing testbed for dpdk-lb in network namespaces.

    client ns (CL)  --veth--+
    lb ns (LB)      --veth--+-- Linux bridge (in its own ns, BR)
    backend ns B1..Bn --veth-+

One private /24 (10.<200-250>.<0-255>.0/24, random per run): client .10, the appliance .2 (owned
by the daemon, which opens the LB veth with AF_XDP, or AF_PACKET with several queues for more
than one worker), backends .11, .12, ..., the VIP .100. The backends are direct-routing real
servers: VIP on lo, arp_ignore=1 / arp_announce=2, and an nginx answering "bN\\n" on / and a
large random file on /big (rate-limited so a download lasts several seconds). nginx listens on
every port of `http_ports` (default 80 and 443, plain HTTP on both, for service groups).

Extra pieces a test can add and remove again (all outside `backends`, so tests that use every
backend do not see them): `add_backend()` (another direct-routing real server, e.g. a fallback
server with its own reply body) and `add_client_addresses()` (more client addresses on the
client's veth, for `curl_many(..., source=ADDR)`).

Every name carries a random suffix, so a crashed run never breaks the next one; everything the
testbed creates is recorded in a state file and removed by Testbed.down() (also registered with
atexit, and callable from another process with `python3 testbed.py --cleanup STATEFILE`).

Usable from pytest (tests/e2e/conftest.py) and from scripts (scripts/demo.py).
"""
import atexit
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = "/usr/bin/python3"
# net_af_packet ring geometry of the multi-worker daemons (see Testbed.daemon_config)
AF_PACKET_FRAMESZ = 10240
AF_PACKET_BLOCKSZ = 20480


def build_dir():
    b = os.environ.get("DPDK_LB_BUILD", "build")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def daemon_path():
    return os.path.join(build_dir(), "dataplane", "dpdk-lb")


def cli_path():
    return os.path.join(build_dir(), "control", "cli", "dpdk-lb-cli")


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns something truthy (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def run(args, check=True, timeout=30, input=None):
    """Runs a command (list), returns CompletedProcess with text output."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def nsrun(ns, args, **kw):
    return run(["ip", "netns", "exec", ns] + list(args), **kw)


# ---------------------------------------------------------------------------------------------
# JSON-RPC client


class RpcError(Exception):
    def __init__(self, code, message, reply=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply


class RpcClient:
    """JSON-RPC 2.0 over a Unix stream socket, one JSON object per line, with a timeout."""

    def __init__(self, path, timeout=5.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = b""
        self.next_id = 1

    def send_line(self, raw):
        if isinstance(raw, str):
            raw = raw.encode()
        if not raw.endswith(b"\n"):
            raw += b"\n"
        self.sock.sendall(raw)

    def read_reply(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("daemon closed the RPC connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method, params=None):
        """Sends a request and returns the whole reply object (result or error)."""
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            req["params"] = params
        self.next_id += 1
        self.send_line(json.dumps(req))
        reply = self.read_reply()
        if reply.get("id") != req["id"]:
            raise RpcError(None, f"reply id {reply.get('id')!r} != request id {req['id']}", reply)
        return reply

    def call(self, method, params=None):
        reply = self.request(method, params)
        if "error" in reply:
            raise RpcError(reply["error"].get("code"), reply["error"].get("message"), reply)
        return reply["result"]

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------------------------
# Cleanup of everything a testbed created (also from another process, via the state file)


def _kill_pid(pid, timeout=5.0):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            wpid, _ = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                return
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _remove_eal_runtime_dir(prefix):
    """EAL leaves /var/run/dpdk/PREFIX behind (config, fbarrays) after a clean exit."""
    if prefix.startswith("dlb") and "/" not in prefix:
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


def cleanup_state(state):
    """Kills the recorded processes and everything still running inside the recorded
    namespaces, deletes the namespaces (which removes their veths and the bridge) and the
    temporary directory."""
    for pid in state.get("pids", []):
        _kill_pid(pid)
    for ns in state.get("namespaces", []):
        p = run(["ip", "netns", "pids", ns], check=False, timeout=10)
        for tok in p.stdout.split():
            if tok.isdigit():
                _kill_pid(int(tok), timeout=3)
        run(["ip", "netns", "del", ns], check=False, timeout=10)
    for prefix in state.get("dpdk_prefixes", []):
        _remove_eal_runtime_dir(prefix)
    tmp = state.get("tmp")
    if tmp and os.path.basename(tmp).startswith("dlb"):
        shutil.rmtree(tmp, ignore_errors=True)


def cleanup_state_file(path):
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return
    cleanup_state(state)


# ---------------------------------------------------------------------------------------------


# The head of every nginx.conf the tests write (a private prefix, no keep-alive); {dir} is filled
# by the caller's format(), WORKER_CONNECTIONS by nginx_head().
NGINX_HEAD = """\
user root root;
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections WORKER_CONNECTIONS; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    keepalive_timeout 0;
"""


def nginx_head(worker_connections):
    """NGINX_HEAD with its connection limit, still a format() template."""
    return NGINX_HEAD.replace("WORKER_CONNECTIONS", str(worker_connections))


NGINX_CONF = nginx_head(1024) + """\
    server {{
{listen}
        server_name _;
        location = /big {{
            root {www};
            default_type application/octet-stream;
            limit_rate {rate};
        }}
        location / {{
            default_type text/plain;
            return 200 "{body}\\n";
        }}
    }}
}}
"""


class Testbed:
    def __init__(self, workers=1, n_backends=3, big_mb=20, rate="5m", http_ports=(80, 443)):
        self.workers = workers
        self.http_ports = tuple(http_ports)
        self.sfx = uuid.uuid4().hex[:5]
        self.prefix = f"dlb{self.sfx}"
        a, b = random.randint(200, 250), random.randint(0, 255)
        self.net = f"10.{a}.{b}"
        self.prefix_len = 24
        self.client_ip = f"{self.net}.10"
        self.lb_ip = f"{self.net}.2"
        self.vip = f"{self.net}.100"
        self.ns_br = f"{self.prefix}-br"
        self.ns_cl = f"{self.prefix}-cl"
        self.ns_lb = f"{self.prefix}-lb"
        self.bridge = f"{self.prefix}-brg"
        self.backends = []
        for i in range(1, n_backends + 1):
            self.backends.append({"name": f"b{i}", "ns": f"{self.prefix}-b{i}",
                                  "ifname": f"{self.prefix}-b{i}", "ip": f"{self.net}.{10 + i}"})
        self.cl_if = f"{self.prefix}-cl"
        self.lb_if = f"{self.prefix}-lb"
        self.big_mb = big_mb
        self.rate = rate
        self.tmp = tempfile.mkdtemp(prefix=f"{self.prefix}-")
        os.chmod(self.tmp, 0o755)
        self.state_file = os.path.join(self.tmp, "state.json")
        self.state = {"tmp": self.tmp, "namespaces": [], "pids": []}
        self.nginx = {}
        self.extra_backends = []
        self._next_extra_host = 10 + n_backends + 1   # extra backends: .14, .15, ... below .20
        # extra client addresses: .20-.254 but the VIP, handed out in order, reused last
        self._client_hosts = [h for h in range(20, 255) if h != 100]
        self.extra_client_addresses = []
        self.big_sha256 = None
        self.daemons = []
        self._down = False
        self._save_state()
        atexit.register(self.down)

    # -- state --------------------------------------------------------------------------------

    def _save_state(self):
        tmpf = self.state_file + ".tmp"
        with open(tmpf, "w") as f:
            json.dump(self.state, f)
        os.rename(tmpf, self.state_file)

    def _add_ns(self, ns):
        self.state["namespaces"].append(ns)
        self._save_state()
        run(["ip", "netns", "add", ns])
        nsrun(ns, ["ip", "link", "set", "lo", "up"])
        for k in ("all", "default"):
            nsrun(ns, ["sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1"], check=False)

    def add_pid(self, pid):
        self.state["pids"].append(pid)
        self._save_state()

    def add_prefix(self, prefix):
        self.state.setdefault("dpdk_prefixes", []).append(prefix)
        self._save_state()

    def remove_pid(self, pid):
        if pid in self.state["pids"]:
            self.state["pids"].remove(pid)
            self._save_state()

    # -- topology -----------------------------------------------------------------------------

    def _veth(self, ns, ifname, queues=1):
        """A veth pair: ifname in ns, its peer (ifname + 'p') a port of the bridge."""
        port = ifname + "p"
        q = ["numtxqueues", str(queues), "numrxqueues", str(queues)] if queues > 1 else []
        run(["ip", "-n", self.ns_br, "link", "add", port] + q +
            ["type", "veth", "peer", "name", ifname, "netns", ns] + q)
        run(["ip", "-n", self.ns_br, "link", "set", port, "master", self.bridge, "up"])
        run(["ip", "-n", ns, "link", "set", ifname, "up"])
        # Generic XDP on veth drops GSO packets larger than the MTU: no offloads anywhere.
        for n, i in ((self.ns_br, port), (ns, ifname)):
            nsrun(n, ["ethtool", "-K", i, "tso", "off", "gso", "off", "gro", "off",
                      "tx", "off", "rx", "off"], check=False)
        return port

    def up(self):
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def _up(self):
        for ns in [self.ns_br, self.ns_cl, self.ns_lb] + [b["ns"] for b in self.backends]:
            self._add_ns(ns)
        run(["ip", "-n", self.ns_br, "link", "add", self.bridge, "type", "bridge",
             "stp_state", "0", "forward_delay", "0"])
        run(["ip", "-n", self.ns_br, "link", "set", self.bridge, "up"])

        # client
        self._veth(self.ns_cl, self.cl_if)
        run(["ip", "-n", self.ns_cl, "addr", "add", f"{self.client_ip}/{self.prefix_len}",
             "dev", self.cl_if])
        nsrun(self.ns_cl, ["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535"])
        nsrun(self.ns_cl, ["sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"])

        # the appliance's port: no kernel address, the daemon owns lb_ip
        self._veth(self.ns_lb, self.lb_if, queues=max(1, self.workers))
        self.lb_mac = self.link_mac(self.ns_lb, self.lb_if)
        self._kernel_ignores_port()

        # backends
        www = os.path.join(self.tmp, "www")
        self.www = www
        os.makedirs(www)
        big = os.path.join(www, "big")
        h = hashlib.sha256()
        with open(big, "wb") as f:
            for _ in range(self.big_mb):
                chunk = os.urandom(1 << 20)
                h.update(chunk)
                f.write(chunk)
        self.big_sha256 = h.hexdigest()
        self.big_size = self.big_mb << 20
        for b in self.backends:
            self._setup_backend(b, www)
        for b in self.backends:
            wait_until(lambda: self._direct_ok(b), timeout=15, interval=0.1,
                       what=f"nginx on {b['name']} answering the client directly")

    def _kernel_ignores_port(self):
        """The daemon's kernel interface (dlb0) gives the appliance's kernel lb_ip. AF_XDP takes
        every frame away from the kernel, but net_af_packet (several workers) leaves it a copy
        on the veth: there, its kernel must neither answer ARP (arp_ignore=8) nor take IP
        packets (strict rp_filter: their sources route via dlb0), or it would answer twice."""
        for key, value in (("arp_ignore", 8), ("rp_filter", 1)):
            nsrun(self.ns_lb, ["sysctl", "-qw", f"net.ipv4.conf.{self.lb_if}.{key}={value}"])

    def _setup_backend(self, b, www):
        """A direct-routing real server in its (already created) namespace b["ns"]."""
        ns, ifn = b["ns"], b["ifname"]
        self._veth(ns, ifn)
        run(["ip", "-n", ns, "addr", "add", f"{b['ip']}/{self.prefix_len}", "dev", ifn])
        run(["ip", "-n", ns, "addr", "add", f"{self.vip}/32", "dev", "lo"])
        for k in ("all", ifn):
            nsrun(ns, ["sysctl", "-qw", f"net.ipv4.conf.{k}.arp_ignore=1"])
            nsrun(ns, ["sysctl", "-qw", f"net.ipv4.conf.{k}.arp_announce=2"])
        b["mac"] = self.link_mac(ns, ifn)
        self._start_nginx(b, www)

    def add_backend(self, name, body=None):
        """Adds one more direct-routing real server (namespace, veth on the bridge, VIP on lo,
        nginx on http_ports answering body, default name) at the next free address .14, .15, ...
        It is not in self.backends but in self.extra_backends. Returns its dict; remove it with
        remove_backend() (down() removes it too)."""
        ifname = f"{self.prefix}-{name}"
        if len(ifname) + 1 > 15:
            raise ValueError(f"backend name {name!r} too long for an interface name")
        if any(b["name"] == name for b in self.backends + self.extra_backends):
            raise ValueError(f"backend {name!r} exists")
        host = self._next_extra_host
        if host >= 20:
            raise RuntimeError("no address left for another extra backend")
        self._next_extra_host += 1
        b = {"name": name, "ns": f"{self.prefix}-{name}", "ifname": ifname,
             "ip": f"{self.net}.{host}", "body": body if body is not None else name}
        self.extra_backends.append(b)
        try:
            self._add_ns(b["ns"])
            d = os.path.join(self.tmp, name)
            if os.path.exists(d):   # a backend of this name was removed before
                shutil.rmtree(d)
            self._setup_backend(b, self.www)
            wait_until(lambda: self._direct_ok(b), timeout=15, interval=0.1,
                       what=f"nginx on {name} answering the client directly")
        except BaseException:
            self.remove_backend(b)
            raise
        return b

    def remove_backend(self, b):
        """Stops an extra backend's nginx and deletes its namespace (and so its veth pair)."""
        p = self.nginx.pop(b["name"], None)
        if p is not None:
            _kill_pid(p.pid)
            self.remove_pid(p.pid)
        out = run(["ip", "netns", "pids", b["ns"]], check=False, timeout=10).stdout
        for tok in out.split():
            if tok.isdigit():
                _kill_pid(int(tok), timeout=3)
        run(["ip", "netns", "del", b["ns"]], check=False, timeout=10)
        if b["ns"] in self.state["namespaces"]:
            self.state["namespaces"].remove(b["ns"])
            self._save_state()
        if b in self.extra_backends:
            self.extra_backends.remove(b)

    def _start_nginx(self, b, www):
        d = os.path.join(self.tmp, b["name"])
        os.makedirs(os.path.join(d, "tmp"))
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            listen = "\n".join(f"        listen 0.0.0.0:{p} default_server;"
                               for p in self.http_ports)
            f.write(NGINX_CONF.format(dir=d, www=www, rate=self.rate, listen=listen,
                                      body=b.get("body", b["name"])))
        log = open(os.path.join(d, "stderr.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", b["ns"], "nginx", "-p", d + "/", "-c", conf,
                              "-e", os.path.join(d, "error.log")],
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.add_pid(p.pid)
        b["dir"] = d
        b["access_log"] = os.path.join(d, "access.log")
        self.nginx[b["name"]] = p

    def _direct_ok(self, b):
        p = self.nginx[b["name"]]
        if p.poll() is not None:
            with open(os.path.join(b["dir"], "stderr.log")) as f:
                err = f.read()
            raise RuntimeError(f"nginx on {b['name']} exited with {p.returncode}: {err}")
        r = nsrun(self.ns_cl, ["curl", "-s", "--max-time", "2", f"http://{b['ip']}/"], check=False)
        return r.returncode == 0 and r.stdout.strip() == b.get("body", b["name"])

    @staticmethod
    def link_mac(ns, ifname):
        out = run(["ip", "-n", ns, "-j", "link", "show", ifname]).stdout
        return json.loads(out)[0]["address"]

    def down(self):
        if self._down:
            return
        self._down = True
        for d in list(self.daemons):
            try:
                d.stop()
            except Exception:
                pass
        for p in self.nginx.values():
            if p.poll() is None:
                _kill_pid(p.pid)
        cleanup_state(self.state)

    # -- daemon -------------------------------------------------------------------------------

    def daemon_config(self, workers=None, services=None, **dataplane):
        """A config file dict for a daemon on this testbed's LB veth."""
        workers = workers or self.workers
        dp = {"idle_sleep_us": 50, "mbufs": 8191, "flow_capacity": 65536}
        if workers == 1:
            vdev = f"net_af_xdp0,iface={self.lb_if}"
        else:
            # af_packet's fanout socket has the DEFRAG flag: the kernel reassembles IPv4
            # fragments before DPDK sees them, and a ring frame (default 2048 bytes) truncates a
            # big datagram (a parse drop). Frames of 10240 bytes (2 per 20480-byte block) keep
            # datagrams up to 10240 - 66 (TPACKET2 header) bytes whole, which the appliance then
            # fragments again for the real servers. The PMD needs framesz - 32 bytes of mbuf
            # data room.
            vdev = (f"net_af_packet0,iface={self.lb_if},qpairs={workers},"
                    f"blocksz={AF_PACKET_BLOCKSZ},framesz={AF_PACKET_FRAMESZ}")
            dp["mbuf_data_room"] = AF_PACKET_FRAMESZ
        ncpu = max(1, os.cpu_count() or 1)
        lcores = "0@0," + ",".join(f"{w + 1}@{(w + 1) % ncpu}" for w in range(workers))
        dp.update(dataplane)
        return {
            "eal": ["--no-huge", "-m", "512", "--no-pci",
                    "--file-prefix", f"{self.prefix}-{uuid.uuid4().hex[:6]}",
                    "--lcores", lcores, "--vdev", vdev],
            "rpc": {"socket": os.path.join(self.tmp, f"lb-{uuid.uuid4().hex[:6]}.sock")},
            "dataplane": dp,
            "ports": [{"address": f"{self.lb_ip}/{self.prefix_len}"}],
            "services": services or [],
        }

    def start_daemon(self, config=None, config_path=None, timeout=30):
        """Starts the daemon in the LB namespace from a config dict (written to a file) or an
        existing config file, and waits until it answers system.info."""
        if config is None and config_path is None:
            config = self.daemon_config()
        d = Daemon(self, config=config, config_path=config_path)
        d.start(timeout=timeout)
        return d

    # -- client side --------------------------------------------------------------------------

    def add_client_addresses(self, n):
        """Adds n more addresses of the testbed's /24 to the client's veth (from .20 up, never
        the VIP; an address is handed out again only after all others were). Returns them."""
        if n > len(self._client_hosts):
            raise RuntimeError(f"only {len(self._client_hosts)} client addresses left")
        hosts, self._client_hosts = self._client_hosts[:n], self._client_hosts[n:]
        addrs = [f"{self.net}.{h}" for h in hosts]
        added = []
        try:
            for a in addrs:
                run(["ip", "-n", self.ns_cl, "addr", "add", f"{a}/{self.prefix_len}",
                     "dev", self.cl_if])
                added.append(a)
                self.extra_client_addresses.append(a)
        except BaseException:
            self.del_client_addresses(added)
            raise
        return addrs

    def del_client_addresses(self, addrs):
        """Removes addresses add_client_addresses() added (errors ignored)."""
        for a in addrs:
            run(["ip", "-n", self.ns_cl, "addr", "del", f"{a}/{self.prefix_len}",
                 "dev", self.cl_if], check=False)
            if a in self.extra_client_addresses:
                self.extra_client_addresses.remove(a)
                self._client_hosts.append(int(a.rsplit(".", 1)[1]))

    def curl_many(self, n, path="/", port=80, max_time=5, source=None, host=None):
        """n HTTP requests from the client namespace to host (default: the VIP; an IPv6 address
        is bracketed), each over a new TCP connection (one curl process, URL globbing,
        Connection: close), from the client's address or from source. Returns a list of bodies
        (stripped), None for a request that failed."""
        host = host or self.vip
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}{path}?i=[1-{n}]"
        src = ["--interface", source] if source else []
        r = nsrun(self.ns_cl, ["curl", "-s", "--max-time", str(max_time), "-H", "Connection: close",
                               "-w", "|%{http_code}|%{num_connects}|\n"] + src + [url],
                  check=False, timeout=n * (max_time + 1) + 10)
        res = []
        for m in re.finditer(r"(.*?)\|(\d{3})\|(\d+)\|\n", r.stdout, re.S):
            body, code, nconn = m.group(1), m.group(2), int(m.group(3))
            if code == "200":
                if nconn != 1:
                    raise AssertionError(f"request reused a connection (num_connects={nconn})")
                res.append(body.strip())
            else:
                res.append(None)
        if len(res) != n:
            raise AssertionError(f"curl produced {len(res)} results for {n} requests: "
                                 f"rc={r.returncode} stdout={r.stdout[-500:]!r} "
                                 f"stderr={r.stderr[-500:]!r}")
        return res

    def curl(self, path="/", port=80, max_time=5, source=None):
        """One request (from the client's address or from source); returns (exit code, body)."""
        src = ["--interface", source] if source else []
        r = nsrun(self.ns_cl, ["curl", "-s", "--max-time", str(max_time)] + src +
                  [f"http://{self.vip}:{port}{path}"], check=False,
                  timeout=max_time + 10)
        return r.returncode, r.stdout

    def download(self, out_path, path="/big", max_time=120):
        """Starts a download in the background (Popen); the caller waits for it."""
        p = subprocess.Popen(["ip", "netns", "exec", self.ns_cl, "curl", "-s", "-S",
                              "--max-time", str(max_time), "-o", out_path,
                              f"http://{self.vip}{path}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.add_pid(p.pid)
        return p

    def access_counts(self):
        """Lines in each backend's nginx access log (requests it served)."""
        out = {}
        for b in self.backends:
            try:
                with open(b["access_log"]) as f:
                    out[b["name"]] = sum(1 for _ in f)
            except FileNotFoundError:
                out[b["name"]] = 0
        return out

    def arp_probe(self, target, timeout=2):
        """Sends one ARP request for target from the client namespace (scapy) and returns the
        MAC in the reply, or None."""
        code = (
            "import sys\n"
            "from scapy.all import ARP, Ether, srp1, conf\n"
            "conf.verb = 0\n"
            f"r = srp1(Ether(dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, pdst='{target}', "
            f"psrc='{self.client_ip}'), iface='{self.cl_if}', timeout={timeout})\n"
            "print(r[ARP].hwsrc if r is not None and ARP in r and r[ARP].op == 2 else 'none')\n"
        )
        r = nsrun(self.ns_cl, [PYTHON, "-c", code], timeout=timeout + 30)
        mac = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "none"
        return None if mac == "none" else mac


class Daemon:
    """One dpdk-lb process in the testbed's LB namespace."""

    def __init__(self, tb, config=None, config_path=None):
        self.tb = tb
        self.id = uuid.uuid4().hex[:6]
        if config_path is None:
            config_path = os.path.join(tb.tmp, f"config-{self.id}.json")
            with open(config_path, "w") as f:
                json.dump(config, f, indent=2)
        self.config_path = config_path
        with open(config_path) as f:
            self.config = json.load(f)
        self.sock = self.config.get("rpc", {}).get("socket", "/run/dpdk-lb/dpdk-lb.sock")
        self.log_path = os.path.join(tb.tmp, f"daemon-{self.id}.log")
        self.proc = None
        self._rpc = None

    def start(self, timeout=30):
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.tb.ns_lb, daemon_path(),
                                      "-c", self.config_path],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     # a sanitizer build's UBSan findings stop the daemon
                                     env=dict(os.environ,
                                              UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"))
        log.close()
        self.tb.add_pid(self.proc.pid)
        self.tb.add_prefix(self.file_prefix())
        self.tb.daemons.append(self)
        try:
            wait_until(self._ready, timeout=timeout, interval=0.1, what="the daemon's RPC socket")
        except AssertionError:
            self.stop()
            raise AssertionError("daemon did not come up:\n" + self.read_log()[-4000:])
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n"
                                 + self.read_log()[-4000:])
        try:
            c = RpcClient(self.sock, timeout=2)
        except OSError:
            return None
        try:
            c.call("system.info")
        except (OSError, ConnectionError, ValueError):
            c.close()
            return None
        self._rpc = c
        return True

    def file_prefix(self):
        eal = self.config.get("eal", [])
        for i, a in enumerate(eal):
            if a == "--file-prefix" and i + 1 < len(eal):
                return eal[i + 1]
            if a.startswith("--file-prefix="):
                return a.split("=", 1)[1]
        return "rte"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @property
    def rpc(self):
        if self._rpc is None:
            self._rpc = RpcClient(self.sock)
        return self._rpc

    def call(self, method, params=None):
        try:
            return self.rpc.call(method, params)
        except (OSError, ConnectionError):
            # one reconnect (a previous test may have left the connection in a bad state)
            if self._rpc:
                self._rpc.close()
            self._rpc = None
            return self.rpc.call(method, params)

    def new_client(self, timeout=5.0):
        return RpcClient(self.sock, timeout=timeout)

    def cli(self, *args, check=True, timeout=20):
        if not os.access(cli_path(), os.X_OK):
            raise AssertionError(f"CLI not built: {cli_path()}")
        return run([cli_path(), "-s", self.sock] + list(args), check=check, timeout=timeout)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if self._rpc:
            self._rpc.close()
            self._rpc = None
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tb.remove_pid(self.proc.pid)
        _remove_eal_runtime_dir(self.file_prefix())
        if self in self.tb.daemons:
            self.tb.daemons.remove(self)
        return self.proc.returncode


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cleanup":
        cleanup_state_file(sys.argv[2])
    else:
        print(f"usage: {sys.argv[0]} --cleanup STATEFILE", file=sys.stderr)
        sys.exit(2)
