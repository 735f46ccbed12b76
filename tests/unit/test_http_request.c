/* lib/http_request: the request heads the metrics listener accepts and refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_request.h"

static enum http_req_result parse(const char *s, struct http_req *r)
{
	return http_request_parse(s, strlen(s), r);
}

static void test_complete_heads(void **state)
{
	struct http_req r;

	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", &r),
			 HTTP_REQ_OK);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/metrics");
	assert_string_equal(r.query, "");
	assert_int_equal(parse("HEAD /?res=60 HTTP/1.0\n\n", &r), HTTP_REQ_OK);
	assert_string_equal(r.method, "HEAD");
	assert_string_equal(r.path, "/");
	assert_string_equal(r.query, "res=60");
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), HTTP_REQ_OK);
}

static void test_incomplete_heads(void **state)
{
	static const char *const partial[] = {
		"", "GET", "GET /metrics HTTP/1.1", "GET /metrics HTTP/1.1\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r",
	};
	struct http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
		if (parse(partial[i], &r) != HTTP_REQ_INCOMPLETE)
			fail_msg("not incomplete: \"%s\"", partial[i]);
}

static void test_bad_request_lines(void **state)
{
	static const char *const bad[] = {
		"\r\n\r\n", "GET\r\n\r\n", "GET /\r\n\r\n", "get / HTTP/1.1\r\n\r\n",
		"GET metrics HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1x\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n", "TOOLONGMETHOD / HTTP/1.1\r\n",
		"\x16\x03\x01\x02\x01\n", /* a TLS hello */
	};
	struct http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) != HTTP_REQ_BAD)
			fail_msg("not refused: \"%s\"", bad[i]);
}

static void test_too_long_target(void **state)
{
	char req[1024];
	struct http_req r;

	(void)state;
	memset(req, 'a', sizeof(req));
	memcpy(req, "GET /", 5);
	memcpy(req + 5 + HTTP_REQ_PATH_LEN, " HTTP/1.1\r\n\r\n", 14);
	assert_int_equal(http_request_parse(req, 5 + HTTP_REQ_PATH_LEN + 13, &r), HTTP_REQ_TOO_LONG);
	/* the longest path that fits */
	memcpy(req + 4 + HTTP_REQ_PATH_LEN - 1, " HTTP/1.1\r\n\r\n", 14);
	assert_int_equal(http_request_parse(req, 4 + HTTP_REQ_PATH_LEN - 1 + 13, &r), HTTP_REQ_OK);
	assert_int_equal(strlen(r.path), HTTP_REQ_PATH_LEN - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_heads),
		cmocka_unit_test(test_incomplete_heads),
		cmocka_unit_test(test_bad_request_lines),
		cmocka_unit_test(test_too_long_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
