#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ha_wire (tests/fuzz/corpus/ha_wire/): valid peer messages of
every type, signed with the fuzz target's fixed key, plus a few broken ones. It encodes the
format from docs/ha.md on its own (not through lib/ha_wire.c), so the fuzz run's first pass also
checks that the C decoder accepts what the documentation describes. Deterministic, standard
library only: rerun after changing it and commit the output."""
import hashlib
import hmac
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b"dpdk-lb-ha-wire-fuzz-key-32bytes"  # FUZZ_HA_KEY in fuzz_ha_wire.c
MAGIC, VERSION = 0x444C4248, 1
ADVERT, CONN_BATCH, CONFIG, FULL_SYNC_REQUEST, FULL_SYNC_END = 1, 2, 3, 4, 5
F_FULL_SYNC = 0x1
TCP, UDP = 6, 17
DR, TUN, NAT, FNAT = 0, 1, 2, 3
ESTABLISHED, FIN_WAIT, UDP_STATE = 1, 4, 11


def message(mtype, body, seq=1, sender=7, flags=0, key=KEY):
    head = struct.pack("!IBBHIQHH", MAGIC, VERSION, mtype, flags, sender, seq, len(body), 0)
    return head + body + hmac.new(key, head + body, hashlib.sha256).digest()


def advert(priority=100, state=2, flags=1, interval_ms=1000, generation=1, workers=2,
           port_min=1024, port_max=65535, caps=3):
    return struct.pack("!BBBBIQHHHHI", priority, state, flags, 0, interval_ms, generation,
                       workers, port_min, port_max, 0, caps)


def addr(text):
    if ":" not in text:
        return bytes(map(int, text.split("."))) + bytes(12)
    head, _, tail = text.partition("::")
    words = [int(w, 16) for w in head.split(":") if w]
    rest = [int(w, 16) for w in tail.split(":") if w]
    words += [0] * (8 - len(words) - len(rest)) + rest
    return struct.pack("!8H", *words)


def record(kind=1, event=1, state=ESTABLISHED, forward=DR, worker=0, family=4, proto=TCP,
           real_family=4, svc_port=80, timeout=900, real=("10.1.0.5", 80),
           client=("192.0.2.1", 40000, "10.0.0.100", 80), reply=None):
    flags = 1 if reply else 0
    rsrc, rsport, rdst, rdport = reply or ("0.0.0.0", 0, "0.0.0.0", 0)
    return struct.pack("!BBBBBBBBBBHI16sHHHHHH16s16s16s16s", kind, event, state, forward, worker,
                       flags, family, proto, real_family, proto, svc_port, timeout,
                       addr(real[0]), real[1], client[1], client[3], rsport, rdport, 0,
                       addr(client[0]), addr(client[2]), addr(rsrc), addr(rdst))


def batch(records):
    return struct.pack("!HH", len(records), 0) + b"".join(records)


def config(generation, total, offset, chunk):
    return struct.pack("!QIIHH", generation, total, offset, len(chunk), 0) + chunk


def full_sync(what, records, generation):
    return struct.pack("!IIQ", what, records, generation)


FNAT = record(forward=FNAT, worker=1, real=("10.1.0.5", 8080),
              reply=("10.1.0.5", 8080, "10.1.0.254", 5000))
NAT6 = record(forward=NAT, family=6, real_family=6, svc_port=443, real=("fd00::5", 443),
              client=("2001:db8::1", 50000, "2001:db8::64", 443),
              reply=("fd00::5", 443, "2001:db8::1", 50000))
DR_UDP_GROUP = record(event=4, state=UDP_STATE, proto=UDP, svc_port=0, timeout=300,
                      real=("10.1.0.7", 53), client=("192.0.2.9", 5353, "10.0.0.100", 53))
ENDED = record(event=3, state=FIN_WAIT, forward=NAT, timeout=0)
TEMPLATE = record(kind=2, event=1, state=0, forward=NAT, svc_port=443, timeout=360,
                  real=("10.1.0.6", 443), client=("192.0.2.0", 0, "10.0.0.100", 0))
CONFIG_JSON = b'{"services": [{"vip": "10.0.0.100", "port": 80, "proto": "tcp"}]}'

CORPUS = {
    "advert_master.bin": message(ADVERT, advert(), seq=1),
    "advert_backup_200ms.bin": message(ADVERT, advert(priority=50, state=1, flags=0,
                                                      interval_ms=200, caps=0xFFFFFFFF), seq=9),
    "advert_fault.bin": message(ADVERT, advert(priority=255, state=3), seq=2 ** 63),
    "batch_fnat.bin": message(CONN_BATCH, batch([FNAT]), seq=5),
    "batch_mixed_full_sync.bin": message(CONN_BATCH, batch([FNAT, NAT6, DR_UDP_GROUP, ENDED,
                                                            TEMPLATE]), seq=6,
                                         flags=F_FULL_SYNC),
    "batch_full_1400.bin": message(CONN_BATCH, batch([FNAT] * 12), seq=7),
    "config_first.bin": message(CONFIG, config(3, len(CONFIG_JSON), 0, CONFIG_JSON[:20]), seq=8),
    "config_last.bin": message(CONFIG, config(3, len(CONFIG_JSON), 20, CONFIG_JSON[20:]), seq=9,
                               flags=F_FULL_SYNC),
    "full_sync_request.bin": message(FULL_SYNC_REQUEST, full_sync(3, 0, 2), seq=10),
    "full_sync_end.bin": message(FULL_SYNC_END, full_sync(1, 5000, 3), seq=11),
    # refused: a wrong key, a short advert, a count that exceeds the body
    "bad_key.bin": message(ADVERT, advert(), key=b"another-key-of-32-bytes-........."),
    "bad_advert_len.bin": message(ADVERT, advert()[:-1]),
    "bad_count.bin": message(CONN_BATCH, struct.pack("!HH", 2, 0) + FNAT),
}


def main():
    assert len(KEY) == 32 and len(FNAT) == 108 and len(CORPUS["batch_full_1400.bin"]) <= 1400
    out = os.path.join(HERE, "corpus", "ha_wire")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(CORPUS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
