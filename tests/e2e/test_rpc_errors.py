"""End-to-end: JSON-RPC error handling on the daemon's socket; the daemon survives bad input."""
import json

import pytest

from testbed import RpcError


def raw(client, line):
    client.send_line(line)
    return client.read_reply()


def test_parse_error_unknown_method_and_bad_params(lb, testbed):
    c = lb.new_client()
    try:
        r = raw(c, b"{this is not json")
        assert r.get("jsonrpc") == "2.0"
        assert r["error"]["code"] == -32700, r
        assert r.get("id") is None

        r = raw(c, json.dumps({"jsonrpc": "2.0", "id": 7, "method": "no.such.method"}))
        assert r["error"]["code"] == -32601, r
        assert r["id"] == 7

        r = raw(c, json.dumps({"jsonrpc": "2.0", "id": 8, "method": "service.add",
                               "params": {"vip": testbed.vip, "port": "eighty", "proto": "tcp"}}))
        assert r["error"]["code"] == -32602, r
        assert "port" in r["error"]["message"], r
        assert r["id"] == 8

        # the same connection still works
        r = raw(c, json.dumps({"jsonrpc": "2.0", "id": 9, "method": "system.info"}))
        assert "result" in r and r["id"] == 9, r
    finally:
        c.close()
    # and so does a new one
    assert "version" in lb.call("system.info")


def test_invalid_requests(lb, testbed):
    c = lb.new_client()
    try:
        r = raw(c, b"[]")   # batches are not supported
        assert r["error"]["code"] == -32600, r
        r = raw(c, json.dumps({"id": 3, "method": "system.info"}))   # no "jsonrpc": "2.0"
        assert r["error"]["code"] == -32600, r
    finally:
        c.close()
    assert "version" in lb.call("system.info")


@pytest.mark.parametrize("method,params,code", [
    ("service.add", {"vip": "not-an-ip", "port": 80, "proto": "tcp"}, -32602),
    ("service.add", {"vip": "10.1.2.3", "port": 80, "proto": "sctp"}, -32602),
    ("service.add", {"vip": "10.1.2.3", "port": 70000, "proto": "tcp"}, -32602),
    ("service.add", {"vip": "10.1.2.3", "port": 80, "proto": "tcp", "scheduler": "nope"}, -32602),
    ("service.del", {"vip": "10.1.2.3", "port": 80, "proto": "tcp"}, -32001),
    ("real.add", {"service": {"vip": "10.1.2.3", "port": 80, "proto": "tcp"}, "ip": "10.1.2.4"},
     -32001),
])
def test_param_validation_and_not_found(lb, method, params, code):
    with pytest.raises(RpcError) as e:
        lb.call(method, params)
    assert e.value.code == code, e.value
    assert "version" in lb.call("system.info")


def test_real_errors_leave_service_unchanged(lb, testbed, service):
    key = service("wrr", [3, 2, 1])
    before = lb.call("service.list")
    with pytest.raises(RpcError) as e:
        lb.call("real.add", {"service": key, "ip": testbed.backends[0]["ip"], "port": 80})
    assert e.value.code == -32002
    with pytest.raises(RpcError) as e:
        lb.call("real.update", {"service": key, "ip": testbed.backends[0]["ip"], "port": 80,
                                "weight": 70000})
    assert e.value.code == -32602
    with pytest.raises(RpcError) as e:
        lb.call("service.add", dict(key, scheduler="rr"))
    assert e.value.code == -32002
    assert lb.call("service.list") == before


def test_notification_gets_no_answer(lb):
    c = lb.new_client()
    try:
        c.send_line(json.dumps({"jsonrpc": "2.0", "method": "system.info"}))
        r = raw(c, json.dumps({"jsonrpc": "2.0", "id": 42, "method": "system.info"}))
        assert r["id"] == 42, f"first reply is not for the request: {r}"
    finally:
        c.close()


def test_too_long_request_is_refused_and_connection_closed(lb):
    limit = lb.call("config.get").get("rpc", {}).get("max_request_bytes", 1048576)
    c = lb.new_client(timeout=10)
    try:
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "system.info",
                           "params": {"pad": "x" * (limit + 16)}})
        try:
            c.send_line(line)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the daemon may close before reading it all; the reply is still expected
        r = c.read_reply()
        assert r["error"]["code"] == -32600, r
        # closed: EOF or a reset instead of an answer; a timeout (still open) fails
        c.sock.settimeout(10)
        try:
            c.send_line(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "system.info"}))
            r = c.read_reply()
            pytest.fail(f"the connection answered after the refusal: {r}")
        except (ConnectionResetError, BrokenPipeError):
            pass
        except ConnectionError as e:   # the client's EOF
            assert "closed" in str(e), e
        except TimeoutError:
            pytest.fail("the connection is still open 10 s after the refusal (no EOF, no reset)")
    finally:
        c.close()
    assert "version" in lb.call("system.info")
