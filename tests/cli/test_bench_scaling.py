"""The worker-scaling benchmark's parts that can rot without anyone running it: the argument
parsing of scripts/bench-scaling.sh (scripts/bench/scaling.py), its pinning plan and the
skipping of worker counts the machine cannot pin, and the per-queue pcaps of mkpcap.py (with
and without numpy). Runs nothing of DPDK and needs no root: --help and --dry-run stop before.
"""
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = str(REPO / "scripts" / "bench-scaling.sh")
MKPCAP = str(REPO / "scripts" / "bench" / "mkpcap.py")
sys.path.insert(0, str(REPO / "scripts" / "bench"))
import scaling  # noqa: E402


def run(*args):
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=60,
                          cwd="/")


def test_help_names_every_option():
    p = run("--help")
    assert p.returncode == 0, p.stderr
    for opt in ("--quick", "--workers", "--scenarios", "--cpus", "--build", "--out",
                "--runs", "--fresh", "--duration", "--dry-run", "--syns-per-worker"):
        assert opt in p.stdout, opt


def test_dry_run_on_two_cpus_pins_two_workers_and_skips_four_and_eight():
    p = run("--dry-run", "--cpus", "0-1")
    assert p.returncode == 0, p.stderr
    lines = {ln.split(":")[0]: ln for ln in p.stdout.splitlines() if "workers:" in ln}
    assert lines["1 workers"].endswith("--lcores 0@0,1@1")
    assert "--lcores 0@0,1@1,2@0" in lines["2 workers"]
    assert "the control lcore shares CPU 0 with worker 1" in lines["2 workers"]
    for w in (4, 8):
        assert f"{w} workers: SKIPPED: {w} workers need {w} CPUs" in lines[f"{w} workers"]
        assert "this run may use 2 (CPUs 0,1)" in lines[f"{w} workers"]


def test_dry_run_on_sixteen_cpus_gives_every_lcore_its_own_cpu():
    # CPUs this machine may not have: sysfs does not describe them, so each is its own core
    p = run("--dry-run", "--cpus", "0,1,40-60", "--workers", "8")
    assert p.returncode == 0, p.stderr
    lcores = p.stdout.split("--lcores ")[1].split()[0]
    cpus = [int(x.split("@")[1]) for x in lcores.split(",")]
    assert len(cpus) == 9 and len(set(cpus)) == 9 and cpus[0] == 0
    assert "SKIPPED" not in p.stdout and "shares" not in p.stdout


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "0 is out of range 1-16"),
    (["--workers", "17"], "17 is out of range 1-16"),
    (["--workers", "2,2"], "names a count twice"),
    (["--workers", "two"], "not a comma-separated list of integers"),
    (["--scenarios", "est_100k,bogus"], "unknown bogus"),
    (["--cpus", "3-1"], "bad CPU range"),
    (["--runs", "0"], "--runs >= 1"),
    (["--syns-per-worker", "10"], "--syns-per-worker >= 100000"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_arguments_are_refused_before_anything_runs(args, message):
    for extra in ([], ["--dry-run"]):  # the real run checks its arguments first too
        p = run(*args, *extra)
        assert p.returncode == 2, (args, extra, p.stdout, p.stderr)
        assert message in p.stderr, p.stderr


def test_cpus_outside_the_affinity_are_refused_for_a_real_run():
    p = run("--cpus", "0-4095")
    assert p.returncode == 2
    assert "not available to this process (only with --dry-run)" in p.stderr


def topo(n_cpus, node_of=lambda c: 0, core_of=lambda c: c):
    return {c: (node_of(c), (0, core_of(c))) for c in range(n_cpus)}


def test_plan_prefers_distinct_cores_then_siblings():
    # 4 cores x 2 threads: CPUs c and c + 4 are siblings
    t = topo(8, core_of=lambda c: c % 4)
    lcores, notes = scaling.cpu_plan(3, list(range(8)), t)
    assert lcores == "0@0,1@1,2@2,3@3" and notes == []
    lcores, notes = scaling.cpu_plan(5, list(range(8)), t)
    assert lcores == "0@0,1@1,2@2,3@3,4@4,5@5"
    assert notes == ["CPUs 1,4,5 are hyperthreads of a core another lcore uses"]


def test_plan_stays_on_the_control_lcores_node_until_it_is_full():
    t = topo(8, node_of=lambda c: c // 4)  # node 0: CPUs 0-3, node 1: 4-7
    lcores, notes = scaling.cpu_plan(3, list(range(8)), t)
    assert lcores == "0@0,1@1,2@2,3@3" and notes == []
    lcores, notes = scaling.cpu_plan(4, list(range(8)), t)
    assert lcores == "0@0,1@1,2@2,3@3,4@4"
    assert notes == ["CPUs 4 are on another NUMA node than the pool (node 0)"]
    # the node with more CPUs in the set is home
    lcores, _ = scaling.cpu_plan(2, [3, 4, 5, 6], t)
    assert lcores.startswith("0@4,")


def test_plan_refuses_more_workers_than_cpus():
    with pytest.raises(scaling.Unpinnable, match="3 workers need 3 CPUs"):
        scaling.cpu_plan(3, [0, 1], topo(2))


def flows_of(path):
    """Flow ids of a pcap written by mkpcap.py, in file order."""
    data = open(path, "rb").read()
    assert struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4
    out = []
    for off in range(24, len(data), 76):
        frame = data[off + 16:off + 76]
        src = struct.unpack("!I", frame[26:30])[0]
        sport = struct.unpack("!H", frame[34:36])[0]
        out.append(((src - (11 << 24)) << 15) | (sport - 1024))
    return out


@pytest.mark.parametrize("no_numpy", [False, True])
def test_per_queue_pcaps_hold_each_flow_once_and_syn_matches_ack(tmp_path, no_numpy):
    env = dict(os.environ, **({"MKPCAP_NO_NUMPY": "1"} if no_numpy else {}))
    n, parts = 70_000, 3  # > 2 x 32768: flows of three source addresses
    syn, ack = [], []
    for q in range(parts):
        for kind, args, into in (("syn", [n], syn), ("ack", [n, n, 1], ack)):
            path = tmp_path / f"{kind}{q}.pcap"
            subprocess.run([sys.executable, MKPCAP, kind, str(path), *map(str, args),
                            str(parts), str(q)], check=True, env=env, timeout=120)
            ids = flows_of(path)
            assert all(i % parts == q for i in ids), (kind, q)
            into.append(ids)
        assert sorted(syn[q]) == sorted(ack[q]) == list(range(q, n, parts))
        assert ack[q] != syn[q]  # the ACKs come in random order
    assert sorted(sum(syn, [])) == list(range(n))


def test_syn_pcap_without_numpy_is_the_same_bytes(tmp_path):
    pytest.importorskip("numpy")
    a, b = tmp_path / "np.pcap", tmp_path / "plain.pcap"
    subprocess.run([sys.executable, MKPCAP, "syn", str(a), "40000", "2", "1"], check=True)
    subprocess.run([sys.executable, MKPCAP, "syn", str(b), "40000", "2", "1"], check=True,
                   env=dict(os.environ, MKPCAP_NO_NUMPY="1"))
    assert a.read_bytes() == b.read_bytes()


def test_both_pcap_follows_each_ack_with_its_nat_reply(tmp_path):
    """mkpcap.py both: the ACK pcap's flows in the same order, each ACK followed by the one
    real's reply to that client (addresses and ports swapped), IP checksums right."""
    pytest.importorskip("numpy")
    from scapy.all import IP, TCP, rdpcap
    n = 2_000
    paths = {k: tmp_path / f"{k}.pcap" for k in ("ack", "both")}
    for kind, path in paths.items():
        subprocess.run([sys.executable, MKPCAP, kind, str(path), str(n), str(n), "1"],
                       check=True, timeout=120)
    acks, both = rdpcap(str(paths["ack"])), rdpcap(str(paths["both"]))
    assert len(both) == 2 * len(acks) == 2 * n
    for k in range(0, n, 37):
        a, c, r = acks[k], both[2 * k], both[2 * k + 1]
        assert bytes(c) == bytes(a)
        assert (r[IP].src, r[TCP].sport, r[IP].dst, r[TCP].dport) == \
            ("10.0.0.11", 80, a[IP].src, a[TCP].sport)
        assert r[TCP].flags == "A"
        fresh = r[IP].copy()
        fresh.chksum = None
        assert r[IP].chksum == IP(bytes(fresh)).chksum
