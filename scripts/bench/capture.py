"""Capture scenario: forwarding (established DR, 100,000 flows, one worker, pcap in / null out,
as dataplane.py's est_100k) measured in one daemon with no capture, with a capture of everything
running (capture.start without filter: every received and every sent packet copied and written
to a pcapng file), and with a capture whose filter matches nothing (the BPF filter's cost alone),
phases alternating so that the ratios come from the same run."""
import contextlib
import os
import subprocess
import time

import dataplane
from common import HugePages, interval_rates, log, median, wait_until

FILTER_NOTHING = "tcp port 9"  # the replayed traffic is all to port 80


def measure(d, duration):
    s0 = d.dataplane_stats()
    time.sleep(duration)
    return interval_rates(s0, d.dataplane_stats())


def capture_phase(d, work, duration, params):
    """Forwarding while a capture with params runs; (rates, capture.status at the end)."""
    path = os.path.abspath(os.path.join(work, "bench-capture.pcapng"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    d.call("capture.start", dict(params, file=path))
    try:
        time.sleep(0.5)  # the copies' mempool warm, the ring in its steady state
        r = measure(d, duration)
    finally:
        d.call("capture.stop")
        st = wait_until(lambda: (s := d.call("capture.status"))["state"] == "stopped" and s,
                        60, 0.1, "the capture to end")
    st["file_bytes"] = os.path.getsize(path)
    os.unlink(path)
    return r, st


def dumpcap_check(d, work):
    """dpdk-dumpcap (a secondary process, through rte_pdump) on the daemon's out port: how many
    packets it wrote, or the error. Needs the daemon on hugepages."""
    path = os.path.abspath(os.path.join(work, "bench-dumpcap.pcapng"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    try:
        r = subprocess.run(["dpdk-dumpcap", "--file-prefix", d.prefix, "-i", "net_null0", "-c",
                            "1000", "-q", "-w", path], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            return {"error": (r.stderr or r.stdout)[-300:]}
        n = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True, timeout=60).stdout.split()
        return {"packets": len(n)}
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": str(e)}
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def run_capture(build, work, cache, duration, runs, warmup, huge, results):
    n = 100_000
    ack, ack_n = dataplane.pcap(cache, "ack", n, n, 1)
    syn, _ = dataplane.pcap(cache, "syn", n)
    sc = dataplane.Scenario("capture", f"established DR, {n:,} flows", "wrr", ack, ack_n, n,
                            prefill_pcap=syn, huge=huge)
    phases = {"off": [], "all": [], "nothing": []}
    statuses = []
    dumpcap = {}

    def during(d):
        for i in range(runs):
            log(f"capture: run {i + 1}/{runs}")
            phases["off"].append(measure(d, duration)["tx_mpps"])
            r, st = capture_phase(d, work, duration, {})
            phases["all"].append(r["tx_mpps"])
            statuses.append(dict(st, dt=r["dt"]))
            r, _ = capture_phase(d, work, duration, {"filter": FILTER_NOTHING})
            phases["nothing"].append(r["tx_mpps"])
            log(f"  no capture {phases['off'][-1]:.2f} Mpps, capture everything "
                f"{phases['all'][-1]:.2f} Mpps ({st['captured']:,} written, {st['lost']:,} lost), "
                f"filter matching nothing {phases['nothing'][-1]:.2f} Mpps")
        if huge:
            dumpcap.update(dumpcap_check(d, work))
            log(f"  dpdk-dumpcap on the out port: {dumpcap}")

    # the capture's mempool (8191 copies) and rings come on top of the scenario's memory
    mem = sc.mem_mb() + 64
    with (HugePages(mem + 512) if huge else contextlib.nullcontext()) as hp:
        dataplane.run_lb(build, work, sc, 0, warmup, hp.dir if hp else None, during=during)
    off, on, nothing = (median(phases[k]) for k in ("off", "all", "nothing"))
    written = median([s["captured"] / s["elapsed_s"] for s in statuses])
    lost = sum(s["lost"] for s in statuses)
    matched = sum(s["matched"] for s in statuses)
    results["capture"] = {
        "title": sc.title, "runs": runs, "off_mpps": off, "all_mpps": on,
        "nothing_mpps": nothing, "ratio_all": on / off if off else None,
        "ratio_nothing": nothing / off if off else None, "written_pps": written,
        "lost_share": lost / matched if matched else None,
        "bytes_per_packet": median([s["file_bytes"] / s["captured"] for s in statuses
                                    if s["captured"]]) if statuses else None,
        "phases": phases, "statuses": statuses, "dumpcap": dumpcap or None,
    }
    return results["capture"]
