#!/usr/bin/python3
"""Worker scaling: the dataplane scenarios (established DR and fnat at 100k flows, new
connections under wrr) with 1, 2, 4, 8 ... workers, each against testpmd io with as many
forwarding cores on the same vdevs and the same CPUs (the same-run ceiling of that worker count).

Each worker owns one receive queue: the input net_pcap gets one file per worker (flow i goes to
queue i % workers, scripts/bench/mkpcap.py PARTS PART), so each worker finds its flows' SYNs,
from the prefill port, in its own table, as RSS would give them. Per worker the load is the
same at every count (weak scaling): established 100,000 flows per worker (100,000 x workers in
all), new connections `syns_per_worker` unique SYNs per queue (syn_recv 1 s, so each replay
must last over 1 s; `new flows per packet` below 1.000 says it did not). So each worker's table
and each queue's replayed packets are those of the 1-worker scenario, and a ratio to 1 worker
below N shows what the workers share (CPUs, caches, memory bandwidth, the control lcore), not a
smaller working set per worker (with 100,000 flows split over 2 workers, the halved pcap per
queue alone made 2 workers on the 2-CPU VM more than twice as fast as one, testpmd too).

Pinning (cpu_plan): lcore 0 is the control lcore, lcores 1..N the workers. Workers get distinct
physical cores on the control lcore's NUMA node first, then sibling hyperthreads there, then
other nodes; the layout note says which of these compromises a count needed. N workers need N
CPUs: when there are exactly N, the control lcore shares one with the last worker (2 workers on
a 2-CPU machine); with fewer, that count is skipped, with the reason.

Run alone by scripts/bench-scaling.sh (root; `--help`, `--dry-run` without root), or as the
`scaling` section of scripts/bench/run_bench.py (`--only scaling --workers 1,2`).
"""
import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataplane  # noqa: E402
from common import REPO, HugePages, interval_rates, log, median  # noqa: E402

LB_MAX_WORKERS = 16  # dataplane/lb_runtime.h
FLOWS_PER_WORKER = 100_000
SCENARIOS = {
    "est_100k": "established DR, 100,000 flows per worker",
    "est_100k_fnat": "established fnat, 100,000 flows per worker",
    "new_wrr": "new connections DR, wrr over 10 reals",
}
DEFAULT_WORKERS = (1, 2, 4, 8)
# Per worker, so that one replay of a queue's SYNs lasts over syn_recv (1 s) even at the rate
# of the first replay (no expiry yet): else every SYN finds its earlier flow alive, which a
# retransmitted SYN refreshes, and the run measures lookups (new flows per packet 0.000).
SYNS_PER_WORKER = 8_000_000


class Unpinnable(Exception):
    """This worker count cannot be given CPUs of its own on this machine."""


def parse_cpus(text):
    """'0-3,8' -> [0, 1, 2, 3, 8]; ValueError on anything else."""
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        lo, hi = int(lo), int(hi or lo)
        if lo < 0 or hi < lo:
            raise ValueError(f"bad CPU range {part!r}")
        cpus.update(range(lo, hi + 1))
    return sorted(cpus)


def parse_workers(text):
    """'1,2,4,8' -> [1, 2, 4, 8]; ValueError naming the rule broken."""
    try:
        ws = [int(w) for w in text.split(",")]
    except ValueError:
        raise ValueError(f"--workers: {text!r} is not a comma-separated list of integers")
    for w in ws:
        if not 1 <= w <= LB_MAX_WORKERS:
            raise ValueError(f"--workers: {w} is out of range 1-{LB_MAX_WORKERS} (the daemon's "
                             "LB_MAX_WORKERS)")
    if len(set(ws)) != len(ws):
        raise ValueError(f"--workers: {text!r} names a count twice")
    return ws


def read_topology(cpus, sysfs="/sys/devices/system/cpu"):
    """{cpu: (numa node, (package, core id))}; a CPU sysfs does not describe is its own core
    on node 0."""
    topo = {}
    for c in cpus:
        base = os.path.join(sysfs, f"cpu{c}")
        try:
            core = (int(open(os.path.join(base, "topology/physical_package_id")).read()),
                    int(open(os.path.join(base, "topology/core_id")).read()))
        except (OSError, ValueError):
            core = (0, 1_000_000 + c)
        node = 0
        with contextlib.suppress(OSError):
            for e in os.listdir(base):
                if e.startswith("node") and e[4:].isdigit():
                    node = int(e[4:])
        topo[c] = (node, core)
    return topo


def cpu_plan(workers, cpus, topo):
    """(EAL --lcores map, notes on the layout) for `workers` workers on `cpus`; raises
    Unpinnable with the reason when the machine has fewer CPUs than workers."""
    if workers > len(cpus):
        raise Unpinnable(f"{workers} workers need {workers} CPUs to be pinned on, one each; "
                         f"this run may use {len(cpus)} (CPUs {fmt_cpus(cpus)})")
    per_node = {}
    for c in cpus:
        per_node.setdefault(topo[c][0], set()).add(topo[c][1])
    home = min(per_node, key=lambda n: (-len(per_node[n]), n))
    control = min(c for c in cpus if topo[c][0] == home)
    used_cores = {topo[control][1]}
    chosen = []
    # distinct cores on the home node, siblings there, distinct cores elsewhere, the rest
    for same_node, distinct in ((True, True), (True, False), (False, True), (False, False)):
        for c in cpus:
            if len(chosen) == workers:
                break
            if c == control or c in chosen or (topo[c][0] == home) != same_node:
                continue
            if distinct and topo[c][1] in used_cores:
                continue
            chosen.append(c)
            used_cores.add(topo[c][1])
    notes = []
    if len(chosen) < workers:  # exactly `workers` CPUs: the control lcore shares the last one
        chosen.append(control)
        notes.append(f"the control lcore shares CPU {control} with worker {workers - 1}")
    lcore_cpus = [control] + chosen
    shared = sorted({c for c in chosen if c != control and
                     any(d != c and topo[d][1] == topo[c][1] for d in lcore_cpus)})
    if shared:
        notes.append(f"CPUs {fmt_cpus(shared)} are hyperthreads of a core another lcore uses")
    away = sorted(c for c in chosen if topo[c][0] != home)
    if away:
        notes.append(f"CPUs {fmt_cpus(away)} are on another NUMA node than the pool (node "
                     f"{home})")
    lcores = ",".join(f"{i}@{c}" for i, c in enumerate([control] + chosen))
    return lcores, notes


def fmt_cpus(cpus):
    return ",".join(str(c) for c in cpus)


def part_pcaps(cache, kind, workers, *args):
    """One pcap per worker (mkpcap PARTS PART); the plain file for one worker. Returns
    (paths, packets in all of them)."""
    if workers == 1:
        return dataplane.pcap(cache, kind, *args)
    paths = [dataplane.pcap(cache, kind, *args, workers, q)[0] for q in range(workers)]
    total = int(args[0]) if kind == "syn" else int(args[1])
    return paths, total


def scenario(cache, key, workers, lcores, syns_per_worker, huge=True):
    """The dataplane.Scenario of `key` with `workers` workers (SCENARIOS)."""
    title = f"{SCENARIOS[key]}, {workers} worker{'s' if workers > 1 else ''}"
    if key.startswith("est_100k"):
        flows = FLOWS_PER_WORKER * workers
        ack, ack_n = part_pcaps(cache, "ack", workers, flows, flows, 1)
        syn, _ = part_pcaps(cache, "syn", workers, flows)
        fwd = "fnat" if key.endswith("fnat") else "dr"
        # nat/fnat flows hold two keys, hence twice the capacity
        capacity = (2 if fwd == "fnat" else 1) * (FLOWS_PER_WORKER + FLOWS_PER_WORKER // 8)
        return dataplane.Scenario(
            key, title, "wrr", ack, ack_n, flows, prefill_pcap=syn, huge=huge, forward=fwd,
            capacity=capacity, workers=workers, lcores=lcores,
            note=f"{flows:,} flows, each once per replay, random order")
    total = syns_per_worker * workers
    syn, syn_n = part_pcaps(cache, "syn", workers, total)
    sc = dataplane.Scenario(
        key, title, "wrr", syn, syn_n, syn_n, syn_recv=1, capacity=syns_per_worker, huge=huge,
        data_room=dataplane.NEW_CONN_DATA_ROOM, workers=workers, lcores=lcores,
        note=f"{syns_per_worker:,} unique SYNs per worker, syn_recv 1 s, 128-byte mbufs; "
        "measured from the second replay on")
    # The first replay fills the table with nothing to expire yet, faster than steady state:
    # the warm-up starts halfway through the second.
    sc.settle_rx = total * 3 // 2
    return sc


def thread_cpu(pid):
    """{tid: CPU seconds} of a process's threads (/proc, user + system)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = open(f"/proc/{pid}/task/{tid}/stat").read()
                fields = stat[stat.rindex(")") + 2:].split()
                out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def sampler(intervals, duration, into):
    """run_lb's `during`: `intervals` consecutive intervals of `duration` s; appends to `into`
    each one's rates and the CPU share of the control lcore (the main thread) and the rest."""
    def during(d):
        pid = d.proc.pid
        s0, c0 = d.dataplane_stats(), thread_cpu(pid)
        for _ in range(intervals):
            time.sleep(duration)
            s1, c1 = d.dataplane_stats(), thread_cpu(pid)
            r = interval_rates(s0, s1)
            dt = s1["t"] - s0["t"]
            r["control_cpu"] = (c1.get(pid, 0) - c0.get(pid, 0)) / dt
            r["threads_cpu"] = sum(c1[t] - c0.get(t, 0) for t in c1) / dt
            r["created_per_rx"] = r["flows_created"] / r["rx_packets"] if r["rx_packets"] else 0
            r["flows_end"] = s1["flows"]
            log(f"  {r['tx_mpps']:.2f} Mpps tx, {r['rx_mpps']:.2f} Mpps rx, dropped "
                f"{r['dropped']} {r['drop_reasons']}, new flows/rx {r['created_per_rx']:.3f}, "
                f"flows {r['flows_end']}, control lcore {r['control_cpu']:.2f} CPU, all threads "
                f"{r['threads_cpu']:.2f}")
            into.append(r)
            s0, c0 = s1, c1
    return during


def measure(build, work, sc, duration, runs, warmup, ceilings, huge_dir, fresh=False):
    """Runs one scenario (and its ceiling, once per pcap set and worker count): `runs`
    consecutive intervals of one process, or with `fresh` one interval in each of `runs`
    processes (the dataplane section's method); returns the result dict (medians)."""
    ck = (sc.key.startswith("new"), sc.workers)
    args = (work, sc.in_pcap, sc.in_pkts, duration, warmup, huge_dir, sc.data_room, sc.lcores,
            sc.workers)
    if ck not in ceilings:
        log(f"ceiling testpmd io, {sc.workers} forwarding cores ({sc.lcores}), "
            f"{'SYN' if ck[0] else 'ACK'} pcaps, {runs} {'runs' if fresh else 'intervals'}")
        try:
            vals = ([dataplane.run_ceiling(*args) for _ in range(runs)] if fresh else
                    dataplane.run_ceiling(*args, intervals=runs))
            log("  " + ", ".join(f"{v:.2f}" for v in vals) + " Mpps")
        except Exception as e:  # noqa: BLE001 - a failed ceiling leaves the ratio empty
            log(f"  FAILED: {e}")
            vals = []
        ceilings[ck] = vals
    rs, error = [], None
    for i in range(runs if fresh else 1):
        log(f"{sc.title} ({sc.lcores}): " + (f"run {i + 1}/{runs}" if fresh else
                                              f"{runs} intervals"))
        try:
            dataplane.run_lb(build, work, sc, 0, warmup, huge_dir,
                             during=sampler(1 if fresh else runs, duration, rs))
        except Exception as e:  # noqa: BLE001 - one failed scenario must not stop the rest
            log(f"  FAILED: {e}")
            error = str(e)
            break
    mpps = median([r["tx_mpps"] for r in rs]) if rs else None
    ceil = median(ceilings[ck])

    def med(k):
        return median([r[k] for r in rs]) if rs else None
    return {"key": sc.key, "workers": sc.workers, "title": sc.title, "note": sc.note,
            "lcores": sc.lcores, "fresh": fresh, "runs": rs, "mpps": mpps,
            "ceiling_mpps": ceil, "ceiling_runs": ceilings[ck],
            "ratio": mpps / ceil if mpps and ceil else None,
            "created_per_rx": med("created_per_rx"), "control_cpu": med("control_cpu"),
            "threads_cpu": med("threads_cpu"),
            "dropped": sum(r["dropped"] for r in rs) if rs else None, "error": error}


def plan_all(workers_list, cpus):
    """[(workers, lcores or None, notes or the reason it is skipped)] in the order given."""
    topo = read_topology(cpus)
    out = []
    for w in workers_list:
        try:
            lcores, notes = cpu_plan(w, cpus, topo)
            out.append((w, lcores, notes))
        except Unpinnable as e:
            out.append((w, None, [str(e)]))
    return out


def run_all(build, work, cache, workers_list, keys, duration, runs, warmup, syns_per_worker,
            res, huge=True, cpus=None, fresh=False):
    """Fills res['scaling'] with the plan, the skipped counts and one result per scenario and
    worker count."""
    cpus = cpus or sorted(os.sched_getaffinity(0))
    out = res.setdefault("scaling", {"results": [], "skipped": [], "plan": {}})
    out.update({"cpus": cpus, "syns_per_worker": syns_per_worker, "fresh": fresh,
                "runs": runs, "duration": duration, "warmup": warmup})
    for w, lcores, notes in plan_all(workers_list, cpus):
        if lcores is None:
            log(f"{w} workers: SKIPPED: {notes[0]}")
            out["skipped"].append({"workers": w, "reason": notes[0]})
            continue
        out["plan"][str(w)] = {"lcores": lcores, "notes": notes}
        log(f"{w} workers: --lcores {lcores}" + (f" ({'; '.join(notes)})" if notes else ""))
        ceilings = {}
        for key in keys:
            sc = scenario(cache, key, w, lcores, syns_per_worker, huge)
            try:
                with (HugePages(sc.mem_mb() + 512) if huge else
                      contextlib.nullcontext()) as hp:
                    out["results"].append(measure(build, work, sc, duration, runs, warmup,
                                                  ceilings, hp.dir if hp else None, fresh))
            except MemoryError as e:
                log(f"{sc.title}: SKIPPED: {e}")
                out["results"].append({"key": key, "workers": w, "title": sc.title,
                                       "error": str(e), "mpps": None})
    add_ratios(out)
    return out


def add_ratios(out):
    """Each result's ratio to the same scenario with 1 worker (and the ceiling's likewise)."""
    one = {r["key"]: r for r in out["results"] if r["workers"] == 1}
    for r in out["results"]:
        base = one.get(r["key"])
        r["x_1worker"] = (r["mpps"] / base["mpps"] if base and base.get("mpps") and r.get("mpps")
                          else None)
        r["ceiling_x_1core"] = (r["ceiling_mpps"] / base["ceiling_mpps"]
                                if base and base.get("ceiling_mpps") and r.get("ceiling_mpps")
                                else None)


def f(v, fmt):
    return "" if v is None else format(v, fmt)


def scaling_rows(s):
    """(section, item, value, unit, baseline, ratio, goal, note) rows for run_bench's table."""
    if not s:
        return []
    rows = []
    if s.get("error"):
        rows.append(("scaling", "worker scaling", "", "", "", "", "", "ERROR: " + s["error"][:200]))
    for r in s.get("results", []):
        note = r.get("note", "")
        plan = s.get("plan", {}).get(str(r["workers"]), {})
        note += f"; --lcores {plan.get('lcores', '?')}"
        if plan.get("notes"):
            note += " (" + "; ".join(plan["notes"]) + ")"
        if r.get("x_1worker") is not None:
            note += (f"; x{r['x_1worker']:.2f} of 1 worker, {r['x_1worker'] / r['workers']:.2f} "
                     "per worker")
        if r.get("ceiling_x_1core") is not None:
            note += f"; ceiling x{r['ceiling_x_1core']:.2f} of 1 core"
        if r["key"].startswith("new") and r.get("created_per_rx") is not None:
            note += f"; new flows per packet {r['created_per_rx']:.3f}"
            if r["created_per_rx"] < 0.99:
                note += " (< 1: SYNs met live flows, raise --syns-per-worker)"
        if r.get("control_cpu") is not None:
            note += f"; control lcore {r['control_cpu']:.3f} CPU"
        if r.get("error"):
            note += f"; ERROR: {r['error'][:120]}"
        rows.append(("scaling", r["title"], f(r.get("mpps"), ".2f"), "Mpps",
                     f(r.get("ceiling_mpps"), ".2f"), f(r.get("ratio"), ".3f"), "", note))
    for sk in s.get("skipped", []):
        rows.append(("scaling", f"{sk['workers']} workers", "", "", "", "", "",
                     "SKIPPED: " + sk["reason"]))
    return rows


def table(s):
    """The terminal table: one line per scenario and worker count."""
    head = ("scenario", "workers", "Mpps", "x 1 worker", "ceiling Mpps", "ratio", "ceil x 1",
            "control CPU", "new/pkt")
    lines = []
    for r in s.get("results", []):
        lines.append((SCENARIOS.get(r["key"], r["key"]), str(r["workers"]), f(r.get("mpps"), ".2f"),
                      f(r.get("x_1worker"), ".2f"), f(r.get("ceiling_mpps"), ".2f"),
                      f(r.get("ratio"), ".3f"), f(r.get("ceiling_x_1core"), ".2f"),
                      f(r.get("control_cpu"), ".3f"),
                      f(r.get("created_per_rx"), ".3f") if r["key"].startswith("new") else ""))
    widths = [max(len(x[i]) for x in lines + [head]) for i in range(len(head))]
    text = ["  ".join(x[i].ljust(widths[i]) for i in range(len(head))).rstrip()
            for x in [head] + lines]
    for w, p in sorted(s.get("plan", {}).items(), key=lambda kv: int(kv[0])):
        text.append(f"{w} workers: --lcores {p['lcores']}" +
                    (f" ({'; '.join(p['notes'])})" if p["notes"] else ""))
    for sk in s.get("skipped", []):
        text.append(f"{sk['workers']} workers: SKIPPED: {sk['reason']}")
    for r in s.get("results", []):
        if r["key"].startswith("new") and (r.get("created_per_rx") or 1) < 0.99:
            text.append(f"WARNING {r['title']}: new flows per packet {r['created_per_rx']:.3f}: "
                        "SYNs met live flows (lookups measured), raise --syns-per-worker")
    errs = [r for r in s.get("results", []) if r.get("error")]
    for r in errs:
        text.append(f"ERROR {r['title']}: {r['error'][:300]}")
    return "\n".join(text)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench-scaling.sh",
        description="Worker scaling of the dataplane: established DR and fnat (100,000 flows "
        "per worker) and new connections (wrr) with 1, 2, 4 and 8 workers, each against testpmd "
        "io with as many cores on the same CPUs. Needs root, a built daemon (--build) and "
        "dpdk-testpmd (Debian's dpdk-dev); no network, no package installation. Worker counts "
        "this machine cannot pin (fewer CPUs than workers) are skipped, with the reason. "
        "docs/performance.md, 'Scaling', says how to measure a bigger machine.")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-scaling"),
                    help="results directory (scaling.json, scaling.md); default %(default)s")
    ap.add_argument("--build", default=os.path.join(REPO, "build-release"),
                    help="meson build directory with dataplane/dpdk-lb; default %(default)s")
    ap.add_argument("--workers", default=",".join(map(str, DEFAULT_WORKERS)),
                    help="comma-separated worker counts (1-16); default %(default)s")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help="comma-separated, of: " + ", ".join(SCENARIOS) + "; default all")
    ap.add_argument("--cpus", default="",
                    help="CPUs the run may pin lcores on, e.g. 0-8 (default: the process's "
                    "affinity, i.e. taskset/cgroup); the control lcore takes the lowest")
    ap.add_argument("--quick", action="store_true",
                    help="a short run: 1 interval of 2 s per scenario, 1 s warm-up (about 6 "
                    "minutes for 1,2,4,8 on 16 cores, estimated; the default about 8-10)")
    ap.add_argument("--runs", type=int, default=None,
                    help="measured intervals per scenario, consecutive in one process (median); "
                    "3")
    ap.add_argument("--fresh", action="store_true",
                    help="each interval in a fresh process, as the 1-worker dataplane section "
                    "measures (slower: every run loads the pcaps again)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per interval; 3")
    ap.add_argument("--warmup", type=float, default=None, help="seconds before; 2")
    ap.add_argument("--syns-per-worker", type=int, default=None,
                    help=f"unique SYNs per worker's queue, new connections; {SYNS_PER_WORKER:,}")
    ap.add_argument("--no-huge", action="store_true", help="no hugepages (slower, any memory)")
    ap.add_argument("--dry-run", action="store_true",
                    help="print the pinning plan and skipped counts, run nothing (no root)")
    a = ap.parse_args(argv)
    try:
        a.workers = parse_workers(a.workers)
        a.cpus = parse_cpus(a.cpus) if a.cpus else sorted(os.sched_getaffinity(0))
    except ValueError as e:
        ap.error(str(e))
    a.scenarios = [k for k in a.scenarios.split(",") if k]
    bad = [k for k in a.scenarios if k not in SCENARIOS]
    if bad or not a.scenarios:
        ap.error(f"--scenarios: unknown {','.join(bad) or '(none given)'}; known: "
                 + ", ".join(SCENARIOS))
    quick = a.quick
    a.runs = a.runs if a.runs is not None else (1 if quick else 3)
    a.duration = a.duration if a.duration is not None else (2 if quick else 3)
    a.warmup = a.warmup if a.warmup is not None else (1 if quick else 2)
    a.syns_per_worker = a.syns_per_worker or SYNS_PER_WORKER
    if a.runs < 1 or a.duration <= 0 or a.warmup < 0 or a.syns_per_worker < 100_000:
        ap.error("--runs >= 1, --duration > 0, --warmup >= 0, --syns-per-worker >= 100000")
    if not a.dry_run:
        allowed = set(os.sched_getaffinity(0))
        if not set(a.cpus) <= allowed:
            ap.error(f"--cpus: {fmt_cpus(sorted(set(a.cpus) - allowed))} not available to this "
                     "process (only with --dry-run)")
    return a


def preflight(a):
    """What a run needs, checked before anything starts; returns the problems."""
    problems = []
    if os.geteuid() != 0:
        problems.append("run as root (hugepages, EAL)")
    if not os.access(os.path.join(a.build, "dataplane", "dpdk-lb"), os.X_OK):
        problems.append(f"no {a.build}/dataplane/dpdk-lb: build it first (meson setup "
                        f"{a.build} --buildtype=release -Dnative_arch=true && ninja -C {a.build})")
    if not shutil.which("dpdk-testpmd"):
        problems.append("no dpdk-testpmd in PATH (Debian: apt-get install dpdk-dev)")
    return problems


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    plan = plan_all(a.workers, a.cpus)
    if a.dry_run:
        print(f"CPUs {fmt_cpus(a.cpus)}; scenarios {','.join(a.scenarios)}; {a.runs} "
              f"{'fresh runs' if a.fresh else 'intervals'} x {a.duration:g} s (+{a.warmup:g} s "
              f"warm-up); {a.syns_per_worker:,} SYNs/worker")
        for w, lcores, notes in plan:
            if lcores is None:
                print(f"{w} workers: SKIPPED: {notes[0]}")
            else:
                print(f"{w} workers: --lcores {lcores}" +
                      (f" ({'; '.join(notes)})" if notes else ""))
        return 0
    problems = preflight(a)
    if problems:
        for p in problems:
            print(f"bench-scaling: {p}", file=sys.stderr)
        return 1
    # a TERM (bench-scaling.sh's cleanup) unwinds: daemons, testpmd and hugepages are released
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(a.out, exist_ok=True)
    work = os.path.join(a.out, "work")
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(a.build, "bench-pcaps")
    os.makedirs(cache, exist_ok=True)
    res = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                       "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")},
           "params": {"runs": a.runs, "duration": a.duration, "warmup": a.warmup,
                      "build": a.build}}
    t0 = time.monotonic()
    run_all(a.build, work, cache, a.workers, a.scenarios, a.duration, a.runs, a.warmup,
            a.syns_per_worker, res, huge=not a.no_huge, cpus=a.cpus, fresh=a.fresh)
    res["elapsed_s"] = time.monotonic() - t0
    with open(os.path.join(a.out, "scaling.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    text = table(res["scaling"])
    with open(os.path.join(a.out, "scaling.md"), "w") as fh:
        fh.write(f"dpdk-lb worker scaling, {res['machine']['date']}, {a.runs} "
                 f"{'fresh runs' if a.fresh else 'intervals of one process'} x {a.duration:g} s, "
                 f"median; {res['elapsed_s']:.0f} s in all\n\n```\n{text}\n```\n")
    print(text)
    print(f"== {res['elapsed_s']:.0f} s; results: {a.out}/scaling.md, scaling.json")
    failed = [r for r in res["scaling"]["results"] if r.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
