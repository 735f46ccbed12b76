"""End to end on the network-namespace testbed (tests/e2e/testbed.py): wrk -t1 -c32 from the
client namespace, keep-alive and Connection: close, against one backend directly, the dpdk-lb
VIP (DR, 3 nginx, idle mode on and off), HAProxy mode tcp and nginx stream (both in their own
namespace on the same bridge, balancing over the same 3 nginx). run_flood: the exception path
under an hping3 flood at the port address, with an unowned-address control (below)."""
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


# ---------------------------------------------------------------------------------------------
# The exception path under a flood (issue 9 item 6; the measurement of
# tests/e2e/test_exception_path.py, made a benchmark): hping3 --flood SYNs from the client at the
# appliance's port address, with a low exception.rx_pps, while wrk opens new connections through
# the VIP; then the same flood at an address of the /24 nobody owns (the client sends it to the
# appliance's MAC; the dataplane drops it at once as not_vip, no exception path), the control
# that shows what the flood's own load on the shared cores costs forwarding. Each round measures
# the VIP without a flood first: the baseline of the same run.

FLOOD_RX_PPS = 2000     # exception.rx_pps of the flood daemon
FLOOD_BURST = 200       # exception.burst
FLOOD_DPORT = 2222      # a TCP port no service uses: the port address's frames go to the kernel


def link_counter(ns, ifname, what):
    return int(testbed.nsrun(ns, ["cat", f"/sys/class/net/{ifname}/statistics/{what}"]).stdout)


def cpu_times():
    """/proc/stat's all-CPU line: (user+nice, system, irq+softirq, idle+iowait) in ticks."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:8]]
    return (v[0] + v[1], v[2], v[5] + v[6], v[3] + v[4])


def cpu_share(t0, t1):
    """Shares of all CPUs' time between two cpu_times() readings."""
    d = [b - a for a, b in zip(t0, t1)]
    tot = sum(d) or 1
    return {k: x / tot for k, x in zip(("user", "system", "softirq", "idle"), d)}


def proc_cpu_s(pid):
    """utime + stime of a process in seconds (None once it is gone)."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def vip_conn_rate(tb, duration):
    """New connections per second through the VIP: wrk -t1 -c32, Connection: close (every
    request its own TCP connection)."""
    return wrk(tb, f"http://{tb.vip}/", True, duration)


def flood_phase(tb, d, target, duration):
    """hping3 --flood at target for duration + 2 s; wrk through the VIP for `duration` seconds
    starting 1 s into the flood. Returns the phase's figures (counter deltas over the flood)."""
    flood_s = int(duration) + 2
    dp0 = d.call("stats.get")["dataplane"]
    krx0 = link_counter(tb.ns_lb, "dlb0", "rx_packets")
    ctx0 = link_counter(tb.ns_cl, tb.cl_if, "tx_packets")
    t0 = time.monotonic()
    p = subprocess.Popen(["ip", "netns", "exec", tb.ns_cl, "timeout", "-s", "INT", str(flood_s),
                          "hping3", "--flood", "-q", "-S", "-p", str(FLOOD_DPORT), target],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tb.add_pid(p.pid)
    try:
        time.sleep(1)   # let the flood build up before measuring under it
        hp = testbed.run(["pgrep", "-P", str(p.pid), "-x", "hping3"], check=False).stdout.split()
        c0, tw0 = cpu_times(), time.monotonic()
        w = vip_conn_rate(tb, duration)
        cpu = cpu_share(c0, cpu_times())
        hping_cpu = proc_cpu_s(int(hp[0])) if hp else None
        tw = time.monotonic() - tw0
        out, _ = p.communicate(timeout=flood_s + 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        tb.remove_pid(p.pid)
    elapsed = time.monotonic() - t0
    dp1 = d.call("stats.get")["dataplane"]
    krx = link_counter(tb.ns_lb, "dlb0", "rx_packets") - krx0
    ctx = link_counter(tb.ns_cl, tb.cl_if, "tx_packets") - ctx0
    m = re.search(r"(\d+) packets transmitted", out)
    sent = int(m.group(1)) if m else None
    if sent is None:
        raise RuntimeError(f"hping3 printed no packet count: {out[-500:]!r}")

    def delta(k):
        return dp1[k] - dp0[k]
    return {"target": target, "flood_s": elapsed, "hping3_sent": sent,
            "hping3_pps": sent / flood_s, "client_tx_frames": ctx,
            "rx_packets": delta("rx_packets"),
            "exception_rx": delta("exception_rx"), "exception_tx": delta("exception_tx"),
            "exception_dropped": delta("exception_dropped"),
            "not_vip": dp1["drop_reasons"].get("not_vip", 0) -
            dp0["drop_reasons"].get("not_vip", 0),
            "dropped": delta("dropped"), "kernel_rx": krx, "kernel_rx_pps": krx / elapsed,
            "exception_rx_pps": delta("exception_rx") / elapsed,
            "vip_cps": w["rps"], "vip_p99_ms": w["p99_ms"], "vip_socket_errors": w["socket_errors"],
            "vip_non2xx": w["non2xx"], "cpu": cpu,
            # hping3's CPU time since it started, over its running time (1 s + the wrk window)
            "hping3_cpus": hping_cpu / (tw + 1) if hping_cpu is not None else None}


def cpu_str(ph):
    c = ph["cpu"]
    s = (f"CPUs: user {c['user']:.0%}, system {c['system']:.0%}, irq+softirq "
         f"{c['softirq']:.0%}, idle {c['idle']:.0%}")
    if ph.get("hping3_cpus") is not None:
        s += f"; hping3 alone {ph['hping3_cpus']:.2f} CPUs"
    return s


def run_flood(build, duration, runs, results):
    """Rounds of: VIP conn/s without a flood, during the port-address flood, during the
    unowned-address flood; then once more without. Medians over the rounds."""
    os.environ["DPDK_LB_BUILD"] = build
    out = results.setdefault("e2e", {})
    tb = testbed.Testbed(workers=1, n_backends=3, big_mb=1)
    try:
        tb.up()
        services = [{"vip": tb.vip, "port": 80, "proto": "tcp", "scheduler": "rr",
                     "reals": [{"ip": b["ip"]} for b in tb.backends]}]
        cfg = tb.daemon_config(services=services)
        cfg["exception"] = {"rx_pps": FLOOD_RX_PPS, "burst": FLOOD_BURST}
        log(f"e2e flood: exception.rx_pps {FLOOD_RX_PPS}, burst {FLOOD_BURST}; hping3 --flood "
            f"SYNs to :{FLOOD_DPORT}; VIP: wrk -t1 -c32 Connection: close, "
            f"{duration:.0f} s per phase, {runs} round(s)")
        d = tb.start_daemon(cfg)
        unowned = f"{tb.net}.77"
        neigh = False
        try:
            testbed.wait_until(lambda: tb.curl()[0] == 0, timeout=30, interval=0.2,
                               what="the VIP answering")
            testbed.wait_until(lambda: testbed.nsrun(tb.ns_lb, ["test", "-e",
                                                                "/sys/class/net/dlb0"],
                                                     check=False).returncode == 0,
                               timeout=10, what="the kernel interface dlb0")
            # the unowned address: the client must send to the appliance's MAC
            testbed.run(["ip", "-n", tb.ns_cl, "neigh", "replace", unowned, "lladdr", tb.lb_mac,
                         "dev", tb.cl_if, "nud", "permanent"])
            neigh = True
            rounds = []
            for i in range(runs):
                c0 = cpu_times()
                base = vip_conn_rate(tb, duration)
                base["cpu"] = cpu_share(c0, cpu_times())
                log(f"  round {i + 1}: no flood: {base['rps']:.0f} conn/s; {cpu_str(base)}")
                time.sleep(1)
                port = flood_phase(tb, d, tb.lb_ip, duration)
                log(f"  round {i + 1}: flood at the port address {tb.lb_ip}: "
                    f"{port['vip_cps']:.0f} conn/s; hping3 sent {port['hping3_sent']} "
                    f"({port['hping3_pps']:.0f}/s), exception_dropped "
                    f"+{port['exception_dropped']}, exception_rx +{port['exception_rx']}, "
                    f"kernel rx {port['kernel_rx']} ({port['kernel_rx_pps']:.0f}/s) in "
                    f"{port['flood_s']:.1f} s; {cpu_str(port)}")
                time.sleep(1)
                other = flood_phase(tb, d, unowned, duration)
                log(f"  round {i + 1}: flood at an unowned address {unowned}: "
                    f"{other['vip_cps']:.0f} conn/s; hping3 sent {other['hping3_sent']} "
                    f"({other['hping3_pps']:.0f}/s), not_vip +{other['not_vip']}, "
                    f"exception_rx +{other['exception_rx']}; {cpu_str(other)}")
                time.sleep(1)
                rounds.append({"baseline_cps": base["rps"], "baseline_p99_ms": base["p99_ms"],
                               "baseline_cpu": base["cpu"], "port": port, "unowned": other})
            after = vip_conn_rate(tb, duration)
            log(f"  after the floods: {after['rps']:.0f} conn/s")
            st = d.call("stats.get")["dataplane"]
        finally:
            if neigh:
                testbed.run(["ip", "-n", tb.ns_cl, "neigh", "del", unowned, "dev", tb.cl_if],
                            check=False)
            d.stop()

        def med(f):
            return median([f(r) for r in rounds])
        out["flood"] = {
            "rx_pps_limit": FLOOD_RX_PPS, "burst": FLOOD_BURST, "phase_s": duration,
            "rounds": rounds, "after_cps": after["rps"],
            "baseline_cps": med(lambda r: r["baseline_cps"]),
            "port_cps": med(lambda r: r["port"]["vip_cps"]),
            "unowned_cps": med(lambda r: r["unowned"]["vip_cps"]),
            "port_ratio": med(lambda r: r["port"]["vip_cps"] / r["baseline_cps"]),
            "unowned_ratio": med(lambda r: r["unowned"]["vip_cps"] / r["baseline_cps"]),
            "port_vs_unowned": med(lambda r: r["port"]["vip_cps"] / r["unowned"]["vip_cps"]),
            "sent": med(lambda r: r["port"]["hping3_sent"]),
            "sent_pps": med(lambda r: r["port"]["hping3_pps"]),
            "unowned_sent_pps": med(lambda r: r["unowned"]["hping3_pps"]),
            "exception_dropped": med(lambda r: r["port"]["exception_dropped"]),
            "exception_rx": med(lambda r: r["port"]["exception_rx"]),
            "exception_tx": med(lambda r: r["port"]["exception_tx"]),
            "kernel_rx_pps": med(lambda r: r["port"]["kernel_rx_pps"]),
            "flood_s": med(lambda r: r["port"]["flood_s"]),
            "unowned_not_vip": med(lambda r: r["unowned"]["not_vip"]),
            "baseline_idle": med(lambda r: r["baseline_cpu"]["idle"]),
            "port_idle": med(lambda r: r["port"]["cpu"]["idle"]),
            "port_softirq": med(lambda r: r["port"]["cpu"]["softirq"]),
            "baseline_softirq": med(lambda r: r["baseline_cpu"]["softirq"]),
            "hping3_cpus": med(lambda r: r["port"]["hping3_cpus"] or 0),
            "unowned_exception_rx": med(lambda r: r["unowned"]["exception_rx"]),
            "vip_socket_errors": [r[k]["vip_socket_errors"] for r in rounds
                                  for k in ("port", "unowned") if r[k]["vip_socket_errors"]],
            "dataplane_dropped_total": st["dropped"],
        }
    finally:
        tb.down()
    return out
