"""Failover load for the end-to-end HA tests: long-lived TCP connections streaming data that is
checked end to end, plus a steady stream of new requests whose failures are timed.

Runs inside the client namespace (one thread, epoll), started and driven by tests/e2e/ha.py:

    ha_load.py --vip VIP [--echo-port 9000] [--conns 1000] [--period 1.0] [--msg 100]
               [--http-port 80] [--interval 0.02] [--timeout 0.5]

Long-lived connections go to VIP:echo-port (ha_echo.py on every backend). Each sends a message
of --msg bytes every --period seconds (phases spread evenly), naming its connection and
sequence number and filled from a random block at an offset that depends on both; the server
echoes it. Every byte received must equal the oldest byte sent and not yet echoed. A connection
is BROKEN when it is reset or closed, when a received byte differs, or (found by `verify`) when
bytes it sent are not all back before the deadline. Connections are opened at --connect-rate
per second; one counts as established when its first message is back.

New requests: every --interval seconds an HTTP/1.0 GET / to VIP:http-port over a new
connection; ok when a "200" status line and a body arrive within --timeout of its start,
failed otherwise. Each request's start time (time.monotonic(), the same clock in every
namespace) and outcome is kept.

Commands, one per line on stdin; each answer is one JSON object on stdout:
  status            {"established", "broken", "requests_ok", "requests_failed", "now"}
  verify SECONDS    sends one more message on every live connection and waits until every
                    connection has all its bytes back (or the deadline): {"checked", "ok",
                    "broken": N, "reasons": {reason: count}, "examples": [...]}
  report [T]        the request stream since time T (default: start): {"ok", "failed",
                    "gaps": [{"first_failed", "next_ok", "failed", "length"}] (longest first;
                    a gap with no ok request after it yet has next_ok null and lasts until now),
                    "longest_gap", "first_ok_after": start of the first ok request at or
                    after T, "last_ok_before": the last ok request started before T, "now"}
  quit              exits
At start it prints {"event": "ready", "established": N, "failed": N, "reasons": {...}} once
every connection is established or failed (or after --setup-timeout seconds).
"""
import argparse
import errno
import heapq
import json
import os
import random
import resource
import selectors
import socket
import sys
import time

BLOCK = random.Random(11).randbytes(8192)
MAX_PENDING = 1 << 16    # a connection that cannot send stops adding bytes here


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Conn:
    __slots__ = ("i", "sock", "seq", "pending", "unsent", "state", "reason", "connected_at",
                 "established")

    def __init__(self, i):
        self.i = i
        self.sock = None
        self.seq = 0
        self.pending = bytearray()   # sent (or queued), not yet echoed
        self.unsent = b""            # queued, not yet accepted by the kernel
        self.state = "new"           # new, connecting, open, broken
        self.reason = None
        self.established = False


class Request:
    __slots__ = ("sock", "start", "buf", "sent")

    def __init__(self, sock, start):
        self.sock = sock
        self.start = start
        self.buf = b""
        self.sent = False


class Load:
    def __init__(self, a):
        self.a = a
        self.sel = selectors.DefaultSelector()
        self.conns = [Conn(i) for i in range(a.conns)]
        self.sends = []               # heap of (time, conn index)
        self.requests = {}            # socket -> Request
        self.results = []             # (start, ok) in start order
        self.verify_job = None
        self.ready_sent = False
        self.t0 = time.monotonic()
        self.next_request = self.t0 + 1.0   # requests start once connections are opening
        self.stdin_buf = b""
        self.quit = False

    # -- long-lived connections ---------------------------------------------------------------

    def message(self, c):
        c.seq += 1
        head = f"{c.i:05d} {c.seq:09d} ".encode()
        off = (c.i * 131 + c.seq * 17) % (len(BLOCK) - self.a.msg)
        return head + BLOCK[off:off + self.a.msg - len(head) - 1] + b"\n"

    def break_conn(self, c, reason):
        if c.state == "broken":
            return
        c.state = "broken"
        c.reason = reason
        if c.sock is not None:
            try:
                self.sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
            c.sock = None

    def open_conn(self, c):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((self.a.vip, self.a.echo_port))
        c.sock = s
        if err not in (0, errno.EINPROGRESS):
            self.break_conn(c, f"connect: {os.strerror(err)}")
            return
        c.state = "connecting"
        self.sel.register(s, selectors.EVENT_WRITE, ("c", c))

    def conn_writable(self, c):
        if c.state == "connecting":
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.break_conn(c, f"connect: {os.strerror(err)}")
                return
            c.state = "open"
            self.sel.modify(c.sock, selectors.EVENT_READ, ("c", c))
            self.send(c)
            phase = (c.i % 1000) / 1000.0 * self.a.period
            heapq.heappush(self.sends, (time.monotonic() + self.a.period + phase, c.i))
        else:
            self.flush(c)

    def send(self, c):
        if len(c.pending) >= MAX_PENDING:
            return
        m = self.message(c)
        c.pending += m
        c.unsent += m
        self.flush(c)

    def flush(self, c):
        try:
            n = c.sock.send(c.unsent)
        except BlockingIOError:
            n = 0
        except OSError as e:
            self.break_conn(c, f"send: {e.strerror or e}")
            return
        c.unsent = c.unsent[n:]
        self.sel.modify(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if c.unsent else 0),
                        ("c", c))

    def conn_readable(self, c):
        try:
            data = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            self.break_conn(c, f"recv: {e.strerror or e}")
            return
        if not data:
            self.break_conn(c, "closed by the peer")
            return
        if data != c.pending[:len(data)]:
            self.break_conn(c, "echoed bytes differ from the bytes sent")
            return
        del c.pending[:len(data)]
        if not c.pending and not c.established:
            c.established = True

    # -- new requests -------------------------------------------------------------------------

    def start_request(self, now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((self.a.vip, self.a.http_port))
        r = Request(s, now)
        self.requests[s] = r
        self.sel.register(s, selectors.EVENT_WRITE, ("r", r))

    def end_request(self, r, ok):
        self.sel.unregister(r.sock)
        del self.requests[r.sock]
        r.sock.close()
        self.results.append((r.start, ok))

    def request_event(self, r, events):
        if not r.sent:
            if r.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self.end_request(r, False)
                return
            try:
                r.sock.send(b"GET / HTTP/1.0\r\nHost: vip\r\n\r\n")
            except OSError:
                self.end_request(r, False)
                return
            r.sent = True
            self.sel.modify(r.sock, selectors.EVENT_READ, ("r", r))
            return
        try:
            data = r.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self.end_request(r, False)
            return
        if data:
            r.buf += data
            return
        head, _, body = r.buf.partition(b"\r\n\r\n")
        self.end_request(r, head.split(b" ")[1:2] == [b"200"] and len(body.strip()) > 0)

    # -- commands -----------------------------------------------------------------------------

    def counts(self):
        est = sum(1 for c in self.conns if c.established and c.state == "open")
        broken = sum(1 for c in self.conns if c.state == "broken")
        return est, broken

    def reasons(self, conns):
        r = {}
        for c in conns:
            if c.state == "broken":
                r[c.reason] = r.get(c.reason, 0) + 1
        return r

    def report(self, since):
        now = time.monotonic()
        res = [(t, ok) for t, ok in self.results if t >= since]
        gaps, i = [], 0
        while i < len(res):
            if res[i][1]:
                i += 1
                continue
            j = i
            while j < len(res) and not res[j][1]:
                j += 1
            nxt = res[j][0] if j < len(res) else None
            # a gap still open (no ok request after it yet) has lasted until now so far
            gaps.append({"first_failed": res[i][0], "next_ok": nxt, "failed": j - i,
                         "length": (nxt if nxt is not None else now) - res[i][0]})
            i = j
        gaps.sort(key=lambda g: -g["length"])
        first_ok = next((t for t, ok in res if ok), None)
        before = [t for t, ok in self.results if ok and t < since]
        return {"ok": sum(1 for _, ok in res if ok), "failed": sum(1 for _, ok in res if not ok),
                "gaps": gaps[:10], "longest_gap": gaps[0]["length"] if gaps else 0.0,
                "first_ok_after": first_ok, "last_ok_before": before[-1] if before else None,
                "now": now}

    def command(self, line):
        words = line.split()
        if not words:
            return
        if words[0] == "status":
            est, broken = self.counts()
            out({"established": est, "broken": broken,
                 "requests_ok": sum(1 for _, ok in self.results if ok),
                 "requests_failed": sum(1 for _, ok in self.results if not ok),
                 "reasons": self.reasons(self.conns), "now": time.monotonic()})
        elif words[0] == "verify":
            live = [c for c in self.conns if c.state == "open"]
            for c in live:
                self.send(c)
            self.verify_job = (time.monotonic() + float(words[1]), live)
        elif words[0] == "report":
            out(self.report(float(words[1]) if len(words) > 1 else 0.0))
        elif words[0] == "quit":
            self.quit = True
        else:
            out({"error": f"unknown command {words[0]!r}"})

    def check_verify(self, now):
        deadline, live = self.verify_job
        waiting = [c for c in live if c.state == "open" and c.pending]
        if waiting and now < deadline:
            return
        for c in waiting:
            self.break_conn(c, "stalled: sent bytes not echoed before the verify deadline")
        bad = [c for c in live if c.state == "broken"]
        out({"checked": len(live), "ok": len(live) - len(bad), "broken": len(bad),
             "broken_total": sum(1 for c in self.conns if c.state == "broken"),
             "reasons": self.reasons(bad),
             "examples": [f"conn {c.i}: {c.reason}" for c in bad[:5]]})
        self.verify_job = None

    def read_stdin(self):
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:
            self.quit = True
            return
        self.stdin_buf += data
        while b"\n" in self.stdin_buf:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            self.command(line.decode())

    # -- loop ---------------------------------------------------------------------------------

    def tick(self, now, opened):
        a = self.a
        want = min(len(self.conns), int((now - self.t0) * a.connect_rate) + 1)
        while opened < want:
            self.open_conn(self.conns[opened])
            opened += 1
        while self.sends and self.sends[0][0] <= now:
            _, i = heapq.heappop(self.sends)
            c = self.conns[i]
            if c.state == "open":
                self.send(c)
                heapq.heappush(self.sends, (now + a.period, i))
        if now >= self.next_request:
            self.start_request(now)
            self.next_request += a.interval
            if self.next_request < now:   # we were late: do not start a burst
                self.next_request = now + a.interval
        for r in [r for r in self.requests.values() if now - r.start > a.timeout]:
            self.end_request(r, False)
        if not self.ready_sent:
            done = opened == len(self.conns) and all(
                c.established or c.state == "broken" for c in self.conns)
            if done or now - self.t0 > a.setup_timeout:
                est, broken = self.counts()
                out({"event": "ready", "established": est, "failed": len(self.conns) - est,
                     "reasons": self.reasons(self.conns), "seconds": now - self.t0})
                self.ready_sent = True
        if self.verify_job:
            self.check_verify(now)
        return opened

    def run(self):
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, ("stdin", None))
        opened = 0
        while not self.quit:
            for key, events in self.sel.select(timeout=0.005):
                kind, obj = key.data
                if kind == "stdin":
                    self.read_stdin()
                elif kind == "r":
                    if obj.sock in self.requests:
                        self.request_event(obj, events)
                elif obj.state in ("connecting", "open") and obj.sock is not None:
                    if events & selectors.EVENT_READ and obj.state == "open":
                        self.conn_readable(obj)
                    if (events & selectors.EVENT_WRITE and obj.sock is not None
                            and obj.state in ("connecting", "open")):
                        self.conn_writable(obj)
            opened = self.tick(time.monotonic(), opened)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vip", required=True)
    p.add_argument("--echo-port", type=int, default=9000)
    p.add_argument("--conns", type=int, default=1000)
    p.add_argument("--period", type=float, default=1.0)
    p.add_argument("--msg", type=int, default=100)
    p.add_argument("--connect-rate", type=float, default=250.0)
    p.add_argument("--setup-timeout", type=float, default=60.0)
    p.add_argument("--http-port", type=int, default=80)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--timeout", type=float, default=0.5)
    a = p.parse_args()
    if not 40 <= a.msg <= 4096:
        p.error("--msg must be 40-4096")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = a.conns + 4096
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, hard)))
    Load(a).run()


if __name__ == "__main__":
    main()
