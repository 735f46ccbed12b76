#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/). Deterministic:
rerun after changing it and commit the output. Standard library only."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(ethertype, tags=()):
    hdr = bytes.fromhex("020000000001") + bytes.fromhex("020000000002")
    for i, tpid in enumerate(tags):
        hdr += struct.pack("!HH", tpid, 100 + i)
    return hdr + struct.pack("!H", ethertype)


def ipv4(proto, payload, options=b"", frag=0x4000, src="192.168.10.1", dst="10.0.0.100"):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), 0x1234, frag, 64,
                      proto, 0, bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    hdr += options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(sport, dport, flags, payload=b"", options=b""):
    doff = 5 + len(options) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, doff << 4, flags, 65535, 0, 0) + \
        options + payload


def udp(sport, dport, payload=b"", length=None):
    return struct.pack("!HHHH", sport, dport, length or 8 + len(payload), 0) + payload


def arp(op):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, bytes.fromhex("020000000002"),
                       bytes([10, 0, 0, 1]), bytes(6), bytes([10, 0, 0, 2]))


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
MSS = bytes.fromhex("020405b4") + bytes.fromhex("01030307")

FRAMES = {
    "tcp_syn.bin": eth(0x0800) + ipv4(6, tcp(12345, 80, SYN, options=MSS)),
    "tcp_ack_payload.bin": eth(0x0800) + ipv4(6, tcp(12345, 80, ACK | PSH, b"GET / HTTP/1.0\r\n\r\n")),
    "tcp_fin_padded.bin": (eth(0x0800) + ipv4(6, tcp(12345, 80, FIN | ACK))).ljust(60, b"\0"),
    "tcp_rst.bin": eth(0x0800) + ipv4(6, tcp(12345, 80, RST)),
    "udp_dns.bin": eth(0x0800) + ipv4(17, udp(5353, 53, b"\x12\x34\x01\x00\x00\x01")),
    "vlan_tcp.bin": eth(0x0800, (0x8100,)) + ipv4(6, tcp(1000, 443, SYN)),
    "qinq_udp.bin": eth(0x0800, (0x88A8, 0x8100)) + ipv4(17, udp(1, 2, b"x")),
    "three_tags.bin": eth(0x0800, (0x88A8, 0x8100, 0x8100)) + ipv4(6, tcp(1, 2, SYN)),
    "arp_request.bin": eth(0x0806) + arp(1),
    "vlan_arp_reply.bin": eth(0x0806, (0x8100,)) + arp(2),
    "ipv4_options_tcp.bin": eth(0x0800) + ipv4(6, tcp(7, 8, ACK), options=bytes.fromhex("94040000")),
    "icmp_echo.bin": eth(0x0800) + ipv4(1, bytes.fromhex("0800f7ff00010001")),
    "first_fragment_udp.bin": eth(0x0800) + ipv4(17, udp(5000, 53, b"0123456789", length=1500),
                                                 frag=0x2000),
    "later_fragment.bin": eth(0x0800) + ipv4(6, b"payload-of-a-later-fragment", frag=185),
    "gre.bin": eth(0x0800) + ipv4(47, bytes.fromhex("00000800")),
    "ipv6.bin": eth(0x86DD) + bytes.fromhex("6000000000083a40") + bytes(32) + bytes(8),
    # IPv6: TCP after a hop-by-hop header, a neighbour solicitation with its option, an ICMPv6
    # error quoting UDP, and a fragment header
    "ipv6_hbh_tcp.bin": eth(0x86DD) + bytes.fromhex("6000000000200040") + bytes(16) +
    bytes(15) + b"\x01" + bytes.fromhex("0600010400000000") + tcp(40000, 80, 0x02)[:20] +
    bytes(4),
    "ipv6_ns.bin": eth(0x86DD) + bytes.fromhex("6000000000203aff") + bytes(15) + b"\x10" +
    bytes.fromhex("ff020000000000000000000000000001") + bytes.fromhex("87000000" + "00000000") +
    bytes(15) + b"\x64" + bytes.fromhex("0101020000000001"),
    "ipv6_icmp_error.bin": eth(0x86DD) + bytes.fromhex("6000000000383a40") + bytes(32) +
    bytes.fromhex("0104000000000000") + bytes.fromhex("6000000000081140") + bytes(32) +
    struct.pack("!HHHH", 5353, 53, 8, 0),
    "ipv6_fragment.bin": eth(0x86DD) + bytes.fromhex("6000000000102c40") + bytes(32) +
    bytes.fromhex("1100000100000001") + bytes(8),
}

FULL_CONFIG = {
    "eal": ["-l", "0-1", "--vdev=net_tap0,iface=lb0", "--no-pci"],
    "rpc": {"socket": "/tmp/lb.sock", "max_request_bytes": 65536, "max_clients": 8},
    "dataplane": {"flow_capacity": 4096, "mbufs": 8191, "rx_descriptors": 512,
                  "tx_descriptors": 256, "idle_sleep_us": 100, "max_services": 16,
                  "max_reals": 64},
    "ports": [{"address": "10.0.0.2/24", "kernel_interface": "dlb-ext.0"},
              {"address": "2001:db8::2/64", "kernel_interface": False}],
    "exception": {"rx_pps": 5000, "tx_pps": 6000, "burst": 64},
    "neighbours": {"refresh": 10, "timeout": 40,
                   "static": [{"ip": "10.0.0.10", "mac": "02:00:00:00:00:0a"}]},
    "timeouts": {"tcp": 901, "tcp_fin": 121, "syn_recv": 61, "syn_sent": 122, "time_wait": 123,
                 "close": 11, "close_wait": 62, "last_ack": 31, "listen": 124, "udp": 301},
    "services": [
        {"vip": "10.0.0.100", "port": 80, "proto": "tcp", "scheduler": "rr", "forward": "dr",
         "reals": [{"ip": "10.0.0.11", "port": 80, "weight": 1, "forward": "dr"},
                   {"ip": "10.0.0.12", "weight": 0}]},
        {"vip": "10.0.0.100", "port": 53, "proto": "udp", "scheduler": "wrr"},
        {"vip": "2001:db8::100", "port": 443, "proto": "tcp",
         "reals": [{"ip": "2001:db8::11", "weight": 5}]},
    ],
}

CONFIGS = {
    "empty.json": {},
    "full.json": FULL_CONFIG,
    "one_service.json": {"ports": [{"address": "10.0.0.2/24"}],
                         "services": [{"vip": "10.0.0.100", "port": 80, "proto": "tcp",
                                       "reals": [{"ip": "10.0.0.11"}, {"ip": "10.0.0.12"}]}]},
    "timeouts_only.json": {"timeouts": {"tcp": 60, "udp": 30}},
    "schedulers.json": {"services": [
        {"vip": "10.1.0.%d" % i, "port": 80, "proto": "tcp", "scheduler": s}
        for i, s in enumerate(["rr", "wrr", "lc", "wlc", "sed", "nq", "dh", "sh", "mh", "lblc",
                               "lblcr", "fo", "ovf", "twos"])]},
    "invalid_port.json": {"services": [{"vip": "10.0.0.1", "port": 70000, "proto": "tcp"}]},
    # a group without "ports": parsed, invalid, and must serialise to something that parses
    # again (the fuzzer's first random-seed find: it serialised as "ports": [])
    "group_without_ports.json": {"ports": [{"address": "10.0.0.2/24"}], "services": [
        {"vip": "10.0.0.100", "port": 0, "proto": "tcp", "reals": [{"ip": "10.0.0.11"}]}]},
}


def rpc(method, params=None, rid=1):
    msg = {"jsonrpc": "2.0", "method": method}
    if rid is not None:
        msg["id"] = rid
    if params is not None:
        msg["params"] = params
    return json.dumps(msg, separators=(",", ":"))


KEY = {"vip": "10.0.0.100", "port": 80, "proto": "tcp"}
# The first byte of each jsonrpc input selects the line cap and read size (see fuzz_jsonrpc.c).
RPC = {
    "service_add.txt": "\n" + rpc("service.add", dict(KEY, scheduler="wrr",
                                                    reals=[{"ip": "10.0.0.11", "weight": 3}])) + "\n",
    "session.txt": " " + "\n".join([
        rpc("system.info"),
        rpc("service.list", {}, "a"),
        rpc("real.add", {"service": KEY, "ip": "10.0.0.12", "weight": 2}, 3),
        rpc("real.update", {"service": KEY, "ip": "10.0.0.12", "port": 80, "weight": 0}, 4),
        rpc("stats.get", None, None),
        rpc("conn.list", {"limit": 10}, 5),
        rpc("config.save", {"path": "/tmp/x.json"}, None),
    ]) + "\n",
    "crlf_and_blank.txt": "\x08" + rpc("service.del", KEY, 9) + "\r\n\r\n\n" +
    rpc("config.get", None, 10) + "\r\n",
    "errors.txt": "\x13" + "\n".join([
        "not json",
        "[" + rpc("x") + "]",
        '{"jsonrpc":"1.0","id":1,"method":"x"}',
        '{"jsonrpc":"2.0","id":2,"method":5}',
        '{"jsonrpc":"2.0","id":3,"method":"x","params":[1]}',
        '{"jsonrpc":"2.0","id":{},"method":"x"}',
        '{"jsonrpc":"2.0","id":null,"method":"x"}',
    ]) + "\n",
    "batch.txt": "\x10" + "\n".join([
        "[" + ",".join([rpc("system.info", None, 1), rpc("stats.get", None, None), "7",
                        rpc("no.such", {}, "b")]) + "]",
        "[" + rpc("x", None, None) + "]",
        "[]",
        "[" + ",".join(["1"] * 300) + "]",
    ]) + "\n",
    "long_line.txt": "\x01" + rpc("service.add", dict(KEY, scheduler="x" * 200)) + "\n" + rpc("a") + "\n",
    "partial.txt": "\x10" + rpc("service.list") + "\n" + rpc("service.list")[:20],
    # 0x0b: a 100000-byte cap and 13-byte reads, so the buffer has to grow for this line
    "big_request.txt": "\x0b" + rpc("service.add", dict(KEY, reals=[
        {"ip": "10.0.%d.%d" % (i // 250, 1 + i % 250), "weight": i % 7} for i in range(200)])) + "\n",
}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, frame in FRAMES.items():
        write("pkt_parse", name, frame)
    for name, doc in CONFIGS.items():
        write("config", name, (json.dumps(doc, indent=2) + "\n").encode())
    for name, text in RPC.items():
        write("jsonrpc", name, text.encode())


if __name__ == "__main__":
    main()
