"""A user-space 802.1Q switch for the testbed (the kernel here has no 8021q module, no bridge
vlan_filtering and no tc actions, so nothing in the kernel can tag or untag).

    vlan_switch.py --trunk IF --access VID=IF [--access VID=IF ...]

The trunk carries tagged frames (towards the appliance's port); each access interface carries
untagged frames of one VLAN (VID 0: the trunk's untagged frames). A frame from the trunk goes,
untagged, to every access interface of its VLAN; a frame from an access interface goes tagged to
the trunk and untagged to the other access interfaces of its VLAN (a hub per VLAN, no MAC
learning: hosts drop what is not theirs). Tags arrive in the frame or, when the kernel moved
them into the skb on receive (veth does), in PACKET_AUXDATA: both are read. Runs until killed.
"""
import argparse
import select
import socket
import struct

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TPID = 0x8100


def open_raw(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    return s


def receive(s):
    """(frame, vid) of the next frame that arrived on s (vid None: untagged), or None for one
    this host sent itself."""
    frame, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
    if addr[2] == PACKET_OUTGOING:
        return None
    for level, kind, data in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= 16:
            status, _, _, _, _, tci = struct.unpack_from("IIIHHH", data)
            if status & TP_STATUS_VLAN_VALID:
                return frame, tci & 0xFFF
    if len(frame) >= 18 and struct.unpack_from("!H", frame, 12)[0] == TPID:
        return frame[:12] + frame[16:], struct.unpack_from("!H", frame, 14)[0] & 0xFFF
    return frame, None


def put(s, frame):
    try:
        s.send(frame)
    except OSError:  # a full queue or a link going away loses the frame, as a switch would
        pass


def tag(frame, vid):
    return frame[:12] + struct.pack("!HH", TPID, vid) + frame[12:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trunk", required=True)
    ap.add_argument("--access", action="append", default=[], metavar="VID=IF")
    args = ap.parse_args()
    trunk = open_raw(args.trunk)
    vlan_of = {}  # access socket -> VID
    for spec in args.access:
        vid, ifname = spec.split("=", 1)
        vlan_of[open_raw(ifname)] = int(vid)
    socks = [trunk] + list(vlan_of)
    while True:
        for s in select.select(socks, [], [])[0]:
            got = receive(s)
            if got is None:
                continue
            frame, vid = got
            if s is trunk:
                vid = vid or 0  # a priority tag (VID 0) is untagged traffic
                for a, v in vlan_of.items():
                    if v == vid:
                        put(a, frame)
                continue
            own = vlan_of[s]
            put(trunk, tag(frame, own) if own else frame)
            for a, v in vlan_of.items():
                if v == own and a is not s:
                    put(a, frame)


if __name__ == "__main__":
    main()
