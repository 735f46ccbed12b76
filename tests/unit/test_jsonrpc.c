/* Unit tests for lib/jsonrpc: request validation, error codes, ids, envelopes, line encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonrpc.h"

struct parsed {
	int rc;
	struct jsonrpc_request req;
	json_t *id; /* the id for an error reply (new reference) */
	char msg[256];
};

static void parse(const char *line, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->rc = jsonrpc_parse_request(line, strlen(line), &p->req, &p->id, p->msg, sizeof(p->msg));
	assert_non_null(p->id);
	if (p->rc != 0) {
		/* a failed parse owns nothing */
		assert_null(p->req.root);
		assert_true(strlen(p->msg) > 0);
	}
}

static void parsed_free(struct parsed *p)
{
	if (p->rc == 0)
		jsonrpc_request_free(&p->req);
	json_decref(p->id);
}

/* Expects `line` to be rejected with `code`; the error id must equal `want_id` (NULL = null). */
static void expect_error(const char *line, int code, json_t *want_id)
{
	struct parsed p;

	parse(line, &p);
	if (p.rc != code)
		fail_msg("%s: got %d (%s), want %d", line, p.rc, p.msg, code);
	if (want_id == NULL)
		assert_true(json_is_null(p.id));
	else if (!json_equal(p.id, want_id))
		fail_msg("%s: error id is not the request's id", line);
	parsed_free(&p);
	json_decref(want_id);
}

static void test_valid_request(void **state)
{
	struct parsed p;

	(void)state;
	parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"service.add\","
	      "\"params\":{\"vip\":\"10.0.0.1\",\"port\":80}}",
	      &p);
	assert_int_equal(p.rc, 0);
	assert_non_null(p.req.root);
	assert_string_equal(p.req.method, "service.add");
	assert_true(json_is_integer(p.req.id));
	assert_int_equal(json_integer_value(p.req.id), 1);
	assert_true(json_is_object(p.req.params));
	assert_int_equal(json_integer_value(json_object_get(p.req.params, "port")), 80);
	parsed_free(&p);

	/* a string id, no params: params is an empty object */
	parse("{\"method\":\"service.list\",\"id\":\"abc\",\"jsonrpc\":\"2.0\"}", &p);
	assert_int_equal(p.rc, 0);
	assert_string_equal(json_string_value(p.req.id), "abc");
	assert_true(json_is_object(p.req.params));
	assert_int_equal(json_object_size(p.req.params), 0);
	parsed_free(&p);

	/* surrounding white space is fine */
	parse("  {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"x\",\"params\":{}} \t", &p);
	assert_int_equal(p.rc, 0);
	parsed_free(&p);
}

static void test_version(void **state)
{
	(void)state;
	expect_error("{\"id\":1,\"method\":\"x\"}", JSONRPC_INVALID_REQUEST, json_integer(1));
	expect_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}", JSONRPC_INVALID_REQUEST,
		     json_integer(1));
	expect_error("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"x\"}", JSONRPC_INVALID_REQUEST,
		     json_integer(1));
	expect_error("{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"x\"}", JSONRPC_INVALID_REQUEST,
		     json_integer(1));
}

static void test_method(void **state)
{
	(void)state;
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", JSONRPC_INVALID_REQUEST,
		     json_integer(1));
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", JSONRPC_INVALID_REQUEST,
		     json_integer(1));
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1}", JSONRPC_INVALID_REQUEST, json_integer(1));
}

static void test_params(void **state)
{
	(void)state;
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":[1,2]}",
		     JSONRPC_INVALID_PARAMS, json_integer(3));
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":\"a\"}",
		     JSONRPC_INVALID_PARAMS, json_integer(3));
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":null}",
		     JSONRPC_INVALID_PARAMS, json_integer(3));
}

static void test_not_json(void **state)
{
	struct parsed p;

	(void)state;
	parse("{\"jsonrpc\":\"2.0\",\"id\":1,", &p);
	assert_int_equal(p.rc, JSONRPC_PARSE_ERROR);
	assert_true(json_is_null(p.id));
	assert_non_null(strstr(p.msg, "parse error"));
	parsed_free(&p);

	expect_error("", JSONRPC_PARSE_ERROR, NULL);
	expect_error("hello", JSONRPC_PARSE_ERROR, NULL);
	expect_error("{\"jsonrpc\":\"2.0\"} {}", JSONRPC_PARSE_ERROR, NULL);
	/* duplicate keys are rejected rather than one silently winning */
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"method\":\"b\"}",
		     JSONRPC_PARSE_ERROR, NULL);

	/* only len bytes are read: the rest of a larger buffer is not part of the request */
	const char buf[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}garbage";
	struct jsonrpc_request req;
	json_t *id;
	char msg[128];
	size_t len = strlen(buf) - strlen("garbage");
	assert_int_equal(jsonrpc_parse_request(buf, len, &req, &id, msg, sizeof(msg)), 0);
	assert_string_equal(req.method, "m");
	jsonrpc_request_free(&req);
	json_decref(id);
}

static void test_batch_and_non_objects(void **state)
{
	struct parsed p;

	(void)state;
	parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}]", &p);
	assert_int_equal(p.rc, JSONRPC_INVALID_REQUEST);
	assert_non_null(strstr(p.msg, "batch"));
	assert_true(json_is_null(p.id));
	parsed_free(&p);
	expect_error("[]", JSONRPC_INVALID_REQUEST, NULL);
}

static int parse_message(const char *line, size_t max_batch, struct jsonrpc_message *m,
			 char *msg, size_t msglen)
{
	return jsonrpc_parse_message(line, strlen(line), max_batch, m, msg, msglen);
}

static void test_batch_framing(void **state)
{
	struct jsonrpc_message m;
	struct jsonrpc_request req;
	json_t *id;
	char msg[256];

	(void)state;
	/* a single object is a message of one call */
	assert_int_equal(parse_message("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}", 4, &m,
				       msg, sizeof(msg)), 0);
	assert_false(m.batch);
	assert_int_equal(jsonrpc_message_calls(&m), 1);
	assert_int_equal(jsonrpc_message_request(&m, 0, &req, &id, msg, sizeof(msg)), 0);
	assert_string_equal(req.method, "x");
	jsonrpc_message_free(&m);
	/* the request holds its own reference: still valid after the message is gone */
	assert_int_equal(json_integer_value(req.id), 1);
	jsonrpc_request_free(&req);
	json_decref(id);

	/* a batch: every member validated on its own, a bad member does not spoil the others */
	assert_int_equal(parse_message("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}, 7,"
				       " {\"jsonrpc\":\"2.0\",\"method\":\"n\"},"
				       " {\"jsonrpc\":\"1.0\",\"id\":\"q\",\"method\":\"b\"}]",
				       4, &m, msg, sizeof(msg)),
			 0);
	assert_true(m.batch);
	assert_int_equal(jsonrpc_message_calls(&m), 4);
	assert_int_equal(jsonrpc_message_request(&m, 0, &req, &id, msg, sizeof(msg)), 0);
	assert_string_equal(req.method, "a");
	jsonrpc_request_free(&req);
	json_decref(id);
	assert_int_equal(jsonrpc_message_request(&m, 1, &req, &id, msg, sizeof(msg)),
			 JSONRPC_INVALID_REQUEST);
	assert_null(req.root);
	assert_true(json_is_null(id));
	assert_int_equal(jsonrpc_message_request(&m, 2, &req, &id, msg, sizeof(msg)), 0);
	assert_null(req.id); /* a notification */
	assert_true(json_is_object(req.params));
	jsonrpc_request_free(&req);
	assert_int_equal(jsonrpc_message_request(&m, 3, &req, &id, msg, sizeof(msg)),
			 JSONRPC_INVALID_REQUEST);
	assert_string_equal(json_string_value(id), "q");
	json_decref(id);
	jsonrpc_message_free(&m);
	assert_null(m.root);
}

static void test_batch_limits(void **state)
{
	struct jsonrpc_message m;
	char msg[256];

	(void)state;
	assert_int_equal(parse_message("[]", 4, &m, msg, sizeof(msg)), JSONRPC_INVALID_REQUEST);
	assert_non_null(strstr(msg, "empty batch"));
	assert_null(m.root);
	assert_int_equal(parse_message(" [1,2,3] ", 3, &m, msg, sizeof(msg)), 0);
	jsonrpc_message_free(&m);
	assert_int_equal(parse_message("[1,2,3,4]", 3, &m, msg, sizeof(msg)),
			 JSONRPC_INVALID_REQUEST);
	assert_non_null(strstr(msg, "limit of 3"));
	assert_null(m.root);
	assert_int_equal(parse_message("[{\"a\":1}", 3, &m, msg, sizeof(msg)), JSONRPC_PARSE_ERROR);
	assert_null(m.root);
	/* a scalar is a message whose one call is invalid, as the specification answers it */
	assert_int_equal(parse_message("5", 3, &m, msg, sizeof(msg)), 0);
	assert_false(m.batch);
	jsonrpc_message_free(&m);
}

static void test_id_for_error_replies(void **state)
{
	(void)state;
	/* the id is recovered even though the request is otherwise invalid */
	expect_error("{\"id\":\"req-7\",\"method\":5}", JSONRPC_INVALID_REQUEST,
		     json_string("req-7"));
	expect_error("{\"id\":42}", JSONRPC_INVALID_REQUEST, json_integer(42));
	expect_error("{\"jsonrpc\":\"1.0\",\"id\":-5,\"method\":\"x\"}", JSONRPC_INVALID_REQUEST,
		     json_integer(-5));
	expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":[],\"id\":\"p\"}",
		     JSONRPC_INVALID_PARAMS, json_string("p"));
	/* an id of a type JSON-RPC does not allow is itself invalid; the reply id is null */
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"x\"}",
		     JSONRPC_INVALID_REQUEST, NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"x\"}", JSONRPC_INVALID_REQUEST,
		     NULL);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"x\"}", JSONRPC_INVALID_REQUEST,
		     NULL);
}

static void test_id_outlives_request(void **state)
{
	struct jsonrpc_request req;
	json_t *id;
	char msg[128];
	const char *line = "{\"jsonrpc\":\"2.0\",\"id\":\"keep-me\",\"method\":7}";

	(void)state;
	/* the error id is a reference of its own, valid after the parse has cleaned up */
	assert_int_equal(jsonrpc_parse_request(line, strlen(line), &req, &id, msg, sizeof(msg)),
			 JSONRPC_INVALID_REQUEST);
	assert_string_equal(json_string_value(id), "keep-me");
	json_t *reply = jsonrpc_error(id, JSONRPC_INVALID_REQUEST, msg);
	json_decref(id);
	assert_string_equal(json_string_value(json_object_get(reply, "id")), "keep-me");
	json_decref(reply);
}

static void test_failed_parse_leaves_no_dangling_pointers(void **state)
{
	struct parsed p;

	(void)state;
	/* Regression (was a bug): lib/jsonrpc.c jsonrpc_parse_request sets req->method before validating params;
	 * for {"jsonrpc":"2.0","id":3,"method":"x","params":[1]} it returns -32602 after
	 * json_decref(root) but leaves req->method pointing into the freed document (expected
	 * NULL, got a dangling pointer). The only caller (control/rpc_server.c) does not read req
	 * on error, so nothing crashes today. Fix: set req->method only on success (or clear req
	 * before each error return), then re-enable. */
	parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":[1]}", &p);
	assert_int_equal(p.rc, JSONRPC_INVALID_PARAMS);
	assert_null(p.req.method);
	assert_null(p.req.params);
	assert_null(p.req.id);
	parsed_free(&p);
}

static void test_notification(void **state)
{
	struct parsed p;

	(void)state;
	parse("{\"jsonrpc\":\"2.0\",\"method\":\"service.list\"}", &p);
	assert_int_equal(p.rc, 0);
	assert_null(p.req.id);
	assert_string_equal(p.req.method, "service.list");
	parsed_free(&p);

	/* "id": null is a request with a null id, not a notification */
	parse("{\"jsonrpc\":\"2.0\",\"method\":\"service.list\",\"id\":null}", &p);
	assert_int_equal(p.rc, 0);
	assert_non_null(p.req.id);
	assert_true(json_is_null(p.req.id));
	parsed_free(&p);
}

static void test_result_envelope(void **state)
{
	json_t *id = json_integer(9);
	json_t *resp, *want;

	(void)state;
	resp = jsonrpc_result(id, json_pack("{s:b}", "deleted", 1));
	want = json_pack("{s:s, s:i, s:{s:b}}", "jsonrpc", "2.0", "id", 9, "result", "deleted", 1);
	assert_true(json_equal(resp, want));
	assert_int_equal(json_object_size(resp), 3);
	json_decref(want);
	json_decref(resp);
	/* the id was borrowed: still ours */
	assert_int_equal(id->refcount, 1);

	resp = jsonrpc_result(id, NULL);
	assert_true(json_is_null(json_object_get(resp, "result")));
	json_decref(resp);

	resp = jsonrpc_result(NULL, json_string("x"));
	assert_true(json_is_null(json_object_get(resp, "id")));
	assert_string_equal(json_string_value(json_object_get(resp, "result")), "x");
	json_decref(resp);
	json_decref(id);
}

static void test_error_envelope(void **state)
{
	json_t *id = json_string("abc");
	json_t *resp, *want;

	(void)state;
	resp = jsonrpc_error(id, JSONRPC_METHOD_NOT_FOUND, "method not found: foo");
	want = json_pack("{s:s, s:s, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "abc", "error", "code",
			 -32601, "message", "method not found: foo");
	assert_true(json_equal(resp, want));
	assert_null(json_object_get(resp, "result"));
	json_decref(want);
	json_decref(resp);
	assert_int_equal(id->refcount, 1);
	json_decref(id);

	resp = jsonrpc_error(NULL, LB_RPC_NOT_FOUND, NULL);
	assert_true(json_is_null(json_object_get(resp, "id")));
	json_t *err = json_object_get(resp, "error");
	assert_int_equal(json_integer_value(json_object_get(err, "code")), -32001);
	assert_string_equal(json_string_value(json_object_get(err, "message")), "");
	json_decref(resp);
}

static void test_encode_line(void **state)
{
	json_t *id = json_integer(1);
	json_t *resp = jsonrpc_result(id, json_pack("{s:s}", "text", "two\nlines"));
	size_t len = 0;
	char *line;

	(void)state;
	line = jsonrpc_encode_line(resp, &len);
	assert_non_null(line);
	assert_int_equal(len, strlen(line));
	assert_true(len >= 2);
	assert_int_equal(line[len - 1], '\n');
	/* exactly one newline: the one at the end (the embedded one is escaped) */
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
	assert_int_not_equal(line[len - 2], '\n');
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"text\":\"two\\nlines\"}}\n");

	/* what is encoded parses back to the same message */
	json_error_t jerr;
	json_t *back = json_loadb(line, len, 0, &jerr);
	assert_non_null(back);
	assert_true(json_equal(back, resp));
	json_decref(back);
	free(line);
	json_decref(resp);
	json_decref(id);

	/* a nested message stays on one line */
	json_t *big = json_pack("{s:[i,i,{s:[]}], s:{}}", "a", 1, 2, "b", "c");
	line = jsonrpc_encode_line(big, &len);
	assert_non_null(line);
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
	free(line);
	json_decref(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_request),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_batch_and_non_objects),
		cmocka_unit_test(test_batch_framing),
		cmocka_unit_test(test_batch_limits),
		cmocka_unit_test(test_id_for_error_replies),
		cmocka_unit_test(test_id_outlives_request),
		cmocka_unit_test(test_failed_parse_leaves_no_dangling_pointers),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_result_envelope),
		cmocka_unit_test(test_error_envelope),
		cmocka_unit_test(test_encode_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
