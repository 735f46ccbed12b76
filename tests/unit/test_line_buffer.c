/* Unit tests for lib/line_buffer: newline framing, CRLF, the line length cap, memory reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line_buffer.h"

/* Appends n bytes as reads would; returns how many fit (all unless write_ptr refused). */
static size_t feed_bytes(struct line_buffer *b, const char *data, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t room = 0;
		char *p = line_buffer_write_ptr(b, &room);
		if (p == NULL)
			break;
		assert_true(room >= 1);
		size_t chunk = n - done < room ? n - done : room;
		memcpy(p, data + done, chunk);
		line_buffer_commit(b, chunk);
		done += chunk;
	}
	return done;
}

static void feed(struct line_buffer *b, const char *text)
{
	size_t n = strlen(text);

	assert_int_equal(feed_bytes(b, text, n), n);
}

/* Expects the next line to be `want`. */
static void expect_line(struct line_buffer *b, const char *want)
{
	char *line = NULL;
	size_t len = 0;
	int rc = line_buffer_next(b, &line, &len);

	if (rc != 1)
		fail_msg("line_buffer_next returned %d, want the line \"%s\"", rc, want);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	assert_int_equal(line[len], '\0');
}

static void expect_none(struct line_buffer *b)
{
	char *line = NULL;
	size_t len = 0;

	assert_int_equal(line_buffer_next(b, &line, &len), 0);
}

static void test_split_across_appends(void **state)
{
	struct line_buffer b;

	(void)state;
	assert_int_equal(line_buffer_init(&b, 1024), 0);
	expect_none(&b);
	feed(&b, "{\"jsonrpc\":");
	expect_none(&b);
	feed(&b, "\"2.0\"}");
	expect_none(&b);
	feed(&b, "\n{\"second\"");
	expect_line(&b, "{\"jsonrpc\":\"2.0\"}");
	expect_none(&b);
	feed(&b, ":1}\n");
	expect_line(&b, "{\"second\":1}");
	expect_none(&b);
	/* one byte at a time */
	const char *slow = "slow line\n";
	for (size_t i = 0; i < strlen(slow); i++) {
		expect_none(&b);
		assert_int_equal(feed_bytes(&b, slow + i, 1), 1);
	}
	expect_line(&b, "slow line");
	expect_none(&b);
	line_buffer_free(&b);
	assert_null(b.data);
}

static void test_several_lines_in_one_append(void **state)
{
	struct line_buffer b;

	(void)state;
	assert_int_equal(line_buffer_init(&b, 1024), 0);
	feed(&b, "one\ntwo\nthree\npartial");
	expect_line(&b, "one");
	expect_line(&b, "two");
	expect_line(&b, "three");
	expect_none(&b);
	feed(&b, " done\n");
	expect_line(&b, "partial done");
	expect_none(&b);
	line_buffer_free(&b);
}

static void test_crlf_and_empty_lines(void **state)
{
	struct line_buffer b;

	(void)state;
	assert_int_equal(line_buffer_init(&b, 64), 0);
	feed(&b, "crlf\r\n\n\r\nbare\rcr\nx\r\r\n");
	expect_line(&b, "crlf");
	expect_line(&b, ""); /* empty line */
	expect_line(&b, ""); /* a lone CR is an empty line too */
	expect_line(&b, "bare\rcr"); /* only a CR right before the newline goes */
	expect_line(&b, "x\r");      /* and only one of them */
	expect_none(&b);
	line_buffer_free(&b);
}

static void test_max_line(void **state)
{
	struct line_buffer b;
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(line_buffer_init(&b, 10), 0);
	feed(&b, "0123456789\n");
	expect_line(&b, "0123456789");
	/* exactly max_line bytes pending without a newline: still waiting */
	feed(&b, "abcdefghij");
	expect_none(&b);
	feed(&b, "\n");
	expect_line(&b, "abcdefghij");

	/* one byte more is too long, with or without its newline */
	feed(&b, "0123456789A\n");
	assert_int_equal(line_buffer_next(&b, &line, &len), -1);
	line_buffer_free(&b);

	assert_int_equal(line_buffer_init(&b, 10), 0);
	feed(&b, "0123456789A");
	assert_int_equal(line_buffer_next(&b, &line, &len), -1);
	line_buffer_free(&b);

	/* a short line before a long one still comes out first */
	assert_int_equal(line_buffer_init(&b, 10), 0);
	feed(&b, "ok\n0123456789ABCDEF\n");
	expect_line(&b, "ok");
	assert_int_equal(line_buffer_next(&b, &line, &len), -1);
	line_buffer_free(&b);
}

static void test_max_line_large(void **state)
{
	const size_t max = 100000;
	struct line_buffer b;
	char *text = malloc(max + 2);
	char *line;
	size_t len;

	(void)state;
	assert_non_null(text);
	memset(text, 'z', max + 1);
	/* a line of exactly max_line bytes needs the buffer to grow past its first size */
	assert_int_equal(line_buffer_init(&b, max), 0);
	assert_int_equal(feed_bytes(&b, text, max), max);
	expect_none(&b);
	assert_int_equal(feed_bytes(&b, "\n", 1), 1);
	assert_int_equal(line_buffer_next(&b, &line, &len), 1);
	assert_int_equal(len, max);
	assert_int_equal(line[0], 'z');
	assert_int_equal(line[max - 1], 'z');
	assert_int_equal(line[max], '\0');
	assert_true(b.cap <= max + 2 + 4096);
	line_buffer_free(&b);

	/* max_line + 1 bytes: rejected, and the buffer stops growing */
	assert_int_equal(line_buffer_init(&b, max), 0);
	size_t fed = feed_bytes(&b, text, max + 1);
	assert_int_equal(fed, max + 1);
	assert_int_equal(line_buffer_next(&b, &line, &len), -1);
	/* writing on past the cap is refused rather than growing without bound */
	size_t more = 0;
	for (int i = 0; i < 100 && line_buffer_write_ptr(&b, &more) != NULL; i++)
		line_buffer_commit(&b, more);
	assert_null(line_buffer_write_ptr(&b, &more));
	assert_true(b.cap <= max + 2 + 4096);
	line_buffer_free(&b);
	free(text);
}

static void test_memory_reused(void **state)
{
	struct line_buffer b;
	char msg[64];
	size_t max_cap = 0;

	(void)state;
	assert_int_equal(line_buffer_init(&b, 1 << 20), 0);
	/* 2 MiB streamed through in 200 000 lines: memory follows the line, not the stream */
	for (int i = 0; i < 200000; i++) {
		snprintf(msg, sizeof(msg), "line %d with some padding\n", i);
		feed(&b, msg);
		msg[strlen(msg) - 1] = '\0';
		expect_line(&b, msg);
		if (b.cap > max_cap)
			max_cap = b.cap;
	}
	expect_none(&b);
	assert_true(max_cap <= 8192);
	/* consumed data is dropped once more room is asked for */
	size_t room;
	assert_non_null(line_buffer_write_ptr(&b, &room));
	assert_int_equal(b.start, 0);
	assert_int_equal(b.len, 0);
	line_buffer_free(&b);

	/* a partial line survives the compaction */
	assert_int_equal(line_buffer_init(&b, 64), 0);
	feed(&b, "done\nkeep");
	expect_line(&b, "done");
	assert_non_null(line_buffer_write_ptr(&b, &room));
	assert_int_equal(b.start, 0);
	assert_int_equal(b.len, 4);
	feed(&b, "ing\n");
	expect_line(&b, "keeping");
	line_buffer_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_across_appends),
		cmocka_unit_test(test_several_lines_in_one_append),
		cmocka_unit_test(test_crlf_and_empty_lines),
		cmocka_unit_test(test_max_line),
		cmocka_unit_test(test_max_line_large),
		cmocka_unit_test(test_memory_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
