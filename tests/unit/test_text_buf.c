/* lib/text_buf: growth, the size limit, escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text_buf.h"

static void test_grows_past_first_block(void **state)
{
	struct text_buf b;

	(void)state;
	text_buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		text_buf_printf(&b, "%05d,", i);
	assert_false(b.failed);
	assert_int_equal(b.len, 60000);
	assert_memory_equal(b.data + 59994, "09999,", 6);
	assert_int_equal(b.data[b.len], '\0');
	text_buf_free(&b);
	assert_null(b.data);
}

static void test_long_printf(void **state)
{
	struct text_buf b;
	char big[1000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	text_buf_init(&b, 4096);
	text_buf_printf(&b, "<%s>", big);
	assert_false(b.failed);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.data[1000], '>');
	text_buf_free(&b);
}

static void test_limit_fails_and_sticks(void **state)
{
	struct text_buf b;

	(void)state;
	text_buf_init(&b, 10);
	text_buf_append(&b, "0123456789", 10);
	assert_false(b.failed);
	text_buf_append(&b, "a", 1);
	assert_true(b.failed);
	assert_int_equal(b.len, 10);
	text_buf_printf(&b, "%s", "");
	text_buf_append(&b, "", 0);
	assert_true(b.failed); /* stays failed, even for appends that would fit */
	text_buf_free(&b);
	assert_false(b.failed);
}

static void test_escapes(void **state)
{
	struct text_buf b;

	(void)state;
	text_buf_init(&b, 4096);
	text_buf_prom_label(&b, "a\\b\"c\nd");
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd");
	text_buf_free(&b);
	text_buf_html(&b, "<a href='x'>&\"</a>");
	assert_string_equal(b.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
	text_buf_free(&b);
	text_buf_html(&b, "plain");
	assert_string_equal(b.data, "plain");
	text_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_past_first_block),
		cmocka_unit_test(test_long_printf),
		cmocka_unit_test(test_limit_fails_and_sticks),
		cmocka_unit_test(test_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
