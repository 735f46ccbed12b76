"""fnat's local endpoint on the client path (docs/architecture.md, "fnat local endpoints").

A connection's entry keeps the index of its local address in the service's list and its local
port, so a client packet is rewritten without reading the reply key. An edit that appends local
addresses keeps every index; one that reorders or removes them would make an old index name
another address, so the service's flows take the endpoint from the reply key from then on.
Either way a connection keeps the local address and port its real knows it by.
"""
from scapy.all import IP, TCP, Ether

from test_edges import (CLIENT, CLIENT_MAC, LIVE_PORT_MAC, REAL, REAL_MAC, VIP, config,  # noqa: F401
                        live, service)
from test_methods import assert_checksums
from test_syn_proxy import exchange

LOCALS = ["10.9.0.200", "10.9.0.201"]
EXTRA = "10.9.0.202"
CLIENT_PORTS = range(40000, 40012)


def svc(local_addresses):
    s = service(forward="fnat", local_addresses=local_addresses)
    s["reals"] = [{"ip": REAL, "port": 8080}]
    return s


def from_client(sport, flags, seq):
    return Ether(src=CLIENT_MAC, dst=LIVE_PORT_MAC) / IP(src=CLIENT, dst=VIP) / \
        TCP(sport=sport, dport=80, flags=flags, seq=seq)


def endpoints(ld, flags, seq):
    """Sends one segment per client port; returns {client port: (local address, local port)} of
    what reached the real, each checked for addresses, ports and checksums."""
    out = exchange(ld, [from_client(p, flags, seq) for p in CLIENT_PORTS], len(CLIENT_PORTS))
    assert len(out) == len(CLIENT_PORTS), f"{len(out)} of {len(CLIENT_PORTS)} reached the real"
    for f in out:
        assert (f[Ether].dst, f[IP].dst, f[TCP].dport) == (REAL_MAC, REAL, 8080)
        assert_checksums(f)
    # the client ports are not in the rewritten frame: match them through conn.list
    conns = {int(c["client"].rsplit(":", 1)[1]): c["local"]
             for c in ld.rpc.call("conn.list")["connections"]}
    got = {(f[IP].src, f[TCP].sport) for f in out}
    assert got == {tuple_of(conns[p]) for p in CLIENT_PORTS}, (got, conns)
    return {p: tuple_of(conns[p]) for p in CLIENT_PORTS}


def tuple_of(local):
    ip, port = local.rsplit(":", 1)
    return ip, int(port)


def test_connections_keep_their_local_endpoint_across_local_address_edits(live):
    ld = live(config([svc(LOCALS)]))
    made = endpoints(ld, "S", 1000)
    assert {ip for ip, _ in made.values()} == set(LOCALS), \
        f"both local addresses should serve some of {len(made)} connections: {made}"

    # Appending an address keeps every index: the entries' endpoints still name the same.
    key = {"vip": VIP, "port": 80, "proto": "tcp"}
    ld.rpc.call("service.update", dict(key, local_addresses=LOCALS + [EXTRA]))
    assert endpoints(ld, "A", 1001) == made

    # Reordering would make index 0 name the other address: the reply key says instead.
    ld.rpc.call("service.update", dict(key, local_addresses=[EXTRA, LOCALS[1], LOCALS[0]]))
    assert endpoints(ld, "PA", 1001) == made
    s = ld.stats()["dataplane"]
    assert s["flows_created"] == len(CLIENT_PORTS) and s["drop_reasons"]["no_flow"] == 0

    # A new connection still gets an address of the new list, and keeps it.
    sport = 41000
    syn = exchange(ld, [from_client(sport, "S", 5)], 1)
    assert len(syn) == 1 and syn[0][IP].src in {EXTRA, *LOCALS}
    first = (syn[0][IP].src, syn[0][TCP].sport)
    again = exchange(ld, [from_client(sport, "A", 6)], 1)
    assert len(again) == 1 and (again[0][IP].src, again[0][TCP].sport) == first
    ld.d.wait_rx(ld.sent)
