"""IPv6 on the namespace testbed, and what tests/e2e/test_ipv6.py and test_fragments.py share.

The testbed (testbed.py) is IPv4-only: it disables IPv6 in every namespace. Env6.enable_ipv6()
gives it an IPv6 /64 for the length of a module and takes it away again in close():

    prefix     fdXX:XXXX:XXXX:XXXX::/64, random per run (no zero group, so every address has
               one spelling: Python's and inet_ntop's compression agree)
    client     ::10 on the client's veth
    appliance  ::2   the daemon's ports[0].address6 (no kernel has it)
    fnat       ::9   the local address of fnat services
    backends   ::11, ::12, ... on their veths, the VIP6 ::100/128 on lo (dr and tun)

All with nodad (usable at once), router solicitations off, IPv6 enabled only in the client and
backend namespaces (the appliance's namespace keeps it disabled: its kernel must not answer for
the daemon). The bridge's multicast snooping is off meanwhile: the daemon sends no MLD reports
for the solicited-node groups of its addresses, so the bridge must flood solicitations.

Per method, the IPv6 real servers need (Env6.prepare6):
  dr    the VIP6 on lo, already there. Linux answers a neighbour solicitation only for
        addresses of the interface it arrived on, so nothing like arp_ignore is needed;
  tun   IPv6-in-IPv6 decapsulation. This kernel has no ip6_tunnel (ip6tnl), so the IPv6 twin
        of methods.DECAP ("6"): a raw socket for next header 41 (it gets the packet after the outer
        header, i.e. the inner IPv6 packet, after the kernel reassembled the outer one) writes
        the inner packet to a TUN device. IPv6 has no rp_filter;
  nat   a route client6/128 via the appliance's address6;
  fnat  nothing: the real answers the local address, on-link.

Every process started here is registered with the testbed (MethodEnv.start), so an interrupted
run still kills it; close() undoes addresses, routes, sysctls and the bridge setting.
"""
import ipaddress
import json
import os
import random
import re

import methods as M
from testbed import NGINX_CONF, PYTHON, RpcError, nsrun, run, wait_until

METHODS6 = ("dr", "tun", "nat", "fnat")
PORT_MTU = 1500
FNAT_PORT_MIN, FNAT_PORT_MAX = 20000, 29999
PIN_PORT = 9   # the direct-routing services that keep the reals' neighbour entries alive


class Plan6:
    """The IPv6 addresses of a testbed (compressed strings)."""

    def __init__(self, tb):
        hextets = [random.randint(0x1, 0xffff) for _ in range(3)]
        base = "fd%02x:%04x:%04x:%04x" % (random.randint(0x10, 0xff), *hextets)
        self.net = ipaddress.IPv6Network(f"{base}::/64")
        self.prefix_len = 64

        def host(n):
            return str(self.net[n])
        self.client = host(0x10)
        self.lb = host(0x2)
        self.local = host(0x9)
        self.vip = host(0x100)
        self.backend = {b["name"]: host(0x10 + i) for i, b in enumerate(tb.backends, 1)}


# ---------------------------------------------------------------------------------------------
# scripts run with the system python inside a namespace

# UDP on every ADDRESS:PORT given (argv[2], argv[3]: comma-separated): answers each datagram
# with "NAME LENGTH SHA256" of what it received, from the address it was sent to (one socket
# per address: a direct-routing real must answer from the VIP).
UDP_HASH_SERVER = r"""
import hashlib, select, socket, sys
name, addrs, ports = sys.argv[1], sys.argv[2].split(","), [int(p) for p in sys.argv[3].split(",")]
socks = []
for a in addrs:
    for p in ports:
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((a, p))
        socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        data, peer = s.recvfrom(65535)
        s.sendto(f"{name} {len(data)} {hashlib.sha256(data).hexdigest()}".encode(), peer)
"""

# Sends one datagram of each LENGTH to HOST:PORT, each from its own connected socket (so its
# own flow), and waits for the hash server's answer (up to 3 tries of 2 s: the first datagram
# of a flow may meet a neighbour being resolved). IPv4 with IP_PMTUDISC_DONT: no DF, the
# kernel fragments; IPv6 fragments at the source anyway above the path MTU. Prints JSON.
UDP_FRAG_CLIENT = r"""
import hashlib, json, os, socket, sys
host, port, lengths = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
v6 = ":" in host
out = []
for length in lengths:
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if not v6:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    s.connect((host, port))
    s.settimeout(2)
    data = os.urandom(length)
    r = {"length": length, "sha256": hashlib.sha256(data).hexdigest(),
         "local_port": s.getsockname()[1], "reply": None, "tries": 0}
    while r["reply"] is None and r["tries"] < 3:
        s.send(data)
        r["tries"] += 1
        try:
            r["reply"] = s.recv(4096).decode()
        except socket.timeout:
            pass
        except OSError as e:
            r["error"] = str(e)
            break
    s.close()
    out.append(r)
print(json.dumps(out))
"""

# One UDP datagram of LENGTH random bytes from a socket bound to SRC, fragmented by scapy
# (IPv4: 1480-byte fragments; IPv6: 1280-byte fragments, fragment header right after the fixed
# header) and sent as Ethernet frames to the appliance's MAC in ORDER ("reverse": the first
# fragment, the only one with the UDP header, last). Up to 3 tries; prints JSON with the
# fragment count, the datagram's hash and the answer the socket got.
UDP_FRAG_CRAFTED = r"""
import hashlib, json, os, random, socket, sys
from scapy.all import Ether, IP, IPv6, IPv6ExtHdrFragment, UDP, Raw, fragment, fragment6, conf
conf.verb = 0
src, dst, dport, length = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src_mac, dst_mac, iface, order = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
v6 = ":" in dst
rx = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
rx.bind((src, 0))
rx.settimeout(2)
sport = rx.getsockname()[1]
data = os.urandom(length)
if v6:
    pkt = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=random.getrandbits(32)) / \
        UDP(sport=sport, dport=dport) / Raw(data)
    frags = fragment6(pkt, 1280)
else:
    pkt = IP(src=src, dst=dst, id=random.getrandbits(16), flags=0) / \
        UDP(sport=sport, dport=dport) / Raw(data)
    frags = fragment(pkt, fragsize=1480)
frames = [bytes(Ether(src=src_mac, dst=dst_mac) / f) for f in frags]
if order == "reverse":
    frames.reverse()
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((iface, 0))
out = {"fragments": len(frames), "sha256": hashlib.sha256(data).hexdigest(),
       "local_port": sport, "reply": None, "tries": 0}
while out["reply"] is None and out["tries"] < 3:
    for f in frames:
        tx.send(f)
    out["tries"] += 1
    try:
        out["reply"] = rx.recv(4096).decode()
    except socket.timeout:
        pass
print(json.dumps(out))
"""

# The first PER fragments (payload offsets 0, 1000, ... each with "more fragments" set) of COUNT
# different IPv6 UDP datagrams, none ever completed, sent as Ethernet frames in batches of 64;
# prints how many frames were sent.
FRAG6_FLOOD = r"""
import json, os, socket, struct, sys, time
src, dst, dport, count, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    int(sys.argv[5])
src_mac, dst_mac, iface = sys.argv[6], sys.argv[7], sys.argv[8]
mac = lambda m: bytes.fromhex(m.replace(":", ""))
s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
chunk = 1000                                  # a multiple of 8
first = struct.pack("!HHHH", 40000, dport, 8 + chunk * (per + 1), 0) + os.urandom(chunk - 8)
later = os.urandom(chunk)
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((iface, 0))
eth = mac(dst_mac) + mac(src_mac) + b"\x86\xdd"
base = int.from_bytes(os.urandom(4), "big")
sent = 0
for i in range(count):
    for k in range(per):
        fh = struct.pack("!BBHI", 17, 0, (k * chunk) | 1, (base + i) & 0xFFFFFFFF)   # M=1
        body = first if k == 0 else later
        ip = struct.pack("!IHBB", 6 << 28, len(fh) + len(body), 44, 64) + s6 + d6
        tx.send(eth + ip + fh + body)
        sent += 1
        if sent % 64 == 0:
            time.sleep(0.002)   # the appliance's RX ring is 1024 descriptors
print(json.dumps({"sent": sent}))
"""

# ICMPv6 echo: COUNT requests to each target; prints {target: replies}.
PING6 = r"""
import json, os, select, socket, struct, sys, time
count, targets = int(sys.argv[1]), sys.argv[2:]
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)  # kernel checksums
ident = os.getpid() & 0xFFFF
got = {t: set() for t in targets}
for seq in range(count):
    for i, t in enumerate(targets):
        payload = b"dpdk-lb-ping6-%d-%d" % (i, seq)
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, i * 1000 + seq) + payload, (t, 0))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not all(seq in got[t] for t in targets):
        r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        if not r:
            break
        data, addr = s.recvfrom(2048)
        if len(data) < 8:
            continue
        typ, code, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
        i, sq = divmod(rseq, 1000)
        src = addr[0].split("%")[0]
        if typ == 129 and rid == ident and i < len(targets) and src == targets[i] \
                and data[8:] == b"dpdk-lb-ping6-%d-%d" % (i, sq):
            got[src].add(sq)
print(json.dumps({t: len(v) for t, v in got.items()}))
"""


# ---------------------------------------------------------------------------------------------


def compressed(addr):
    return str(ipaddress.ip_address(addr))


def url_host(addr):
    return f"[{addr}]" if ":" in addr else addr


def addr_port(addr, port):
    """How the daemon prints an address and port (conn.list)."""
    return f"[{compressed(addr)}]:{port}" if ":" in addr else f"{addr}:{port}"


def split_addr_port(text):
    """'[a::b]:80' or '10.0.0.1:80' -> (address, port)."""
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def lb_config(tb, plan, **dataplane):
    """The daemon config of these modules: the testbed's, with the port's address6, MTU and a
    narrower fnat port range."""
    dp = {"fnat_port_min": FNAT_PORT_MIN, "fnat_port_max": FNAT_PORT_MAX}
    dp.update(dataplane)
    cfg = tb.daemon_config(**dp)
    cfg["ports"][0]["address6"] = f"{plan.lb}/{plan.prefix_len}"
    cfg["ports"][0]["mtu"] = PORT_MTU
    return cfg


def LB6(tb, plan):
    """A module's daemon (conftest's LB): IPv4 and IPv6 addresses on its port."""
    from conftest import LB
    return LB(tb, lambda: lb_config(tb, plan))


def service_params6(tb, plan, method, port=80, proto="tcp", real_port=None, backends=None,
                    scheduler="rr", **extra):
    """service.add params of an IPv6 service: [VIP6]:port, one real per backend (its IPv6
    address) on real_port, and for fnat the IPv6 local address."""
    backends = tb.backends if backends is None else backends
    rp = port if real_port is None else real_port
    p = {"vip": plan.vip, "port": port, "proto": proto, "scheduler": scheduler, "forward": method,
         "reals": [{"ip": plan.backend[b["name"]], "port": rp, "weight": 1} for b in backends]}
    if method == "fnat":
        p["local_addresses"] = [plan.local]
    p.update(extra)
    return p


def service_params_v4(tb, method, port, proto="udp", real_port=None, **extra):
    """methods.service_params, for dr too (direct routing needs nothing from the backends)."""
    return M.service_params(tb, method, port=port, proto=proto, real_port=real_port, **extra)


def neighbours(d):
    """system.info's neighbour entries by address: {ip: (state, mac)}."""
    return {compressed(n["ip"]): (n["state"], n["mac"].lower())
            for n in d.call("system.info")["neighbours"]}


def reals_resolved(d, want):
    """True when every address of want ({ip: mac}) is resolved with that MAC."""
    have = neighbours(d)
    return all(have.get(compressed(ip)) == ("resolved", mac.lower()) for ip, mac in want.items())


class Pins:
    """Direct-routing TCP services on VIP:9 (and [VIP6]:9) with every backend as a real: the
    daemon forgets a neighbour as soon as no service has it as a real, and drops packets to an
    unresolved one while it asks again, so without these the first datagram of each test's
    fresh UDP service would meet an unresolved neighbour."""

    def __init__(self, d, tb, plan, families=(4, 6)):
        self.d = d
        self.keys = []
        self.want = {}
        for fam in families:
            vip = plan.vip if fam == 6 else tb.vip
            key = {"vip": vip, "port": PIN_PORT, "proto": "tcp"}
            reals = []
            for b in tb.backends:
                ip = plan.backend[b["name"]] if fam == 6 else b["ip"]
                reals.append({"ip": ip})
                self.want[ip] = b["mac"]
            d.call("service.add", dict(key, scheduler="rr", forward="dr", reals=reals))
            self.keys.append(key)

    def wait(self, timeout=20):
        wait_until(lambda: reals_resolved(self.d, self.want), timeout=timeout, interval=0.1,
                   what=f"the reals {sorted(self.want)} resolved in system.info "
                        f"(now {neighbours(self.d)})")

    @classmethod
    def ensure(cls, state, d, tb, plan, families=(4, 6)):
        """Pins d's reals once per daemon: state (a dict the module keeps) remembers which
        daemon has them, so a daemon restarted after a crash (or by a test) is pinned again."""
        if state.get("d") is not d:
            state["pins"] = cls(d, tb, plan, families)
            state["d"] = d
            state["pins"].wait()
        return state["pins"]

    def remove(self):
        for key in self.keys:
            if self.d.alive():
                try:
                    self.d.call("service.del", key)
                except RpcError:
                    pass
        self.keys = []


class Env6(M.MethodEnv):
    """methods.MethodEnv with IPv6: the addresses (enable_ipv6), servers on the backends'
    IPv6 addresses, and prepare6() for IPv6 reals. close() undoes all of it."""

    def __init__(self, tb, plan):
        super().__init__(tb)
        self.plan = plan
        self.nginx6 = {}   # backend name -> its IPv6 nginx's directory

    # -- addresses ------------------------------------------------------------------------------

    def _ns_ifs(self):
        tb = self.tb
        return [(tb.ns_cl, tb.cl_if, self.plan.client)] + \
            [(b["ns"], b["ifname"], self.plan.backend[b["name"]]) for b in tb.backends]

    def enable_ipv6(self):
        tb, plan = self.tb, self.plan
        brg = ["ip", "-n", tb.ns_br, "link", "set", tb.bridge, "type", "bridge"]
        info = json.loads(run(["ip", "-n", tb.ns_br, "-j", "-d", "link", "show",
                               tb.bridge]).stdout)[0]
        old = info.get("linkinfo", {}).get("info_data", {}).get("mcast_snooping", 1)
        run(brg + ["mcast_snooping", "0"])
        self.undo.append(lambda: run(brg + ["mcast_snooping", str(old)], check=False))
        for ns, ifn, addr in self._ns_ifs():
            # DAD and router solicitations off before IPv6 comes up (link-local addresses too)
            for k in ("all", "default", ifn):
                self.set_sysctl(ns, f"net.ipv6.conf.{k}.accept_dad", 0)
                self.set_sysctl(ns, f"net.ipv6.conf.{k}.router_solicitations", 0)
                self.set_sysctl(ns, f"net.ipv6.conf.{k}.accept_ra", 0)
            for k in ("all", "default", "lo", ifn):
                self.set_sysctl(ns, f"net.ipv6.conf.{k}.disable_ipv6", 0)
            self._addr(ns, f"{addr}/{plan.prefix_len}", ifn)
        for b in tb.backends:
            self._addr(b["ns"], f"{plan.vip}/128", "lo")
        for b in tb.backends:
            wait_until(lambda: self._tentative(b["ns"]) == [] and self._tentative(tb.ns_cl) == [],
                       timeout=5, what="IPv6 addresses usable (not tentative)")

    def _addr(self, ns, cidr, dev):
        run(["ip", "-n", ns, "addr", "add", cidr, "dev", dev, "nodad"])
        self.undo.append(lambda: run(["ip", "-n", ns, "addr", "del", cidr, "dev", dev],
                                     check=False))

    @staticmethod
    def _tentative(ns):
        out = json.loads(run(["ip", "-n", ns, "-j", "-6", "addr", "show", "tentative"]).stdout
                         or "[]")
        return [a["local"] for i in out for a in i.get("addr_info", [])]

    # -- per-method backend setup ---------------------------------------------------------------

    def prepare6(self, method, backends=None):
        """Readies backends (default: all) to be IPv6 reals of the method."""
        backends = self.tb.backends if backends is None else backends
        todo = [b for b in backends if ("v6", method, b["name"]) not in self.prepared]
        self.prepared.update(("v6", method, b["name"]) for b in todo)
        if method == "nat":
            for b in todo:
                route = ["-6", "route", "add", f"{self.plan.client}/128", "via", self.plan.lb,
                         "dev", b["ifname"]]
                run(["ip", "-n", b["ns"]] + route)
                self.undo.append(lambda ns=b["ns"], route=route: run(
                    ["ip", "-n", ns] + [("del" if x == "add" else x) for x in route],
                    check=False))
        elif method == "tun":
            for b in todo:
                count = os.path.join(self.tb.tmp, f"decap6-{b['name']}.count")
                if os.path.exists(count):
                    os.unlink(count)
                # the TUN device goes with its process: stopping it is the whole cleanup
                self.start(b["ns"], [PYTHON, "-c", M.DECAP, "dlbdecap6", count, "6"],
                           f"decap6-{b['name']}", ready="ready")
                self.decap_counts[b["name"] + "/v6"] = count

    def decapsulated_by_family(self, family):
        """Packets the decapsulators of one family (4 or 6) forwarded, by backend name."""
        six = family == 6
        return {k.split("/")[0]: v for k, v in self.decapsulated().items()
                if k.endswith("/v6") == six}

    # -- servers on the backends ----------------------------------------------------------------

    def start_nginx6(self):
        """A second nginx on every backend, listening on [::] (the testbed's listens on
        0.0.0.0 only): the same body (the backend's name), ports and /big. Its access log is
        access_logs6()'s."""
        tb = self.tb
        for b in tb.backends:
            d = os.path.join(tb.tmp, f"{b['name']}-v6")
            os.makedirs(os.path.join(d, "tmp"), exist_ok=True)  # a second IPv6 module reuses it
            conf = os.path.join(d, "nginx.conf")
            listen = "\n".join(f"        listen [::]:{p} ipv6only=on default_server;"
                               for p in tb.http_ports)
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(dir=d, www=tb.www, rate=tb.rate, listen=listen,
                                          body=b["name"]))
            self.start(b["ns"], ["nginx", "-p", d + "/", "-c", conf,
                                 "-e", os.path.join(d, "error.log")], f"nginx6-{b['name']}")
            self.nginx6[b["name"]] = d
        for b in tb.backends:
            url = f"http://[{self.plan.backend[b['name']]}]/"
            wait_until(lambda: self.check_alive() and nsrun(
                tb.ns_cl, ["curl", "-s", "--max-time", "2", url], check=False
            ).stdout.strip() == b["name"], timeout=15, interval=0.1,
                what=f"the IPv6 nginx on {b['name']} answering the client directly")

    def access_lines6(self):
        """Complete lines of each backend's IPv6 nginx access log."""
        out = {}
        for name, d in self.nginx6.items():
            try:
                with open(os.path.join(d, "access.log")) as f:
                    out[name] = f.read().split("\n")[:-1]
            except FileNotFoundError:
                out[name] = []
        return out

    def start_dnsmasq6(self):
        """dnsmasq on every backend on its IPv6 address and the VIP6 (for dr/tun), answering
        whoami.test AAAA with the backend's IPv6 address."""
        tb, plan = self.tb, self.plan
        M.require_tools("dnsmasq", "dig")
        for b in tb.backends:
            b6 = plan.backend[b["name"]]
            self.start(b["ns"], [
                "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--port=53", "--bind-interfaces", "--user=root", "--group=root",
                f"--listen-address={b6}", f"--listen-address={plan.vip}",
                f"--address=/{M.DNS_NAME}/{b6}",
                f"--pid-file={os.path.join(tb.tmp, 'dnsmasq6-' + b['name'] + '.pid')}",
                f"--log-facility={os.path.join(tb.tmp, 'dnsmasq6-' + b['name'] + '.log')}",
            ], f"dnsmasq6-{b['name']}")
        for b in tb.backends:
            b6 = plan.backend[b["name"]]
            wait_until(lambda: self.check_alive() and dig6(tb, b6) == [b6], timeout=10,
                       interval=0.2, what=f"dnsmasq on {b['name']} answering over IPv6")

    def start_hash_servers6(self, port=M.UPLOAD_PORT):
        """methods.HASH_SERVER (TCP) on [::] on every backend."""
        tb = self.tb
        for b in tb.backends:
            self.start(b["ns"], [PYTHON, "-c", M.HASH_SERVER, b["name"], str(port), "6"],
                       f"hashsrv6-{b['name']}")
        for b in tb.backends:
            wait_until(lambda: self.check_alive() and M._listening(b["ns"], port), timeout=10,
                       what=f"the IPv6 upload server on {b['name']}")

    def start_udp_hash_servers(self, ports):
        """UDP_HASH_SERVER on every backend: its IPv4 and IPv6 addresses and both VIPs, on
        each of ports."""
        tb, plan = self.tb, self.plan
        for b in tb.backends:
            addrs = [b["ip"], tb.vip, plan.backend[b["name"]], plan.vip]
            self.start(b["ns"], [PYTHON, "-c", UDP_HASH_SERVER, b["name"], ",".join(addrs),
                                 ",".join(str(p) for p in ports)], f"udphash-{b['name']}",
                       ready="ready")


# ---------------------------------------------------------------------------------------------
# client side


def _ipv6(text):
    try:
        return ipaddress.IPv6Address(text) and True
    except ValueError:
        return False


def dig6(tb, server, name=M.DNS_NAME, port=53, time_s=2):
    """One AAAA query from the client namespace; returns the answers."""
    r = nsrun(tb.ns_cl, ["dig", f"@{server}", "-p", str(port), name, "AAAA", "+short",
                         "+tries=1", f"+time={time_s}"], check=False, timeout=time_s + 10)
    if r.returncode != 0:
        return []
    return [compressed(ln.strip()) for ln in r.stdout.splitlines() if _ipv6(ln.strip())]


def dig6_many(tb, server, n, name=M.DNS_NAME, port=53, source=None, sports=None):
    """n AAAA queries, one dig process each: from random source ports, or from source#sports[i]
    when given. Returns one answer (or None) per query, in order."""
    if sports is not None:
        binds = " ".join(f"{source}#{p}" for p in sports)
        loop = f"for b in {binds}; do r=$(dig -b $b "
    else:
        loop = f"for b in $(seq {n}); do r=$(dig "
    script = (loop + f"@{server} -p {port} {name} AAAA +short +tries=1 +time=2); "
              f"echo \"q:$r\"; done")
    r = nsrun(tb.ns_cl, ["sh", "-c", script], check=False, timeout=n * 4 + 10)
    out = []
    for ln in r.stdout.splitlines():
        m = re.match(r"q:(.*)$", ln)
        if m:
            ans = m.group(1).strip()
            out.append(compressed(ans) if _ipv6(ans) else None)
    if len(out) != n:
        raise AssertionError(f"{len(out)} results for {n} queries: {r.stdout!r} {r.stderr!r}")
    return out


def client_neighbour(tb, addr):
    """(state, lladdr) of addr in the client's IPv6 neighbour table, or None."""
    out = json.loads(nsrun(tb.ns_cl, ["ip", "-j", "-6", "neigh", "show", addr]).stdout or "[]")
    for e in out:
        if compressed(e.get("dst", "")) == compressed(addr):
            return (e.get("state") or [None])[0], e.get("lladdr")
    return None
