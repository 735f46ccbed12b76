#!/usr/bin/python3
"""Runs every benchmark scenario of dpdk-lb and writes results.json, results.csv, results.md
and the gnuplot data files into the output directory. Called by scripts/bench.sh."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import estimator  # noqa: E402
import control  # noqa: E402
import dataplane  # noqa: E402
import e2e  # noqa: E402
import health_scale  # noqa: E402
import observe  # noqa: E402
import scaling  # noqa: E402
import synflood  # noqa: E402
from common import log  # noqa: E402


def mem_available_mb():
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def machine():
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True,
                          text=True).stdout.strip()
    return {"cpu": cpu, "cpus": os.cpu_count(), "mem_mb": int(
        open("/proc/meminfo").readline().split()[1]) // 1024, "kernel": platform.release(),
        "dpdk": dpdk, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def f(v, fmt):
    return "" if v is None else format(v, fmt)


def rows(res):
    """(section, item, value, unit, baseline, ratio, goal, note) rows for the table."""
    out = []
    for d in res.get("dataplane", []):
        note = d.get("note", "")
        if d.get("error"):
            note += f"; ERROR: {d['error'][:120]}"
        if d.get("created_per_rx") is not None and d["key"].startswith("new"):
            note += f"; new flows per packet {d['created_per_rx']:.3f}"
        goal = {"est_100k": ">= 0.50", "new_wrr": ">= 0.40", "new_mh": ">= 0.40"}.get(d["key"], "")
        out.append(("dataplane", d["title"], f(d.get("mpps"), ".2f"), "Mpps",
                    f(d.get("ceiling_mpps"), ".2f"), f(d.get("ratio"), ".3f"), goal, note))
        out.append(("dataplane", d["title"] + " (per packet)", f(d.get("ns_per_pkt"), ".1f"),
                    "ns", f(1e3 / d["ceiling_mpps"], ".1f") if d.get("ceiling_mpps") else "",
                    "", "", "ceiling: testpmd io on the same vdevs and pcap"))
    for d in res.get("dataplane", []):
        if d.get("flow_entry_bytes"):
            out.append(("memory", f"bytes per flow ({d['title']})",
                        f(d["flow_entry_bytes"], ".1f"), "B", "", "", "<= 64",
                        f"flow_table_bytes {d['flow_table_bytes']:,} / flow_capacity "
                        f"{d['flow_capacity']:,} (system.info, heap-measured)"))
            break
    c = res.get("control", {})
    for label in ("shared", "distinct"):
        p = c.get(f"publish_{label}")
        if not p:
            continue
        what = f"10,000 services x 10 reals, {label} real addresses"
        if p.get("error"):
            out.append(("control", f"one-real publish ({what})", "", "", "", "", "< 10 ms",
                        "ERROR: " + p["error"][:200]))
            continue
        out.append(("control", f"one-real change: build+publish, daemon ({what})",
                    f(p["total_ms"], ".2f"), "ms", "", "", "< 1 ms",
                    f"build {p['build_ms']:.2f} ms + publish {p['publish_ms']:.3f} ms; "
                    f"real.update round trip {p['update_rtt_ms']:.2f} ms; boot {p['boot_s']:.1f} s"))
        out.append(("control", f"drops while publishing under load ({what})",
                    str(p["dropped_under_load"]), "packets", "", "", "0",
                    f"{p['publishes_under_load']} publishes back to back during the interval; "
                    f"{p['mpps_idle_control']:.2f} Mpps without, {p['mpps_publishing']:.2f} Mpps "
                    f"with publishing"))
    for label in ("shared", "distinct"):
        p = c.get(f"publish_{label}")
        b = c.get(f"publish_{label}_baseline")
        what = f"10k x 10, {label} real addresses"
        if p and b and not p.get("error") and not b.get("error"):
            out.append(("control", f"one-real change, baseline build ({what})",
                        f(b["total_ms"], ".2f"), "ms", "", "", "",
                        f"build {b['build_ms']:.2f} + publish {b['publish_ms']:.3f} ms; RPC "
                        f"{b['update_rtt_ms']:.2f} ms (vs {p['total_ms']:.2f} / "
                        f"{p['update_rtt_ms']:.2f} ms)"))
        if p and not p.get("error"):
            out.append(("control", f"one-real change RPC round trip ({what})",
                        f(p["update_rtt_ms"], ".2f"), "ms", "", "", "< 5 ms",
                        f"median of 21, max {p['update_rtt_p99_ms']:.2f} ms"))
        q = (p or {}).get("paced")
        if q:
            out.append(("control", f"drops, 100 weight changes/s under load ({what})",
                        str(q["dropped"]), "packets", "", "", "0",
                        f"{q['changes']} changes in {q['seconds']:.0f} s ({q['rate']:.1f}/s); RPC "
                        f"median {q['rtt_median_ms']:.2f} ms, p99 {q['rtt_p99_ms']:.2f} ms; "
                        f"{q['mpps']:.2f} Mpps"))
    for label, v in c.get("snapshot", {}).items():
        what = f"10k x 10, {label} real addresses, snapshot_publish_bench"
        out.append(("control", f"one-real change build+publish ({what})", f(v["one_ms"], ".3f"),
                    "ms", "", "", "< 1 ms", f"full rebuild (old way) {v['full_ms']:.2f} ms"))
        out.append(("control", f"1,000 reals in one snapshot ({what})", f(v["batch_ms"], ".2f"),
                    "ms", "", "", "< 10 ms",
                    f"freeing after the grace period {v['batch_reclaim_ms']:.2f} ms"))
        if "del_ms" in v:
            out.append(("control", f"one service of 10,000 removed ({what})",
                        f(v["del_ms"], ".2f"), "ms", "", "", "",
                        "lookup tables rebuilt; freeing after the grace period "
                        f"{v['del_reclaim_ms']:.2f} ms"))
    lat = c.get("lateness")
    if lat and lat.get("error"):
        out.append(("control", "control loop lateness, 100 ms timer", "", "", "", "", "",
                    "ERROR: " + lat["error"][:200]))
    elif lat:
        idle = lat["phases"].get("idle")
        titles = {"idle": "idle",
                  "conn_list": f"conn.list paged through {lat['flows']:,} connections, limit 1000",
                  "conn_list_100k": f"conn.list paged through {lat['flows']:,} connections, "
                                    "limit 100000",
                  "commits": "real.update commits back to back, 10k x 10",
                  "apply_1000": "config.apply of 1,000 real.update edits back to back, 10k x 10"}
        for k, ph in lat["phases"].items():
            note = (f"max {ph['late_max_us'] / 1e3:.2f} ms; {ph['samples']} samples in "
                    f"{ph['seconds']:.0f} s" + ("" if ph["window_in_phase"] else
                                                 " (window mixes the phase before)"))
            if "pages" in ph:
                note += (f"; {ph['passes']} full passes, page median {ph['page_ms_median']:.1f} "
                         f"ms")
            if "calls" in ph:
                note += (f"; {ph['calls']} calls, RPC median {ph['rtt_ms_median']:.2f} ms, "
                         f"max {ph['rtt_ms_max']:.2f} ms")
            ratio = (ph["late_p99_us"] / idle["late_p99_us"]
                     if idle and idle["late_p99_us"] and k != "idle" else None)
            out.append(("control", f"control loop lateness p99, 100 ms timer: {titles.get(k, k)}",
                        f(ph["late_p99_us"] / 1e3, ".3f"), "ms",
                        f(idle["late_p99_us"] / 1e3, ".3f") if idle and k != "idle" else "",
                        f(ratio, ".1f"), "", note))
        ap = lat["phases"].get("apply_1000")
        if ap and "calls" in ap:
            out.append(("control", "1,000 reals through config.apply, one RPC (10k x 10)",
                        f(ap["rtt_ms_median"], ".2f"), "ms", "", "", "< 10 ms",
                        f"median RPC of {ap['calls']}, p99 {ap['rtt_ms_p99']:.2f} ms; last build "
                        f"{ap['last_build_us'] / 1e3:.2f} ms + publish "
                        f"{ap['last_publish_us'] / 1e3:.3f} ms"))
    for k, v in c.get("maglev", {}).items():
        goal = "< 5 ms" if k == "M65537_N1000_equal" else ""
        out.append(("control", f"Maglev build {k.replace('_', ' ')}", f(v["best_ms"], ".2f"),
                    "ms", "", "", goal, f"mean {v['mean_ms']:.2f} ms of 5"))
    e = res.get("e2e", {})
    for mode in ("keepalive", "close"):
        direct = e.get(f"direct/{mode}")
        hap = e.get(f"haproxy/{mode}")
        for name, title in (("direct", "direct to one backend"),
                            ("dpdk_lb_idle50", "dpdk-lb VIP, DR, idle_sleep_us 50"),
                            ("dpdk_lb_idle0", "dpdk-lb VIP, DR, busy poll"),
                            ("haproxy", "HAProxy mode tcp"), ("nginx_stream", "nginx stream")):
            r = e.get(f"{name}/{mode}")
            if not r:
                continue
            ratio = r["rps"] / direct["rps"] if direct and direct["rps"] else None
            note = f"p99 {r['p99_ms']:.2f} ms" if r.get("p99_ms") else ""
            goal = ""
            if name.startswith("dpdk_lb") and mode == "close":
                goal = ">= 0.8 direct, >= 1.5 HAProxy"
                if hap and hap["rps"]:
                    note += f"; {r['rps'] / hap['rps']:.2f} x HAProxy"
            out.append((f"e2e {mode}", title, f(r["rps"], ".0f"), "req/s",
                        f(direct["rps"], ".0f") if direct else "", f(ratio, ".3f"), goal, note))
    fl = e.get("flood")
    if fl and fl.get("error"):
        out.append(("e2e flood", "exception path under a flood", "", "", "", "", "",
                    "ERROR: " + fl["error"][:200]))
    elif fl:
        base = f(fl["baseline_cps"], ".0f")
        what = (f"hping3 --flood SYNs, {fl['sent_pps']:,.0f}/s, exception.rx_pps "
                f"{fl['rx_pps_limit']}")
        out.append(("e2e flood", "VIP new connections, no flood (baseline)", base, "conn/s",
                    base, "1", "", f"wrk -t1 -c32 Connection: close, {fl['phase_s']:.0f} s; "
                    f"after the floods {fl['after_cps']:.0f} conn/s"
                    + (f"; CPUs idle {fl['baseline_idle']:.0%}" if "baseline_idle" in fl else "")))
        out.append(("e2e flood", "VIP new connections, flood at the port address",
                    f(fl["port_cps"], ".0f"), "conn/s", base, f(fl["port_ratio"], ".3f"),
                    ">= 0.9", what + f"; {fl['port_vs_unowned']:.2f} x the unowned-address "
                    "control" + (f"; CPUs idle {fl['port_idle']:.0%}, irq+softirq "
                                 f"{fl['port_softirq']:.0%} (without flood "
                                 f"{fl['baseline_softirq']:.0%}), hping3 alone "
                                 f"{fl['hping3_cpus']:.2f} CPUs" if "port_idle" in fl else "")))
        out.append(("e2e flood", "VIP new connections, same flood at an unowned address",
                    f(fl["unowned_cps"], ".0f"), "conn/s", base, f(fl["unowned_ratio"], ".3f"),
                    "", f"hping3 {fl['unowned_sent_pps']:,.0f}/s, dropped as not_vip "
                    f"(+{fl['unowned_not_vip']:,}), exception_rx +{fl['unowned_exception_rx']}: "
                    "the flood's own cost on the shared cores"))
        out.append(("e2e flood", "flood frames sent at the port address", f(fl["sent"], ".0f"),
                    "packets", "", "", "", f"in {fl['flood_s']:.1f} s; exception_dropped "
                    f"+{fl['exception_dropped']:,}, exception_rx +{fl['exception_rx']:,}, "
                    f"exception_tx +{fl['exception_tx']:,}"))
        krx = max(r["port"]["kernel_rx"] for r in fl["rounds"])
        allowed = min(fl["rx_pps_limit"] * r["port"]["flood_s"] + fl["burst"]
                      for r in fl["rounds"])
        out.append(("e2e flood", "frames delivered to the kernel interface per second",
                    f(fl["kernel_rx_pps"], ".0f"), "frames/s", str(fl["rx_pps_limit"]),
                    f(fl["kernel_rx_pps"] / fl["rx_pps_limit"], ".3f"),
                    f"<= {fl['rx_pps_limit']} + burst",
                    f"dlb0 rx_packets over the flood (median of {len(fl['rounds'])} rounds); "
                    f"most in one round {krx:,}, least allowed rx_pps x seconds + burst "
                    f"{fl['burst']} = {allowed:,.0f}"))
    out += health_rows(e.get("health"))
    out += estimator_rows(res.get("estimator"))
    out += capture_rows(res.get("capture"))
    out += observe.observe_rows(res.get("observe"))
    out += scaling.scaling_rows(res.get("scaling"))
    return out


def estimator_rows(e):
    """Rows of the estimator scenario (scripts/bench/estimator.py): control-lcore time per call."""
    if not e:
        return []
    if e.get("error"):
        return [("estimator", "rate estimator and history", "", "", "", "", "",
                 "ERROR: " + e["error"][:200])]
    rows = []
    for d in e["daemon"]:
        what = f"{d['services']} services x 8 reals, traffic flowing, median of samples"
        rows.append(("estimator", f"estimator sample, {d['services']} services",
                     f(d["estimator_us_median"], ".0f"), "us", "", "", "",
                     f"{what}; max {d['estimator_us_max']:.0f} us; every 2 s"))
        rows.append(("estimator", f"history tick, {d['services']} services",
                     f(d["history_us_median"], ".0f"), "us", "", "", "",
                     f"{what}; max {d['history_us_max']:.0f} us; every 1 s"))
    return rows


def capture_rows(c):
    """Rows of the capture scenario (scripts/bench/capture.py): ratios within one run."""
    if not c:
        return []
    if c.get("error"):
        return [("capture", "forwarding with a capture running", "", "", "", "", "",
                 "ERROR: " + c["error"][:200])]
    what = f"{c['title']}, median of {c['runs']} alternating phases"
    return [
        ("capture", "forwarding, capture of everything running", f(c["all_mpps"], ".2f"), "Mpps",
         f(c["off_mpps"], ".2f"), f(c["ratio_all"], ".3f"), "",
         f"{what}; baseline: no capture, same daemon; {c['written_pps']:,.0f} packets/s "
         f"written, {c['lost_share']:.1%} of the selected packets lost (counted), "
         f"{c['bytes_per_packet']:.0f} B/packet in the file"),
        ("capture", "forwarding, capture filter matching nothing", f(c["nothing_mpps"], ".2f"),
         "Mpps", f(c["off_mpps"], ".2f"), f(c["ratio_nothing"], ".3f"), "",
         "the BPF filter run on every received and sent packet, nothing copied"),
    ] + ([("capture", "dpdk-dumpcap on the daemon (rte_pdump, hugepages)",
           str(c["dumpcap"].get("packets", "")), "packets", "", "", "",
           "dpdk-dumpcap -i net_null0 -c 1000, read back with tshark" +
           (f"; ERROR: {c['dumpcap']['error']}" if "error" in c["dumpcap"] else ""))]
         if c.get("dumpcap") else [])


def health_rows(h):
    """Rows of the health-check scale scenario (scripts/bench/health_scale.py)."""
    if not h:
        return []
    if h.get("error"):
        return [("e2e health", "1,000 checks/s + 500 agent polls/s", "", "", "", "", "",
                 "ERROR: " + h["error"][:200])]
    out = []
    what = (f"{h['reals']:,} reals ({h['services']} x {h['reals'] // h['services']}), http "
            f"negotiate every {h['check']['interval']} s, haproxy agents every "
            f"{h['agent']['interval']} s")

    def cpu_note(p):
        return (f"daemon {p['daemon']:.3f} CPU (worker {p['worker']:.3f}), backends (nginx + "
                f"agents) {p['backends']:.3f}, wrk {p['wrk']:.3f}; machine idle "
                f"{p['machine_idle']:.0%}, softirq {p['machine_softirq']:.0%}")
    for phase, title in (("idle", "no checks, idle"), ("wrk", "no checks, VIP load"),
                         ("checks_idle", "checks on, idle"), ("checks_wrk", "checks on, VIP load")):
        p = h[phase]
        base = h["idle"]["control"] if phase != "idle" else None
        out.append(("e2e health", f"control thread CPU, {title} ({what})", f(p["control"], ".3f"),
                    "CPUs", f(base, ".3f"), "", "", cpu_note(p)))
    for phase, title in (("checks_idle", "idle"), ("checks_wrk", "VIP load")):
        p = h[phase]
        out.append(("e2e health", f"checks completed per second, {title}",
                    f(p["checks_per_s"], ".0f"), "checks/s", "1000",
                    f(p["checks_per_s"] / 1000, ".3f"), "", ""))
        out.append(("e2e health", f"agent polls per second, {title}",
                    f(p["agent_polls_per_s"], ".0f"), "polls/s", "500",
                    f(p["agent_polls_per_s"] / 500, ".3f"), "", ""))
        out.append(("e2e health", f"check/agent timer lateness p99, {title}",
                    f(p["late_p99_ms"], ".2f"), "ms", "", "", "",
                    f"median of 2 s windows; worst window {p['late_p99_ms_worst']:.2f} ms, max "
                    f"{p['late_max_ms']:.2f} ms"))
    out.append(("e2e health", "failures while checks were on", str(h["while_on_checks_failed"]),
                "checks", "", "", "0",
                f"of {h['while_on_checks']:,} checks; agent failures {h['while_on_agent_failures']} "
                f"of {h['while_on_agent_polls']:,} polls; not run {h['while_on_checks_not_run']}; "
                f"'down' log lines {h['log_down']}"))
    out.append(("e2e health", "VIP new connections, no checks", f(h["vip_cps_without"], ".0f"),
                "conn/s", f(h["vip_cps_without"], ".0f"), "1", "",
                f"wrk -t1 -c{h['wrk_conns']} Connection: close, {h['phase_s']:.0f} s"))
    out.append(("e2e health", "VIP new connections, checks on", f(h["vip_cps_with"], ".0f"),
                "conn/s", f(h["vip_cps_without"], ".0f"), f(h["vip_ratio"], ".3f"), "",
                "ratio: median of the rounds' with/without"))
    if h.get("failed"):
        out.append(("e2e health", f"rounds done: {len(h['rounds'])} (figures above)", "", "", "",
                    "", "", "FAILED " + h["failed"][:200]))
    return out


HEAD = ("section", "scenario", "value", "unit", "baseline", "ratio", "goal", "note")


def write_tables(res, outdir):
    rs = rows(res) + synflood.rows(res.get("synflood"))
    import csv
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEAD)
        w.writerows(rs)
    md = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in rs:
        md.append("| " + " | ".join(str(x).replace("|", "/") for x in r) + " |")
    with open(os.path.join(outdir, "results.md"), "w") as fh:
        m = res["machine"]
        fh.write(f"dpdk-lb benchmark, {m['date']}: {m['cpu']}, {m['cpus']} CPUs, "
                 f"{m['mem_mb']} MiB, Linux {m['kernel']}, DPDK {m['dpdk']}; "
                 f"{res['params']['duration']} s per run, median of {res['params']['runs']}\n\n")
        fh.write("\n".join(md) + "\n")
    # text table for the terminal
    widths = [max(len(str(r[i])) for r in rs + [HEAD]) for i in range(7)]
    lines = []
    for r in [HEAD] + rs:
        lines.append("  ".join(str(r[i]).ljust(widths[i]) for i in range(7)))
    return "\n".join(lines)


def write_plot_data(res, outdir):
    with open(os.path.join(outdir, "dataplane.dat"), "w") as fh:
        fh.write("# scenario mpps ceiling_mpps ratio\n")
        for d in res.get("dataplane", []):
            if d.get("mpps"):
                fh.write(f"\"{d['key']}\" {d['mpps']:.3f} {d['ceiling_mpps']:.3f} "
                         f"{d['ratio']:.4f}\n")
    with open(os.path.join(outdir, "e2e.dat"), "w") as fh:
        fh.write("# path keepalive_rps close_rps keepalive_p99 close_p99\n")
        e = res.get("e2e", {})
        for name in ("direct", "dpdk_lb_idle50", "dpdk_lb_idle0", "haproxy", "nginx_stream"):
            ka, cl = e.get(f"{name}/keepalive"), e.get(f"{name}/close")
            if ka and cl:
                fh.write(f"\"{name}\" {ka['rps']:.0f} {cl['rps']:.0f} {ka['p99_ms'] or 0:.3f} "
                         f"{cl['p99_ms'] or 0:.3f}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--only",
                    default="dataplane,control,lateness,e2e,flood,health,capture,observe,"
                            "estimator,synflood,scaling")
    ap.add_argument("--scenarios", default="", help="comma-separated dataplane scenario keys")
    ap.add_argument("--new-conn-syns", type=int, default=0,
                    help="unique SYNs of the new-connection pcap (default: from free memory)")
    ap.add_argument("--no-huge", action="store_true", help="no hugepages for the dataplane runs")
    ap.add_argument("--no-10m", action="store_true")
    ap.add_argument("--baseline-build", default="",
                    help="a daemon build of another commit: its publish figures, same run")
    ap.add_argument("--publish-paced", type=float, default=60,
                    help="seconds of 100 weight changes per second under load (0: skip)")
    ap.add_argument("--lateness-phase", type=float, default=control.LATENESS_WINDOW_S,
                    help="seconds per phase of the control-loop lateness scenario (default: the "
                    "probe's 1024-sample window, so each phase's figures are its own)")
    ap.add_argument("--lateness-flows", type=int, default=1_000_000,
                    help="connections in the tables while conn.list pages through them")
    ap.add_argument("--workers", default="1,2",
                    help="worker counts of the scaling section (scaling.py; counts the machine "
                    "cannot pin are skipped)")
    ap.add_argument("--synflood-duration", type=float, default=30,
                    help="seconds of the SYN flood scenario's measured interval")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(args.build, "bench-pcaps")
    os.makedirs(cache, exist_ok=True)
    huge = not args.no_huge
    syns = args.new_conn_syns
    if not syns:
        # Every replayed SYN must find its previous flow expired (syn_recv 1 s): the pcap must
        # last well over 1 s at the rate reached (10 Mpps after the first optimisation pass).
        # Each packet stays in a 128-byte-data mbuf (~512 B) and each flow takes ~200 B of
        # table: take what memory allows, leaving 6 GiB to the machine, at most 24M.
        budget = mem_available_mb() - 6144 - 900
        syns = int(min(24_000_000, max(1_000_000, budget * 2**20 / 712)) // 100_000 * 100_000)
    res = {"machine": machine(), "params": {"duration": args.duration, "runs": args.runs,
                                            "warmup": args.warmup, "new_conn_syns": syns,
                                            "hugepages": huge}}
    log(f"machine: {res['machine']}")
    only = args.only.split(",")
    path = os.path.join(args.out, "results.json")

    def save():
        with open(path, "w") as fh:
            json.dump(res, fh, indent=1)
    if "dataplane" in only:
        dataplane.run_all(args.build, work, cache, args.duration, args.runs, args.warmup, syns,
                          not args.no_10m, False, res, huge=huge,
                          only=[s for s in args.scenarios.split(",") if s])
        save()
    if "control" in only:
        control.run_all(args.build, work, cache, args.duration, huge, res,
                        baseline=args.baseline_build or None, paced_s=args.publish_paced)
        save()
    if "lateness" in only:
        log("control loop lateness: 10,000 services x 10 reals, "
            f"{args.lateness_flows:,} connections")
        try:
            res.setdefault("control", {})["lateness"] = control.run_lateness(
                args.build, work, cache, huge, args.lateness_phase, args.lateness_flows)
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res.setdefault("control", {})["lateness"] = {"error": str(e)}
        save()
    if "e2e" in only:
        e2e.run_all(args.build, args.duration, args.runs, res)
        save()
    if "flood" in only:
        log("e2e: the exception path under a flood")
        try:
            e2e.run_flood(args.build, args.duration, args.runs, res)
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res.setdefault("e2e", {})["flood"] = {"error": str(e)}
        save()
    if "health" in only:
        log("e2e: 1,000 health checks per second and 500 agent polls per second")
        try:
            health_scale.run_health_scale(args.build, args.duration, args.runs, res, args.out)
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res.setdefault("e2e", {})["health"] = {"error": str(e)}
        save()
    if "capture" in only:
        log("dataplane: forwarding with a capture of everything running")
        try:
            capture.run_capture(args.build, work, cache, args.duration, args.runs, args.warmup,
                                huge, res)
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res["capture"] = {"error": str(e)}
    if "estimator" in only:
        log("estimator: the rate estimator's and history's cost on the control lcore")
        try:
            res["estimator"] = {"daemon": [estimator.measure(args.build, n, 10)
                                           for n in (100, 1000)]}
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res["estimator"] = {"error": str(e)}
        save()
    if "observe" in only:
        log("observe: blocklist lookups and conn.top walks while forwarding")
        try:
            observe.run_observe(args.build, work, cache, args.duration, args.runs, args.warmup,
                                huge, res)
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res["observe"] = {"error": str(e)}
        save()
    if "scaling" in only:
        log(f"scaling: the dataplane scenarios with {args.workers} workers")
        try:
            scaling.run_all(args.build, work, cache, scaling.parse_workers(args.workers),
                            list(scaling.SCENARIOS), args.duration, args.runs, args.warmup,
                            scaling.SYNS_PER_WORKER, res, huge=huge)
            print(scaling.table(res["scaling"]))
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res.setdefault("scaling", {})["error"] = str(e)
        save()
    if "synflood" in only:
        log(f"dataplane: a {args.synflood_duration:.0f} s SYN flood from random sources, "
            "1 legitimate connection in 1,000")
        try:
            res["synflood"] = synflood.run(args.build, work, cache, args.synflood_duration,
                                           args.warmup, huge)
        except Exception as e:  # noqa: BLE001
            log(f"  FAILED: {e}")
            res["synflood"] = {"error": str(e)}
        save()
    save()
    write_plot_data(res, args.out)
    print(write_tables(res, args.out))


if __name__ == "__main__":
    main()
