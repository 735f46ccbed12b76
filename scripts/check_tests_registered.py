#!/usr/bin/python3
"""Checks that every C test source is built and run: each tests/**/test_*.c and each
tests/fuzz/fuzz_*.c must be the source of an executable that a meson test of the suite "unit"
runs (the executable is named after its source, as tests/unit/meson.build and
tests/fuzz/meson.build name them). Prints "NOT REGISTERED: PATH" for each one that is not, then
"N test sources, M not registered"; exits 1 when any is missing.

Usage: scripts/check_tests_registered.py BUILD_DIR
"""
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def registered_executables(build_dir):
    out = subprocess.run(["meson", "introspect", "--tests", build_dir], check=True,
                         capture_output=True, text=True).stdout
    return {os.path.basename(t["cmd"][0]) for t in json.loads(out) if "unit" in t["suite"]
            or any(s.endswith(":unit") for s in t["suite"])}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    exes = registered_executables(sys.argv[1])
    sources = sorted(glob.glob(os.path.join(ROOT, "tests", "**", "test_*.c"), recursive=True) +
                     glob.glob(os.path.join(ROOT, "tests", "fuzz", "fuzz_*.c")))
    missing = [s for s in sources if os.path.basename(s)[:-2] not in exes]
    for s in missing:
        print(f"NOT REGISTERED: {os.path.relpath(s, ROOT)} (no meson test of the suite unit "
              f"runs {os.path.basename(s)[:-2]})")
    print(f"{len(sources)} test sources, {len(missing)} not registered")
    return 1 if missing or not sources else 0


if __name__ == "__main__":
    sys.exit(main())
