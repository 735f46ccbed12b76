"""End-to-end: every frame the appliance's kernel sends through the exception path leaves the
port, in bursts, over many distinct mbufs.

The failover pair's adverts and sync messages take this path (kernel socket -> dlb0 -> control
lcore -> worker 0 -> the port). With DPDK 22.11's AF_XDP port and a pool of 4 KiB pages, the
mbufs in the upper 42% of the pool lay outside the socket's UMEM: the kernel dropped their
frames without a word while the PMD counted them as sent (dataplane/mbuf_pool.c). The pair
then lost adverts for seconds (a restarted node never heard its master, docs/ha.md).

The appliance's kernel sends DATAGRAMS UDP datagrams to the client in bursts; the client must
receive every one, and the port must not count more frames sent than its veth transmitted.
"""
import json
import subprocess

from testbed import PYTHON, nsrun, wait_until

DATAGRAMS = 4000
BURST = 100          # datagrams back to back, then a pause (exception.tx_pps is 20,000)
PAUSE_S = 0.01
PORT = 9555

RECEIVER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
seen = set()
s.settimeout(float(sys.argv[3]))
try:
    while True:
        seen.add(int(s.recv(2048)[:8]))
except socket.timeout:
    pass
print(len(seen), flush=True)
"""

SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
dst, n, burst, pause = (sys.argv[1], int(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
for i in range(n):
    s.sendto(b"%08d" % i + b"x" * 192, dst)
    if i % burst == burst - 1:
        time.sleep(pause)
"""


def veth_tx_packets(tb):
    out = nsrun(tb.ns_lb, ["ip", "-s", "-j", "link", "show", tb.lb_if]).stdout
    return json.loads(out)[0]["stats64"]["tx"]["packets"]


def port_tx_packets(lb):
    return lb.call("stats.ports", {"port": 0})["ports"][0]["tx_packets"]


def test_kernel_datagrams_all_leave_the_port(testbed, lb):
    tb = testbed
    # the kernel resolves the client first: its ARP request and the reply take the same path
    nsrun(tb.ns_lb, ["ping", "-c", "1", "-W", "2", tb.client_ip], check=False)
    rx = subprocess.Popen(["ip", "netns", "exec", tb.ns_cl, PYTHON, "-c", RECEIVER,
                           tb.client_ip, str(PORT), "3"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tb.add_pid(rx.pid)
    try:
        assert rx.stdout.readline().strip() == "ready"
        veth0, port0 = veth_tx_packets(tb), port_tx_packets(lb)
        nsrun(tb.ns_lb, [PYTHON, "-c", SENDER, tb.client_ip, str(PORT), str(DATAGRAMS),
                         str(BURST), str(PAUSE_S)], timeout=60)
        out, _ = rx.communicate(timeout=60)
        received = int(out.strip().splitlines()[-1])
        # the port's counter and its veth's settle once the last burst is out (frames the
        # kernel refused never settle: the assertions below say how many)
        try:
            wait_until(lambda: veth_tx_packets(tb) - veth0 >= port_tx_packets(lb) - port0,
                       timeout=5, interval=0.1, what="the veth to transmit what the port sent")
        except AssertionError:
            pass
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
        tb.remove_pid(rx.pid)
    sent_by_port = port_tx_packets(lb) - port0
    on_the_wire = veth_tx_packets(tb) - veth0
    stats = lb.call("stats.get")["dataplane"]
    assert received == DATAGRAMS, (
        f"the client received {received} of {DATAGRAMS} datagrams the appliance's kernel sent; "
        f"port tx {sent_by_port}, veth tx {on_the_wire}, exception_tx {stats['exception_tx']}, "
        f"exception_dropped {stats['exception_dropped']}")
    assert on_the_wire >= sent_by_port, (sent_by_port, on_the_wire)

