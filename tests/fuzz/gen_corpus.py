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
    # 802.1Q VLANs of a port: a real on a VLAN's subnet, dual stack, an explicit interface
    "vlans.json": {"ports": [{"address": "10.0.0.2/24", "vlans": [
        {"id": 10, "address": "10.1.0.2/24", "address6": "2001:db8:1::2/64", "mtu": 1400},
        {"id": 4094, "address": "2001:db8:2::2/64", "kernel_interface": "v4094"}]}],
        "services": [{"vip": "10.0.0.100", "port": 80, "proto": "tcp",
                      "reals": [{"ip": "10.1.0.11"}]}]},
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


# fuzz_http_response: first byte = HEAD flag (bit 0) and read size ((b >> 1) % 16 + 1)
HTTP = {
    "content_length.txt": b"\x00HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello",
    "chunked.txt": b"\x06HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                   b"5;name=value\r\nhello\r\nA\r\n world 123\r\n0;last\r\nExpires: never\r\n\r\n",
    "to_eof.txt": b"\x02HTTP/1.0 503 Service Unavailable\nContent-Type: text/html\n\n<html>down</html>\n",
    "head.txt": b"\x01HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
    "interim.txt": b"\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                   b"HTTP/1.1 204 No Content\r\n\r\n",
    "cl_list.txt": b"\x08HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n"
                   b"X-Fold: a\r\n  b\r\n\r\nokEXTRA",
    "bad_chunk.txt": b"\x1eHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\nzz\r\n",
    "long_header.txt": b"\x00HTTP/1.1 200 OK\r\nX: " + b"a" * 1100 + b"\r\n\r\n",
    "big_body.txt": b"\x1fHTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + b"0123456789" * 2000,
}

# fuzz_agent_reply: the first byte also scales the configured weight (b x 300)
AGENT = {
    "percent.txt": b"50%\n",
    "drain.txt": b"drain\r\n",
    "down_text.txt": b"down #disk full, 98%\n",
    "up_ready.txt": b"up ready 75%\n",
    "words.txt": b" \tUP,Ready,weight:7 WEIGHT:150% maxconn:30 stopped fail maint\r\nnext line\n",
    "incomplete.txt": b"up ready 75%",
    "lvs_20.txt": b"20\n",
    "lvs_90.txt": b"90",
    "http_agent.txt": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n30\n",
    "http_chunked.txt": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n8\r\n0\r\n\r\n",
    "bad_number.txt": b"weight:65536 25601% maxconn:-1\n",
}


def dns_a_answer(qid=0x1234):
    """A DNS answer to an A query for www.example.com (one A record)."""
    q = b"".join(bytes([len(p)]) + p for p in b"www.example.com".split(b".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + struct.pack("!HH", 1, 1) + \
        b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([10, 0, 0, 11])


# fuzz_check_dialogue seeds of the text protocols: "NAME\n", a byte, then the server's side
# (converted to the target's format in main())
DIALOGUE = {
    "http_ok.txt": b"http\n\x02HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nstatus ok",
    "http_503.txt": b"http\n\x80HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    "https_chunked.txt": b"https\n\x62HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"7\r\n200 ok \r\n0\r\n\r\n",
    "http_head.txt": b"http\n\x24HTTP/1.0 301 Moved\r\nLocation: /\r\n\r\n",
    "simpletcp.txt": b"simpletcp\n\x42+OK ready, all ok\r\n",
    "simpletcp_eof.txt": b"simpletcp\n\x40-ERR no\r\n",
    "sip_ok.txt": b"sip\n\x00SIP/2.0 200 Keepalive\r\nVia: SIP/2.0/UDP 10.0.0.1:40000\r\n"
                  b"Call-ID: x@10.0.0.1\r\ni: y\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    "sip_trying.txt": b"sip\n\x00SIP/2.0 100 Trying\r\n\r\n",
    "nntp.txt": b"nntp\n\x80200 news.example.com ready\r\n",
    "nntp_bad.txt": b"nntp\n\x00502 go away\r\n",
    "smtp.txt": b"smtp\n\x00220 mail.example.com ESMTP\r\n250-mail.example.com\r\n250-SIZE 1000\r\n"
                b"250 HELP\r\n221 bye\r\n",
    "ftp.txt": b"ftp\n\x08220 (vsFTPd 3.0.3)\r\n331 Please specify the password.\r\n"
               b"230 Login successful.\r\n",
    "pop3.txt": b"pop3\n\x08+OK Dovecot ready.\r\n+OK\r\n+OK Logged in.\r\n",
    "imap.txt": b"imap\n\x08* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"
                b"a1 OK Logged in\r\n* BYE\r\na2 OK Logout\r\n",
    "dns.bin": b"dns\n\x00" + dns_a_answer(),
}


# Server sides captured from real servers by running the dialogues against them (Debian 12:
# vsftpd 3.0.3, dovecot 2.3.19, slapd 2.5.13, MariaDB 10.11.19, dnsmasq 2.90, postfix 3.7.11
# (started with start-fg; the rejected greeting with smtpd_client_restrictions = reject) and
# Python's smtpd module). Each: (protocol, flags, feeds).
CHECK_CAPTURED = {
    "dns_dnsmasq_a.bin": ("dns", 1, [
        b'\x124\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00\x03www\x07example\x03com'
        b'\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\n\x00\x00\x0b',
    ]),
    "dns_dnsmasq_aaaa_none.bin": ("dns", 1, [
        b'\x124\x81\x85\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com'
        b'\x00\x00\x1c\x00\x01',
    ]),
    "dns_dnsmasq_mx.bin": ("dns", 1, [
        b'\x124\x81\x85\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com'
        b'\x00\x00\x0f\x00\x01',
    ]),
    "dns_dnsmasq_refused.bin": ("dns", 1, [
        b'\x124\x81\x85\x00\x01\x00\x00\x00\x00\x00\x00\x05other\x07example\x00\x00\x01\x00\x01',
    ]),
    "ftp_vsftpd_anonymous.bin": ("ftp", 0, [
        b'220 (vsFTPd 3.0.3)\r\n',
        b'331 Please specify the password.\r\n',
        b'230 Login successful.\r\n',
    ]),
    "ftp_vsftpd_login_refused.bin": ("ftp", 1, [
        b'220 (vsFTPd 3.0.3)\r\n',
        b'331 Please specify the password.\r\n',
        b'530 Login incorrect.\r\n',
    ]),
    "imap_dovecot_greeting.bin": ("imap", 0, [
        b'* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PL'
        b'AIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n',
    ]),
    "imap_dovecot_login.bin": ("imap", 1, [
        b'* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PL'
        b'AIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n',
        b'a1 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPL'
        b'AY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CAT'
        b'ENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRES'
        b'YNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET='
        b'FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY] Logged in\r\n',
    ]),
    "imap_dovecot_login_refused.bin": ("imap", 1, [
        b'* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PL'
        b'AIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n',
        b'a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n',
    ]),
    "ldap_slapd_anonymous.bin": ("ldap", 0, [
        b'0\x0c\x02\x01\x01a\x07\n\x01\x00\x04\x00\x04\x00',
    ]),
    "ldap_slapd_bind.bin": ("ldap", 1, [
        b'0\x0c\x02\x01\x01a\x07\n\x01\x00\x04\x00\x04\x00',
    ]),
    "ldap_slapd_bind_refused.bin": ("ldap", 1, [
        b'0\x0c\x02\x01\x01a\x07\n\x011\x04\x00\x04\x00',
    ]),
    "mysql_mariadb_handshake.bin": ("mysql", 0, [
        b'd\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x04\x00\x00\x00JHfJ}X~3'
        b'\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00!K7nGV'
        b'[F-Ks!\x00mysql_native_password\x00',
    ]),
    "mysql_mariadb_login.bin": ("mysql", 1, [
        b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x05\x00\x00\x00Q}G'+AEx"
        b"\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00KP.3T/"
        b".7g$z^\x00mysql_native_password\x00",
        b'\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00',
    ]),
    "mysql_mariadb_login_nopw.bin": ("mysql", 1, [
        b'd\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x06\x00\x00\x00,gCZ|"1l'
        b'\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00P-,7nF'
        b'RJ[l0D\x00mysql_native_password\x00',
        b'\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00',
    ]),
    "mysql_mariadb_login_refused.bin": ("mysql", 1, [
        b'd\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x07\x00\x00\x00RcwPh=65'
        b'\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00HJzJBJ'
        b'-@<KEX\x00mysql_native_password\x00',
        b"G\x00\x00\x02\xff\x15\x04#28000Access denied for user 'bob'@'localhost' (using pas"
        b"sword: YES)",
    ]),
    "mysql_mariadb_root_refused.bin": ("mysql", 1, [
        b'd\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\t\x00\x00\x000w*fHr*r'
        b'\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00&_1uy!'
        b'2z2&fS\x00mysql_native_password\x00',
        b"2\x00\x00\x02\xff\xa2\x06#28000Access denied for user 'root'@'localhost'",
    ]),
    "mysql_mariadb_switch_ed25519.bin": ("mysql", 1, [
        b'd\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x0c\x00\x00\x00-}Ti3cvJ'
        b'\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00N({Tse'
        b'"sC3us\x00mysql_native_password\x00',
        b'0\x00\x00\x02\xfeclient_ed25519\x00\xc5\xf8\x86\xfb\x9f)3\x00\x1b\x08\x00\x01-'
        b'\xeb\xab\xfb\xec\x92k\xa2}\x9a\x02\x91,\xd9\xa2\xb1\xaf\xc0\x00\xad',
    ]),
    "mysql_mariadb_switch_native.bin": ("mysql", 1, [
        b'd\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x0b\x00\x00\x00@PS/1FL+'
        b'\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x000O~NG['
        b'tV1/:s\x00mysql_native_password\x00',
        b',\x00\x00\x02\xfemysql_native_password\x00@PS/1FL+0O~NG[tV1/:s\x00',
        b'\x07\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00',
    ]),
    "mysql_mariadb_unknown_db.bin": ("mysql", 1, [
        b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x08\x00\x00\x00Y?o2Ka'<"
        b"\x00\xfe\xf7\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00;O\\bW"
        b"m>/kS<o\x00mysql_native_password\x00",
        b"<\x00\x00\x02\xff\x14\x04#42000Access denied for user 'bob'@'%' to database 'nodb'",
    ]),
    "pop3_dovecot_greeting.bin": ("pop3", 0, [
        b'+OK Dovecot (Debian) ready.\r\n',
    ]),
    "pop3_dovecot_login.bin": ("pop3", 1, [
        b'+OK Dovecot (Debian) ready.\r\n',
        b'+OK\r\n',
        b'+OK Logged in.\r\n',
    ]),
    "pop3_dovecot_login_refused.bin": ("pop3", 1, [
        b'+OK Dovecot (Debian) ready.\r\n',
        b'+OK\r\n',
        b'-ERR [AUTH] Authentication failed.\r\n',
    ]),
    "smtp_postfix.bin": ("smtp", 0, [
        b'220 mail.h12.test ESMTP Postfix\r\n',
        b'250-mail.h12.test\r\n'
        b'250-PIPELINING\r\n'
        b'250-SIZE 10240000\r\n'
        b'250-VRFY\r\n'
        b'250-ETRN\r\n'
        b'250-ENHANCEDSTATUSCODES\r\n'
        b'250-8BITMIME\r\n'
        b'250-DSN\r\n'
        b'250-SMTPUTF8\r\n'
        b'250 CHUNKING\r\n',
    ]),
    "smtp_postfix_rejected.bin": ("smtp", 0, [
        b'554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied\r\n',
    ]),
    "smtp_python_smtpd.bin": ("smtp", 0, [
        b'220 localhost Python SMTP proxy version 0.3\r\n',
        b'250-localhost\r\n',
        b'250-SIZE 33554432\r\n250-8BITMIME\r\n250 HELP\r\n',
    ]),
}

# fuzz_check_dialogue: byte 0 = protocol index (this list, never reordered), byte 1 = flags
# (1: params with a login; 2: end of stream after the last feed), then feeds, each a length
# byte (255: a 16-bit big-endian length follows) and its bytes.
CHECK_PROTOS = ["dns", "ftp", "imap", "ldap", "mysql", "pop3", "smtp", "http", "https",
                "simpletcp", "sip", "nntp"]
CHECK_LOGIN, CHECK_EOF = 1, 2


def check_exchange(proto, flags, feeds):
    out = bytes([CHECK_PROTOS.index(proto), flags])
    for feed in feeds:
        out += bytes([len(feed)]) if len(feed) < 255 else b"\xff" + struct.pack("!H", len(feed))
        out += feed
    return out


def dns_answer(flags, an, records, qname=b"\x03www\x07example\x03com\x00", qtype=1):
    return struct.pack("!HHHHHH", 0x1234, flags, 1, an, 0, 0) + qname + \
        struct.pack("!HH", qtype, 1) + records


def mysql_packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


A_RECORD = bytes.fromhex("c00c00010001000000000004") + bytes([10, 0, 0, 11])

# Hand-made server sides: shapes the captures lack, and hostile ones.
CHECK_MADE = {
    "smtp_postfix_shape.bin": ("smtp", 0, [
        b"220 mail.example ESMTP Postfix (Debian/GNU)\r\n",
        b"250-mail.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n",
        b"250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
        b"250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"]),
    "smtp_multiline_banner_eof.bin": ("smtp", CHECK_EOF, [b"220-a\n220-b\n", b"220 c\n"]),
    "smtp_refused.bin": ("smtp", 0, [b"554 5.3.2 no service\r\n"]),
    "ftp_preliminary_multiline.bin": ("ftp", CHECK_LOGIN, [
        b"120 soon\r\n220-Welcome\r\n  text\r\n220 ready\r\n", b"331 pw\r\n",
        b"230-hello\r\n230 ok\r\n"]),
    "pop3_garbage.bin": ("pop3", CHECK_EOF, [b"+OKAY\r\n"]),
    "imap_preauth.bin": ("imap", 0, [b"* PREAUTH ready\r\n"]),
    "imap_bad.bin": ("imap", CHECK_LOGIN, [b"* OK ready\r\n", b"* CAPABILITY IMAP4rev1\r\n",
                                           b"a1 BAD no\r\n"]),
    "dns_cname_chain.bin": ("dns", CHECK_LOGIN, [dns_answer(0x8180, 2, bytes.fromhex(
        "c00c0005000100000e100006037765626c00c00c" "c02100010001000000000004") + b"\x0a\0\0\x0c")]),
    "dns_pointer_loop.bin": ("dns", CHECK_LOGIN, [dns_answer(0x8180, 1, b"\xc0\x21" + bytes(10))]),
    "dns_other_id_then_good.bin": ("dns", CHECK_LOGIN, [
        b"\x43\x21" + dns_answer(0x8180, 1, A_RECORD)[2:], dns_answer(0x8180, 1, A_RECORD)]),
    "dns_huge_rdlength.bin": ("dns", CHECK_LOGIN, [
        dns_answer(0x8180, 1, bytes.fromhex("c00c000100010000000affff0102"))]),
    "ldap_long_form.bin": ("ldap", CHECK_LOGIN, [bytes.fromhex(
        "30840000000f020101618109" "0a0100040004026f6b")]),
    "ldap_notice_of_disconnection.bin": ("ldap", 0, [bytes.fromhex(
        "300c02010078070a0134040004 00".replace(" ", ""))]),
    "ldap_huge_length.bin": ("ldap", CHECK_EOF, [bytes.fromhex("30847fffffff020101")]),
    "mysql_err_before_handshake.bin": ("mysql", 0, [mysql_packet(0, b"\xff\x6a\x04Host '10.0.0.1' "
                                                                 b"is not allowed to connect")]),
    "mysql_huge_packet.bin": ("mysql", CHECK_EOF, [b"\xff\xff\xff\x00\x0a5.5"]),
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
    for name, data in HTTP.items():
        write("http_response", name, data)
    for name, data in AGENT.items():
        write("agent_reply", name, data)
    # the text-protocol seeds, one server read each, in fuzz_check_dialogue's format
    for name, blob in DIALOGUE.items():
        proto, rest = blob.split(b"\n", 1)
        login = 1 if proto in (b"ftp", b"pop3", b"imap") else 0
        write("check_dialogue", name, check_exchange(proto.decode(), login, [rest[1:]]))
    for name, (proto, flags, feeds) in {**CHECK_CAPTURED, **CHECK_MADE}.items():
        write("check_dialogue", name, check_exchange(proto, flags, feeds))


if __name__ == "__main__":
    main()
