"""dpdk-lb demo driver (run by scripts/demo.sh as root).

Builds a namespace testbed (tests/e2e/testbed.py: a client, the appliance's veth, three nginx
real servers, one bridge), starts the daemon from config/dpdk-lb.json adjusted to the testbed,
adds VIP:80 (rr) with three real servers through dpdk-lb-cli, sends curl requests from the client
namespace, shows which real server answered each, prints `dpdk-lb-cli list` and `list --stats`,
and removes everything again.
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import testbed as tbmod  # noqa: E402


def say(msg=""):
    print(msg, flush=True)


def adjusted_config(tb, template_path):
    with open(template_path) as f:
        cfg = json.load(f)
    eal = list(cfg.get("eal", []))
    for i, a in enumerate(eal):
        if a.startswith("net_af_xdp") and "iface=" in a:
            parts = [p if not p.startswith("iface=") else f"iface={tb.lb_if}" for p in a.split(",")]
            eal[i] = ",".join(parts)
        if a == "--file-prefix" and i + 1 < len(eal):
            eal[i + 1] = f"{tb.prefix}-demo"
    cfg["eal"] = eal
    cfg.setdefault("rpc", {})["socket"] = os.path.join(tb.tmp, "dpdk-lb.sock")
    cfg["ports"] = [{"address": f"{tb.lb_ip}/{tb.prefix_len}"}]
    return cfg


class Control:
    """Runs dpdk-lb-cli commands (printed like a shell session); raw JSON-RPC if the CLI is
    missing or does not take the command."""

    def __init__(self, daemon):
        self.d = daemon
        self.cli = tbmod.cli_path()
        self.have_cli = os.access(self.cli, os.X_OK)
        if not self.have_cli:
            say(f"(note: {self.cli} is not built; using raw JSON-RPC instead)")

    def run_cli(self, args):
        shown = "dpdk-lb-cli " + " ".join(shlex.quote(a) for a in args)
        if not self.have_cli:
            return None
        env = dict(os.environ, DPDK_LB_SOCKET=self.d.sock)
        p = subprocess.run([self.cli] + args, capture_output=True, text=True, timeout=20, env=env)
        say(f"# {shown}")
        if p.stdout.strip():
            say(p.stdout.rstrip())
        if p.returncode != 0:
            say(f"(exit {p.returncode}: {p.stderr.strip()})")
            return None
        return p

    def step(self, cli_args, method, params):
        if self.run_cli(cli_args) is not None:
            return
        say(f"# JSON-RPC {method} {json.dumps(params)}")
        say(json.dumps(self.d.call(method, params)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=os.path.join(REPO, "config", "dpdk-lb.json"))
    ap.add_argument("--requests", type=int, default=9)
    ap.add_argument("--state-out", help="write the testbed's state-file path here (cleanup)")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    say("== building the testbed (network namespaces, bridge, veths, 3 nginx real servers)")
    tb = tbmod.Testbed(workers=1)
    if args.state_out:
        with open(args.state_out, "w") as f:
            f.write(tb.state_file)
    try:
        tb.up()
        say(f"   client        {tb.client_ip:<16} netns {tb.ns_cl}")
        say(f"   dpdk-lb port  {tb.lb_ip:<16} netns {tb.ns_lb}, AF_XDP on {tb.lb_if}")
        for b in tb.backends:
            say(f"   real {b['name']}       {b['ip']:<16} netns {b['ns']}, nginx, VIP {tb.vip} on lo")
        say(f"   VIP           {tb.vip}:80")

        cfg = adjusted_config(tb, args.config)
        cfg_path = os.path.join(tb.tmp, "dpdk-lb.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
        say(f"\n== starting dpdk-lb -c {cfg_path} (from {os.path.relpath(args.config, REPO)})")
        d = tb.start_daemon(config_path=cfg_path)
        info = d.call("system.info")
        say(f"   dpdk-lb {info['version']}: port {info['ports'][0]['name']} mac "
            f"{info['ports'][0]['mac']}, {len(info['workers'])} worker lcore(s)")

        say("\n== adding the virtual service and its real servers")
        ctl = Control(d)
        say(f"# export DPDK_LB_SOCKET={d.sock}")
        key = {"vip": tb.vip, "port": 80, "proto": "tcp"}
        ctl.step(["service", "add", "tcp", f"{tb.vip}:80", "-s", "rr"], "service.add",
                 dict(key, scheduler="rr"))
        for b in tb.backends:
            ctl.step(["real", "add", "tcp", f"{tb.vip}:80", f"{b['ip']}:80", "-w", "1", "-g"],
                     "real.add", {"service": key, "ip": b["ip"], "port": 80, "weight": 1})

        say(f"\n== {args.requests} requests from the client namespace: "
            f"curl -s http://{tb.vip}/ (a new TCP connection each)")
        by_name = {b["name"]: b for b in tb.backends}
        answered = []
        for i in range(1, args.requests + 1):
            rc, body = tb.curl()
            name = body.strip()
            answered.append(name if rc == 0 else None)
            where = f"{name} ({by_name[name]['ip']})" if name in by_name else f"FAILED (curl {rc})"
            say(f"   request {i}: answered by {where}")
        ok = [a for a in answered if a]
        say("   per real server: " + ", ".join(f"{n}={ok.count(n)}" for n in sorted(by_name)))

        say("\n== the service table")
        if ctl.run_cli(["list"]) is None:
            say(json.dumps(d.call("service.list"), indent=2))
        say("")
        if ctl.run_cli(["list", "--stats"]) is None:
            say(json.dumps(d.call("stats.get"), indent=2))

        say("\n== stopping dpdk-lb")
        rc = d.stop()
        say(f"   dpdk-lb exited with {rc}")
        failed = len(answered) - len(ok)
        if failed or rc != 0:
            say(f"DEMO FAILED: {failed} request(s) failed, daemon exit {rc}")
            say(d.read_log()[-3000:])
            return 1
        return 0
    finally:
        say("== cleaning up (daemon, nginx, namespaces, temporary files)")
        tb.down()


if __name__ == "__main__":
    sys.exit(main())
