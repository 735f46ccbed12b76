"""docs/api.md lists every RPC: each name in a method table of control/ (the daemon's
`{"ns.verb", handler}` rows) is named in a `###` heading of docs/api.md, and every method a
heading names exists. Static: the sources are the truth, so a new RPC without its doc fails."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROW = re.compile(r'^\s*\{"([a-z_]+\.[a-z_.]+)",\s*[a-z_0-9]+\s*[,}]', re.M)


def implemented():
    names = set()
    for path in glob.glob(os.path.join(ROOT, "control", "**", "*.c"), recursive=True):
        if os.sep + "cli" + os.sep in path:
            continue
        with open(path) as f:
            names.update(ROW.findall(f.read()))
    return names


def documented():
    with open(os.path.join(ROOT, "docs", "api.md")) as f:
        heads = [line for line in f if line.startswith("### ")]
    return {m for h in heads for m in re.findall(r"`([a-z_]+\.[a-z_.]+)`", h)}


def test_every_rpc_is_documented_and_every_documented_rpc_exists():
    impl, docs = implemented(), documented()
    assert len(impl) >= 15  # the table scan found the methods at all
    assert sorted(impl - docs) == [], "RPCs without a ### heading in docs/api.md"
    assert sorted(docs - impl) == [], "docs/api.md documents RPCs the daemon does not have"
