"""hping3 flooders run by the e2e tests, and their certain end."""
import os
import signal
import subprocess

from testbed import wait_until


def start_flooder(testbed, args, seconds):
    """Starts `hping3 ARGS` in the client namespace, in a process group of its own, stopped by
    `timeout` after seconds at the latest; the Popen, to be ended with stop_flooders."""
    p = subprocess.Popen(["ip", "netns", "exec", testbed.ns_cl, "timeout", "-s", "INT",
                          str(seconds), "hping3", "-q"] + list(args),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    testbed.add_pid(p.pid)
    return p


def stop_flooders(testbed, procs):
    """Kills each flooder's whole process group (killing `timeout` alone would leave hping3
    flooding the VIP of every later test on this testbed) and waits until none is left."""
    while procs:
        p = procs.pop()
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        testbed.remove_pid(p.pid)
    wait_until(lambda: not hping_pids(testbed.ns_cl), timeout=10, what="every hping3 gone")


def hping_pids(ns):
    """hping3 processes still running in namespace ns."""
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    alive = []
    for pid in out.split():
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "hping3":
                    alive.append(pid)
        except OSError:
            pass
    return alive


def small_table_lb(testbed, capacity):
    """Body of a module's lb_holder fixture (a generator): a daemon whose flow table a flood
    on this testbed really fills (the default pressure mark and lifetime), stopped at the end."""
    from conftest import LB

    h = LB(testbed, lambda: testbed.daemon_config(flow_capacity=capacity))
    try:
        yield h
    finally:
        h.stop()
