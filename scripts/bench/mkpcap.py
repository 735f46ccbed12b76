#!/usr/bin/python3
"""Writes the benchmark's pcap files: 60-byte Ethernet/IPv4/TCP frames (64 on the wire with the
FCS), one per flow or a random sample, built with numpy so millions take a few seconds.

Flow i: 11.(i>>15 as 3 bytes) -> VIP:80, source port 1024 + (i & 0x7fff). Every generator uses
the same mapping, so a SYN pcap and an ACK pcap over the same i describe the same connections.

  mkpcap.py syn OUT N            N SYNs of flows 0..N-1 (in order)
  mkpcap.py ack OUT N FLOWS SEED N ACKs of flows drawn from 0..FLOWS-1: a random permutation
                                 when N == FLOWS, else a uniform sample without repetition
  mkpcap.py both OUT N FLOWS SEED the same N ACKs, each followed by its nat reply: from
                                 10.0.0.11:80 (the one real) to the flow's client (2N frames;
                                 numpy only)

Both take two more arguments, PARTS PART, for one receive queue of several (the worker-scaling
scenarios, scaling.py): only the flows i with i % PARTS == PART, in the order above, so PARTS
files hold every flow exactly once and the SYN and ACK files of a part hold the same flows.

numpy builds the frames; without it (a bare machine with only DPDK, e.g. a scaling run on a
bigger machine) the same frames are written by plain Python (MKPCAP_NO_NUMPY=1 forces that);
SYN files are byte for byte the same, ACK files hold the same frames in another random order.
"""
import os
import random
import struct
import sys

try:
    import numpy as np
except ImportError:  # the scaling script must run where only DPDK and Python are installed
    np = None
if os.environ.get("MKPCAP_NO_NUMPY"):  # the fallback, chosen (tests/cli/test_bench_scaling.py)
    np = None

VIP = (10 << 24) | (9 << 16) | 100       # 10.9.0.100
SRC_BASE = 11 << 24                       # 11.0.0.0/8
FRAME = 60
REC = 16 + FRAME


def frames(src, sport, dst, flags, dport=None):
    """pcap records of 60-byte Ethernet/IPv4/TCP frames, one per element of the equal-length
    arrays src, sport, dst (host-order integers) and flags (TCP flags; ACK set: ack 1); the
    destination port is 80 or, with dport, its elements."""
    n = len(src)
    buf = np.zeros((n, REC), dtype=np.uint8)
    # pcap record header: ts_sec, ts_usec, incl_len, orig_len (little endian)
    buf[:, 0:16] = np.array([0, 0, FRAME, FRAME], dtype="<u4").view(np.uint8)
    f = buf[:, 16:]
    f[:, 0:6] = [0x02, 0, 0, 0, 0, 0x01]            # dst MAC (the appliance; not checked)
    f[:, 6:12] = [0x02, 0, 0, 0, 0, 0x02]           # src MAC (a router)
    f[:, 12:14] = [0x08, 0x00]
    ip = f[:, 14:34]
    ip[:, 0] = 0x45
    ip[:, 2:4] = [0, 40]                            # total length
    ip[:, 6] = 0x40                                 # DF
    ip[:, 8] = 64
    ip[:, 9] = 6
    for k in range(4):
        ip[:, 12 + k] = (src >> np.uint32(24 - 8 * k)) & np.uint32(0xff)
        ip[:, 16 + k] = (dst >> np.uint32(24 - 8 * k)) & np.uint32(0xff)
    words = ip.astype(np.uint32).reshape(n, 10, 2)
    s = (words[:, :, 0] << 8 | words[:, :, 1]).sum(axis=1)
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    csum = (~s) & 0xffff
    ip[:, 10] = csum >> 8
    ip[:, 11] = csum & 0xff
    tcp = f[:, 34:54]
    tcp[:, 0] = sport >> 8
    tcp[:, 1] = sport & 0xff
    if dport is None:
        tcp[:, 2:4] = [0, 80]
    else:
        tcp[:, 2] = dport >> 8
        tcp[:, 3] = dport & 0xff
    tcp[:, 4:8] = [0, 0, 0, 1]                      # seq
    tcp[:, 8:12] = np.where((flags & 0x10)[:, None] != 0, [0, 0, 0, 1], [0, 0, 0, 0])  # ack
    tcp[:, 12] = 0x50
    tcp[:, 13] = flags
    tcp[:, 14:16] = [0xff, 0xff]                    # window
    return buf


def build(flow_ids, tcp_flags):
    """The frames of flows flow_ids (the mapping in this file's docstring)."""
    ids = np.asarray(flow_ids, dtype=np.uint64)
    n = len(ids)
    src = (SRC_BASE + (ids >> np.uint64(15))).astype(np.uint32)
    sport = (1024 + (ids & np.uint64(0x7fff))).astype(np.uint32)
    return frames(src, sport, np.full(n, VIP, dtype=np.uint32),
                  np.full(n, tcp_flags, dtype=np.uint8))


REAL = (10 << 24) | 11                    # 10.0.0.11, the one real of the "both" scenario


def build_replies(flow_ids):
    """The nat replies of flows flow_ids: REAL:80 -> the flow's client address and port."""
    ids = np.asarray(flow_ids, dtype=np.uint64)
    n = len(ids)
    client = (SRC_BASE + (ids >> np.uint64(15))).astype(np.uint32)
    cport = (1024 + (ids & np.uint64(0x7fff))).astype(np.uint32)
    return frames(np.full(n, REAL, dtype=np.uint32), np.full(n, 80, dtype=np.uint32), client,
                  np.full(n, 0x10, dtype=np.uint8), dport=cport)


def write(path, flow_ids, tcp_flags, chunk=1 << 20, replies=False):
    with open(path, "wb") as out:
        out.write(np.array([0xa1b2c3d4], dtype="<u4").tobytes())
        out.write(np.array([2, 4], dtype="<u2").tobytes())
        out.write(np.array([0, 0, 65535, 1], dtype="<u4").tobytes())
        for i in range(0, len(flow_ids), chunk):
            recs = build(flow_ids[i:i + chunk], tcp_flags)
            if replies:  # each client packet, then its flow's reply
                recs = np.stack([recs, build_replies(flow_ids[i:i + chunk])], axis=1)
            out.write(recs.tobytes())


def frame_plain(i, tcp_flags):
    """One frame of flow i without numpy: the same bytes as build() writes."""
    src = SRC_BASE + (i >> 15)
    ip = bytearray(struct.pack("!BBHHHBBHII", 0x45, 0, 40, 0, 0x4000, 64, 6, 0, src, VIP))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ip[10:12] = struct.pack("!H", ~s & 0xffff)
    tcp = struct.pack("!HHIIBBHHH", 1024 + (i & 0x7fff), 80, 1, 1 if tcp_flags & 0x10 else 0,
                      0x50, tcp_flags, 0xffff, 0, 0)
    eth = bytes([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00])
    return eth + bytes(ip) + tcp + bytes(FRAME - 54)


def write_plain(path, flow_ids, tcp_flags):
    """Without numpy. Consecutive flows of one source address (a SYN file's runs of 32,768)
    are one record repeated with the source ports patched in by strided slice assignment, so
    millions of SYNs take seconds, not minutes."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        run = []
        for i in flow_ids:
            if run and (i >> 15) != (run[0] >> 15):
                out.write(plain_run(run, tcp_flags))
                run = []
            run.append(i)
        if run:
            out.write(plain_run(run, tcp_flags))


def plain_run(ids, tcp_flags):
    """Records of flows that share their source address (ids >> 15)."""
    rec = struct.pack("<IIII", 0, 0, FRAME, FRAME) + frame_plain(ids[0], tcp_flags)
    buf = bytearray(rec * len(ids))
    sport = 16 + 34  # record header + Ethernet + IPv4: the TCP source port
    buf[sport::REC] = bytes((1024 + (i & 0x7fff)) >> 8 for i in ids)
    buf[sport + 1::REC] = bytes((1024 + (i & 0x7fff)) & 0xff for i in ids)
    return buf


def flow_ids(kind, args):
    """The flow ids of a file, in order (numpy array, or a list without numpy)."""
    if kind == "syn":
        n = int(args[0])
        return np.arange(n, dtype=np.uint64) if np else range(n)
    n, flows, seed = int(args[0]), int(args[1]), int(args[2])
    if np is None:
        rng = random.Random(seed)
        return rng.sample(range(flows), min(n, flows))
    rng = np.random.default_rng(seed)
    if n >= flows:
        return rng.permutation(flows).astype(np.uint64)
    return rng.choice(flows, size=n, replace=False).astype(np.uint64)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("syn", "ack", "both"):
        sys.exit(__doc__)
    if sys.argv[1] == "both" and np is None:
        sys.exit("mkpcap: \"both\" needs numpy (python3-numpy)")
    kind, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    nargs = 1 if kind == "syn" else 3
    if len(rest) not in (nargs, nargs + 2):
        sys.exit(__doc__)
    ids = flow_ids("ack" if kind == "both" else kind, rest[:nargs])
    if len(rest) == nargs + 2:
        parts, part = int(rest[nargs]), int(rest[nargs + 1])
        if not 0 <= part < parts:
            sys.exit(f"mkpcap: PART must be in 0..PARTS-1, got {part} of {parts}")
        if kind == "syn":  # flows part, part + parts, ... directly: no array of all ids
            ids = (np.arange(part, int(rest[0]), parts, dtype=np.uint64) if np else
                   range(part, int(rest[0]), parts))
        elif np is not None:
            ids = ids[ids % np.uint64(parts) == np.uint64(part)]
        else:
            ids = [i for i in ids if i % parts == part]
    flags = 0x02 if kind == "syn" else 0x10
    if np is None:
        write_plain(out, ids, flags)
    else:
        write(out, ids, flags, replies=kind == "both")


if __name__ == "__main__":
    main()
