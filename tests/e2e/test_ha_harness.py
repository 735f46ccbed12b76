"""The failover tests' own tools, checked without the failover pair (tests/e2e/ha.py):

- the heartbeat cut drops the heartbeat port between the two appliance ports, and only it;
- the load tool (ha_load.py) keeps 1,000 long-lived connections streaming through one
  appliance with every byte checked, and its request stream sees no failure in steady state;
- and it does see a failover that keeps no connection: the appliance killed with SIGKILL and a
  standalone one (no connection sync) started in its place on the other node breaks the
  established connections (an appliance drops a mid-connection packet of a connection it does
  not know), while new requests recover. A failover test whose detector could not fail would
  prove nothing.
"""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ha  # noqa: E402
from testbed import PYTHON, nsrun, run  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")

RECEIVER = r"""
import json, select, socket, sys, time
ip, hb, sync = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = {}
for port in (hb, sync):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    socks[s] = port
print("ready", flush=True)
got = {hb: 0, sync: 0}
deadline = time.monotonic() + 10
while got[sync] < 5 and time.monotonic() < deadline:
    r, _, _ = select.select(list(socks), [], [], 0.5)
    for s in r:
        s.recv(2048)
        got[socks[s]] += 1
for s, port in socks.items():     # what was sent before the last sync datagram is here by now
    s.setblocking(False)
    try:
        while True:
            s.recv(2048)
            got[port] += 1
    except BlockingIOError:
        pass
print(json.dumps({str(k): v for k, v in got.items()}), flush=True)
"""

SENDER = r"""
import socket, sys
dst, hb, sync = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in (hb, sync):            # heartbeats first: they travel the same path ahead of sync
    for i in range(5):
        s.sendto(b"x" * 100, (dst, port))
"""


@pytest.fixture(scope="module")
def hatb():
    if not os.access(ha.tbmod.daemon_path(), os.X_OK):
        pytest.fail(f"daemon not built: {ha.tbmod.daemon_path()}")
    tb = ha.HaTestbed()
    try:
        tb.up()
        yield tb
    finally:
        tb.down()


def udp_through(tb):
    """Sends 5 heartbeat-port then 5 sync-port datagrams from node a's veth to node b's (kernel
    addresses given for the occasion); returns {port: datagrams received}."""
    a, b = tb.a, tb.b
    p = subprocess.Popen(["ip", "netns", "exec", b.ns, PYTHON, "-c", RECEIVER, b.ip,
                          str(ha.HEARTBEAT_PORT), str(ha.SYNC_PORT)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tb.add_pid(p.pid)
    try:
        assert ha.read_line(p, 15).strip() == "ready"
        nsrun(a.ns, [PYTHON, "-c", SENDER, b.ip, str(ha.HEARTBEAT_PORT), str(ha.SYNC_PORT)])
        got = json.loads(ha.read_line(p, 20))
    finally:
        p.kill()
        p.wait()
        tb.remove_pid(p.pid)
    return {int(k): v for k, v in got.items()}


def test_heartbeat_cut_drops_only_the_heartbeat(hatb):
    tb = hatb
    a, b = tb.a, tb.b
    try:
        for n in (a, b):
            run(["ip", "-n", n.ns, "addr", "add", f"{n.ip}/{tb.prefix_len}", "dev", n.ifname])
            other = n.peer
            run(["ip", "-n", n.ns, "neigh", "replace", other.ip, "lladdr",
                 tb.link_mac(other.ns, other.ifname), "dev", n.ifname])
        assert udp_through(tb) == {ha.HEARTBEAT_PORT: 5, ha.SYNC_PORT: 5}
        with ha.HeartbeatCut(tb) as cut:
            assert udp_through(tb) == {ha.HEARTBEAT_PORT: 0, ha.SYNC_PORT: 5}
            assert cut.dropped() == 5
        assert udp_through(tb) == {ha.HEARTBEAT_PORT: 5, ha.SYNC_PORT: 5}
    finally:
        for n in (a, b):
            run(["ip", "-n", n.ns, "addr", "flush", "dev", n.ifname], check=False)
            run(["ip", "-n", n.ns, "neigh", "flush", "dev", n.ifname], check=False)


@pytest.mark.parametrize("method", ["dr", "fnat"])
def test_load_tool_sees_a_failover_without_connection_sync(hatb, method):
    tb = hatb
    a, b = tb.a, tb.b
    svcs = tb.services(method)
    # a previous run left the client (and backends) resolving the VIP to node b's MAC
    tb.flush_neighbours()
    a.start(svcs, ha=False)
    load = ha.LoadClient(tb)
    try:
        ready = load.wait_ready()
        assert ready["established"] == 1000 and ready["failed"] == 0, ready
        v = load.verify(20)
        assert v["checked"] == 1000 and v["broken"] == 0, v
        steady = load.report()
        assert steady["ok"] > 0 and steady["failed"] == 0, steady

        t_kill = time.monotonic()
        a.kill9()
        b.start(svcs, ha=False)
        # what a takeover's gratuitous ARP would do: the client forgets the dead appliance's MAC
        tb.flush_neighbours()
        after = load.recovered_report(t_kill)
        assert after["failed"] > 0, after    # the outage is seen
        v = load.verify(8)
        assert v["broken"] > 0, v             # and so are the connections it broke
        print(f"\n{method} without connection sync: {v['broken']} of {v['checked']} connections "
              f"broken ({v['reasons']}); requests failed {after['failed']}, longest gap "
              f"{after['longest_gap']:.3f} s (includes starting the second daemon)")
    finally:
        load.close()
        for n in (a, b):
            if n.alive():
                n.stop()
