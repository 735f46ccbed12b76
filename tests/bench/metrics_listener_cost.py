"""Cost of /metrics and of the status page for N services x R reals, and the RPC latency and the
control loop's lateness while an HTTP flood runs (docs/performance.md, Metrics listener).
Usage (as root, from the repository, under the CPU lock):
    DPDK_LB_BUILD=build /usr/bin/python3 tests/bench/metrics_listener_cost.py N R"""
import os, sys, time, threading, re
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'dataplane'))
from lbdaemon import PcapDaemon
import test_metrics as tm
from scapy.all import wrpcap

n, r = int(sys.argv[1]), int(sys.argv[2])
import tempfile
pcap = os.path.join(tempfile.mkdtemp(prefix='dlb-metrics-cost-'), 'in.pcap')
wrpcap(pcap, tm.packets()[:1])
services = []
for i in range(n):
    services.append({"vip": f"10.8.{i // 250}.{i % 250 + 1}", "port": 80, "proto": "tcp",
                     "reals": [{"ip": f"10.9.0.{j + 11}", "weight": 1} for j in range(r)]})
port = tm.free_port()
cfg = tm.config(port)
cfg["services"] = services
cfg["neighbours"] = {"static": [{"ip": f"10.9.0.{j + 11}", "mac": f"02:00:00:00:00:{j + 11:02x}"} for j in range(r)]}
cfg["dataplane"] = {"flow_capacity": 4096, "mbufs": 4095, "max_reals": n * r + 16,
                    "max_services": n + 4, "idle_sleep_us": 200}
d = PcapDaemon([pcap], cfg)
try:
    time.sleep(1)  # the boot configuration's publication settles (a measurement, not a sync)
    def metric(name):
        body = tm.http_get(port, "/metrics")[2].decode()
        return float(re.search(rf"^{name} (\S+)$", body, re.M).group(1)), len(body)
    for path in ("/metrics", "/"):
        t0 = time.monotonic(); k = 10; size = 0
        before = metric("dpdk_lb_metrics_http_render_seconds_total")[0]
        rb = metric("dpdk_lb_metrics_http_renders_total")[0]
        for _ in range(k):
            time.sleep(0.3)  # past the 250 ms cache
            st, _, body = tm.http_get(port, path)
            size = len(body)
        after = metric("dpdk_lb_metrics_http_render_seconds_total")[0]
        ra = metric("dpdk_lb_metrics_http_renders_total")[0]
        # the two metric() scrapes render too; count them out roughly by rendering count
        print(f"{path}: {size} bytes, {(after - before) / (ra - rb) * 1000:.2f} ms per render over {ra - rb:.0f} renders (mixed with /metrics ones)")
    info0 = d.rpc.call("system.info")
    stop = threading.Event()
    def flood():
        while not stop.is_set():
            tm.http_get(port, "/metrics", timeout=2)
    ths = [threading.Thread(target=flood) for _ in range(4)]
    for t in ths: t.start()
    t0 = time.monotonic(); worst = 0; cnt = 0
    while time.monotonic() - t0 < 10:
        a = time.monotonic(); d.rpc.call("system.info"); worst = max(worst, time.monotonic() - a); cnt += 1
        time.sleep(0.01)
    stop.set()
    for t in ths: t.join()
    m = tm.parse_metrics(tm.http_get(port, "/metrics")[2].decode())
    print("flood: requests", m[("dpdk_lb_metrics_http_requests_total", frozenset({("code","200")}))],
          "rpc worst %.1f ms over %d calls" % (worst * 1000, cnt))
    print("before", info0["control_loop"], "after", d.rpc.call("system.info")["control_loop"])
finally:
    d.stop()
