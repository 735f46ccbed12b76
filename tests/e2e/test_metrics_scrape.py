"""End-to-end: the metrics listener under real traffic. A real Prometheus server (Debian's)
scrapes the daemon and a series is queried back through its HTTP API; headless Chromium shows
the status page with non-empty charts. Both run in the daemon's namespace, where the listener
is on its default address, 127.0.0.1:9108."""
import json
import os
import re
import shutil
import signal
import subprocess
import urllib.parse

import pytest

from testbed import nsrun, wait_until

METRICS = "127.0.0.1:9108"
N_REQUESTS = 60


def curl(tb, url, timeout=10):
    """Body of url fetched inside the daemon's namespace ("" when it failed)."""
    r = nsrun(tb.ns_lb, ["curl", "-s", "--max-time", "5", url], check=False, timeout=timeout)
    return r.stdout if r.returncode == 0 else ""


@pytest.fixture
def traffic(testbed, lb, service):
    key = service("rr")
    bodies = testbed.curl_many(N_REQUESTS)
    assert bodies.count(None) == 0
    return key


def spawn_in_ns(tb, args, log_path):
    log = open(log_path, "w")
    p = subprocess.Popen(["ip", "netns", "exec", tb.ns_lb] + args, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return p


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_prometheus_scrapes_the_daemon_and_answers_a_query(testbed, lb, traffic, tmp_path):
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus missing: scripts/bootstrap.sh installs it")
    conf = tmp_path / "prometheus.yml"
    conf.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: dpdk-lb\n"
                    f"    static_configs:\n      - targets: ['{METRICS}']\n")
    api = "127.0.0.1:9090"
    p = spawn_in_ns(testbed, ["prometheus", f"--config.file={conf}",
                              f"--storage.tsdb.path={tmp_path / 'data'}",
                              f"--web.listen-address={api}"], tmp_path / "prometheus.log")
    try:
        query = (f'dpdk_lb_connections_total{{local_address="{testbed.vip}",'
                 f'local_port="80",proto="TCP"}}')

        def queried():
            body = curl(testbed, f"http://{api}/api/v1/query?query=" + urllib.parse.quote(query))
            try:
                result = json.loads(body)["data"]["result"]
            except (ValueError, KeyError):
                return None
            return result and result

        result = wait_until(queried, timeout=60, interval=0.5,
                            what="Prometheus to have scraped the series")
        assert len(result) == 1
        assert result[0]["metric"]["job"] == "dpdk-lb"
        assert float(result[0]["value"][1]) == N_REQUESTS
        # the target is healthy: every scrape parsed
        body = curl(testbed, f"http://{api}/api/v1/targets")
        target = json.loads(body)["data"]["activeTargets"][0]
        assert target["health"] == "up", target
        assert target["lastError"] == ""
    finally:
        stop(p)


def chart_summary(page, chart):
    m = re.search(rf'<svg id="{chart}" data-points="(\d+)" data-max="([^"]+)"', page)
    assert m, f"{chart} not on the page"
    return int(m.group(1)), float(m.group(2))


def coloured_pixels(png, rgb, tol=40):
    from PIL import Image
    img = Image.open(png).convert("RGB")
    return sum(1 for px in img.getdata()
               if all(abs(a - b) <= tol for a, b in zip(px, rgb)))


def test_status_page_screenshot_shows_charts_after_traffic(testbed, lb, traffic, tmp_path):
    if shutil.which("chromium") is None:
        pytest.fail("chromium missing: scripts/bootstrap.sh installs it")
    # The history records a point a second: wait until the traffic is in it.
    def drawn():
        page = curl(testbed, f"http://{METRICS}/")
        if not page:
            return None
        pts, cmax = chart_summary(page, "chart-conns")
        _, rmax = chart_summary(page, "chart-rates")
        return pts >= 3 and cmax > 0 and rmax > 0 and page
    page = wait_until(drawn, timeout=30, interval=0.5, what="charts with traffic in them")
    assert f"{testbed.vip}:80" in page
    shot = tmp_path / "status.png"
    profile = tmp_path / "chromium-profile"
    r = nsrun(testbed.ns_lb, [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
        "--window-size=1000,1300", f"--screenshot={shot}", f"http://{METRICS}/"],
        check=False, timeout=120)
    assert shot.exists(), r.stderr[-2000:]
    keep = os.environ.get("DPDK_LB_SCREENSHOT")  # where to keep the picture, for a look
    if keep:
        shutil.copy(shot, keep)
    # The charts' lines: connections (#1f77b4) and new connections per second (#2ca02c). A
    # legend square alone is well under 200 pixels; a line across the chart is more.
    assert coloured_pixels(shot, (0x1f, 0x77, 0xb4)) > 300
    assert coloured_pixels(shot, (0x2c, 0xa0, 0x2c)) > 300
