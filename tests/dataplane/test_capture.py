"""capture.start/stop/status and `dpdk-lb-cli capture`: pcapng files of what the workers receive
and send, filtered by a libpcap filter that runs in the workers (docs/api.md, Capture).

The port reads its packets from a FIFO (net_pcap rx_pcap): the daemon starts, the capture
starts, and only then does the test write the traffic, so what was received during the capture
is known exactly. Files are read back with tshark and tcpdump."""
import json
import os
import shutil
import struct
import subprocess
import threading
import time

import pytest
from scapy.all import IP, TCP, UDP, Ether

from lbdaemon import BUILD, PcapDaemon, RpcError, wait_until

CLI = os.path.join(BUILD, "control", "cli", "dpdk-lb-cli")
PORT_MAC = "02:70:63:61:70:00"
CLIENT_MAC = "02:00:00:00:00:0c"
VIP = "10.9.0.100"
REAL, REAL_MAC = "10.9.0.11", "02:00:00:00:00:11"
CLIENT_A, CLIENT_B = "10.8.0.1", "10.8.0.2"


def direction(field):
    """tshark's frame.packet_flags_direction (pcapng epb_flags, "0x00000001") as in/out."""
    return {1: "in", 2: "out"}.get(int(field, 0), field)


def config():
    return {"ports": [{"address": "10.9.0.2/24"}],
            "neighbours": {"static": [{"ip": REAL, "mac": REAL_MAC}]},
            "services": [{"vip": VIP, "port": 80, "proto": "tcp", "scheduler": "rr",
                          "forward": "dr", "reals": [{"ip": REAL}]}]}


class FifoPort:
    """The rx side of a pcap port as a FIFO: the daemon reads the pcap header at start, then
    each packet when the test writes it. close() gives it end of file (the worker, which blocks
    reading the FIFO, polls normally again)."""

    def __init__(self, path):
        self.path = str(path)
        os.mkfifo(self.path)
        self.f = None
        self.opened = threading.Event()
        # open() blocks until the daemon opens the FIFO (EAL probe): a thread waits for it
        threading.Thread(target=self._open, daemon=True).start()

    def _open(self):
        self.f = open(self.path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.f.flush()
        self.opened.set()

    def send(self, pkts):
        assert self.opened.wait(20), "the daemon never opened the FIFO"
        for p in pkts:
            raw = bytes(p)
            self.f.write(struct.pack("<IIII", 0, 0, len(raw), len(raw)) + raw)
        self.f.flush()

    def close(self):
        if self.opened.is_set() and not self.f.closed:
            self.f.close()
        elif not self.opened.is_set():
            # the daemon never opened it: unblock the writer thread with a reader of our own
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            self.opened.wait(5)
            os.close(fd)


@pytest.fixture
def capd(tmp_path):
    """(daemon, its FIFO port) with the DR service of config(); both cleaned up."""
    fifo = FifoPort(tmp_path / "rx.fifo")
    d = None
    try:
        d = PcapDaemon([fifo.path], config())
        assert fifo.opened.wait(20)
        yield d, fifo
    finally:
        fifo.close()
        if d is not None:
            rc = d.stop()
            log = d.read_log()
            shutil.rmtree(d.dir, ignore_errors=True)
            assert rc == 0, log[-4000:]


def traffic():
    """Client A and B to the service (forwarded: received and sent), and UDP nobody serves
    (received, dropped)."""
    pkts = []
    for i in range(6):
        for n, src in enumerate((CLIENT_A, CLIENT_B)):
            pkts.append(Ether(src=CLIENT_MAC, dst=PORT_MAC) / IP(src=src, dst=VIP) /
                        TCP(sport=40001 + n, seq=i, dport=80, flags="S" if i == 0 else "A"))
    pkts += [Ether(src=CLIENT_MAC, dst=PORT_MAC) / IP(src=CLIENT_A, dst="10.9.0.200") /
             UDP(sport=5000 + i, dport=53) for i in range(4)]
    return pkts


def tshark(path, *fields):
    r = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields",
                        *sum((["-e", f] for f in fields), [])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [tuple(line.split("\t")) for line in r.stdout.splitlines()]


def wait_stopped(d, timeout=10):
    return wait_until(lambda: (s := d.rpc.call("capture.status"))["state"] == "stopped" and s,
                      timeout=timeout, what="the capture to end")


def test_file_holds_exactly_the_filtered_packets_received_and_sent(capd, tmp_path):
    d, fifo = capd
    out = tmp_path / "cap.pcapng"
    t0 = time.time()
    st = d.rpc.call("capture.start", {"filter": f"tcp port 80 and host {CLIENT_A}",
                                      "file": str(out)})
    assert st["state"] == "running" and st["captured"] == 0
    pkts = traffic()
    fifo.send(pkts)
    fifo.close()
    d.wait_rx(len(pkts))
    st = d.rpc.call("capture.stop")
    assert st["state"] in ("stopping", "stopped")
    st = wait_stopped(d)
    assert st["stop_reason"] == "stopped" and st["lost"] == 0
    # client A's 6 TCP packets came in and went out to the real (dr: only the MACs change)
    assert st["matched"] == 12 and st["captured"] == 12
    rows = tshark(out, "frame.packet_flags_direction", "eth.dst", "ip.src", "ip.dst",
                  "tcp.srcport", "tcp.dstport")
    got = sorted((direction(r[0]),) + r[1:] for r in rows)
    want = sorted([("in", PORT_MAC, CLIENT_A, VIP, "40001", "80")] * 6 +
                  [("out", REAL_MAC, CLIENT_A, VIP, "40001", "80")] * 6)
    assert got == want
    # packet times are wall-clock times of this run (DPDK 22.11's own conversion is wrong)
    times = [float(r[0]) for r in tshark(out, "frame.time_epoch")]
    assert all(t0 - 1 <= t <= time.time() + 1 for t in times), (t0, times)
    # the received copies are the very bytes the client sent
    r = subprocess.run(["tshark", "-n", "-r", str(out), "-Y", "frame.packet_flags_direction == 1",
                        "-T", "fields", "-e", "frame.len"], capture_output=True, text=True)
    assert [int(x) for x in r.stdout.split()] == [len(p) for p in pkts[0:12:2]]
    # everything is accounted for: the other packets were forwarded or dropped, not captured
    sd = d.stats()["dataplane"]
    assert sd["drop_reasons"]["not_vip"] == 4


def test_capture_everything_and_by_port(capd, tmp_path):
    d, fifo = capd
    out = tmp_path / "all.pcapng"
    d.rpc.call("capture.start", {"file": str(out), "port": 0, "snaplen": 64})
    pkts = traffic()
    fifo.send(pkts)
    fifo.close()
    d.wait_rx(len(pkts))
    d.rpc.call("capture.stop")
    st = wait_stopped(d)
    # 16 received, 12 forwarded
    assert st["captured"] == 28 and st["lost"] == 0 and st["port"] == 0
    rows = tshark(out, "frame.packet_flags_direction", "frame.cap_len", "frame.len")
    assert sorted(direction(r[0]) for r in rows).count("in") == 16
    assert all(int(r[1]) == min(64, int(r[2])) for r in rows)


def test_count_limit(capd, tmp_path):
    d, fifo = capd
    out = tmp_path / "count.pcapng"
    d.rpc.call("capture.start", {"file": str(out), "filter": "udp", "count": 3})
    pkts = traffic()
    fifo.send(pkts)
    fifo.close()
    st = wait_stopped(d)
    assert st["stop_reason"] == "count" and st["captured"] == 3
    assert st["matched"] == st["captured"] + st["over_limit"] + st["lost"]
    assert len(tshark(out, "udp.dstport")) == 3
    assert {r[0] for r in tshark(out, "udp.dstport")} == {"53"}


def test_duration_limit(capd, tmp_path):
    d, fifo = capd
    fifo.close()  # no traffic at all: the worker polls freely
    out = tmp_path / "dur.pcapng"
    d.rpc.call("capture.start", {"file": str(out), "duration": 1})
    assert d.rpc.call("capture.status")["state"] == "running"
    st = wait_stopped(d, timeout=10)
    assert st["stop_reason"] == "duration" and st["captured"] == 0
    assert 1.0 <= st["elapsed_s"] < 5.0
    assert tshark(out, "frame.number") == []  # an empty capture, but a valid pcapng file


@pytest.mark.parametrize("params,field", [
    ({"filter": "tcp portt 80"}, "filter"),
    ({"filter": "host 10.0.0.300"}, "filter"),
    ({"filter": 5}, "params.filter"),
    ({}, "params.file"),
    ({"file": "relative.pcapng"}, "params.file"),
    ({"port": 1}, "params.port"),
    ({"snaplen": 10}, "params.snaplen"),
    ({"count": -1}, "params.count"),
    ({"duration": 100000}, "params.duration"),
    ({"bogus": 1}, "params.bogus"),
])
def test_bad_parameters_are_refused(capd, tmp_path, params, field):
    d, _ = capd
    out = tmp_path / "bad.pcapng"
    p = dict({"file": str(out)}, **params) if "file" not in params and params != {} else params
    with pytest.raises(RpcError) as e:
        d.rpc.call("capture.start", p)
    assert e.value.code == -32602 and e.value.message.startswith(field), e.value.message
    assert not out.exists()
    assert d.rpc.call("capture.status")["state"] == "idle"


def test_existing_file_is_not_overwritten(capd, tmp_path):
    d, _ = capd
    out = tmp_path / "exists.pcapng"
    out.write_text("keep me")
    with pytest.raises(RpcError) as e:
        d.rpc.call("capture.start", {"file": str(out)})
    assert e.value.code == -32602 and "file: cannot create" in e.value.message
    assert out.read_text() == "keep me"


def test_concurrent_start_is_refused(capd, tmp_path):
    d, fifo = capd
    fifo.close()
    first, second = tmp_path / "1.pcapng", tmp_path / "2.pcapng"
    d.rpc.call("capture.start", {"file": str(first)})
    with pytest.raises(RpcError) as e:
        d.rpc.call("capture.start", {"file": str(second)})
    assert e.value.code == -32002 and "running" in e.value.message
    assert not second.exists()
    assert d.rpc.call("capture.status")["file"] == str(first)
    d.rpc.call("capture.stop")
    wait_stopped(d)
    with pytest.raises(RpcError) as e:
        d.rpc.call("capture.stop")
    assert e.value.code == -32001
    # once it ended, the next one may start
    assert d.rpc.call("capture.start", {"file": str(second)})["state"] == "running"
    d.rpc.call("capture.stop")
    wait_stopped(d)


def test_cli_streams_into_tcpdump(capd, tmp_path):
    d, fifo = capd
    cmd = f"'{CLI}' -s '{d.sock}' capture -c 4 tcp and src host {CLIENT_B} | tcpdump -n -r -"
    proc = subprocess.Popen(["sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_until(lambda: d.rpc.call("capture.status")["state"] == "running", timeout=10,
                   what="the CLI's capture")
        fifo.send(traffic())
        fifo.close()
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and all(f"{CLIENT_B}.40002 > " in ln for ln in lines), out
    assert "4 packets captured" in err
    # the CLI removed its temporary file
    assert not os.path.exists(d.rpc.call("capture.status")["file"])


def test_cli_writes_a_file_and_replaces_an_old_one(capd, tmp_path):
    d, fifo = capd
    out = tmp_path / "cli.pcapng"
    out.write_text("old")
    proc = subprocess.Popen([CLI, "-s", d.sock, "capture", "-w", str(out), "-c", "2", "udp"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: d.rpc.call("capture.status")["state"] == "running", timeout=10,
                   what="the CLI's capture")
        fifo.send(traffic())
        fifo.close()
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert [r[0] for r in tshark(out, "udp.srcport")] == ["5000", "5001"]
    st = subprocess.run([CLI, "-s", d.sock, "capture", "status"], capture_output=True, text=True)
    assert json.loads(st.stdout)["stop_reason"] == "count"


def test_cli_refuses_a_bad_filter(capd, tmp_path):
    d, _ = capd
    r = subprocess.run([CLI, "-s", d.sock, "capture", "-w", str(tmp_path / "x.pcapng"),
                        "tcp", "portt", "80"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "filter: not a valid capture filter" in r.stderr, r.stderr
    assert not (tmp_path / "x.pcapng").exists()


def test_cli_stops_the_capture_when_its_reader_goes_away(capd):
    d, fifo = capd
    cmd = f"'{CLI}' -s '{d.sock}' capture | head -c 10 > /dev/null"
    proc = subprocess.Popen(["sh", "-c", cmd], stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: d.rpc.call("capture.status")["state"] == "running", timeout=10,
                   what="the CLI's capture")
        fifo.send(traffic())  # more to write after head has gone: EPIPE, then capture.stop
        fifo.close()
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    st = wait_stopped(d)
    assert st["stop_reason"] == "stopped", (st, err)


def test_cli_usage_and_rpc_errors(capd, tmp_path):
    d, _ = capd
    r = subprocess.run([CLI, "-s", d.sock, "capture", "-w", str(tmp_path / "u.pcapng"), "-c",
                        "many"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "--count needs an integer" in r.stderr, r.stderr
    assert d.rpc.call("capture.status")["state"] == "idle"  # nothing was sent
    r = subprocess.run([CLI, "-s", d.sock, "capture", "stop"], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 1 and "no capture is running (code -32001)" in r.stderr, r.stderr


def test_shutdown_writes_a_running_capture_out(capd, tmp_path):
    d, fifo = capd
    out = tmp_path / "shutdown.pcapng"
    d.rpc.call("capture.start", {"file": str(out), "filter": "tcp"})
    pkts = traffic()
    fifo.send(pkts)
    fifo.close()
    d.wait_rx(len(pkts))
    wait_until(lambda: d.rpc.call("capture.status")["captured"] == 24, timeout=10,
               what="the copies written")
    assert d.stop() == 0, d.read_log()[-3000:]
    assert len(tshark(out, "frame.number")) == 24  # 12 received, 12 forwarded
    assert "capture to " + str(out) + " ended (shutdown)" in d.read_log()
