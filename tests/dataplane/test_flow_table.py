"""The flow table's edge cases (docs/architecture.md, "The flow table"): a full table per family,
collisions forced with keys chosen by their hash, flows moved or released in the middle of a
burst, and expiry at the exact wheel tick (with the `test.worker_clock` hook).

The keys are chosen with a model of the table written here from its description: the hash
(CRC32C, Castagnoli, reflected, init 0, no final xor, over the stored key), the two buckets of a
key, where an insert puts it, and the one-step move when both buckets are full. The daemon must
agree with the model exactly (which keys are held, moved, refused), so a mistake on either side
shows as a count that differs.
"""
import socket
import struct

import pytest
from scapy.all import IP, TCP, UDP, Ether, IPv6, wrpcap

from lbdaemon import wait_until
from test_edges import CLIENT_MAC, LIVE_PORT_MAC, PCAP_PORT_MAC, VIP, config
from test_edges import live  # noqa: F401 (fixture)

POLY = 0x82F63B78  # CRC32C (Castagnoli), reflected
CAP = 1024         # keys per family: 1024 + 1024/8 slots -> 144 buckets of 8
SLOTS = 8
REALS = [("10.9.0.11", "02:00:00:00:00:11"), ("10.9.0.12", "02:00:00:00:00:12"),
         ("10.9.0.13", "02:00:00:00:00:13"), ("10.9.0.14", "02:00:00:00:00:14")]
VIP6 = "2001:db8:9::100"
PORT6 = "2001:db8:9::2"
REAL6 = "2001:db8:9::11"
REAL6_MAC = "02:00:00:00:00:16"
AF_INET6 = 10  # struct flow_key's family byte for IPv6 (Linux)


# ---- the model ------------------------------------------------------------------------------

def crc32c_bitwise(data, crc=0):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (POLY if crc & 1 else 0)
    return crc


_TABLE = [crc32c_bitwise(bytes([i])) for i in range(256)]


def crc32c(data, crc=0):
    """Table-driven, the same function as crc32c_bitwise (checked below): brute force needs it."""
    for b in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ b) & 0xFF]
    return crc


def key4(src, sport, proto=6, dst=VIP, dport=80):
    """struct flow_key4 as stored: src, dst, sport, dport (network order), proto, 3 zero bytes."""
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HHB3x", sport, dport,
                                                                       proto)


def key6(src, sport, proto=6, dst=VIP6, dport=80):
    """struct flow_key: family, proto, sport, dport, pad, src[16], dst[16] (40 bytes)."""
    return struct.pack("!BBHHH", AF_INET6, proto, sport, dport, 0) + \
        socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)


def n_buckets(cap):
    return max(2, (cap + cap // 8 + SLOTS - 1) // SLOTS)


def buckets_of(key, n):
    """(primary, alternate) of a stored key in a sub-table of n buckets."""
    h = crc32c(key)
    b1 = (h * n) >> 32
    b2 = (((h * 0x9E3779B1) & 0xFFFFFFFF) * n) >> 32
    return b1, (b2 if b2 != b1 else (b1 + 1) % n)


def test_the_model_hash_is_crc32c():
    """The model's CRC32C is the standard one (check value of "123456789" with the usual
    init and final xor), and the fast form equals the bit-at-a-time one."""
    assert crc32c_bitwise(b"123456789", 0xFFFFFFFF) ^ 0xFFFFFFFF == 0xE3069283
    for k in (key4("12.0.0.1", 1024), key4("1.2.3.4", 65535, proto=17), key6("2001:db8::1", 7)):
        assert crc32c(k) == crc32c_bitwise(k)
    assert n_buckets(CAP) == 144


class Table:
    """One family's sub-table as flow_table.c keeps it (positions, not entries)."""

    def __init__(self, cap):
        self.n = n_buckets(cap)
        self.cap = cap
        self.slots = [[None] * SLOTS for _ in range(self.n)]
        self.pinned = set()  # half-open TCP flows: the ones a full pair of buckets may end
        self.born = {}       # key -> creation order, for the oldest half-open one
        self.where = {}      # key -> (bucket, slot)
        self.bucket_full = 0
        self.moved = []      # keys moved, in order
        self.clock = 0

    def used(self, b):
        return sum(k is not None for k in self.slots[b])

    def _place(self, key, b):
        i = self.slots[b].index(None)
        self.slots[b][i] = key
        self.where[key] = (b, i)

    def _move(self, k, other):
        ob, oi = self.where[k]
        self.slots[ob][oi] = None
        self._place(k, other)
        self.moved.append(k)

    def _room_in(self, b, depth):
        """bucket_make_room: a direct move out of b first, then (depth > 0) one that makes
        room in the other bucket first."""
        for level in range(depth + 1):
            for k in list(self.slots[b]):
                p, a = buckets_of(k, self.n)
                other = a if b == p else p
                room = self.used(other) < SLOTS
                if not room and level > 0:
                    room = self._room_in(other, depth - 1)
                if room:
                    self._move(k, other)
                    return True
        return False

    def _make_room(self, b1, b2):
        return (self._room_in(b1, 0) or self._room_in(b2, 0) or self._room_in(b1, 1) or
                self._room_in(b2, 1))

    def insert(self, key, half_open=False):
        """'held', 'evicted:<key>' (the oldest half-open flow of its buckets made room),
        'full' (capacity) or 'bucket_full' (both buckets full, nothing to move or end)."""
        if len(self.where) >= self.cap:
            return "full"
        b1, b2 = buckets_of(key, self.n)
        result = "held"
        if self.used(b1) == SLOTS and self.used(b2) == SLOTS and not self._make_room(b1, b2):
            self.bucket_full += 1
            victims = [k for b in (b1, b2) for k in self.slots[b] if k in self.pinned]
            if not victims:
                return "bucket_full"
            victim = min(victims, key=lambda k: self.born[k])
            self.remove(victim)
            result = f"evicted:{victim.hex()}"
        n1, n2 = self.used(b1), self.used(b2)
        self._place(key, b1 if n1 < SLOTS // 2 or n1 <= n2 else b2)
        self.clock += 1
        self.born[key] = self.clock
        if half_open:
            self.pinned.add(key)
        return result

    def establish(self, key):
        self.pinned.discard(key)

    def remove(self, key):
        b, i = self.where.pop(key)
        self.slots[b][i] = None
        self.pinned.discard(key)


def colliding_keys(n, want_pair=None, sources=6, count=20):
    """Brute force: IPv4 TCP client keys (src, sport) to VIP:80 grouped by their bucket pair;
    returns the most common (primary, alternate) pair with at least `count` keys, and its keys."""
    pairs = {}
    for s in range(sources):
        src = f"12.7.{s // 250}.{s % 250 + 1}"
        for sport in range(1024, 65536):
            pair = buckets_of(key4(src, sport), n)
            if want_pair is None or pair == want_pair:
                pairs.setdefault(pair, []).append((src, sport))
    pair, keys = max(pairs.items(), key=lambda kv: len(kv[1]))
    assert len(keys) >= count, f"no bucket pair with {count} keys: {len(keys)} at most"
    return pair, keys


def keys_with_primary(bucket, n, avoid, count, src="12.8.0.1"):
    """count client keys whose primary bucket is `bucket` and whose alternate is none of avoid,
    each alternate different."""
    out, alts = [], set(avoid)
    for sport in range(1024, 65536):
        b1, b2 = buckets_of(key4(src, sport), n)
        if b1 == bucket and b2 not in alts:
            out.append((src, sport))
            alts.add(b2)
            if len(out) == count:
                return out
    raise AssertionError(f"not {count} keys with primary bucket {bucket}")


# ---- packets and the daemon -----------------------------------------------------------------

def tcp(src, sport, flags, seq=1, ack=0):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=src, dst=VIP) / \
        TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack)


def tcp6(src, sport, flags, seq=1, ack=0):
    return Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IPv6(src=src, dst=VIP6) / \
        TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack)


def connect(make, src, sport):
    """SYN, then the ACK that makes it ESTABLISHED."""
    return [make(src, sport, "S"), make(src, sport, "A", seq=2, ack=1)]


def data(make, src, sport, seq=3):
    return make(src, sport, "A", seq=seq, ack=1)


def flow_config(services, **dp):
    v6 = any(":" in s["vip"] for s in services)
    cfg = config(services, dataplane={"flow_capacity": CAP, "flow_capacity_v6": CAP,
                                      "mbufs": 4095, "max_reals": 64, "max_services": 16,
                                      "idle_sleep_us": 200, **dp})
    cfg["neighbours"]["static"] += [{"ip": ip, "mac": mac} for ip, mac in REALS
                                    if ip not in {s["ip"] for s in cfg["neighbours"]["static"]}]
    if v6:
        cfg["ports"][0]["address6"] = f"{PORT6}/64"
        cfg["neighbours"]["static"].append({"ip": REAL6, "mac": REAL6_MAC})
    return cfg


def service4(proto="tcp", reals=REALS):
    return {"vip": VIP, "port": 80, "proto": proto, "scheduler": "rr",
            "reals": [{"ip": ip, "port": 80} for ip, _ in reals]}


def service6():
    return {"vip": VIP6, "port": 80, "proto": "tcp", "scheduler": "rr",
            "reals": [{"ip": REAL6, "port": 80}]}


def run(pcap_daemon, tmp_path, packets, cfg):
    """Feeds packets (one pcap: the port reads them 32 to a burst, in order) and stops the
    daemon. Returns (packets sent, stats.get, system.info flow_table, conn.list)."""
    path = tmp_path / "in.pcap"
    wrpcap(str(path), packets)
    d = pcap_daemon([path], cfg)
    d.wait_rx(len(packets))
    stats = d.stats()
    table = d.rpc.call("system.info")["flow_table"]
    conns = d.rpc.call("conn.list", {"limit": 5000})["connections"]
    assert d.stop() == 0, d.read_log()
    return d.sent(), stats, table, conns


def real_macs_by_client(out):
    """client 'src:sport' -> the destination MACs of its forwarded packets, in order."""
    by = {}
    for p in out:
        ip = p[IP] if IP in p else p[IPv6]
        by.setdefault(f"{ip.src}:{p[TCP].sport}", []).append(p[Ether].dst)
    return by


def fill_keys(model, make_key, candidates, count):
    """The first `count` candidates the model holds without a refusal (a full table holds
    exactly its capacity only with keys that fit its buckets)."""
    out = []
    for c in candidates:
        if model.insert(make_key(*c)) == "held":
            out.append(c)
            if len(out) == count:
                return out
    raise AssertionError("not enough candidates")


# ---- 1. a full table ------------------------------------------------------------------------

@pytest.mark.parametrize("first", ["ipv4", "ipv6"])
def test_each_family_holds_exactly_its_capacity(pcap_daemon, tmp_path, first):
    """flow_capacity and flow_capacity_v6 1024: `first` is filled with 1024 connections, 5 more
    are refused (flow_table_full); the other family then still takes its own 1024 (a full
    family does not stop the other), 5 more refused. Every held connection's later packets
    still pass; nothing is refused for a bucket (the keys are chosen to fit)."""
    m4, m6 = Table(CAP), Table(CAP)
    v4 = fill_keys(m4, key4, ((f"12.1.{i // 250}.{i % 250 + 1}", 20000 + i)
                              for i in range(4000)), CAP)
    v6 = fill_keys(m6, key6, ((f"2001:db8:77::{i + 1:x}", 20000 + i) for i in range(4000)),
                   CAP)
    extra4 = [(f"12.2.0.{i + 1}", 30000 + i) for i in range(5)]
    extra6 = [(f"2001:db8:78::{i + 1:x}", 30000 + i) for i in range(5)]
    fams = {"ipv4": (tcp, v4, extra4), "ipv6": (tcp6, v6, extra6)}
    order = [first, "ipv6" if first == "ipv4" else "ipv4"]
    pkts = []
    for fam in order:
        make, held, extra = fams[fam]
        for c in held:
            pkts += connect(make, *c)
        pkts += [make(*c, "S") for c in extra]
    for fam in order:
        make, held, _ = fams[fam]
        pkts += [data(make, *c) for c in held]
    out, stats, table, conns = run(pcap_daemon, tmp_path, pkts,
                                   flow_config([service4(), service6()]))
    dp = stats["dataplane"]
    assert (table["ipv4_buckets"], table["ipv6_buckets"], table["slots_per_bucket"]) == \
        (144, 144, 8)
    assert (table["ipv4_held"], table["ipv6_held"]) == (CAP, CAP)
    assert table["bucket_full"] == 0
    assert dp["drop_reasons"]["flow_table_full"] == 10 and dp["dropped"] == 10, dp["drop_reasons"]
    assert (dp["flows"], dp["flows_created"], dp["half_open_evicted"]) == (2 * CAP, 2 * CAP, 0)
    listed = {c["client"] for c in conns}
    assert len(conns) == 2 * CAP
    assert all(f"{s}:{p}" in listed for s, p in v4)
    assert all(f"[{s}]:{p}" in listed or f"{s}:{p}" in listed for s, p in v6)
    assert not any(f"{s}:{p}" in listed for s, p in extra4)
    assert len(out) == len(pkts) - 10
    by = real_macs_by_client(out)
    assert all(len(by[f"{s}:{p}"]) == 3 for s, p in v4 + v6)


# ---- 2. forced collisions -------------------------------------------------------------------

def collision_set(n=144):
    """(B, A): a bucket pair many chosen keys share; movers: two keys whose primary is A and
    whose alternates are two other buckets (so they can move out of A)."""
    (b, a), pair_keys = colliding_keys(n)
    movers = keys_with_primary(a, n, avoid={b, a}, count=2)
    return b, a, pair_keys, movers


@pytest.fixture(scope="module")
def collisions():
    return collision_set()


def check_consistent_reals(out, clients):
    """Every packet of each client went to one real; returns client -> that real's MAC."""
    by = real_macs_by_client(out)
    seen = {}
    for c in clients:
        macs = set(by.get(c, []))
        assert len(macs) == 1, f"{c}: packets went to {macs}"
        seen[c] = macs.pop()
    return seen


def test_collisions_move_a_key_to_its_other_bucket_then_refuse(pcap_daemon, tmp_path,
                                                               collisions):
    """Two established flows (primary A) and 14 of keys sharing buckets (B, A) fill both
    buckets; each of the next two (B, A) keys makes room by moving one of the two to its other
    bucket; the next two are refused (flow_table_full, bucket_full: both of their buckets hold
    established flows that cannot move) while the table holds 18 of its 1024 keys. Three later
    packets of every held flow go to the real its SYN went to (rr over four reals), so the
    moved flows were found where they went."""
    b, a, pair_keys, movers = collisions
    model = Table(CAP)
    pkts, results = [], {}
    for c in movers + pair_keys[:18]:
        results[c] = model.insert(key4(*c))
        pkts += connect(tcp, *c)
    held = [c for c in movers + pair_keys[:18] if results[c] == "held"]
    refused = [c for c in results if results[c] == "bucket_full"]
    assert len(held) == 18 and refused == pair_keys[16:18], results
    assert model.moved == [key4(*m) for m in movers]
    for k in range(3):
        pkts += [data(tcp, *c, seq=3 + k) for c in held]
    out, stats, table, conns = run(pcap_daemon, tmp_path, pkts, flow_config([service4()]))
    dp = stats["dataplane"]
    assert table["bucket_full"] == 2 == dp["drop_reasons"]["flow_table_full"]
    assert dp["drop_reasons"]["no_flow"] == 2  # the refused ones' ACKs
    assert dp["dropped"] == 4 and dp["flows"] == 18 and table["ipv4_held"] == 18
    assert dp["half_open_evicted"] == 0
    assert {c["client"] for c in conns} == {f"{s}:{p}" for s, p in held}
    assert {c["state"] for c in conns} == {"ESTABLISHED"}
    reals = check_consistent_reals(out, [f"{s}:{p}" for s, p in held])
    assert len(set(reals.values())) == len(REALS)
    by = real_macs_by_client(out)
    assert all(len(by[f"{s}:{p}"]) == 5 for s, p in held)  # SYN, ACK, 3 of data
    assert not any(f"{s}:{p}" in by for s, p in refused) and len(out) == len(pkts) - 4


def test_half_open_flows_in_full_buckets_that_cannot_move_are_ended_oldest_first(
        pcap_daemon, tmp_path, collisions):
    """16 keys of one bucket pair (B, A), half-open (SYN only): every one's other bucket is the
    full one, so nothing can move. The 17th and 18th keys of the pair each end the oldest
    half-open flow of the two buckets (half_open_evicted_bucket); bucket_full counts both
    inserts the table first turned down. The same keys established instead are refused."""
    b, a, pair_keys, movers = collisions
    model = Table(CAP)
    pkts, results = [], {}
    for c in pair_keys[:16]:
        results[c] = model.insert(key4(*c), half_open=True)
        pkts.append(tcp(*c, "S"))
    for c in pair_keys[16:18]:
        results[c] = model.insert(key4(*c))
        pkts += connect(tcp, *c)
    assert model.moved == []
    assert [results[c] for c in pair_keys[16:18]] == \
        [f"evicted:{key4(*pair_keys[0]).hex()}", f"evicted:{key4(*pair_keys[1]).hex()}"]
    held = pair_keys[2:18]
    out, stats, table, conns = run(pcap_daemon, tmp_path, pkts, flow_config([service4()]))
    dp = stats["dataplane"]
    assert (dp["half_open_evicted"], dp["half_open_evicted_bucket"]) == (2, 2)
    assert dp["drop_reasons"]["flow_table_full"] == 0
    assert table["bucket_full"] == 2 and table["moves"] == 0
    assert (dp["flows"], dp["flows_created"], dp["flows_expired"]) == (16, 18, 2)
    assert {c["client"] for c in conns} == {f"{s}:{p}" for s, p in held}


# ---- 3. moves and releases in the middle of a burst -----------------------------------------

def burst_aligned(pkts, filler):
    """pkts padded with filler packets to a whole number of 32-packet bursts."""
    k = 0
    while len(pkts) % 32:
        pkts.append(filler(k))
        k += 1
    return pkts


def test_moves_and_releases_in_the_middle_of_a_burst(pcap_daemon, tmp_path, collisions):
    """Bursts 1-2 (32 packets each): two flows X1, X2 (primary A) and 14 (B, A) flows fill both
    buckets; flow F is established, then closed (FIN). Burst 3 is one burst:
      X1, X2 data | SYN Y1 (moves X1 out of A; Y1 takes X1's old slot) | X1 data (its bulk
      lookup gave X1's old slot, now Y1's) | X2 data | Y1 ACK | SYN Y2 (moves X2) | X2 data |
      Y2 ACK | SYN F (reuses the closed flow: released, scheduled afresh) | F ACK, data |
      SYN Z (refused: both buckets full of established flows) | Z ACK (no flow)
    Every packet goes to the real of its own flow, F's new flow to the next real; counts
    exact. Burst 4: data of every flow, still to the same reals."""
    b, a, pair_keys, movers = collisions
    x1, x2 = movers
    fill, (y1, y2, z) = pair_keys[:14], pair_keys[14:17]
    f = next(("12.9.0.1", p) for p in range(40000, 41000)
             if not set(buckets_of(key4("12.9.0.1", p), 144)) & {a, b})
    model = Table(CAP)
    for c in movers + fill:
        assert model.insert(key4(*c)) == "held"
    assert model.used(a) == model.used(b) == SLOTS
    pkts = []
    for c in movers + fill:
        pkts += connect(tcp, *c)
    assert len(pkts) == 32
    pkts += connect(tcp, *f) + [tcp(*f, "FA", seq=2, ack=1)]
    burst_aligned(pkts, lambda k: data(tcp, *fill[k % 14], seq=100 + k))
    start = len(pkts)
    pkts += [data(tcp, *x1), data(tcp, *x2), tcp(*y1, "S"), data(tcp, *x1, seq=4),
             data(tcp, *x2, seq=4), data(tcp, *y1, seq=2), tcp(*y2, "S"),
             data(tcp, *x2, seq=5), data(tcp, *y2, seq=2), data(tcp, *x1, seq=5),
             tcp(*f, "S", seq=1000), data(tcp, *f, seq=1001), data(tcp, *f, seq=1002),
             tcp(*z, "S"), data(tcp, *z, seq=2)]
    assert len(pkts) - start <= 32
    burst_aligned(pkts, lambda k: data(tcp, *fill[k % 14], seq=200 + k))
    for c in movers + [y1, y2, f]:
        pkts.append(data(tcp, *c, seq=2000))
    # the model: Y1 and Y2 each move one, Z is refused
    assert model.insert(key4(*y1)) == "held" and model.insert(key4(*y2)) == "held"
    assert model.moved == [key4(*x1), key4(*x2)]
    assert model.insert(key4(*z)) == "bucket_full"
    out, stats, table, conns = run(pcap_daemon, tmp_path, pkts, flow_config([service4()]))
    dp = stats["dataplane"]
    assert dp["drop_reasons"]["flow_table_full"] == 1 and table["bucket_full"] == 1
    assert dp["drop_reasons"]["no_flow"] == 1 and dp["dropped"] == 2, dp["drop_reasons"]
    assert len(out) == len(pkts) - 2
    # 16 + F + Y1 + Y2 + F again; F's first flow released, not expired
    assert (dp["flows_created"], dp["flows"], dp["flows_expired"]) == (20, 19, 1)
    by = real_macs_by_client(out)
    name = lambda c: f"{c[0]}:{c[1]}"  # noqa: E731
    reals = check_consistent_reals(out, [name(c) for c in movers + fill + [y1, y2]])
    # a stale position would have sent X1's (X2's) packet to Y1's (Y2's) real: they differ
    assert reals[name(x1)] != reals[name(y1)] and reals[name(x2)] != reals[name(y2)]
    f_macs = by[name(f)]
    assert len(f_macs) == 3 + 3 + 1  # SYN, ACK, FIN; SYN, ACK, data; burst 4
    assert len(set(f_macs[:3])) == 1 and len(set(f_macs[3:])) == 1
    assert f_macs[0] != f_macs[3], "F's reused tuple was scheduled afresh (rr: another real)"
    states = {c["client"]: c["state"] for c in conns}
    assert states[name(f)] == "ESTABLISHED" and states[name(y1)] == "ESTABLISHED"
    assert name(z) not in states


# ---- 4. expiry at the exact tick ------------------------------------------------------------

def test_flows_expire_at_the_first_wheel_tick_after_their_expiry(pcap_daemon, tmp_path,
                                                                 monkeypatch):
    """The worker's clock frozen (test.worker_clock) before it reads any packet: a UDP flow
    (timeouts.udp 10) and a TCP flow that ends in FIN_WAIT (timeouts.tcp_fin 1, after NONE's
    2 s, syn_recv 30 and tcp 900) are created at F. Each is listed at its expiry E - 1, at E
    and at the last cycle of E's tick, and gone (flows_expired) at the first cycle of the next
    tick: the TCP flow at F + 1 s, not at one of its earlier, longer expiries (the wheel first
    held it for NONE's 2 s: without the re-arm on its state change it would go a second
    late)."""
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    monkeypatch.setenv("DPDK_LB_TEST_HOLD_WORKERS", "0")
    udp = ("12.5.0.1", 5000)
    t = ("12.5.0.2", 6000)
    pkts = [Ether(src=CLIENT_MAC, dst=PCAP_PORT_MAC) / IP(src=udp[0], dst=VIP) /
            UDP(sport=udp[1], dport=80)]
    pkts += connect(tcp, *t) + [tcp(*t, "FA", seq=2, ack=1)]
    path = tmp_path / "in.pcap"
    wrpcap(str(path), pkts)
    cfg = flow_config([service4(), service4("udp")])
    cfg["timeouts"] = {"udp": 10, "tcp_fin": 1, "syn_recv": 30, "tcp": 900}
    d = pcap_daemon([path], cfg)
    clock = d.rpc.call("test.worker_clock", {"worker": 0, "frozen": True})
    assert clock["frozen"] and not clock["applied"]  # held: nothing ran on it yet
    f, hz, tick = clock["now"], clock["tsc_hz"], clock["wheel_tick"]
    assert tick & (tick - 1) == 0 and hz // 128 < tick <= hz // 64
    info = d.rpc.call("system.info")["flow_table"]
    assert abs(info["wheel_tick_us"] - tick * 1e6 / hz) < 0.01
    d.rpc.call("test.worker_hold", {"worker": 0, "held": False})
    d.wait_rx(len(pkts))

    def at(now):
        r = d.rpc.call("test.worker_clock", {"worker": 0, "now": now})
        assert r["applied"] and r["now"] == now, r
        return {c["client"]: c["state"] for c in d.rpc.call("conn.list")["connections"]}

    def expired():
        return d.stats()["dataplane"]["flows_expired"]

    name = lambda c: f"{c[0]}:{c[1]}"  # noqa: E731
    listed = at(f)
    assert listed == {name(udp): "UDP", name(t): "FIN_WAIT"}, listed
    done = 0
    for c, e in ((t, f + 1 * hz), (udp, f + 10 * hz)):
        boundary = ((e // tick) + 1) * tick
        for now in (e - 1, e, boundary - 1):
            assert name(c) in at(now), f"{name(c)} reaped at {now - e:+d} cycles from expiry"
            assert expired() == done
        assert name(c) not in at(boundary), f"{name(c)} still listed at the next tick"
        done += 1
        assert wait_until(lambda: expired() == done, timeout=5, what="flows_expired")
    assert d.stats()["dataplane"]["flows"] == 0
    # the real clock back: the worker carries on (its next loops look at ticks long past)
    assert d.rpc.call("test.worker_clock", {"worker": 0, "frozen": False})["frozen"] is False


def test_a_flow_at_its_expiry_is_gone_for_lookups_before_the_wheel_reaps_it(live, monkeypatch):
    """Live daemon, clock frozen: datagrams from A and B at F make two UDP flows (timeouts.udp
    10, rr over three reals), both due at E = F + 10 s, both on the wheel's list of E's tick.
    At E - 1 B's datagram still belongs to its flow (its expiry moves on to E - 1 + 10 s; its
    list does not). At E (same tick: nothing reaped yet) A's datagram finds A's flow over: it is
    released (flows_expired) and the datagram scheduled afresh, to the third real. At the next
    tick the wheel looks at B, finds it alive and keeps it."""
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    cfg = flow_config([service4("udp", reals=REALS[:3])])
    cfg["timeouts"] = {"udp": 10}
    ld = live(cfg)
    clock = ld.rpc.call("test.worker_clock", {"worker": 0, "frozen": True})
    assert clock["applied"]
    f, hz, tick = clock["now"], clock["tsc_hz"], clock["wheel_tick"]
    e = f + 10 * hz
    a, b = ("12.5.1.1", 5555), ("12.5.1.2", 5555)
    sent = 0

    def at(now, *clients):
        nonlocal sent
        assert ld.rpc.call("test.worker_clock", {"worker": 0, "now": now})["applied"]
        if clients:
            ld.send(*[Ether(src=CLIENT_MAC, dst=LIVE_PORT_MAC) / IP(src=c[0], dst=VIP) /
                      UDP(sport=c[1], dport=80) for c in clients])
            sent += len(clients)
        dp = ld.d.wait_rx(sent)["dataplane"]
        conns = ld.rpc.call("conn.list")["connections"]
        return dp, {c["client"]: c["real"] for c in conns}

    name = lambda c: f"{c[0]}:{c[1]}"  # noqa: E731
    dp, first = at(f, a, b)
    assert (dp["flows_created"], dp["flows_expired"], len(first)) == (2, 0, 2)
    dp, reals = at(e - 1, b)
    assert (dp["flows_created"], dp["flows_expired"], reals) == (2, 0, first)
    dp, reals = at(e, a)
    assert (dp["flows_created"], dp["flows_expired"]) == (3, 1)
    assert reals[name(b)] == first[name(b)]
    assert reals[name(a)] not in (first[name(a)], first[name(b)]), "A scheduled afresh"
    dp, after = at(((e // tick) + 1) * tick)
    assert (dp["flows_expired"], after) == (1, reals), "B is alive: moved on, not reaped"
    assert dp["dropped"] == 0, dp["drop_reasons"]


def test_worker_clock_hook_errors(pcap_daemon, tmp_path, monkeypatch):
    """The hook's params are checked and named; without DPDK_LB_TEST_HOOKS it is not there."""
    from lbdaemon import RpcError
    monkeypatch.delenv("DPDK_LB_TEST_HOOKS", raising=False)
    path = tmp_path / "in.pcap"
    wrpcap(str(path), [tcp("12.6.0.1", 1000, "S")])
    d = pcap_daemon([path], flow_config([service4()]))
    with pytest.raises(RpcError) as e:
        d.rpc.call("test.worker_clock", {"worker": 0, "frozen": True})
    assert e.value.code == -32601
    monkeypatch.setenv("DPDK_LB_TEST_HOOKS", "1")
    d = pcap_daemon([path], flow_config([service4()]))
    for params, field in (({"worker": 1}, "worker"), ({"worker": 0, "frozen": 1}, "frozen"),
                          ({"worker": 0, "now": 0}, "now"), ({"worker": 0, "advance": -1},
                                                             "advance"),
                          ({"worker": 0, "now": 5, "advance": 5}, "now, advance"),
                          ({"worker": 0, "frozen": False, "advance": 5}, "frozen"),
                          ({"worker": 0, "when": 5}, "when")):
        with pytest.raises(RpcError) as e:
            d.rpc.call("test.worker_clock", params)
        assert e.value.code == -32602 and field in e.value.message, (params, e.value.message)
    r = d.rpc.call("test.worker_clock", {"worker": 0, "advance": 1000})
    assert r["frozen"] and r["applied"]
    r2 = d.rpc.call("test.worker_clock", {"worker": 0, "advance": 24})
    assert r2["now"] == r["now"] + 24 and r2["applied"]
    assert d.rpc.call("test.worker_clock", {"worker": 0})["now"] == r2["now"]
    assert d.rpc.call("test.worker_clock", {"worker": 0, "frozen": False})["frozen"] is False
    d.wait_rx(1)
