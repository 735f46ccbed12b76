/*
 * Fuzz target for lib/http_response: the input is what a server sends. The first byte picks
 * HEAD or GET and the read size; the rest is parsed twice, whole and cut into reads of that
 * size, and both parses must agree (result, status, body, why), stay inside their bounds, and
 * keep a final result final.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h"
#include "fuzz_progress.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static struct http_response whole, cut;

static void check_bounds(const struct http_response *r, enum http_parse_result res)
{
	FUZZ_CHECK(res == HTTP_PARSE_MORE || res == HTTP_PARSE_DONE || res == HTTP_PARSE_ERROR);
	FUZZ_CHECK(r->body_len <= HTTP_BODY_MAX);
	FUZZ_CHECK(r->body_len <= r->body_total);
	FUZZ_CHECK(r->body[r->body_len] == '\0');
	FUZZ_CHECK(memchr(r->reason, '\0', sizeof(r->reason)) != NULL);
	FUZZ_CHECK(memchr(r->why, '\0', sizeof(r->why)) != NULL);
	if (res == HTTP_PARSE_ERROR)
		FUZZ_CHECK(r->why[0] != '\0');
	if (res == HTTP_PARSE_DONE) {
		FUZZ_CHECK(r->status >= 101 && r->status <= 599);
		if (r->head_only || r->status == 204 || r->status == 304)
			FUZZ_CHECK(r->body_total == 0);
	}
}

static void check_same(enum http_parse_result a, enum http_parse_result b)
{
	FUZZ_CHECK(a == b);
	FUZZ_CHECK(strcmp(whole.why, cut.why) == 0);
	if (a == HTTP_PARSE_ERROR)
		return;
	FUZZ_CHECK(whole.status == cut.status);
	FUZZ_CHECK(whole.body_len == cut.body_len && whole.body_total == cut.body_total);
	FUZZ_CHECK(memcmp(whole.body, cut.body, whole.body_len) == 0);
	FUZZ_CHECK(strcmp(whole.reason, cut.reason) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const bool head = data[0] & 1;
	const size_t step = 1 + (data[0] >> 1) % 16;
	const uint8_t *s = data + 1;
	const size_t n = size - 1;

	http_response_init(&whole, head);
	enum http_parse_result rw = http_response_feed(&whole, s, n);
	check_bounds(&whole, rw);
	if (whole.status != 0) /* past the status line */
		fuzz_progress_reached();

	http_response_init(&cut, head);
	enum http_parse_result rc = HTTP_PARSE_MORE;
	for (size_t pos = 0; pos < n; pos += step) {
		rc = http_response_feed(&cut, s + pos, n - pos < step ? n - pos : step);
		check_bounds(&cut, rc);
	}
	if (n == 0)
		rc = http_response_feed(&cut, s, 0);
	check_same(rw, rc);

	/* a final result stays final; EOF completes or fails what is pending */
	enum http_parse_result again = http_response_feed(&whole, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19);
	if (rw != HTTP_PARSE_MORE)
		FUZZ_CHECK(again == rw);
	enum http_parse_result ew = http_response_eof(&cut);
	check_bounds(&cut, ew);
	FUZZ_CHECK(ew != HTTP_PARSE_MORE);
	if (rc != HTTP_PARSE_MORE)
		FUZZ_CHECK(ew == rc);
	return 0;
}
