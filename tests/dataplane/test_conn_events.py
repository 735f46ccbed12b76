"""Connection events: every worker reports created / state changed / ended on its ring, and a
full ring loses events without waiting (counted)."""
from scapy.all import Ether, IP, TCP

from lbdaemon import wait_until

LB_MAC = "02:00:00:00:00:01"
SVC = {"vip": "10.9.0.100", "port": 80, "proto": "tcp"}


def cfg(ring):
    return {"ports": [{"address": "10.9.0.2/24"}],
            "neighbours": {"static": [{"ip": "10.9.0.11", "mac": "02:00:00:00:01:11"}]},
            "timeouts": {"syn_recv": 1, "tcp": 1},
            "dataplane": {"flow_capacity": 8192, "mbufs": 8191, "max_reals": 8, "max_services": 4,
                          "idle_sleep_us": 200, "conn_event_ring": ring},
            "services": [dict(SVC, scheduler="rr", reals=[{"ip": "10.9.0.11"}])]}


def syn(i, flags="S"):
    return Ether(dst=LB_MAC) / IP(src=f"10.8.{i // 250}.{i % 250 + 1}", dst=SVC["vip"]) / \
        TCP(sport=20000 + i, dport=80, flags=flags)


def events(d):
    return d.stats()["dataplane"]["conn_events"]


def test_created_state_changed_and_ended(pcap_daemon, tmp_path):
    from scapy.all import wrpcap
    pkts = [syn(i) for i in range(50)] + [syn(i, "A") for i in range(20)]
    wrpcap(str(tmp_path / "in.pcap"), pkts)
    d = pcap_daemon([tmp_path / "in.pcap"], cfg(1024))
    d.wait_rx(len(pkts))
    ev = wait_until(lambda: (e := events(d))["created"] == 50 and e, timeout=10,
                    what="50 created events")
    # a SYN takes the flow NONE -> SYN_RECV, an ACK SYN_RECV -> ESTABLISHED
    assert ev["state_changed"] == 50 + 20
    assert ev["lost"] == 0
    # timeouts of 1 s: the sweep ends every flow, and each end is reported once
    ev = wait_until(lambda: (e := events(d))["ended"] == 50 and e, timeout=15,
                    what="50 ended events")
    st = d.stats()["dataplane"]
    assert st["flows_expired"] == 50 and st["flows"] == 0
    assert ev["created"] == 50 and ev["lost"] == 0


def test_a_full_ring_loses_events_and_counts_them(pcap_daemon, tmp_path):
    from scapy.all import wrpcap
    n = 3000
    wrpcap(str(tmp_path / "in.pcap"), [syn(i) for i in range(n)])
    d = pcap_daemon([tmp_path / "in.pcap"], cfg(64))
    d.wait_rx(n)
    st = wait_until(lambda: (s := d.stats()["dataplane"])["flows_created"] == n and s, timeout=10,
                    what="every flow created")
    # every created flow is either reported or counted lost (and its state change likewise)
    ev = wait_until(lambda: (e := events(d))["created"] + e["state_changed"] + e["lost"] == 2 * n and e,
                    timeout=10, what="events read or counted lost")
    print(ev)
    assert ev["lost"] > 0  # 3000 SYNs in one go cannot fit 63 slots
    assert ev["created"] < n and st["drop_reasons"]["flow_table_full"] == 0


def test_off_means_no_ring(pcap_daemon, tmp_path):
    from scapy.all import wrpcap
    wrpcap(str(tmp_path / "in.pcap"), [syn(i) for i in range(10)])
    d = pcap_daemon([tmp_path / "in.pcap"], cfg(0))
    d.wait_rx(10)
    wait_until(lambda: d.stats()["dataplane"]["flows_created"] == 10, timeout=10, what="10 flows")
    assert events(d) == {"created": 0, "state_changed": 0, "ended": 0, "lost": 0}


def test_a_flow_released_in_a_burst_is_released_once(pcap_daemon, tmp_path):
    """The bulk lookup of a burst found a flow that an earlier packet of the same burst released
    (a SYN reusing a closing connection's tuple): the next packet of that tuple used to release
    it again, double-counting the expiry and corrupting the flow count. The pcap port hands the
    worker 32 packets per burst, so the reused tuple's two SYNs share the second burst."""
    from scapy.all import UDP, wrpcap
    first = [syn(0), syn(0, "A"), syn(0, "FA")]
    filler = [Ether(dst=LB_MAC) / IP(src="10.8.9.9", dst="10.9.0.200") / UDP(sport=9, dport=9)
              for _ in range(32 - len(first))]
    pkts = first + filler + [syn(0), syn(0)]
    wrpcap(str(tmp_path / "in.pcap"), pkts)
    c = cfg(1024)
    c["timeouts"] = {"syn_recv": 60, "tcp": 60}
    d = pcap_daemon([tmp_path / "in.pcap"], c)
    d.wait_rx(len(pkts))
    st = wait_until(lambda: (s := d.stats()["dataplane"])["rx_packets"] == len(pkts) and s,
                    timeout=10, what="every packet handled")
    assert st["drop_reasons"]["not_vip"] == len(filler)
    assert st["flows_created"] == 2   # the first connection, and the SYN that reused its tuple
    assert st["flows_expired"] == 1   # the closing one, once
    assert st["flows"] == 1
    ev = wait_until(lambda: (e := events(d))["created"] == 2 and e, timeout=10, what="events")
    assert ev["ended"] == 1
