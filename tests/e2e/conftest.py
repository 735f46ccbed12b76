"""Fixtures for the end-to-end suite: one namespace testbed per session, one daemon per module.

Environment: DPDK_LB_BUILD (build directory, default "build"), DPDK_LB_WORKERS (worker lcores,
default 1; more than one uses af_packet with that many queue pairs).
"""
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testbed as tbmod  # noqa: E402

WORKERS = int(os.environ.get("DPDK_LB_WORKERS", "1"))


def _sigterm(signum, frame):
    # timeout(1) or a CI runner stopping us: unwind so that fixtures tear the testbed down.
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def workers():
    return WORKERS


@pytest.fixture(scope="session")
def testbed():
    if os.geteuid() != 0:
        pytest.skip("the end-to-end suite needs root (network namespaces)")
    if not os.access(tbmod.daemon_path(), os.X_OK):
        pytest.fail(f"daemon not built: {tbmod.daemon_path()}")
    signal.signal(signal.SIGTERM, _sigterm)
    tb = tbmod.Testbed(workers=WORKERS)
    try:
        tb.up()
        yield tb
    finally:
        tb.down()


class LB:
    """The module's daemon. A daemon found dead (it died after the test that used it last) fails
    the test asking for it; the test after that gets a new one. A daemon that exits non-zero when
    stopped fails there too. config, when given, makes its config dict (default:
    testbed.daemon_config())."""

    def __init__(self, tb, config=None):
        self.tb = tb
        self.config = config
        self.d = None

    def ensure(self):
        if self.d is not None and not self.d.alive():
            d, self.d = self.d, None
            rc = d.stop()
            pytest.fail(f"the daemon died since the previous test (exit {rc}):\n"
                        + d.read_log()[-3000:])
        if self.d is None:
            self.d = self.tb.start_daemon(self.config() if self.config else None)
        return self.d

    def stop(self):
        if self.d is not None:
            d, self.d = self.d, None
            rc = d.stop()
            if rc != 0:
                pytest.fail(f"the daemon exited {rc} when stopped:\n" + d.read_log()[-3000:])
            return rc
        return None


@pytest.fixture(scope="module")
def lb_holder(testbed):
    h = LB(testbed)
    try:
        yield h
    finally:
        h.stop()


@pytest.fixture
def lb(lb_holder, request):
    d = lb_holder.ensure()
    yield d
    if not d.alive():
        # Show why it died; the next test gets a new daemon.
        log = d.read_log()[-3000:]
        lb_holder.d = None
        d.stop()
        if getattr(request.node, "rep_call_failed", True) is False:
            pytest.fail(f"daemon died during the test:\n{log}")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call_failed = rep.failed


@pytest.fixture
def service(lb, testbed):
    """Factory: service(scheduler, weights) adds a TCP service VIP:80 with the testbed's backends
    (weights per backend; None leaves one out) and deletes it after the test."""
    added = []

    def make(scheduler="rr", weights=None, port=80):
        weights = weights or [1] * len(testbed.backends)
        reals = [{"ip": b["ip"], "weight": w}
                 for b, w in zip(testbed.backends, weights) if w is not None]
        key = {"vip": testbed.vip, "port": port, "proto": "tcp"}
        lb.call("service.add", dict(key, scheduler=scheduler, reals=reals))
        added.append(key)
        return key

    yield make
    for key in added:
        if lb.alive():
            try:
                lb.call("service.del", key)
            except tbmod.RpcError:
                pass


def backend_of(tb):
    """Map from a backend's reply body ("b1") to the backend dict."""
    return {b["name"]: b for b in tb.backends}
