"""Health checks at scale (issue 10 item 6): 1,000 real servers with HTTP negotiate checks every
second and 1,000 haproxy-type feedback agents polled every 2 s, against real nginx and agent
processes on the namespace testbed (tests/e2e/testbed.py).

Shape: 100 services x 10 reals. The 1,000 real addresses are extra IPv4 addresses on the veths
of 4 backend namespaces (250 each, the testbed's subnet widened to a /21 so that they are all
on the appliance's port subnet); each backend runs one nginx on 0.0.0.0 (it answers them all)
and one small asyncio agent on 0.0.0.0:3333 answering "up 100%\\n". A further service on the
testbed's VIP, rr over two of the backends' own addresses and without checks, carries the
forwarding load: wrk -t1 -c16 Connection: close (new connections per second).

Each round, back to back on one daemon: no checks idle, no checks + wrk, then the checks and
agents switched on (one config.apply of 100 service.update edits), checks idle, checks + wrk,
and off again. Figures per phase: CPU of the daemon's control thread (the main thread, the
control lcore) and of the whole daemon (/proc/PID/task/TID/stat), of the backends (nginx and
agents), of wrk, and of the machine (/proc/stat); checks and agent polls per second and their
failures (stats.get health deltas); the lateness of check and agent timers (stats.get
health.timer_lateness, read every 2 s so that its window of the last 4,096 timer runs covers
the whole phase); the VIP's new-connection rate with checks against without, same round.
Figures are printed and stored, never asserted."""
import json
import os
import re
import resource
import socket
import subprocess
import time
from collections import Counter

import e2e  # noqa: F401  (throughput nginx config for the testbed's backends)
from common import log, median
from e2e import cpu_share, cpu_times, parse_wrk, testbed

N_SERVICES = 100
REALS_PER = 10
N_BACKENDS = 4
AGENT_PORT = 3333
CHECK = {"type": "negotiate", "interval": 1}   # http from port 80, default timeouts
AGENT = {"type": "haproxy", "interval": 2, "port": AGENT_PORT}
WRK_CONNS = 16
LATE_POLL_S = 2.0          # the timer_lateness window (4,096 runs) lasts ~2.7 s at 1,500/s
NEIGH_GC = {"gc_thresh2": 4096, "gc_thresh3": 8192}   # the kernel's (global) ARP table

AGENT_PY = """\
import asyncio


async def answer(reader, writer):
    writer.write(b"up 100%\\n")
    try:
        await writer.drain()
    except OSError:
        pass
    writer.close()


async def main():
    server = await asyncio.start_server(answer, "0.0.0.0", PORT, backlog=4096, reuse_address=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
""".replace("PORT", str(AGENT_PORT))

TICK = os.sysconf("SC_CLK_TCK")


def task_ticks(pid):
    """{tid: (name, utime + stime in ticks)} of the threads of pid."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            s = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        f = s.rsplit(")", 1)[1].split()
        out[int(tid)] = (name, int(f[11]) + int(f[12]))
    return out


def procs_ticks(pids):
    tot = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tot += int(f[11]) + int(f[12])
    return tot


def ns_pids(ns):
    out = testbed.run(["ip", "netns", "pids", ns], check=False, timeout=10).stdout
    return [int(t) for t in out.split() if t.isdigit()]


def neigh_gc_raise():
    """Raises the kernel's ARP table thresholds (one table for all namespaces) so that ~1,000
    neighbours on the appliance's kernel interface are neither refused nor garbage-collected;
    returns the previous values to restore."""
    prev = {}
    for k, v in NEIGH_GC.items():
        path = f"/proc/sys/net/ipv4/neigh/default/{k}"
        prev[k] = int(open(path).read())
        if prev[k] < v:
            with open(path, "w") as f:
                f.write(str(v))
    return prev


def neigh_gc_restore(prev):
    for k, v in prev.items():
        try:
            with open(f"/proc/sys/net/ipv4/neigh/default/{k}", "w") as f:
                f.write(str(v))
        except OSError:
            pass


def real_addresses(tb, n):
    """n addresses of the testbed's /21 outside its own /24 (hosts .1-.250 of the other 7)."""
    a, b = (int(x) for x in tb.net.split(".")[1:3])
    base = b & ~7
    out = [f"10.{a}.{c}.{h}" for c in range(base, base + 8) if c != b for h in range(1, 251)]
    if len(out) < n:
        raise RuntimeError(f"only {len(out)} addresses in the /21")
    return out[:n]


def setup_backends(tb, addrs):
    """Address k on backend k % N_BACKENDS's veth; one agent per backend namespace."""
    for i, b in enumerate(tb.backends):
        lines = "".join(f"addr add {a}/{tb.prefix_len} dev {b['ifname']}\n"
                        for a in addrs[i::N_BACKENDS])
        testbed.run(["ip", "-n", b["ns"], "-batch", "-"], input=lines, timeout=120)
    path = os.path.join(tb.tmp, "agent.py")
    with open(path, "w") as f:
        f.write(AGENT_PY)
    for b in tb.backends:
        logf = open(os.path.join(tb.tmp, f"agent-{b['name']}.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", b["ns"], testbed.PYTHON, path],
                             stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        tb.add_pid(p.pid)
    for i, b in enumerate(tb.backends):
        a = addrs[i]
        testbed.wait_until(lambda: testbed.nsrun(
            tb.ns_cl, ["curl", "-s", "--max-time", "2", f"http://{a}/"],
            check=False).returncode == 0, timeout=20, what=f"nginx on {a}")
        testbed.wait_until(lambda: "up 100%" in testbed.nsrun(
            tb.ns_cl, ["bash", "-c", f"exec 3<>/dev/tcp/{a}/{AGENT_PORT}; timeout 2 cat <&3"],
            check=False).stdout, timeout=20, what=f"the agent on {a}")


def services(tb, addrs):
    svcs = [{"vip": tb.vip, "port": 80, "proto": "tcp", "scheduler": "rr",
             "reals": [{"ip": b["ip"]} for b in tb.backends[:2]]}]
    a, b = (int(x) for x in tb.net.split(".")[1:3])
    for s in range(N_SERVICES):
        # VIPs nobody sends to: 10.a.b'.(1..100) where b' is the third octet after the /21
        svcs.append({"vip": f"10.{a}.{((b & ~7) + 8) % 256}.{1 + s}", "port": 80, "proto": "tcp",
                     "scheduler": "wrr",
                     "reals": [{"ip": ip} for ip in addrs[s * REALS_PER:(s + 1) * REALS_PER]]})
    return svcs


def switch_checks(d, svcs, on):
    edits = [{"method": "service.update",
              "params": {"vip": s["vip"], "port": 80, "proto": "tcp",
                         "check": CHECK if on else None, "agent": AGENT if on else None}}
             for s in svcs[1:]]
    t0 = time.monotonic()
    d.call("config.apply", {"edits": edits})
    return (time.monotonic() - t0) * 1e3


DP_KEYS = ("rx_packets", "tx_packets", "dropped", "exception_rx", "exception_tx",
           "exception_dropped")


def health_counters(d):
    """stats.get's health counters, with the dataplane's packet and exception-path counters
    (under "dp") and the time of the reading."""
    st = d.call("stats.get")
    h = st["health"]
    h["dp"] = {k: st["dataplane"].get(k, 0) for k in DP_KEYS}
    h["t"] = time.monotonic()
    return h


class Sampler:
    """CPU of the daemon's threads, the backends, the machine and wrk over one phase."""

    def __init__(self, d, backend_pids):
        self.pid = d.proc.pid
        self.backend_pids = backend_pids

    def start(self):
        self.t0 = time.monotonic()
        self.tasks0 = task_ticks(self.pid)
        self.be0 = procs_ticks(self.backend_pids)
        self.cpu0 = cpu_times()
        self.ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)

    def stop(self):
        dt = time.monotonic() - self.t0
        tasks1 = task_ticks(self.pid)
        ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        per = {}
        for tid, (name, t1) in tasks1.items():
            t0 = self.tasks0.get(tid, (name, 0))[1]
            role = ("control" if tid == self.pid else
                    "worker" if "worker" in name else "other")
            per[role] = per.get(role, 0) + (t1 - t0) / TICK / dt
        per["daemon"] = sum(v for k, v in per.items())
        per["backends"] = (procs_ticks(self.backend_pids) - self.be0) / TICK / dt
        # wrk (ip netns exec execs it): the children's time of this process over the phase
        per["wrk"] = ((ch1.ru_utime - self.ch0.ru_utime) + (ch1.ru_stime - self.ch0.ru_stime)) / dt
        per["machine"] = cpu_share(self.cpu0, cpu_times())
        per["names"] = sorted({n for n, _ in tasks1.values()})
        return dt, per


def run_phase(d, sampler, tb, duration, with_wrk, checks_on):
    """One phase of `duration` seconds; returns its figures."""
    h0 = health_counters(d)
    sampler.start()
    wrk = None
    if with_wrk:
        wrk = subprocess.Popen(["ip", "netns", "exec", tb.ns_cl, "wrk", "-t1", f"-c{WRK_CONNS}",
                                f"-d{int(duration)}s", "--latency", "-H", "Connection: close",
                                f"http://{tb.vip}/"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        tb.add_pid(wrk.pid)
    windows = []
    t0 = time.monotonic()
    nxt = t0 + 2.75
    try:
        while True:
            now = time.monotonic()
            done = (wrk.poll() is not None) if wrk else now - t0 >= duration
            if done:
                break
            if now >= nxt:
                windows.append(d.call("stats.get")["health"]["timer_lateness"])
                nxt += LATE_POLL_S
            time.sleep(min(0.1, max(0.0, nxt - time.monotonic())))
        out = wrk.communicate(timeout=60)[0] if wrk else ""
    finally:
        if wrk:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait()
            tb.remove_pid(wrk.pid)
    dt, cpu = sampler.stop()
    h1 = health_counters(d)
    hdt = h1["t"] - h0["t"]
    ph = {"seconds": dt, "cpu": cpu,
          "checks_per_s": (h1["checks"] - h0["checks"]) / hdt,
          "agent_polls_per_s": (h1["agent_polls"] - h0["agent_polls"]) / hdt}
    for k in ("checks", "checks_failed", "checks_not_run", "agent_polls", "agent_failures",
              "state_changes", "publications"):
        ph[k] = h1[k] - h0[k]
    ph["dp"] = {k: h1["dp"][k] - h0["dp"][k] for k in DP_KEYS}
    if checks_on and windows:
        ph["late_p99_ms_windows"] = [w["p99_ms"] for w in windows]
        ph["late_p99_ms"] = median([w["p99_ms"] for w in windows])
        ph["late_p99_ms_worst"] = max(w["p99_ms"] for w in windows)
        ph["late_max_ms"] = max(w["max_ms"] for w in windows)
        ph["late_windows"] = len(windows)
    if wrk:
        if "Requests/sec" not in out:
            raise RuntimeError(f"wrk printed no rate: {out[-500:]!r}")
        ph["wrk"] = parse_wrk(out)
    return ph


def fmt_cpu(ph):
    c = ph["cpu"]
    m = c["machine"]
    x = ph["dp"]
    return (f"exception rx/tx/dropped +{x['exception_rx']}/+{x['exception_tx']}/"
            f"+{x['exception_dropped']}, dataplane dropped +{x['dropped']}; "
            f"control thread {c.get('control', 0):.3f} CPU, daemon {c['daemon']:.3f} (worker "
            f"{c.get('worker', 0):.3f}), backends {c['backends']:.3f}, wrk {c['wrk']:.3f}; "
            f"machine user {m['user']:.0%} system {m['system']:.0%} softirq {m['softirq']:.0%} "
            f"idle {m['idle']:.0%}")


def status_summary(d):
    """States, check latencies and last errors of all 1,000 checked reals (health.status)."""
    st = d.call("health.status")["services"]
    reals = [r for s in st if s["check"] for r in s["reals"]]
    lat = sorted(r["latency_ms"] for r in reals if r["latency_ms"] is not None)
    states = Counter(r["state"] for r in reals)
    errors = Counter(r["last_error"] for r in reals if r["last_error"])
    agents = Counter((r["agent"] or {}).get("error") or "" for r in reals)
    return {"reals": len(reals), "states": dict(states),
            "latency_ms_median": median(lat) if lat else None,
            "latency_ms_p99": lat[max(0, (len(lat) * 99 + 99) // 100 - 1)] if lat else None,
            "latency_ms_max": lat[-1] if lat else None,
            "last_errors": dict(errors.most_common(5)),
            "agent_errors": {k: v for k, v in agents.most_common(5) if k}}


def telemetry(prefix, cmd):
    """One DPDK telemetry command to the daemon (its v2 socket)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
        s.recv(4096)
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 16))
    finally:
        s.close()


def diagnose(d):
    """What the daemon says when a phase went wrong (printed, for the report)."""
    try:
        st = d.call("stats.get")
        dp = st["dataplane"]
        log(f"  diagnosis: health {st['health']}")
        log(f"  diagnosis: dataplane rx {dp['rx_packets']} tx {dp['tx_packets']} exception_rx "
            f"{dp.get('exception_rx')} exception_tx {dp.get('exception_tx')} exception_dropped "
            f"{dp.get('exception_dropped')} drops {dict((k, v) for k, v in dp['drop_reasons'].items() if v)}")
        log(f"  diagnosis: health.status {status_summary(d)}")
        for i in range(3):
            e = telemetry(d.file_prefix(), "/ethdev/stats,0")["/ethdev/stats"]
            log(f"  diagnosis: port 0 (DPDK telemetry) " + ", ".join(
                f"{k} {v}" for k, v in e.items() if not isinstance(v, list)))
            time.sleep(2)
    except Exception as e:  # noqa: BLE001
        log(f"  diagnosis failed: {e}")


def run_health_scale(build, duration, runs, results, outdir=None):
    os.environ["DPDK_LB_BUILD"] = build
    out = results.setdefault("e2e", {})
    tb = testbed.Testbed(workers=1, n_backends=N_BACKENDS, big_mb=1, http_ports=(80,))
    tb.prefix_len = 21
    prev_gc = neigh_gc_raise()
    try:
        tb.up()
        addrs = real_addresses(tb, N_SERVICES * REALS_PER)
        t0 = time.monotonic()
        setup_backends(tb, addrs)
        log(f"health scale: {len(addrs)} real addresses on {N_BACKENDS} backend namespaces, "
            f"nginx + agent on each, in {time.monotonic() - t0:.1f} s")
        svcs = services(tb, addrs)
        cfg = tb.daemon_config(services=svcs)
        d = tb.start_daemon(cfg, timeout=60)
        rounds, failure = [], None
        try:
            testbed.wait_until(lambda: tb.curl()[0] == 0, timeout=30, interval=0.2,
                               what="the VIP answering")
            backend_pids = [p for b in tb.backends for p in ns_pids(b["ns"])]
            sampler = Sampler(d, backend_pids)
            log(f"health scale: {N_SERVICES} services x {REALS_PER} reals, check {CHECK}, "
                f"agent {AGENT}; VIP load wrk -t1 -c{WRK_CONNS} Connection: close; "
                f"{duration:.0f} s per phase, {runs} round(s)")
            for i in range(runs):
                r = {}
                r["idle"] = run_phase(d, sampler, tb, duration, False, False)
                log(f"  round {i + 1}: no checks, idle: {fmt_cpu(r['idle'])}")
                r["wrk"] = run_phase(d, sampler, tb, duration, True, False)
                log(f"  round {i + 1}: no checks, wrk: {r['wrk']['wrk']['rps']:.0f} conn/s; "
                    f"{fmt_cpu(r['wrk'])}")
                h0 = health_counters(d)
                r["apply_on_ms"] = switch_checks(d, svcs, True)
                # steady state: every check and every agent has run at least twice
                testbed.wait_until(lambda: (lambda h: h["checks"] - h0["checks"] >= 2000 and
                                            h["agent_polls"] - h0["agent_polls"] >= 2000)(
                    health_counters(d)), timeout=60, interval=0.5, what="checks running")
                r["checks_idle"] = run_phase(d, sampler, tb, duration, False, True)
                ph = r["checks_idle"]
                log(f"  round {i + 1}: checks on, idle: {ph['checks_per_s']:.0f} checks/s, "
                    f"{ph['agent_polls_per_s']:.0f} agent polls/s, failed "
                    f"{ph['checks_failed']}/{ph['agent_failures']}, lateness p99 "
                    f"{ph.get('late_p99_ms', 0):.2f} ms (worst window "
                    f"{ph.get('late_p99_ms_worst', 0):.2f}), max {ph.get('late_max_ms', 0):.2f} "
                    f"ms; {fmt_cpu(ph)}")
                r["checks_wrk"] = run_phase(d, sampler, tb, duration, True, True)
                ph = r["checks_wrk"]
                log(f"  round {i + 1}: checks on, wrk: {ph['wrk']['rps']:.0f} conn/s "
                    f"({ph['wrk']['rps'] / r['wrk']['wrk']['rps']:.3f} of without); "
                    f"{ph['checks_per_s']:.0f} checks/s, {ph['agent_polls_per_s']:.0f} polls/s, "
                    f"failed {ph['checks_failed']}/{ph['agent_failures']}, lateness p99 "
                    f"{ph.get('late_p99_ms', 0):.2f} ms, max {ph.get('late_max_ms', 0):.2f} ms; "
                    f"{fmt_cpu(ph)}")
                if i == runs - 1 or ph["checks_failed"] or ph["agent_failures"]:
                    r["status"] = status_summary(d)
                    log(f"  health.status: {r['status']}")
                h1 = health_counters(d)
                r["while_on"] = {k: h1[k] - h0[k] for k in (
                    "checks", "checks_failed", "checks_not_run", "agent_polls",
                    "agent_failures", "state_changes")}
                r["apply_off_ms"] = switch_checks(d, svcs, False)
                rounds.append(r)
            time.sleep(1)
            h = health_counters(d)
        except Exception as e:  # noqa: BLE001
            diagnose(d)
            if not rounds:
                raise
            # the rounds done are figures; the failure (e.g. the AF_XDP receive stall) is one too
            failure, h = f"round {len(rounds) + 1}: {e}", None
            log(f"  round {len(rounds) + 1} FAILED: {e}; reporting the {len(rounds)} round(s) done")
        finally:
            logtxt = d.read_log()
            if outdir:
                with open(os.path.join(outdir, "health-daemon.log"), "w") as f:
                    f.write(logtxt)
            d.stop()
        out["health"] = summarise(rounds, h, logtxt, duration, addrs)
        if failure:
            out["health"]["failed"] = failure
    finally:
        tb.down()
        neigh_gc_restore(prev_gc)
    return out


def summarise(rounds, h, logtxt, duration, addrs):
    def med(f):
        return median([f(r) for r in rounds])

    def cpu(phase, k):
        return med(lambda r: r[phase]["cpu"].get(k, 0))
    s = {"services": N_SERVICES, "reals": len(addrs), "check": CHECK, "agent": AGENT,
         "wrk_conns": WRK_CONNS, "phase_s": duration, "rounds": rounds, "health_total": h,
         "vip_cps_without": med(lambda r: r["wrk"]["wrk"]["rps"]),
         "vip_cps_with": med(lambda r: r["checks_wrk"]["wrk"]["rps"]),
         "vip_ratio": med(lambda r: r["checks_wrk"]["wrk"]["rps"] / r["wrk"]["wrk"]["rps"]),
         "status": rounds[-1].get("status")}
    for phase in ("idle", "wrk", "checks_idle", "checks_wrk"):
        s[phase] = {k: cpu(phase, k) for k in ("control", "worker", "other", "daemon",
                                                "backends", "wrk")}
        s[phase]["machine_idle"] = med(lambda r: r[phase]["cpu"]["machine"]["idle"])
        s[phase]["machine_softirq"] = med(lambda r: r[phase]["cpu"]["machine"]["softirq"])
        s[phase]["machine_system"] = med(lambda r: r[phase]["cpu"]["machine"]["system"])
        s[phase]["machine_user"] = med(lambda r: r[phase]["cpu"]["machine"]["user"])
    for phase in ("checks_idle", "checks_wrk"):
        p = s[phase]
        p["checks_per_s"] = med(lambda r: r[phase]["checks_per_s"])
        p["agent_polls_per_s"] = med(lambda r: r[phase]["agent_polls_per_s"])
        p["late_p99_ms"] = med(lambda r: r[phase].get("late_p99_ms", 0))
        p["late_p99_ms_worst"] = max(r[phase].get("late_p99_ms_worst", 0) for r in rounds)
        p["late_max_ms"] = max(r[phase].get("late_max_ms", 0) for r in rounds)
    for k in ("checks", "checks_failed", "checks_not_run", "agent_polls", "agent_failures",
              "state_changes"):
        s[f"while_on_{k}"] = sum(r["while_on"][k] for r in rounds)
    s["apply_on_ms"] = med(lambda r: r["apply_on_ms"])
    s["apply_off_ms"] = med(lambda r: r["apply_off_ms"])
    lines = logtxt.splitlines()
    s["log_state_changes"] = sum(1 for ln in lines if "health: TCP" in ln)
    s["log_down"] = sum(1 for ln in lines if "health: TCP" in ln and " down (was" in ln)
    bad = [ln for ln in lines if re.search(r"\b(ERR|ERROR|error|failed|WARNING)\b", ln)]
    s["log_problems"] = len(bad)
    s["log_problem_samples"] = bad[:5]
    return s
