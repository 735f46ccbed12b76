"""The accounting rule of docs/api.md (stats.get): every frame the dataplane receives is counted
once in rx_packets and then transmitted (forwarded or answered), handed on (neighbour table,
kernel interface) or dropped under exactly one reason; dropped is the sum of the reasons.

Fragments are the one place where frames and fates are not one to one: a reassembled datagram
is one unit made of several received fragments. So the rule is checked on units: every received
frame that is not a fragment, plus every datagram reassembled, has exactly one fate; fragments
given up on are counted under `fragment` on top (fragments still held have no fate yet).

Forwarded units are read from the services' counters (inpkts: to a real, outpkts: nat/fnat
replies) and icmp_errors_relayed. A deleted service takes its counters with it: callers that
delete services pass what those services had forwarded as `retired`."""
import pytest

ANSWERED = ("arp_replies", "nd_advertisements", "icmp_echo_replies", "syn_proxy_cookies_sent",
            "syn_proxy_real_acks")
HANDED_ON = ("neighbour_frames", "exception_rx", "exception_dropped")


def forwarded(stats):
    """Units sent to a real or back to a client, as the services count them."""
    return sum(s["inpkts"] + s["outpkts"] for s in stats["services"])


def balance(stats, retired=0):
    """(units received, units with a fate, what each term is): equal once every received frame
    has been handled."""
    dp = stats["dataplane"]
    reasons = dp["drop_reasons"]
    units = dp["rx_packets"] - dp["fragments_received"] + dp["datagrams_reassembled"]
    terms = {k: dp[k] for k in ANSWERED + HANDED_ON + ("icmp_errors_relayed",)}
    terms["forwarded"] = forwarded(stats) + retired
    terms.update({f"drop:{k}": v for k, v in reasons.items() if v and k != "fragment"})
    return units, sum(terms.values()), terms


def problems(stats, retired=0):
    """What breaks the rule in stats (an empty list when it holds)."""
    dp = stats["dataplane"]
    out = []
    if dp["dropped"] != sum(dp["drop_reasons"].values()):
        out.append(f"dropped {dp['dropped']} != sum of drop_reasons "
                   f"{sum(dp['drop_reasons'].values())}: {dp['drop_reasons']}")
    units, fates, terms = balance(stats, retired)
    if units != fates:
        out.append(f"{units} frames/datagrams received (rx_packets {dp['rx_packets']} - "
                   f"fragments_received {dp['fragments_received']} + datagrams_reassembled "
                   f"{dp['datagrams_reassembled']}) but {fates} accounted for: {terms}")
    return out


def settled(stats, n=None, retired=0):
    """True when at least n frames were received (if n is given) and each has its fate."""
    if n is not None and stats["dataplane"]["rx_packets"] < n:
        return False
    return not problems(stats, retired)


def _key(s):
    return (s["vip"], s["port"], s["proto"])


@pytest.fixture(autouse=True)
def accounting_rule(monkeypatch):
    """Checks the rule on every daemon a dataplane test stops (PcapDaemon.stop, which the
    fixtures also call), while it still runs, and fails the test when it does not hold.
    Not checked: a daemon that replays its pcap forever (its counters move while read) and one
    that already exited (the fixtures report that). What services deleted by service.del or
    config.apply had forwarded is kept per daemon (`retired`)."""
    from lbdaemon import PcapDaemon, RpcClient, wait_until
    found = []
    real_call, real_stop = RpcClient.call, PcapDaemon.stop
    retired = {}   # socket path -> units forwarded by services since deleted

    def call(self, method, params=None):
        if method not in ("service.del", "config.apply"):
            return real_call(self, method, params)
        before = {_key(s): s["inpkts"] + s["outpkts"]
                  for s in real_call(self, "stats.get")["services"]}
        try:
            return real_call(self, method, params)
        finally:
            after = {_key(s): s["inpkts"] + s["outpkts"]
                     for s in real_call(self, "stats.get")["services"]}
            gone = sum(v for k, v in before.items() if after.get(k, -1) < v)
            path = self.sock.getpeername()
            retired[path] = retired.get(path, 0) + gone

    def check(d):
        if d.log.closed or d.proc.poll() is not None or not d.tx_pcaps:
            return  # stopped already, exited, or replaying forever
        c = None
        try:
            c = RpcClient(d.sock)
            extra = retired.get(d.sock, 0)
            wait_until(lambda: settled(c.call("stats.get"), retired=extra), timeout=5,
                       what="every received frame accounted for")
        except AssertionError:
            found.append(f"daemon {d.dir}: " + "; ".join(problems(c.call("stats.get"), extra)))
        except (OSError, ConnectionError) as e:
            found.append(f"daemon {d.dir}: stats.get for the accounting check failed: {e!r}")
        finally:
            if c is not None:
                c.close()

    def stop(self):
        check(self)
        return real_stop(self)

    monkeypatch.setattr(RpcClient, "call", call)
    monkeypatch.setattr(PcapDaemon, "stop", stop)
    monkeypatch.setattr(PcapDaemon, "retired", property(lambda d: retired.get(d.sock, 0)),
                        raising=False)
    yield
    assert not found, "accounting rule (docs/api.md, stats.get) broken:\n" + "\n".join(found)
