"""TCP echo server for the failover tests' long-lived connections (tests/e2e/ha_load.py).

Usage: ha_echo.py PORT. Listens on 0.0.0.0:PORT (a direct-routing real answers from the VIP it
holds on lo) and sends every byte of each connection back, in order, for as long as the client
keeps the connection open. One thread and epoll: a backend holds a few hundred connections.
Prints "ready" once listening.
"""
import resource
import selectors
import socket
import sys


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    port = int(sys.argv[1])
    raise_fd_limit()
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", port))
    lsock.listen(4096)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, None)
    outbuf = {}   # socket -> bytes not yet sent back
    print("ready", flush=True)

    def close(s):
        sel.unregister(s)
        outbuf.pop(s, None)
        s.close()

    def flush(s):
        buf = outbuf[s]
        try:
            n = s.send(buf)
        except BlockingIOError:
            n = 0
        except OSError:
            close(s)
            return
        outbuf[s] = buf[n:]
        sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if outbuf[s] else 0), s)

    while True:
        for key, events in sel.select():
            s = key.data
            if s is None:
                try:
                    c, _ = lsock.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                outbuf[c] = b""
                sel.register(c, selectors.EVENT_READ, c)
                continue
            if events & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    close(s)
                    continue
                if not data:
                    close(s)
                    continue
                outbuf[s] += data
                flush(s)
            elif events & selectors.EVENT_WRITE:
                flush(s)


if __name__ == "__main__":
    main()
