"""End-to-end: metrics.listen on the appliance's own port address, which the kernel owns on the
exception-path interface: a client outside reaches /metrics through the dataplane's exception
path, and nothing listens on the default loopback address."""
import pytest

from testbed import nsrun, wait_until

PORT = 9108


@pytest.fixture(scope="module")
def lb_holder(testbed):
    """Overrides conftest's: metrics on the port's address instead of 127.0.0.1."""
    from conftest import LB

    def config():
        cfg = testbed.daemon_config()
        cfg["metrics"] = {"listen": f"{testbed.lb_ip}:{PORT}"}
        return cfg

    h = LB(testbed, config)
    try:
        yield h
    finally:
        h.stop()


def test_client_scrapes_metrics_through_the_exception_path(testbed, lb):
    before = lb.call("stats.get")["dataplane"]

    def scrape():
        r = nsrun(testbed.ns_cl, ["curl", "-s", "--max-time", "2",
                                  f"http://{testbed.lb_ip}:{PORT}/metrics"], check=False)
        return r.stdout if r.returncode == 0 and "dpdk_lb_dataplane_rx_packets_total" in r.stdout \
            else None
    body = wait_until(scrape, timeout=20, what="/metrics from the client namespace")
    assert "# TYPE dpdk_lb_dataplane_exception_rx_total counter" in body
    after = lb.call("stats.get")["dataplane"]
    assert after["exception_rx"] > before["exception_rx"]
    assert after["exception_tx"] > before["exception_tx"]
    # the default address is not used when another one is configured
    r = nsrun(testbed.ns_lb, ["curl", "-s", "--max-time", "2", f"http://127.0.0.1:{PORT}/"],
              check=False)
    assert r.returncode != 0
    assert lb.call("config.get")["metrics"] == {"listen": f"{testbed.lb_ip}:{PORT}"}
