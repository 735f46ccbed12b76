"""Connection sync end to end, with the test as the pair's transport (issue 11 item 3): 1,000
streaming connections survive a kill -9 of the appliance that carries them because the other
appliance installed them from the records the first one sent.

No heartbeat or election here: the two daemons run with DPDK_LB_TEST_HOOKS=1 and the
`ha.sync.test_*` RPCs (docs/api.md) make node a MASTER of connection sync and node b BACKUP;
a relay thread carries a's captured messages (wire format, HMAC under a test key) to b, as the
sync socket would. Node b starts after the load is running, so what it holds comes from a full
sync (a backup that joins late catches up) and from the events after it. After the kill, the
client's and backends' neighbour caches are emptied, which is what the takeover's gratuitous
ARPs do: they resolve the VIP (and the fnat local address) to b, the only one left.

This isolates connection sync from the election: test_ha_failover.py runs the same load
through the real takeover.
"""
import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ha  # noqa: E402
from testbed import RpcError, wait_until  # noqa: E402

KEY = "42" * 32
CONNS = 1000
HOOKS = {"DPDK_LB_TEST_HOOKS": "1"}


def has_sync_hooks():
    try:
        with open(ha.tbmod.daemon_path(), "rb") as f:
            return b"ha.sync.test_capture" in f.read()
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.xfail(not has_sync_hooks(), run=True, strict=True,
                      reason="needs connection sync of issue 11 (ha.sync.test_* hooks)"),
]


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


class Relay(threading.Thread):
    """Moves node a's captured sync messages to node b every 10 ms, until stopped or a dies."""

    def __init__(self, a, b):
        super().__init__(daemon=True)
        self.src = a.daemon.new_client(timeout=5)
        self.dst = b.daemon.new_client(timeout=5)
        self.stop_flag = threading.Event()
        self.messages = 0
        self.error = None

    def run(self):
        try:
            while not self.stop_flag.is_set():
                msgs = self.src.call("ha.sync.test_capture", {"key": KEY})["messages"]
                if msgs:
                    self.dst.call("ha.sync.test_inject", {"key": KEY, "messages": msgs})
                    self.messages += len(msgs)
                self.stop_flag.wait(0.01)
        except (OSError, ConnectionError, RpcError, ValueError) as e:
            if not self.stop_flag.is_set():
                self.error = e
        finally:
            self.src.close()
            self.dst.close()

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=10)


@pytest.mark.parametrize("method", ["dr", "fnat"])
def test_synced_connections_survive_kill9(hatb, method):
    tb = hatb
    a, b = tb.a, tb.b
    svcs = tb.services(method)
    tb.flush_neighbours()
    relay = None
    load = None
    try:
        a.start(svcs, ha=False, env=HOOKS)
        assert len(a.call("system.info")["workers"]) == tb.workers
        a.call("ha.sync.test_role", {"role": "master"})
        load = ha.LoadClient(tb, conns=CONNS)
        ready = load.wait_ready()
        assert ready["established"] == CONNS, ready
        # b joins late: it answers ARP like any appliance (no election here), but the client
        # and the backends resolved the VIP and the local address to a already
        b.start(svcs, ha=False, env=HOOKS)
        b.call("ha.sync.test_role", {"role": "backup"})
        relay = Relay(a, b)
        relay.start()
        t_sync = time.monotonic()
        a.call("ha.sync.test_full_sync")
        wait_until(lambda: relay.error or b.conn_count(tb.vip, ha.ECHO_PORT) >= CONNS,
                   timeout=30, interval=0.2, what="node b to hold the 1,000 connections")
        assert relay.error is None, relay.error
        sync_s = time.monotonic() - t_sync
        st_b = b.call("ha.sync.test_stats")
        v0 = load.verify(20)
        assert v0["broken_total"] == 0, v0

        t_kill = time.monotonic()
        a.kill9()
        relay.stop()
        b.call("ha.sync.test_role", {"role": "master"})
        tb.flush_neighbours()
        rep = load.recovered_report(t_kill - 1.0, after=t_kill)
        v = load.verify(20)
    finally:
        if relay is not None:
            relay.stop()
        if load is not None:
            load.close()
        for n in (a, b):
            if n.alive():
                n.stop()
    print(f"\nconnection sync ({method}): full sync of {CONNS} connections in {sync_s:.2f} s "
          f"({relay.messages} messages relayed; b: installed {st_b['installed']}, "
          f"refused {st_b['refused']}); after kill -9: {v['broken_total']} of {v['checked']} "
          f"broken {v['reasons']}, new requests failed {rep['failed']}, longest gap "
          f"{rep['longest_gap']:.3f} s")
    assert v["checked"] == CONNS and v["broken_total"] == 0, v
