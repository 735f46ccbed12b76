#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz_ipvsadm and fuzz_ldirectord targets
(tests/fuzz/corpus/{ipvsadm,ldirectord}/) from the realistic files of tests/dataplane/lvs and a
few small cases. Deterministic: rerun after changing it and commit the output."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
LVS = os.path.join(HERE, "..", "dataplane", "lvs")

IPVSADM = {
    "one_service.rules": "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.11:80 -g -w 1\n",
    "long_options.rules": "--add-service --udp-service 10.0.0.1:domain --scheduler sh "
                          "--sched-flags sh-fallback,sh-port --ops\n"
                          "--add-server --udp-service 10.0.0.1:53 --real-server 10.0.0.12 "
                          "--ipip --weight 0\n",
    "fwmark.rules": "-A -f 1 -s mh -b mh-port -p\n-a -f 1 -r 10.0.0.13:0 -g -w 1\n",
    "ipv6.rules": "-A -t [2001:db8::1]:443 -s rr -p 60 -M 64\n"
                  "-a -t [2001:db8::1]:443 -r [2001:db8::11]:443 -m -w 2 -x 10 -y 5\n",
    "errors.rules": "-A -t host:80\n-a -t 10.0.0.1:80 -w x\n-E -t 1.2.3.4:5\n-C\n",
}

LDIRECTORD = {
    "minimal.cf": "virtual=10.0.0.1:80\n\treal=10.0.0.11:80 gate\n\tchecktype=connect\n",
    "globals.cf": "checktimeout=3\ncheckinterval=5\nfailurecount=2\nquiescent=no\n"
                  "fallback=10.0.0.99 gate\nlogfile=\"/var/log/x\"\n"
                  "virtual=10.0.0.1:9999\n\treal=10.0.0.11 gate 2\n\tprotocol=udp\n",
    "real_range.cf": "virtual=10.0.0.1:80\n\treal=10.0.0.20->10.0.0.22:8080 masq 3 "
                     "\"/alive\", \"yes\"\n\tservice=http\n\tvirtualhost=www.example.com\n",
    "fwmark.cf": "virtual=2\n\tprotocol=fwm\n\treal=10.0.0.11 gate\n\tchecktype=on\n",
    "errors.cf": "bogus=1\n\treal=10.0.0.1 gate\nvirtual=10.0.0.1:80\n\tservice=oracle\n"
                 "\tchecktype=maybe\n\treal=\"x gate\n",
}


def write(target, name, text):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        f.write(text)


def main():
    with open(os.path.join(LVS, "ipvsadm.rules")) as f:
        # the realistic file's mark 7 is one of the marks the target knows
        write("ipvsadm", "realistic.rules", f.read())
    with open(os.path.join(LVS, "ldirectord.cf")) as f:
        write("ldirectord", "realistic.cf", f.read())
    for name, text in IPVSADM.items():
        write("ipvsadm", name, text)
    for name, text in LDIRECTORD.items():
        write("ldirectord", name, text)


if __name__ == "__main__":
    main()
