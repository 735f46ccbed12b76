"""The boot suite: the Debian package built from this checkout, installed into a Debian 12 root
(debootstrap) and booted under systemd with systemd-nspawn inside a testbed namespace."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
