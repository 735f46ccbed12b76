"""A failover pair on one namespace testbed, and what the failover tests drive it with.

    client ns (CL)   --veth--+
    lb ns A (LB)     --veth--+
    lb ns B (LB2)    --veth--+-- Linux bridge (BR)
    backend ns B1..B3 --veth-+

The testbed of tests/e2e/testbed.py (DPDK_LB_WORKERS workers per appliance; one /24, client
.10, backends .11-.13 as direct-routing real servers, VIP .100) with a second appliance
namespace: node "a" owns .2 on the LB veth, node "b" owns .3 on the LB2 veth, both configured
with the same VIP (and, for fnat, the same local address .9). Every backend also runs
ha_echo.py on ECHO_PORT for the long-lived connections. Both appliances' heartbeat and sync
traffic (UDP, through their kernel interfaces dlbN) crosses the bridge, where HeartbeatCut drops
only the heartbeat port between the two appliance ports
(nftables, bridge family) to make a split brain.

Node processes are NodeDaemon (a testbed.Daemon run in its node's namespace) and can be
stopped (SIGTERM), killed (SIGKILL) and started again; each start writes a new config file with
a fresh EAL file prefix. Everything is recorded in the testbed's state file and removed by
down(), as for the single-appliance testbed.
"""
import json
import os
import re
import select
import signal
import subprocess
import uuid

import testbed as tbmod
from testbed import PYTHON, RpcError, nsrun, run, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
ECHO_PORT = 9000
HEARTBEAT_PORT = 8694
SYNC_PORT = 8695
HA_KEY = "5a" * 32          # the pair's shared HMAC key (hex, 32 bytes)
ADVERT_MS = 200
# ha.preempt_delay_ms of both nodes (default 0: a returning higher-priority node takes over at once)
PREEMPT_DELAY_MS = int(os.environ.get("DPDK_LB_HA_PREEMPT_DELAY_MS", "0"))


def ha_built():
    """True when the daemon under test was built with the failover pair (issue 11): its binary
    names the ha.status method. The failover tests are expected to fail without it."""
    try:
        with open(tbmod.daemon_path(), "rb") as f:
            return b"ha.status" in f.read()
    except OSError:
        return False


class NodeDaemon(tbmod.Daemon):
    """A dpdk-lb process in one node's namespace (the base class runs in tb.ns_lb)."""

    def __init__(self, tb, node, config, env=None):
        self.node = node
        self.env = env or {}
        super().__init__(tb, config=config)

    def start(self, timeout=30):
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.node.ns, tbmod.daemon_path(),
                                      "-c", self.config_path],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **self.env,
                                              UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"))
        log.close()
        self.tb.add_pid(self.proc.pid)
        self.tb.add_prefix(self.file_prefix())
        self.tb.daemons.append(self)
        try:
            wait_until(self._ready, timeout=timeout, interval=0.1,
                       what=f"node {self.node.name}'s RPC socket")
        except AssertionError:
            self.stop()
            raise AssertionError(f"node {self.node.name} did not come up:\n"
                                 + self.read_log()[-4000:])
        return self

    def kill9(self):
        """SIGKILL, as a crash: no shutdown code runs. Returns when the process is gone."""
        if self._rpc:
            self._rpc.close()
            self._rpc = None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.tb.remove_pid(self.proc.pid)
        tbmod._remove_eal_runtime_dir(self.file_prefix())
        if self in self.tb.daemons:
            self.tb.daemons.remove(self)


class Node:
    """One appliance of the pair: its namespace, veth, address, HA identity and daemon."""

    def __init__(self, tb, name, ns, ifname, ip, node_id, priority):
        self.tb, self.name, self.ns, self.ifname, self.ip = tb, name, ns, ifname, ip
        self.node_id, self.priority = node_id, priority
        self.daemon = None
        self.peer = None

    @property
    def bridge_port(self):
        return self.ifname + "p"

    def ha_section(self, **over):
        """The config file's `ha` section for this node (docs/config.md, issue 11)."""
        ha = {"enabled": True, "node_id": self.node_id, "priority": self.priority,
              "advert_interval_ms": ADVERT_MS, "preempt": True,
              "preempt_delay_ms": PREEMPT_DELAY_MS, "key": HA_KEY, "port": 0,
              "peers": [self.peer.ip], "heartbeat_port": HEARTBEAT_PORT, "sync_port": SYNC_PORT}
        ha.update(over)
        return ha

    def config(self, services, ha=True, ha_over=None):
        tb = self.tb
        cfg = tb.daemon_config(services=services)
        eal = cfg["eal"]
        i = eal.index("--vdev") + 1
        eal[i] = re.sub(r"iface=[^,]*", f"iface={self.ifname}", eal[i])
        cfg["ports"] = [{"address": f"{self.ip}/{tb.prefix_len}"}]
        if ha:
            cfg["ha"] = self.ha_section(**(ha_over or {}))
        return cfg

    def start(self, services, ha=True, ha_over=None, timeout=30, env=None):
        """Starts this node's daemon (a new process; the old one must be gone) with env added
        to its environment."""
        if self.daemon is not None and self.daemon.alive():
            raise AssertionError(f"node {self.name} is running")
        # a killed AF_XDP process may leave its XDP program on the veth; the next one reloads it
        nsrun(self.ns, ["ip", "link", "set", "dev", self.ifname, "xdp", "off"], check=False)
        self.daemon = NodeDaemon(self.tb, self, self.config(services, ha, ha_over), env=env)
        self.daemon.start(timeout=timeout)
        return self.daemon

    def alive(self):
        return self.daemon is not None and self.daemon.alive()

    def stop(self):
        """SIGTERM (a clean shutdown); returns the exit code, None when not running."""
        if self.daemon is None:
            return None
        d, self.daemon = self.daemon, None
        return d.stop()

    def kill9(self):
        d, self.daemon = self.daemon, None
        d.kill9()
        return d

    def call(self, method, params=None):
        return self.daemon.call(method, params)

    def ha_status(self):
        return self.call("ha.status")

    def role(self):
        """MASTER, BACKUP, FAULT or INIT; DOWN when the daemon is not running or not answering."""
        if not self.alive():
            return "DOWN"
        try:
            st = self.ha_status()
        except (RpcError, OSError, ConnectionError, ValueError):
            return "DOWN"
        return str(st.get("role", st.get("state", "?"))).upper()

    def conn_count(self, vip, port):
        """Connections to vip:port in this appliance's tables (conn.list, every page)."""
        n, cursor = 0, None
        while True:
            params = {"vip": vip, "port": port, "proto": "tcp", "limit": 4096}
            if cursor:
                params["cursor"] = cursor
            r = self.call("conn.list", params)
            n += sum(1 for c in r["connections"] if not c.get("template"))
            cursor = r.get("cursor")
            if not cursor:
                return n


class HaTestbed(tbmod.Testbed):
    """The testbed with a second appliance namespace and an echo server on every backend."""

    def __init__(self, workers=None, **kw):
        kw.setdefault("big_mb", 1)
        if workers is None:
            workers = int(os.environ.get("DPDK_LB_WORKERS", "1"))
        super().__init__(workers=workers, **kw)
        self.ns_lb2 = f"{self.prefix}-lb2"
        self.lb2_if = f"{self.prefix}-lb2"
        self.lb2_ip = f"{self.net}.3"
        self.a = Node(self, "a", self.ns_lb, self.lb_if, self.lb_ip, node_id=1, priority=200)
        self.b = Node(self, "b", self.ns_lb2, self.lb2_if, self.lb2_ip, node_id=2, priority=100)
        self.a.peer, self.b.peer = self.b, self.a
        self.echo = {}

    def _up(self):
        super()._up()
        self._add_ns(self.ns_lb2)
        self._veth(self.ns_lb2, self.lb2_if, queues=max(1, self.workers))
        for key, value in (("arp_ignore", 8), ("rp_filter", 1)):
            nsrun(self.ns_lb2, ["sysctl", "-qw", f"net.ipv4.conf.{self.lb2_if}.{key}={value}"])
        for b in self.backends:
            self._start_echo(b)

    def _start_echo(self, b):
        p = subprocess.Popen(["ip", "netns", "exec", b["ns"], PYTHON,
                              os.path.join(HERE, "ha_echo.py"), str(ECHO_PORT)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, text=True)
        self.add_pid(p.pid)
        self.echo[b["name"]] = p
        line = read_line(p, 15)
        if line.strip() != "ready":
            raise RuntimeError(f"echo server on {b['name']}: {line!r}")

    def nodes(self):
        return (self.a, self.b)

    def services(self, method):
        """The two services of the failover tests: VIP:ECHO_PORT (long-lived connections) and
        VIP:80 (new requests, the backends' nginx), rr over the three backends."""
        svcs = []
        for port in (ECHO_PORT, 80):
            s = {"vip": self.vip, "port": port, "proto": "tcp", "scheduler": "rr",
                 "forward": method,
                 "reals": [{"ip": b["ip"], "port": port, "weight": 1} for b in self.backends]}
            if method == "fnat":
                s["local_addresses"] = [f"{self.net}.9"]
            svcs.append(s)
        return svcs

    def flush_neighbours(self):
        """Empties the client's and the backends' neighbour caches: they resolve the VIP and
        the fnat local address again (what a takeover's gratuitous ARPs make them do)."""
        for ns in [self.ns_cl] + [b["ns"] for b in self.backends]:
            run(["ip", "-n", ns, "neigh", "flush", "all"])

    def vip_owner(self):
        """Which node answers ARP for the VIP now, seen from the client: "a", "b" or None."""
        mac = self.arp_probe(self.vip, timeout=1)
        if mac is None:
            return None
        for n in self.nodes():
            if mac == self.link_mac(n.ns, n.ifname):
                return n.name
        return f"unknown {mac}"


def read_line(p, timeout):
    """One line of p's stdout within timeout seconds (AssertionError otherwise)."""
    r, _, _ = select.select([p.stdout], [], [], timeout)
    if not r:
        raise AssertionError(f"no output within {timeout}s from {p.args}")
    line = p.stdout.readline()
    if not line:
        raise AssertionError(f"{p.args} exited ({p.poll()})")
    return line


class HeartbeatCut:
    """Drops the heartbeat (UDP to HEARTBEAT_PORT, unicast or multicast) between the two
    appliances' bridge ports, nothing else: clients, backends and the sync channel still reach
    both appliances. An nftables table in the bridge's namespace (gone with it)."""

    def __init__(self, tb):
        self.tb = tb
        self.table = f"dlbha{uuid.uuid4().hex[:6]}"
        self.active = False

    def __enter__(self):
        a, b = self.tb.a.bridge_port, self.tb.b.bridge_port
        # the bridge family's forward hook sees flooded (multicast) frames once per out port
        rules = (f"table bridge {self.table} {{\n"
                 f"  chain cut {{ type filter hook forward priority 0; policy accept;\n"
                 f"    iifname \"{a}\" oifname \"{b}\" udp dport {HEARTBEAT_PORT} counter drop\n"
                 f"    iifname \"{b}\" oifname \"{a}\" udp dport {HEARTBEAT_PORT} counter drop\n"
                 f"  }}\n}}\n")
        nsrun(self.tb.ns_br, ["nft", "-f", "-"], input=rules)
        self.active = True
        return self

    def dropped(self):
        """Heartbeat frames dropped so far."""
        out = nsrun(self.tb.ns_br, ["nft", "-j", "list", "table", "bridge", self.table]).stdout
        n = 0
        for item in json.loads(out)["nftables"]:
            for e in item.get("rule", {}).get("expr", []):
                if "counter" in e:
                    n += e["counter"]["packets"]
        return n

    def __exit__(self, *exc):
        if self.active:
            nsrun(self.tb.ns_br, ["nft", "delete", "table", "bridge", self.table], check=False)
            self.active = False
        return False


class LoadClient:
    """ha_load.py in the client namespace: the long-lived connections and the request stream."""

    def __init__(self, tb, conns=1000, period=1.0, interval=0.02, timeout=0.5):
        self.tb = tb
        self.p = subprocess.Popen(["ip", "netns", "exec", tb.ns_cl, PYTHON,
                                   os.path.join(HERE, "ha_load.py"), "--vip", tb.vip,
                                   "--echo-port", str(ECHO_PORT), "--conns", str(conns),
                                   "--period", str(period), "--interval", str(interval),
                                   "--timeout", str(timeout)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        tb.add_pid(self.p.pid)
        self.conns = conns
        self.timeout = timeout

    def wait_ready(self, timeout=90):
        r = json.loads(read_line(self.p, timeout))
        assert r.get("event") == "ready", r
        return r

    def ask(self, cmd, timeout=30):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        return json.loads(read_line(self.p, timeout))

    def status(self):
        return self.ask("status")

    def verify(self, seconds=20):
        """Every live connection echoes one more message within seconds, or counts as broken."""
        return self.ask(f"verify {seconds}", timeout=seconds + 30)

    def report(self, since=0.0):
        return self.ask(f"report {since}")

    def recovered_report(self, since, after=None, timeout=30):
        """report(since) once a request started at or after `after` (default: since) has
        succeeded and every request started before that one has had its time to end (so none
        is still in flight); "recovered_at" is that request's start."""
        after = since if after is None else after

        def settled():
            r = self.report(after)
            first = r["first_ok_after"]
            return first is not None and r["now"] - first > self.timeout + 0.5

        wait_until(settled, timeout=timeout, interval=0.1, what="the request stream to recover")
        r = self.report(since)
        r["recovered_at"] = self.report(after)["first_ok_after"]
        return r

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()
        self.tb.remove_pid(self.p.pid)


def outage(report, t_event):
    """The request stream's view of a failover at t_event (monotonic): the longest run of
    failed new requests (start of the first failed to start of the next ok one) and the time
    from t_event to the start of the first ok request at or after it."""
    first_ok = report["first_ok_after"]
    return {"longest_gap_s": report["longest_gap"] or 0.0,
            "failed_requests": report["failed"],
            "event_to_first_ok_s": None if first_ok is None else first_ok - t_event}


def wait_role(node, roles, timeout=15, what=None):
    """Polls node.role() until it is one of roles; returns it."""
    roles = (roles,) if isinstance(roles, str) else tuple(roles)

    def in_roles():
        r = node.role()
        return r if r in roles else None
    return wait_until(in_roles, timeout=timeout, interval=0.05,
                      what=what or f"node {node.name} in {roles}")
