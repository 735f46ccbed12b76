/*
 * Unit tests for lib/http_response: status line, headers, Content-Length, chunked coding, body to
 * the end of the stream, HEAD, 1xx interim responses, and the bounds. Every response is fed
 * whole and again cut into 1-, 2- and 7-byte reads: the result must not depend on the cuts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_response.h"

static struct http_response R; /* 17 KiB: not on the stack */

/* Feeds text in reads of `cut` bytes (0 = whole); returns the last result. */
static enum http_parse_result feed_cut(const char *text, size_t len, size_t cut, bool head)
{
	enum http_parse_result res = HTTP_PARSE_MORE;
	size_t pos = 0;

	http_response_init(&R, head);
	if (len == 0)
		return http_response_feed(&R, (const uint8_t *)"", 0);
	while (pos < len) {
		size_t n = cut == 0 || len - pos < cut ? len - pos : cut;
		res = http_response_feed(&R, (const uint8_t *)text + pos, n);
		pos += n;
	}
	return res;
}

static const size_t cuts[] = {0, 1, 2, 7};
#define N_CUTS (sizeof(cuts) / sizeof(cuts[0]))

/* Expects every cut of text to end in want (after EOF when eof), with status and body. */
static void expect_response(const char *text, bool head, bool eof, enum http_parse_result want,
			    unsigned status, const char *body)
{
	for (size_t c = 0; c < N_CUTS; c++) {
		enum http_parse_result res = feed_cut(text, strlen(text), cuts[c], head);
		if (eof)
			res = http_response_eof(&R);
		if (res != want)
			fail_msg("cut %zu: result %d, want %d (why: %s)", cuts[c], res, want, R.why);
		if (want == HTTP_PARSE_ERROR) {
			assert_true(R.why[0] != '\0');
			continue;
		}
		assert_int_equal(R.status, status);
		if (body != NULL) {
			assert_string_equal(R.body, body);
			assert_int_equal(R.body_len, strlen(body));
			assert_int_equal(R.body_total, strlen(body));
		}
	}
}

/* Expects every cut to fail with a why containing `words`. */
static void expect_error(const char *text, bool eof, const char *words)
{
	expect_response(text, false, eof, HTTP_PARSE_ERROR, 0, NULL);
	if (strstr(R.why, words) == NULL)
		fail_msg("why \"%s\" does not say \"%s\"", R.why, words);
}

static void test_content_length(void **state)
{
	(void)state;
	expect_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello", false,
			false, HTTP_PARSE_DONE, 200, "hello");
	assert_string_equal(R.reason, "OK");
	/* the response is complete without EOF; bytes after it are ignored */
	expect_response("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nokEXTRA",
			false, false, HTTP_PARSE_DONE, 503, "ok");
	assert_string_equal(R.reason, "Service Unavailable");
	assert_int_equal(http_response_feed(&R, (const uint8_t *)"more", 4), HTTP_PARSE_DONE);
	assert_int_equal(http_response_eof(&R), HTTP_PARSE_DONE);
	/* empty body */
	expect_response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, false,
			HTTP_PARSE_DONE, 200, "");
}

static void test_header_names_are_case_insensitive(void **state)
{
	(void)state;
	expect_response("HTTP/1.1 200 OK\r\ncontent-LENGTH:3\r\n\r\nabc", false, false,
			HTTP_PARSE_DONE, 200, "abc");
	expect_response("HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			false, false, HTTP_PARSE_DONE, 200, "abc");
	/* OWS around the value, bare LF line ends */
	expect_response("HTTP/1.1 200 OK\nContent-Length: \t 2 \t\n\nok", false, false,
			HTTP_PARSE_DONE, 200, "ok");
}

static void test_status_line(void **state)
{
	(void)state;
	/* a missing reason phrase is accepted */
	expect_response("HTTP/1.1 204\r\n\r\n", false, false, HTTP_PARSE_DONE, 204, "");
	assert_string_equal(R.reason, "");
	expect_response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", false, false, HTTP_PARSE_DONE,
			200, "");
	/* control characters in the reason are made printable */
	expect_response("HTTP/1.1 200 A\x01" "B\r\nContent-Length: 0\r\n\r\n", false, false,
			HTTP_PARSE_DONE, 200, "");
	assert_string_equal(R.reason, "A?B");
	expect_error("HTTP/2 200 OK\r\n\r\n", false, "bad status line");
	expect_error("HTTP/1.1 20 OK\r\n\r\n", false, "bad status line");
	expect_error("HTTP/1.1 2000 OK\r\n\r\n", false, "bad status line");
	expect_error("HTTP/1.1 099 x\r\n\r\n", false, "status 99 out of 100-599");
	expect_error("HTTP/1.1 600 x\r\n\r\n", false, "out of 100-599");
	expect_error("SSH-2.0-OpenSSH_9.2\r\n", false, "bad status line \"SSH-2.0-OpenSSH_9.2\"");
	expect_error("http/1.1 200 OK\r\n\r\n", false, "bad status line");
}

static void test_body_to_eof(void **state)
{
	(void)state;
	/* neither Content-Length nor chunked: the body ends with the stream */
	expect_response("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nline 1\nline 2\n", false, false,
			HTTP_PARSE_MORE, 200, "line 1\nline 2\n");
	expect_response("HTTP/1.0 200 OK\r\n\r\nall of it", false, true, HTTP_PARSE_DONE, 200,
			"all of it");
	/* a transfer coding other than chunked last: to EOF too, Content-Length ignored */
	expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
			"Content-Length: 2\r\n\r\nabcdef",
			false, true, HTTP_PARSE_DONE, 200, "abcdef");
}

static void test_chunked(void **state)
{
	(void)state;
	/* extensions, upper- and lower-case hex, whitespace before ';', trailers */
	expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5;name=value\r\nhello\r\n"
			"1 ;x\r\n,\r\n"
			"A\r\n world 123\r\n"
			"0;last\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n",
			false, false, HTTP_PARSE_DONE, 200, "hello, world 123");
	/* "gzip, chunked": the last coding is chunked */
	expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
			"2\r\nab\r\n0\r\n\r\n",
			false, false, HTTP_PARSE_DONE, 200, "ab");
	/* Transfer-Encoding wins over Content-Length, whichever comes first */
	expect_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n"
			"\r\n1\r\nx\r\n0\r\n\r\n",
			false, false, HTTP_PARSE_DONE, 200, "x");
	expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n"
			"\r\n1\r\nx\r\n0\r\n\r\n",
			false, false, HTTP_PARSE_DONE, 200, "x");
	/* incomplete: no trailer end yet */
	expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n",
			false, false, HTTP_PARSE_MORE, 200, "x");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n", true,
		     "closed in the chunked body");
}

static void test_chunked_errors(void **state)
{
	(void)state;
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
		     "bad chunk size line \"zz\"");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", false,
		     "bad chunk size line");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\n", false,
		     "bad chunk size line");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "1000000000000000\r\n",
		     false, "chunk size too large");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", false,
		     "chunk data longer than its size");
}

static void test_head_and_bodiless_statuses(void **state)
{
	(void)state;
	/* HEAD: Content-Length describes the GET body, none follows */
	expect_response("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, false,
			HTTP_PARSE_DONE, 200, "");
	expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, false,
			HTTP_PARSE_DONE, 200, "");
	expect_response("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, false,
			HTTP_PARSE_DONE, 204, "");
	expect_response("HTTP/1.1 304 Not Modified\r\n\r\n", false, false, HTTP_PARSE_DONE, 304,
			"");
	expect_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false, false,
			HTTP_PARSE_DONE, 101, "");
}

static void test_interim_responses_are_skipped(void **state)
{
	(void)state;
	expect_response("HTTP/1.1 100 Continue\r\n\r\n"
			"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\nContent-Length: 9\r\n\r\n"
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			false, false, HTTP_PARSE_DONE, 200, "ok");
	/* only an interim response, then the end */
	expect_error("HTTP/1.1 100 Continue\r\n\r\n", true, "closed in the status line");

	char text[4096] = "";
	for (int i = 0; i <= HTTP_MAX_INTERIM; i++)
		strcat(text, "HTTP/1.1 102 Processing\r\n\r\n");
	strcat(text, "HTTP/1.1 200 OK\r\n\r\n");
	expect_error(text, false, "interim");
}

static void test_content_length_errors(void **state)
{
	(void)state;
	/* a list of equal values is one value; repeated equal headers too */
	expect_response("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok",
			false, false, HTTP_PARSE_DONE, 200, "ok");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n", false, "conflicting");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", false,
		     "conflicting");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false,
		     "bad Content-Length \"-1\"");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false, "bad Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false, "bad Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", false,
		     "too large");
	/* the stream ends inside the body */
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true,
		     "closed after 3 of 10 body bytes");
}

static void test_bad_headers(void **state)
{
	(void)state;
	expect_error("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false,
		     "bad header line \"no colon here\"");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", false, "bad header line");
	expect_error("HTTP/1.1 200 OK\r\n: value\r\n\r\n", false, "bad header line");
	/* obsolete line folding is tolerated (the continued value is not interpreted) */
	expect_response("HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nContent-Length: 1\r\n\r\nz", false,
			false, HTTP_PARSE_DONE, 200, "z");
	/* the stream ends in the head */
	expect_error("", true, "closed before a response");
	expect_error("HTTP/1.1 200 OK\r\nServer: x\r\n", true, "closed in the headers");
	expect_error("HTTP/1.1 2", true, "closed in the status line");
}

static void test_nul_in_head(void **state)
{
	static const char text[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";

	(void)state;
	http_response_init(&R, false);
	assert_int_equal(http_response_feed(&R, (const uint8_t *)text, sizeof(text) - 1),
			 HTTP_PARSE_ERROR);
	assert_non_null(strstr(R.why, "NUL"));
	/* an error is final */
	assert_int_equal(http_response_feed(&R, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19),
			 HTTP_PARSE_ERROR);
	assert_int_equal(http_response_eof(&R), HTTP_PARSE_ERROR);
}

static void test_line_length_bound(void **state)
{
	static char text[4096];
	size_t n;

	(void)state;
	/* a header line of 1023 bytes with its CR fits, one byte more does not */
	n = (size_t)sprintf(text, "HTTP/1.1 200 OK\r\nX: ");
	memset(text + n, 'a', 1022 - 3);
	n += 1022 - 3;
	n += (size_t)sprintf(text + n, "\r\nContent-Length: 1\r\n\r\nz");
	expect_response(text, false, false, HTTP_PARSE_DONE, 200, "z");

	n = (size_t)sprintf(text, "HTTP/1.1 200 OK\r\nX: ");
	memset(text + n, 'a', 1023 - 3);
	n += 1023 - 3;
	sprintf(text + n, "\r\nContent-Length: 1\r\n\r\nz");
	expect_error(text, false, "line longer than 1023 bytes");
	/* without any line end */
	memset(text, 'a', 2000);
	text[2000] = '\0';
	expect_error(text, false, "line longer");
}

static void test_header_count_bound(void **state)
{
	static char text[8192];
	char line[32];

	(void)state;
	strcpy(text, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++) {
		snprintf(line, sizeof(line), "X-%d: y\r\n", i);
		strcat(text, line);
	}
	size_t n = strlen(text);
	strcat(text, "\r\n");
	expect_response(text, false, true, HTTP_PARSE_DONE, 200, "");
	strcpy(text + n, "One-More: y\r\n\r\n");
	expect_error(text, false, "more than 128 header lines");
	/* trailers count too */
	strcpy(text, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++) {
		snprintf(line, sizeof(line), "T-%d: y\r\n", i);
		strcat(text, line);
	}
	strcat(text, "\r\n");
	expect_error(text, false, "more than 128 header lines");
}

static void test_body_is_kept_up_to_the_bound(void **state)
{
	static char text[HTTP_BODY_MAX + 8192];
	const size_t body = HTTP_BODY_MAX + 5000;
	size_t n;

	(void)state;
	n = (size_t)sprintf(text, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body);
	for (size_t i = 0; i < body; i++)
		text[n + i] = (char)('a' + i % 26);
	text[n + body] = '\0';
	for (size_t c = 0; c < N_CUTS; c++) {
		assert_int_equal(feed_cut(text, n + body, cuts[c], false), HTTP_PARSE_DONE);
		assert_int_equal(R.body_len, HTTP_BODY_MAX);
		assert_int_equal(R.body_total, body);
		assert_int_equal(strlen(R.body), HTTP_BODY_MAX);
		assert_memory_equal(R.body, text + n, HTTP_BODY_MAX);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_header_names_are_case_insensitive),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_body_to_eof),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_errors),
		cmocka_unit_test(test_head_and_bodiless_statuses),
		cmocka_unit_test(test_interim_responses_are_skipped),
		cmocka_unit_test(test_content_length_errors),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_nul_in_head),
		cmocka_unit_test(test_line_length_bound),
		cmocka_unit_test(test_header_count_bound),
		cmocka_unit_test(test_body_is_kept_up_to_the_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
