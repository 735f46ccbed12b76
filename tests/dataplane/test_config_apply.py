"""config.apply: several edits, one snapshot, all or none; config.get's generation."""
import pytest

from lbdaemon import RpcError
from test_rpc import SVC, daemon  # noqa: F401 (the same daemon fixture as the other RPC tests)


def edit(method, params):
    return {"method": method, "params": params}


def snapshot_gen(rpc):
    return rpc.call("system.info")["snapshot_generation"]


def test_batch_is_one_snapshot_and_edits_see_each_other(daemon):
    rpc = daemon.rpc
    gen = rpc.call("config.get")["generation"]
    snap = snapshot_gen(rpc)
    edits = [edit("service.add", dict(SVC, scheduler="wrr"))]
    edits += [edit("real.add", {"service": SVC, "ip": f"10.9.0.{i}", "weight": i}) for i in range(11, 41)]
    edits.append(edit("real.update", {"service": SVC, "ip": "10.9.0.11", "weight": 0}))
    edits.append(edit("real.del", {"service": SVC, "ip": "10.9.0.40"}))
    res = rpc.call("config.apply", {"edits": edits, "if_generation": gen})
    assert res["applied"] == len(edits)
    assert res["generation"] == gen + 1
    assert len(res["results"]) == len(edits)
    assert res["results"][-2]["weight"] == 0 and res["results"][-1] == {"deleted": True}
    assert snapshot_gen(rpc) == snap + 1  # 33 edits, one publication
    reals = rpc.call("service.list")["services"][0]["reals"]
    assert [(r["ip"], r["weight"]) for r in reals][:2] == [("10.9.0.11", 0), ("10.9.0.12", 12)]
    assert len(reals) == 29
    assert rpc.call("config.get")["generation"] == gen + 1


def test_a_failing_edit_applies_nothing(daemon):
    rpc = daemon.rpc
    rpc.call("service.add", dict(SVC, reals=[{"ip": "10.9.0.11"}]))
    before = rpc.call("config.get")
    snap = snapshot_gen(rpc)
    bad = [edit("real.update", {"service": SVC, "ip": "10.9.0.11", "weight": 7}),
           edit("real.add", {"service": SVC, "ip": "10.9.0.12"}),
           edit("real.add", {"service": SVC, "ip": "10.9.0.12"})]  # exists by then
    with pytest.raises(RpcError) as e:
        rpc.call("config.apply", {"edits": bad})
    assert e.value.code == -32002
    assert "params.edits[2] (real.add)" in e.value.message
    # a batch that only the validator can refuse: each edit parses, the result is unsafe
    unsafe = [edit("service.update", dict(SVC, ops=True)),
              edit("real.update", {"service": SVC, "ip": "10.9.0.11", "weight": 3})]
    with pytest.raises(RpcError) as e:
        rpc.call("config.apply", {"edits": unsafe})
    assert e.value.code == -32602 and "ops" in e.value.message
    assert rpc.call("config.get") == before
    assert snapshot_gen(rpc) == snap


def test_if_generation_refuses_a_stale_script(daemon):
    rpc = daemon.rpc
    gen = rpc.call("config.get")["generation"]
    rpc.call("service.add", SVC)  # someone else changed it meanwhile
    with pytest.raises(RpcError) as e:
        rpc.call("config.apply", {"edits": [edit("service.del", SVC)], "if_generation": gen})
    assert e.value.code == -32005
    assert f"not {gen}" in e.value.message
    assert len(rpc.call("service.list")["services"]) == 1
    now = rpc.call("config.get")["generation"]
    assert now == gen + 1
    assert rpc.call("config.apply", {"edits": [edit("service.del", SVC)],
                                     "if_generation": now})["generation"] == now + 1


@pytest.mark.parametrize("params,needle", [
    ({}, "params.edits"),
    ({"edits": []}, "params.edits"),
    ({"edits": [edit("config.get", {})]}, "params.edits[0].method"),
    ({"edits": [edit("system.info", {})]}, "params.edits[0].method"),
    ({"edits": [{"method": "service.del"}]}, "params.edits[0].params"),
    ({"edits": [dict(edit("service.del", SVC), extra=1)]}, "params.edits[0].extra"),
    ({"edits": [edit("service.del", SVC)], "if_generation": "x"}, "params.if_generation"),
    ({"edits": [edit("service.del", SVC)], "colour": 1}, "params.colour"),
])
def test_bad_batches_name_the_field(daemon, params, needle):
    with pytest.raises(RpcError) as e:
        daemon.rpc.call("config.apply", params)
    assert e.value.code == -32602
    assert needle in e.value.message, e.value.message
