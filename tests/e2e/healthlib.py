"""Helpers of the end-to-end tests of health checks, agents and admin states (issue 10,
/work/helper/HEALTH_API.md in the lead's words, docs/api.md once merged): health.status
lookups, polling a real's state with a deadline, services added and always removed again.

A daemon without the health-check engine fails these tests with the exact RPC reply (e.g.
"health.status: -32601 Method not found"), never skips them.
"""
import contextlib
import ipaddress
import re
import time

from testbed import RpcError, wait_until

# Short check timings so the modules run quickly: a dead real is seen within
# INTERVAL * failures + TIMEOUT (+ scheduling slack on a loaded 2-core machine).
INTERVAL = 0.3
TIMEOUT = 1.0
NEGOTIATE_TIMEOUT = 2.0
SLACK = 3.0


def _same(a, b):
    return ipaddress.ip_address(a) == ipaddress.ip_address(b)


def call(lb, method, params=None):
    """lb.call that turns a missing method or a refused parameter into an AssertionError with
    the daemon's exact reply, so a test fails (not errors) with it."""
    try:
        return lb.call(method, params)
    except RpcError as e:
        raise AssertionError(f"{method} {params!r}: {e.code}: {e.message} "
                             f"(reply {e.reply!r})") from None


def status(lb, key=None):
    """health.status (of one service when key is given): the list of services."""
    res = call(lb, "health.status", {"service": key} if key else {})
    assert isinstance(res, dict) and isinstance(res.get("services"), list), \
        f"health.status result has no services list: {res!r}"
    return res["services"]


def service_status(lb, key):
    for s in status(lb, key):
        if _same(s["vip"], key["vip"]) and s["port"] == key["port"] and \
                s["proto"] == key["proto"]:
            return s
    raise AssertionError(f"service {key} not in health.status")


def real_status(lb, key, ip, port=None):
    """health.status's entry of real ip[:port] of service key."""
    s = service_status(lb, key)
    for r in s["reals"]:
        if _same(r["ip"], ip) and (port is None or r["port"] == port):
            return r
    raise AssertionError(f"real {ip}:{port} not in health.status of {key}: {s['reals']!r}")


def wait_real(lb, key, ip, port=None, state=None, timeout=10.0, what=None, **fields):
    """Polls health.status until the real's state (and every given field) has the wanted
    value; returns the real's entry and the seconds it took."""
    t0 = time.monotonic()
    last = {}

    def ok():
        r = real_status(lb, key, ip, port)
        last["r"] = r
        if state is not None and r["state"] != state:
            return None
        for k, v in fields.items():
            if r.get(k) != v:
                return None
        return r

    try:
        r = wait_until(ok, timeout=timeout, interval=0.05,
                       what=what or f"real {ip} of {key['proto']}/{key['port']} {state} "
                                    f"{fields or ''}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last health.status entry: {last.get('r')!r}") from None
    return r, time.monotonic() - t0


def wait_checks(lb, key, ip, port, n, timeout):
    """Polls until the real has run at least n checks; returns its entry."""
    return wait_until(lambda: (lambda r: r if r["checks"] >= n else None)(
        real_status(lb, key, ip, port)), timeout=timeout, interval=0.05,
        what=f"{n} checks of real {ip}")


def wait_down(lb, key, ip, port, pattern, timeout):
    """Polls until the real is down with a last_error that matches pattern (a regex,
    case-insensitive): the first failed check may say something else (a server reloading
    answers late), the following ones must say this. Returns the entry and the seconds."""
    t0 = time.monotonic()
    last = {}

    def ok():
        r = real_status(lb, key, ip, port)
        last["r"] = r
        return r if r["state"] == "down" and re.search(pattern, r["last_error"] or "", re.I) \
            else None

    try:
        r = wait_until(ok, timeout=timeout, interval=0.05,
                       what=f"real {ip} down with last_error /{pattern}/")
    except AssertionError as e:
        raise AssertionError(f"{e}; last health.status entry: {last.get('r')!r}") from None
    return r, time.monotonic() - t0


def assert_error(r, pattern):
    """last_error of entry r says, in words, what pattern (a regex, case-insensitive) says."""
    err = r.get("last_error") or ""
    assert err, f"a down real with an empty last_error: {r!r}"
    assert re.search(pattern, err, re.I), f"last_error {err!r} does not match /{pattern}/"


def check(**keys):
    """A check object with this module's short timings, overridden by keys."""
    c = {"interval": INTERVAL, "timeout": TIMEOUT, "negotiate_timeout": NEGOTIATE_TIMEOUT,
         "failures": 1, "successes": 1}
    c.update(keys)
    return c


@contextlib.contextmanager
def service(lb, params):
    """Adds a service (service.add params) for the with block and deletes it afterwards, also
    after a failure. Yields its key."""
    key = {k: params[k] for k in ("vip", "port", "proto")}
    call(lb, "service.add", params)
    try:
        yield key
    finally:
        if lb.alive():
            try:
                lb.call("service.del", key)
            except (RpcError, OSError, ConnectionError):
                pass
