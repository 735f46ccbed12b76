#!/usr/bin/python3
"""Writes the benchmark's pcap files: 60-byte Ethernet/IPv4/TCP frames (64 on the wire with the
FCS), one per flow or a random sample, built with numpy so millions take a few seconds.

Flow i: 11.(i>>15 as 3 bytes) -> VIP:80, source port 1024 + (i & 0x7fff). Every generator uses
the same mapping, so a SYN pcap and an ACK pcap over the same i describe the same connections.

  mkpcap.py syn OUT N            N SYNs of flows 0..N-1 (in order)
  mkpcap.py ack OUT N FLOWS SEED N ACKs of flows drawn from 0..FLOWS-1: a random permutation
                                 when N == FLOWS, else a uniform sample without repetition
"""
import sys

import numpy as np

VIP = (10 << 24) | (9 << 16) | 100       # 10.9.0.100
SRC_BASE = 11 << 24                       # 11.0.0.0/8
FRAME = 60
REC = 16 + FRAME


def build(flow_ids, tcp_flags):
    n = len(flow_ids)
    ids = np.asarray(flow_ids, dtype=np.uint64)
    buf = np.zeros((n, REC), dtype=np.uint8)
    # pcap record header: ts_sec, ts_usec, incl_len, orig_len (little endian)
    hdr = np.array([0, 0, FRAME, FRAME], dtype="<u4").view(np.uint8)
    buf[:, 0:16] = hdr
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
    src = (SRC_BASE + (ids >> np.uint64(15))).astype(np.uint32)
    for k in range(4):
        ip[:, 12 + k] = (src >> np.uint32(24 - 8 * k)) & np.uint32(0xff)
        ip[:, 16 + k] = (VIP >> (24 - 8 * k)) & 0xff
    words = ip.astype(np.uint32).reshape(n, 10, 2)
    s = (words[:, :, 0] << 8 | words[:, :, 1]).sum(axis=1)
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    csum = (~s) & 0xffff
    ip[:, 10] = csum >> 8
    ip[:, 11] = csum & 0xff
    tcp = f[:, 34:54]
    sport = (1024 + (ids & np.uint64(0x7fff))).astype(np.uint32)
    tcp[:, 0] = sport >> 8
    tcp[:, 1] = sport & 0xff
    tcp[:, 2:4] = [0, 80]
    tcp[:, 4:8] = [0, 0, 0, 1]                      # seq
    if tcp_flags & 0x10:
        tcp[:, 8:12] = [0, 0, 0, 1]                 # ack
    tcp[:, 12] = 0x50
    tcp[:, 13] = tcp_flags
    tcp[:, 14:16] = [0xff, 0xff]                    # window
    return buf


def write(path, flow_ids, tcp_flags, chunk=1 << 20):
    with open(path, "wb") as out:
        out.write(np.array([0xa1b2c3d4], dtype="<u4").tobytes())
        out.write(np.array([2, 4], dtype="<u2").tobytes())
        out.write(np.array([0, 0, 65535, 1], dtype="<u4").tobytes())
        for i in range(0, len(flow_ids), chunk):
            out.write(build(flow_ids[i:i + chunk], tcp_flags).tobytes())


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "syn":
        n = int(sys.argv[3])
        write(out, np.arange(n, dtype=np.uint64), 0x02)
    elif kind == "ack":
        n, flows, seed = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        rng = np.random.default_rng(seed)
        if n >= flows:
            ids = rng.permutation(flows).astype(np.uint64)
        else:
            ids = rng.choice(flows, size=n, replace=False).astype(np.uint64)
        write(out, ids, 0x10)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
