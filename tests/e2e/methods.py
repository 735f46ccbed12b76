"""Helpers for the end-to-end tests of the nat, tun and fnat forwarding methods
(tests/e2e/test_methods.py): what the real servers need for each method, small servers and
probes run inside the testbed's namespaces, and the service parameters.

Per method, the backends (testbed.backends, direct-routing real servers with the VIP on lo)
need:
  nat   replies to the client through the appliance: a host route client/32 via the appliance's
        port address in every backend namespace (removed again afterwards);
  tun   IPv4-in-IPv4 decapsulation: the kernel's ipip fallback device tunl0 when the kernel has
        ipip (net/ipv4/ipip.c), otherwise a small user-space decapsulator (raw socket for IP
        protocol 4, inner packet written to a TUN device) that does what tunl0 does; rp_filter
        off either way, since the inner packet arrives from the client on the tunnel device;
  fnat  nothing: the real answers the service's local address, on-link.

Every process started here is registered with the testbed (testbed.add_pid), so a failed or
interrupted run still kills it; MethodEnv.close() undoes routes, devices and sysctls.
"""
import hashlib
import ipaddress
import json
import os
import re
import select
import shutil
import subprocess

from testbed import PYTHON, RpcError, nsrun, run, wait_until, _kill_pid

METHODS = ("nat", "tun", "fnat")
UPLOAD_PORT = 8080        # the hashing upload server on every backend
DNS_NAME = "whoami.test"  # every backend's dnsmasq answers its own address for it
IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def local_address(tb):
    """The fnat local address: .9 of the testbed's /24, used by nobody else (client extras are
    .20 and up, extra backends .14-.19)."""
    return f"{tb.net}.9"


def service_params(tb, method, port=80, proto="tcp", real_port=None, backends=None,
                   scheduler="rr", **extra):
    """service.add params: VIP:port/proto, forwarding method, one real per backend on
    real_port (default: the service port), and for fnat the local address."""
    backends = tb.backends if backends is None else backends
    rp = port if real_port is None else real_port
    p = {"vip": tb.vip, "port": port, "proto": proto, "scheduler": scheduler, "forward": method,
         "reals": [{"ip": b["ip"], "port": rp, "weight": 1} for b in backends]}
    if method == "fnat":
        p["local_addresses"] = [local_address(tb)]
    p.update(extra)
    return p


# ---------------------------------------------------------------------------------------------
# scripts run with the system python inside a namespace

# IP-in-IP decapsulator into a TUN device, for kernels without ipip/ip6_tunnel: IPv4-in-IPv4,
# or with a third argument "6" IPv6-in-IPv6. Counts what it forwarded in the file argv[2]
# (rewritten every 64 packets and when idle for 0.2 s), so a test can tell that traffic really
# came through the tunnel.
DECAP = r"""
import fcntl, os, socket, struct, subprocess, sys
name, count_file, v6 = sys.argv[1], sys.argv[2], sys.argv[3:] == ["6"]
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
if v6:
    for key, value in (("accept_dad", "0"), ("disable_ipv6", "0")):
        with open(f"/proc/sys/net/ipv6/conf/{name}/{key}", "w") as f:
            f.write(value)
else:
    for k in ("all", "default", name):
        with open(f"/proc/sys/net/ipv4/conf/{k}/rp_filter", "w") as f:
            f.write("0")
subprocess.run(["ip", "link", "set", name, "mtu", "1460" if v6 else "1480", "up"], check=True)
# IPv4 raw sockets deliver the outer header too, IPv6 ones only the payload: the inner packet
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 41) if v6 else \
    socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
s.settimeout(0.2)
print("ready", flush=True)
n, written = 0, -1
while True:
    try:
        pkt = s.recv(65535)
    except socket.timeout:
        pkt = None
    inner = pkt if v6 or not pkt else pkt[(pkt[0] & 0x0F) * 4:]
    if inner and len(inner) >= (40 if v6 else 20) and inner[0] >> 4 == (6 if v6 else 4):
        os.write(fd, inner)
        n += 1
    if n != written and (pkt is None or n % 64 == 0):
        with open(count_file + ".tmp", "w") as f:
            f.write(str(n))
        os.rename(count_file + ".tmp", count_file)
        written = n
"""

# Reads each connection's bytes until EOF and answers "NAME LENGTH SHA256\n". Listens on
# 0.0.0.0, or with a third argument "6" on [::] (IPv6 only).
HASH_SERVER = r"""
import hashlib, socket, socketserver, sys
name, port, v6 = sys.argv[1], int(sys.argv[2]), sys.argv[3:] == ["6"]
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(60)
        h, n = hashlib.sha256(), 0
        while True:
            b = self.request.recv(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
        self.request.sendall(f"{name} {n} {h.hexdigest()}\n".encode())
class S(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6 if v6 else socket.AF_INET
    allow_reuse_address = True
    daemon_threads = True
    def server_bind(self):
        if v6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()
S(("::" if v6 else "0.0.0.0", port), H).serve_forever()
"""

# Sends LENGTH random bytes to HOST:PORT, half-closes, prints JSON with the reply and the hash.
UPLOAD_CLIENT = r"""
import hashlib, json, os, socket, sys
host, port, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(length)
s = socket.create_connection((host, port), timeout=10)
s.settimeout(60)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    reply += b
print(json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "length": length,
                  "local_port": s.getsockname()[1], "reply": reply.decode()}))
"""

# ICMP echo with a raw socket: COUNT requests to each target, prints {target: replies}.
PING = r"""
import json, os, select, socket, struct, sys, time
count, targets = int(sys.argv[1]), sys.argv[2:]
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
got = {t: set() for t in targets}
for seq in range(count):
    for i, t in enumerate(targets):
        payload = b"dpdk-lb-ping-%d-%d" % (i, seq)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, i * 1000 + seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, i * 1000 + seq) + payload
        s.sendto(pkt, (t, 0))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not all(seq in got[t] for t in targets):
        r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        if not r:
            break
        data, (src, _) = s.recvfrom(2048)
        ihl = (data[0] & 0x0F) * 4
        typ, code, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        i, sq = divmod(rseq, 1000)
        if typ == 0 and rid == ident and i < len(targets) and src == targets[i] \
                and data[ihl + 8:] == b"dpdk-lb-ping-%d-%d" % (i, sq) \
                and csum(data[ihl:]) == 0:
            got[src].add(sq)
print(json.dumps({t: len(v) for t, v in got.items()}))
"""

# A connected UDP socket (IP_RECVERR) sending to HOST:PORT until an error arrives or the
# deadline passes; prints JSON: errno, and from the error queue the ICMP type/code, the
# offender (the ICMP's source) and the destination of the packet the error was about.
UDP_REFUSED = r"""
import errno, json, socket, struct, sys, time
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
IP_RECVERR, MSG_ERRQUEUE = 11, 0x2000
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.connect((host, port))
out = {"errno": None, "sent": 0, "local_port": s.getsockname()[1]}
deadline = time.monotonic() + timeout
while time.monotonic() < deadline and out["errno"] is None:
    s.send(b"is anybody there?")
    out["sent"] += 1
    s.settimeout(0.5)
    try:
        s.recv(2048)
        out["errno"] = "answered"
    except socket.timeout:
        continue
    except OSError as e:
        out["errno"] = errno.errorcode.get(e.errno, str(e.errno))
try:
    data, anc, flags, addr = s.recvmsg(2048, 1024, MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    out["about"] = f"{addr[0]}:{addr[1]}"
    for level, typ, cd in anc:
        if level == socket.SOL_IP and typ == IP_RECVERR:
            ee_errno, origin, itype, icode = struct.unpack_from("=IBBB", cd)
            off = socket.inet_ntoa(cd[20:24]) if len(cd) >= 24 else None
            out.update(ee_errno=errno.errorcode.get(ee_errno), origin=origin, type=itype,
                       code=icode, offender=off)
except (BlockingIOError, OSError) as e:
    out["errqueue"] = str(e)
print(json.dumps(out))
"""

# A UDP server (IP_RECVERR) that receives COUNT datagrams, answers each one late (once its
# sender has gone) and reports the ICMP errors its error queue then gets, as JSON:
# {"peers": [...], "errors": [{"about", "type", "code", "offender", "ee_errno"}, ...]}.
UDP_LATE_REPLY = r"""
import errno, json, select, socket, struct, sys, time
port, count, delay, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4])
IP_RECVERR, MSG_ERRQUEUE = 11, 0x2000
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.bind(("0.0.0.0", port))
s.setblocking(False)
print("ready", flush=True)
out = {"peers": [], "errors": []}
deadline = time.monotonic() + timeout
while len(out["peers"]) < count and time.monotonic() < deadline:
    if select.select([s], [], [], 0.1)[0]:
        try:
            data, peer = s.recvfrom(2048)
            out["peers"].append(peer)
        except BlockingIOError:
            pass
time.sleep(delay)
for peer in out["peers"]:
    # each earlier answer's error is reported once, by whichever send comes next (and that send
    # is not made): send again until one goes; at most one refusal per answer already sent
    for attempt in range(count + 1):
        try:
            s.sendto(b"too late", peer)
            break
        except ConnectionRefusedError:
            pass
    else:
        raise SystemExit(f"every send to {peer} was refused")
out["peers"] = [f"{a}:{p}" for a, p in out["peers"]]
deadline = time.monotonic() + timeout
while len(out["errors"]) < len(out["peers"]) and time.monotonic() < deadline:
    try:
        data, anc, flags, addr = s.recvmsg(2048, 1024, MSG_ERRQUEUE)
    except BlockingIOError:
        select.select([s], [], [], 0.1)   # an error queue entry makes the socket readable
        continue
    e = {"about": f"{addr[0]}:{addr[1]}"}
    for level, typ, cd in anc:
        if level == socket.SOL_IP and typ == IP_RECVERR:
            ee_errno, origin, itype, icode = struct.unpack_from("=IBBB", cd)
            e.update(ee_errno=errno.errorcode.get(ee_errno), origin=origin, type=itype,
                     code=icode, offender=socket.inet_ntoa(cd[20:24]))
    out["errors"].append(e)
print(json.dumps(out), flush=True)
"""

# Sends COUNT datagrams, each from its own unconnected socket closed at once (so the answer
# finds no socket and the client's kernel answers with ICMP port unreachable); prints the
# source ports.
UDP_FIRE_AND_FORGET = r"""
import json, socket, sys
ports = []
for i in range(int(sys.argv[3])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
    ports.append(s.getsockname()[1])
    s.close()
print(json.dumps({"local_ports": ports}))
"""

# Captures (AF_PACKET) the first incoming TCP SYN to PORT on IFACE; prints its addresses and
# options as JSON ("ready" first, once the socket is bound).
SYN_SNIFFER = r"""
import json, socket, struct, sys, time
iface, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((iface, 0))
s.settimeout(0.2)
print("ready", flush=True)
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(frame) < 14 + 40:
        continue
    ip = frame[14:]
    if ip[0] >> 4 != 4 or ip[9] != 6:
        continue
    tcp = ip[(ip[0] & 0x0F) * 4:]
    sport, dport = struct.unpack("!HH", tcp[:4])
    flags, doff = tcp[13], (tcp[12] >> 4) * 4
    if dport != port or not flags & 0x02 or flags & 0x10:
        continue
    opts, o, raw = [], 20, tcp[20:doff]
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        ln = raw[i + 1] if i + 1 < len(raw) else 0
        if ln < 2:
            break
        opts.append([kind, raw[i + 2:i + ln].hex(), ln])
        i += ln
    print(json.dumps({"src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
                      "sport": sport, "dport": dport, "options": opts}), flush=True)
    sys.exit(0)
print(json.dumps(None), flush=True)
sys.exit(1)
"""


# ---------------------------------------------------------------------------------------------


def kernel_has_ipip(ns):
    """True when the namespace has (or could get) the ipip fallback device tunl0: it exists in
    every namespace once the module is loaded, and adding an ipip link loads the module."""
    def has():
        return nsrun(ns, ["ip", "link", "show", "tunl0"], check=False).returncode == 0
    if has():
        return True
    nsrun(ns, ["ip", "link", "add", "tunl0", "type", "ipip"], check=False)
    return has()


def tunl0_rx_packets(ns):
    """Packets the ipip fallback device tunl0 of namespace ns received (decapsulated)."""
    out = nsrun(ns, ["ip", "-s", "-j", "link", "show", "tunl0"]).stdout
    return int(json.loads(out)[0]["stats64"]["rx"]["packets"])


def require_tools(*tools):
    """Fails (not skips: scripts/bootstrap.sh installs them) when a tool is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise AssertionError(f"missing {', '.join(missing)}: run scripts/bootstrap.sh")


class MethodEnv:
    """Prepares the backends for forwarding methods and undoes it in close() (also after a
    failure). Background processes (servers, sniffers, decapsulators) are started with
    start() and killed in close() in reverse order."""

    def __init__(self, tb):
        self.tb = tb
        self.procs = []      # (Popen, log path)
        self.undo = []       # callables, run in reverse order
        self.prepared = set()
        self.decap_counts = {}   # backend name -> count file (user-space decapsulator)
        self.tunl0_base = {}     # backend name -> (namespace, tunl0's rx_packets when prepared)

    # -- processes ----------------------------------------------------------------------------

    def start(self, ns, args, name, ready=None, timeout=15):
        """Starts args in ns in the background (stdout to a pipe when ready is a line to wait
        for, else to a log file). Returns the Popen."""
        log = os.path.join(self.tb.tmp, f"{name}.log")
        errf = open(log, "w")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE if ready else errf, stderr=errf, text=True)
        errf.close()
        self.tb.add_pid(p.pid)
        self.procs.append((p, log))
        if ready:
            line = _readline(p, timeout)
            if line.strip() != ready:
                raise AssertionError(f"{name} did not start: {line!r} {self.log(p)}")
        return p

    def log(self, p):
        for q, log in self.procs:
            if q is p:
                with open(log, errors="replace") as f:
                    return f.read()[-3000:]
        return ""

    def stop(self, p):
        if p.poll() is None:
            _kill_pid(p.pid)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        self.tb.remove_pid(p.pid)
        self.procs = [(q, log) for q, log in self.procs if q is not p]

    def python(self, ns, code, *args, timeout=60):
        """Runs a python script in ns to completion; returns its last stdout line as JSON."""
        r = nsrun(ns, [PYTHON, "-c", code] + [str(a) for a in args], check=False,
                  timeout=timeout)
        lines = r.stdout.strip().splitlines()
        if r.returncode != 0 or not lines:
            raise AssertionError(f"script in {ns} failed ({r.returncode}): {r.stderr[-2000:]}")
        return json.loads(lines[-1])

    # -- per-method backend setup ---------------------------------------------------------------

    def prepare(self, method, backends=None):
        """Readies backends (default: all of the testbed's) to be reals of the method."""
        backends = self.tb.backends if backends is None else backends
        todo = [b for b in backends if (method, b["name"]) not in self.prepared]
        self.prepared.update((method, b["name"]) for b in todo)
        if method == "nat":
            self._nat_routes(todo)
        elif method == "tun":
            self._tunnel_devices(todo)

    def _nat_routes(self, backends):
        tb = self.tb
        for b in backends:
            route = [f"{tb.client_ip}/32", "via", tb.lb_ip, "dev", b["ifname"]]
            run(["ip", "-n", b["ns"], "route", "add"] + route)
            self.undo.append(lambda ns=b["ns"], route=route:
                             run(["ip", "-n", ns, "route", "del"] + route, check=False))

    def set_sysctl(self, ns, key, value):
        """Sets a sysctl in ns; close() restores the old value."""
        old = nsrun(ns, ["sysctl", "-n", key]).stdout.strip()
        nsrun(ns, ["sysctl", "-qw", f"{key}={value}"])
        self.undo.append(lambda: nsrun(ns, ["sysctl", "-qw", f"{key}={old}"], check=False))

    def _tunnel_devices(self, backends):
        for b in backends:
            ns = b["ns"]
            if kernel_has_ipip(ns):
                for k in ("all", "default", "tunl0"):
                    self.set_sysctl(ns, f"net.ipv4.conf.{k}.rp_filter", 0)
                nsrun(ns, ["ip", "link", "set", "tunl0", "up"])
                self.undo.append(lambda ns=ns: nsrun(ns, ["ip", "link", "set", "tunl0", "down"],
                                                     check=False))
                # tunl0 counts what it decapsulated: the proof that traffic came through it
                self.tunl0_base[b["name"]] = (ns, tunl0_rx_packets(ns))
            else:
                for k in ("all", "default"):
                    self.set_sysctl(ns, f"net.ipv4.conf.{k}.rp_filter", 0)
                count = os.path.join(self.tb.tmp, f"decap-{b['name']}.count")
                if os.path.exists(count):
                    os.unlink(count)
                # The TUN device goes with its process: stopping it is the whole cleanup.
                self.start(ns, [PYTHON, "-c", DECAP, "dlbdecap", count],
                           f"decap-{b['name']}", ready="ready")
                self.decap_counts[b["name"]] = count

    def check_alive(self):
        """Raises with its log when a background process exited."""
        for p, log in self.procs:
            if p.poll() is not None:
                raise AssertionError(f"{p.args[3:5]} exited with {p.returncode}: {self.log(p)}")
        return True

    def decapsulated(self):
        """Packets each backend's decapsulator forwarded: the user-space one's count, or what
        the kernel's tunl0 received since the backend was prepared."""
        out = {name: tunl0_rx_packets(ns) - base
               for name, (ns, base) in self.tunl0_base.items()}
        for name, path in self.decap_counts.items():
            try:
                with open(path) as f:
                    out[name] = int(f.read() or 0)
            except (OSError, ValueError):
                out[name] = 0
        return out

    # -- servers on every backend ---------------------------------------------------------------

    def start_dnsmasq(self):
        """dnsmasq on every backend, on its own address and the VIP (for dr/tun), answering
        whoami.test with the backend's address. Waits until each answers the client directly."""
        tb = self.tb
        require_tools("dnsmasq", "dig")
        for b in tb.backends:
            self.start(b["ns"], [
                "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--port=53", "--bind-interfaces", "--user=root", "--group=root",
                f"--listen-address={b['ip']}", f"--listen-address={tb.vip}",
                f"--address=/{DNS_NAME}/{b['ip']}",
                f"--pid-file={os.path.join(tb.tmp, 'dnsmasq-' + b['name'] + '.pid')}",
                f"--log-facility={os.path.join(tb.tmp, 'dnsmasq-' + b['name'] + '.log')}",
            ], f"dnsmasq-{b['name']}")
        for b in tb.backends:
            wait_until(lambda: self.check_alive() and dig(tb, b["ip"]) == [b["ip"]],
                       timeout=10, interval=0.2,
                       what=f"dnsmasq on {b['name']} answering the client directly")

    def start_hash_servers(self, port=UPLOAD_PORT):
        tb = self.tb
        for b in tb.backends:
            self.start(b["ns"], [PYTHON, "-c", HASH_SERVER, b["name"], str(port)],
                       f"hashsrv-{b['name']}")
        for b in tb.backends:
            wait_until(lambda: self.check_alive() and _listening(b["ns"], port), timeout=10,
                       what=f"the upload server on {b['name']}")

    def close(self):
        errors = []
        for p, _ in reversed(list(self.procs)):
            try:
                self.stop(p)
            except Exception as e:  # keep cleaning up
                errors.append(e)
        while self.undo:
            try:
                self.undo.pop()()
            except Exception as e:
                errors.append(e)
        self.prepared.clear()
        self.decap_counts.clear()
        self.tunl0_base.clear()
        if errors:
            raise errors[0]


def _readline(p, timeout):
    r, _, _ = select.select([p.stdout], [], [], timeout)
    return p.stdout.readline() if r else ""


def _listening(ns, port):
    out = nsrun(ns, ["ss", "-Htln", "sport", "=", f":{port}"], check=False).stdout
    return bool(out.strip())


def dig(tb, server, name=DNS_NAME, tries=1, time_s=2, port=53):
    """One A query from the client namespace; returns the answers (list of strings)."""
    r = nsrun(tb.ns_cl, ["dig", f"@{server}", "-p", str(port), name, "A", "+short",
                         f"+tries={tries}",
                         f"+time={time_s}"], check=False, timeout=tries * time_s + 10)
    if r.returncode != 0:
        return []
    return [ln.strip() for ln in r.stdout.splitlines() if IPV4.match(ln.strip())]


def dig_many(tb, server, n, name=DNS_NAME, port=53):
    """n queries, one dig process each (so each from its own random source port), in one shell
    in the client namespace. Returns one answer (or None) per query, in order."""
    script = (f"for i in $(seq {n}); do r=$(dig @{server} -p {port} {name} A +short +tries=1 "
              f"+time=2); "
              f"echo \"q$i:$r\"; done")
    r = nsrun(tb.ns_cl, ["sh", "-c", script], check=False, timeout=n * 4 + 10)
    out = []
    for ln in r.stdout.splitlines():
        m = re.match(r"q\d+:(.*)$", ln)
        if m:
            ans = m.group(1).strip()
            out.append(ans if IPV4.match(ans) else None)   # else a ";; timed out" message
    if len(out) != n:
        raise AssertionError(f"{len(out)} results for {n} queries: {r.stdout!r} {r.stderr!r}")
    return out


# ---------------------------------------------------------------------------------------------
# helpers shared by the e2e test modules


def dataplane(lb):
    """stats.get's dataplane section."""
    return lb.call("stats.get")["dataplane"]


def service_stats(lb, key):
    """stats.get's entry for service key (addresses compared in canonical form)."""
    canon = ipaddress.ip_address
    for s in lb.call("stats.get", key)["services"]:
        if (canon(s["vip"]), s["port"], s["proto"]) == \
                (canon(key["vip"]), key["port"], key["proto"]):
            return s
    raise AssertionError(f"service {key} not in stats.get")


def delete_services(lb, keys):
    """Removes the services a test added; a daemon that died already has none."""
    for key in keys:
        if lb.alive():
            try:
                lb.call("service.del", key)
            except RpcError:
                pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def route_mtu(tb, dst):
    """The path MTU the client's kernel cached for dst (either family), or None."""
    fam = ["-6"] if ":" in dst else []
    out = nsrun(tb.ns_cl, ["ip"] + fam + ["route", "get", dst]).stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else None


def download_intact(tb, host, port, tag):
    """Downloads /big from host:port in the client namespace (an IPv6 host bracketed) and
    checks it arrived whole: size and sha256 against the testbed's file."""
    out = os.path.join(tb.tmp, f"big-{tag}")
    url_host = f"[{host}]" if ":" in host else host
    try:
        r = nsrun(tb.ns_cl, ["curl", "-s", "-S", "--max-time", "120", "-o", out,
                             f"http://{url_host}:{port}/big"], check=False, timeout=150)
        assert r.returncode == 0, f"curl exited {r.returncode}: {r.stderr}"
        assert os.path.getsize(out) == tb.big_size
        assert sha256_file(out) == tb.big_sha256, f"{tag}: download corrupted"
    finally:
        if os.path.exists(out):
            os.unlink(out)
