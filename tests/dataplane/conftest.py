import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lbdaemon import DAEMON, SANITIZER_ENV, PcapDaemon, sanitizer_report  # noqa: E402
from accounting import accounting_rule  # noqa: E402,F401 (autouse: docs/api.md's rule)

# Every daemon a test starts itself (test_publish, test_startup, test_rpc) inherits this: a UBSan
# finding stops it with a non-zero exit that the test checks, as PcapDaemon's do.
os.environ.update(SANITIZER_ENV)


@pytest.fixture
def pcap_daemon(tmp_path):
    """Factory: start a daemon on pcap files; every daemon is stopped after the test."""
    started = []

    def start(rx_pcaps, config, workers=1, replay_forever=False):
        d = PcapDaemon([str(p) for p in rx_pcaps], config, workers, replay_forever=replay_forever)
        started.append(d)
        return d

    if not os.access(DAEMON, os.X_OK):
        pytest.fail(f"daemon not built: {DAEMON}")
    yield start
    bad = []
    for d in started:
        rc = d.stop()
        # A sanitizer report or an unclean shutdown shows up as a non-zero exit (stop() turns a
        # report in the log of a daemon that exited 0 into 1).
        if rc != 0:
            log = d.read_log()
            report = sanitizer_report(log)
            bad.append(f"daemon exited {rc}" + (f" with a sanitizer report: {report}" if report else "")
                       + f":\n{log[-4000:]}")
        shutil.rmtree(d.dir, ignore_errors=True)
    assert not bad, "\n".join(bad)
