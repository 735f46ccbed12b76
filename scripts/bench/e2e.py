"""End to end on the network-namespace testbed (tests/e2e/testbed.py): wrk -t1 -c32 from the
client namespace, keep-alive and Connection: close, against one backend directly, the dpdk-lb
VIP (DR, 3 nginx, idle mode on and off), HAProxy mode tcp and nginx stream (both in their own
namespace on the same bridge, balancing over the same 3 nginx)."""
import os
import re
import subprocess
import sys
import time

from common import log, median

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "e2e"))
import testbed  # noqa: E402

# Backends for a throughput test: keep-alive allowed (the functional tests' config closes every
# connection) and no access log.
testbed.NGINX_CONF = testbed.NGINX_CONF.replace(
    "keepalive_timeout 0;", "keepalive_timeout 65; keepalive_requests 1000000;").replace(
    "access_log {dir}/access.log;", "access_log off;")

HAPROXY_CFG = """\
global
    maxconn 8192
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen vip
    bind {ip}:80
    balance roundrobin
{servers}
"""

NGINX_STREAM_CFG = """\
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
user root root;
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
stream {{
    upstream be {{
{servers}
    }}
    server {{
        listen {ip}:81;
        proxy_pass be;
    }}
}}
"""


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)] if m else None
    errs = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99, "socket_errors": errs.group(1) if errs else "",
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def wrk(tb, url, close, duration):
    args = ["wrk", "-t1", "-c32", f"-d{int(duration)}s", "--latency"]
    if close:
        args += ["-H", "Connection: close"]
    r = testbed.nsrun(tb.ns_cl, args + [url], timeout=duration + 60)
    return parse_wrk(r.stdout)


def measure(tb, name, url, duration, runs, out):
    for close in (False, True):
        mode = "close" if close else "keepalive"
        rs = []
        for i in range(runs):
            rs.append(wrk(tb, url, close, duration))
            log(f"  {name} {mode} run {i + 1}: {rs[-1]['rps']:.0f} req/s, p99 "
                f"{rs[-1]['p99_ms']} ms {rs[-1]['socket_errors']}")
            time.sleep(1)
        out[f"{name}/{mode}"] = {"rps": median([r["rps"] for r in rs]),
                                 "p99_ms": median([r["p99_ms"] for r in rs if r["p99_ms"]]),
                                 "runs": rs}


def start_proxies(tb):
    ns = f"{tb.prefix}-px"
    tb._add_ns(ns)
    ifn = f"{tb.prefix}-px"
    tb._veth(ns, ifn)
    ip = f"{tb.net}.3"
    testbed.run(["ip", "-n", ns, "addr", "add", f"{ip}/{tb.prefix_len}", "dev", ifn])
    d = os.path.join(tb.tmp, "px")
    os.makedirs(d)
    servers = "\n".join(f"    server {b['name']} {b['ip']}:80" for b in tb.backends)
    with open(os.path.join(d, "haproxy.cfg"), "w") as f:
        f.write(HAPROXY_CFG.format(ip=ip, servers=servers))
    servers = "\n".join(f"        server {b['ip']}:80;" for b in tb.backends)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_STREAM_CFG.format(ip=ip, dir=d, servers=servers))
    procs = []
    for name, cmd in (("haproxy", ["haproxy", "-db", "-f", os.path.join(d, "haproxy.cfg")]),
                      ("nginx", ["nginx", "-p", d + "/", "-c", os.path.join(d, "nginx.conf"),
                                 "-e", os.path.join(d, "error.log")])):
        log_f = open(os.path.join(d, f"{name}.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log_f,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log_f.close()
        tb.add_pid(p.pid)
        procs.append(p)
    for port in (80, 81):
        testbed.wait_until(lambda: testbed.nsrun(tb.ns_cl, ["curl", "-s", "--max-time", "2",
                                                             f"http://{ip}:{port}/"],
                                                 check=False).returncode == 0,
                           timeout=20, what=f"proxy on {ip}:{port}")
    return ip, procs


def run_all(build, duration, runs, results):
    os.environ["DPDK_LB_BUILD"] = build
    out = results.setdefault("e2e", {})
    tb = testbed.Testbed(workers=1, n_backends=3, big_mb=1)
    try:
        tb.up()
        b1 = tb.backends[0]["ip"]
        log(f"e2e: direct to one backend ({b1})")
        measure(tb, "direct", f"http://{b1}/", duration, runs, out)
        px_ip, procs = start_proxies(tb)
        log("e2e: HAProxy mode tcp")
        measure(tb, "haproxy", f"http://{px_ip}:80/", duration, runs, out)
        log("e2e: nginx stream")
        measure(tb, "nginx_stream", f"http://{px_ip}:81/", duration, runs, out)
        for p in procs:
            testbed._kill_pid(p.pid)
        services = [{"vip": tb.vip, "port": 80, "proto": "tcp", "scheduler": "rr",
                     "reals": [{"ip": b["ip"]} for b in tb.backends]}]
        for idle in (50, 0):
            name = f"dpdk_lb_idle{idle}"
            log(f"e2e: through the dpdk-lb VIP, DR, idle_sleep_us={idle}")
            d = tb.start_daemon(tb.daemon_config(services=services, idle_sleep_us=idle))
            try:
                testbed.wait_until(lambda: tb.curl()[0] == 0, timeout=30, interval=0.2,
                                   what="the VIP answering")
                measure(tb, name, f"http://{tb.vip}/", duration, runs, out)
                st = d.call("stats.get")["dataplane"]
                out[name + "/dataplane"] = {"rx_packets": st["rx_packets"],
                                            "dropped": st["dropped"],
                                            "drop_reasons": {k: v for k, v in
                                                             st["drop_reasons"].items() if v}}
            finally:
                d.stop()
    finally:
        tb.down()
    return out
