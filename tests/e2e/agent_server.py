"""A feedback agent on TCP 3333 in a backend namespace, for the end-to-end tests of issue 10's
agents, whose answer the test changes at run time: the reply is read from a file at every
connection (set() rewrites it atomically).

Modes (HEALTH_API "agent" types):
  agent    LVS appliance agent: on connect, sends the file's text (an integer, idle CPU 0-100)
           and closes;
  http     reads an HTTP request, answers "HTTP/1.0 200 OK" with the file's text as the body;
  haproxy  HAProxy agent-check: on connect, sends the file's text as one line and closes.

In every mode the agent then shuts its side down and reads whatever the checker sends until
EOF (at most 1 s), so closing never resets the connection under the reply, and keeps it (one
line per connection, repr'd) in a log: the haproxy "send" string and the HTTP request show up
there (sent()). connections() counts the polls.
"""
import os
import subprocess
import uuid

from testbed import PYTHON, nsrun, wait_until, _kill_pid

PORT = 3333

AGENT = r"""
import os, socket, socketserver, sys, time
mode, reply_file, log_file, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(1.0)
        got = b""
        if mode == "http":
            while b"\r\n\r\n" not in got and b"\n\n" not in got:
                try:
                    chunk = s.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
        with open(reply_file) as f:
            text = f.read().strip()
        if mode == "http":
            out = ("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(text), text))
        else:
            out = text + "\n"
        try:
            s.sendall(out.encode())
            s.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        with open(log_file, "a") as f:
            f.write(repr(got) + "\n")

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

srv = Server(("0.0.0.0", port), Handler)
print("ready", flush=True)
srv.serve_forever()
"""


class AgentServer:
    """One agent in backend b's namespace. start()/stop() (stopped = unreachable agent),
    set(text) changes the reply of the next connections."""

    def __init__(self, tb, backend, mode="haproxy", reply="100%", port=PORT):
        if mode not in ("agent", "http", "haproxy"):
            raise ValueError(f"agent mode {mode!r}")
        self.tb = tb
        self.b = backend
        self.mode = mode
        self.port = port
        self.dir = os.path.join(tb.tmp, f"agent-{backend['name']}-{uuid.uuid4().hex[:6]}")
        os.makedirs(self.dir)
        self.reply_file = os.path.join(self.dir, "reply")
        self.log_file = os.path.join(self.dir, "connections.log")
        open(self.log_file, "w").close()
        self.proc = None
        self.set(reply)

    def set(self, text):
        tmp = self.reply_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(text))
        os.rename(tmp, self.reply_file)

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.b["ns"], PYTHON, "-c", AGENT, self.mode,
             self.reply_file, self.log_file, str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.tb.add_pid(self.proc.pid)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            rest = self.proc.stdout.read() if self.proc.poll() is not None else ""
            self.stop()
            raise AssertionError(f"agent on {self.b['name']} did not start: {line!r}{rest}")
        return self

    def stop(self):
        if self.proc is not None:
            _kill_pid(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.tb.remove_pid(self.proc.pid)
            self.proc.stdout.close()
            self.proc = None

    def _lines(self):
        with open(self.log_file) as f:
            return f.read().splitlines()

    def connections(self):
        """Connections served so far."""
        return len(self._lines())

    def sent(self):
        """What the checker sent on each connection (bytes), oldest first."""
        import ast
        return [ast.literal_eval(ln) for ln in self._lines()]

    def wait_polled(self, after, timeout=10):
        """Waits until the agent served more than `after` connections."""
        return wait_until(lambda: self.connections() > after, timeout=timeout, interval=0.05,
                          what=f"a poll of the agent on {self.b['name']}")

    def probe(self, send=b""):
        """One connection from the client namespace: the agent's reply (str)."""
        req = b"GET / HTTP/1.0\r\n\r\n" if self.mode == "http" else send
        code = ("import socket\n"
                f"s = socket.create_connection(('{self.b['ip']}', {self.port}), 3)\n"
                f"s.sendall({req!r})\n"
                "s.shutdown(socket.SHUT_WR)\n"
                "out = b''\n"
                "while True:\n"
                "    c = s.recv(4096)\n"
                "    if not c:\n"
                "        break\n"
                "    out += c\n"
                "print(out.decode(), end='')\n")
        r = nsrun(self.tb.ns_cl, [PYTHON, "-c", code], check=False, timeout=15)
        if r.returncode != 0:
            return None
        return r.stdout


if __name__ == "__main__":
    from testbed import Testbed
    tb = Testbed(n_backends=1, big_mb=1).up()
    try:
        for mode, first, second in (("agent", "20", "90"), ("http", "75", "10"),
                                    ("haproxy", "50%", "up ready 75%")):
            a = AgentServer(tb, tb.backends[0], mode, first).start()
            try:
                r1 = a.probe(b"hello\n")
                a.set(second)
                r2 = a.probe(b"hello\n")
                assert first in r1 and second in r2, (r1, r2)
                assert a.connections() == 2, a.connections()
                print(f"{mode}: {r1!r} then {r2!r}; sent {a.sent()}")
            finally:
                a.stop()
            assert a.probe() is None
    finally:
        tb.down()
