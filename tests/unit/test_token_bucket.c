/* lib/token_bucket.h: rate, burst and the cycle counter's edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "token_bucket.h"

#define HZ 1000000000ull /* 1 GHz: one cycle per nanosecond */

static int take_n(struct lb_token_bucket *b, uint64_t now, int n)
{
	int got = 0;

	for (int i = 0; i < n; i++)
		got += lb_token_bucket_take(b, now);
	return got;
}

static void test_burst_then_rate(void **state)
{
	struct lb_token_bucket b;

	(void)state;
	lb_token_bucket_init(&b, HZ, 1000, 10, 5);
	assert_int_equal(take_n(&b, 5, 100), 10); /* a full bucket: the burst, no more */
	assert_int_equal(take_n(&b, 5 + HZ / 1000 - 1, 5), 0);
	assert_int_equal(take_n(&b, 5 + HZ / 1000, 5), 1); /* one ms later: one more */
	/* one second of events every 100 us: the rate (1000/s), not the offered 10000/s */
	int got = 0;
	uint64_t t = 5 + HZ / 1000;
	for (int i = 0; i < 10000; i++) {
		t += HZ / 10000;
		got += lb_token_bucket_take(&b, t);
	}
	assert_in_range(got, 999, 1001);
}

static void test_idle_refills_only_to_burst(void **state)
{
	struct lb_token_bucket b;

	(void)state;
	lb_token_bucket_init(&b, HZ, 1000, 4, 0);
	assert_int_equal(take_n(&b, 0, 4), 4);
	assert_int_equal(take_n(&b, 3600 * HZ, 10), 4); /* an hour idle is still four */
}

static void test_extremes(void **state)
{
	struct lb_token_bucket b;

	(void)state;
	/* a rate above the clock: one cycle per event, never zero */
	lb_token_bucket_init(&b, 1000, 1000000, 1, 0);
	assert_int_equal(b.cost, 1);
	assert_int_equal(take_n(&b, 1, 3), 1);
	/* rate and burst 0 are taken as 1 */
	lb_token_bucket_init(&b, HZ, 0, 0, 0);
	assert_int_equal(take_n(&b, 0, 3), 1);
	/* a huge gap does not wrap the credit */
	lb_token_bucket_init(&b, HZ, 1, 1, 0);
	assert_int_equal(take_n(&b, 0, 1), 1);
	assert_int_equal(take_n(&b, UINT64_MAX, 2), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_idle_refills_only_to_burst),
		cmocka_unit_test(test_extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
