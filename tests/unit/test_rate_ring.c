/* lib/rate_ring.c: the history's seconds, minutes, wrap-around, gaps and times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rate_ring.h"

static struct rate_history_point out[RATE_HISTORY_SECONDS + 10];

static struct rate_ring_values vals(float conns, float cps)
{
	struct rate_ring_values v = {{0}};

	v.v[RATE_RING_CONNS] = conns;
	v.v[RATE_RING_CPS] = cps;
	v.v[RATE_RING_DROPS] = cps / 2;
	return v;
}

static struct rate_ring *new_ring(void)
{
	struct rate_ring *r = malloc(sizeof(*r));

	assert_non_null(r);
	rate_ring_clear(r);
	return r;
}

static void test_seconds_oldest_first(void **state)
{
	struct rate_ring *r = new_ring();

	(void)state;
	assert_int_equal(rate_ring_read(r, 1, 1000, out, 10), 0);
	for (int i = 0; i < 10; i++) {
		struct rate_ring_values v = vals((float)i, (float)(i * 10));
		rate_ring_push(r, &v, 1);
	}
	assert_int_equal(rate_ring_read(r, 1, 1000, out, 100), 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(out[i].t, 991 + i);
		assert_true(out[i].conns == i && out[i].cps == i * 10 && out[i].drops == i * 5);
	}
	/* max takes the newest */
	assert_int_equal(rate_ring_read(r, 1, 1000, out, 3), 3);
	assert_true(out[0].conns == 7 && out[2].conns == 9 && out[2].t == 1000);
	assert_int_equal(rate_ring_read(r, 60, 1000, out, 100), 0); /* no full minute yet */
	assert_int_equal(rate_ring_read(r, 5, 1000, out, 100), 0);  /* no such resolution */
	free(r);
}

static void test_an_hour_of_seconds_wraps(void **state)
{
	struct rate_ring *r = new_ring();

	(void)state;
	for (int i = 0; i < RATE_HISTORY_SECONDS + 100; i++) {
		struct rate_ring_values v = vals((float)i, 0);
		rate_ring_push(r, &v, 1);
	}
	size_t n = rate_ring_read(r, 1, 50000, out, RATE_HISTORY_SECONDS + 10);
	assert_int_equal(n, RATE_HISTORY_SECONDS);
	assert_true(out[0].conns == 100 && out[n - 1].conns == RATE_HISTORY_SECONDS + 99);
	assert_int_equal(out[0].t, 50000 - (RATE_HISTORY_SECONDS - 1));
	free(r);
}

static void test_minutes_are_means(void **state)
{
	struct rate_ring *r = new_ring();

	(void)state;
	for (int i = 0; i < 150; i++) { /* two full minutes and 30 s */
		struct rate_ring_values v = vals((float)(i % 60), (float)(i / 60));
		rate_ring_push(r, &v, 1);
	}
	assert_int_equal(rate_ring_read(r, 60, 10000, out, 100), 2);
	assert_true(out[0].conns == 29.5f && out[0].cps == 0 && out[1].cps == 1);
	/* the second minute ended 30 s before the newest second */
	assert_int_equal(out[1].t, 10000 - 30);
	assert_int_equal(out[0].t, 10000 - 90);
	free(r);
}

static void test_gaps_fill_and_a_day_is_kept(void **state)
{
	struct rate_ring *r = new_ring();
	struct rate_ring_values a = vals(1, 1), b = vals(2, 2);

	(void)state;
	rate_ring_push(r, &a, 1);
	rate_ring_push(r, &b, 3); /* a late tick: three seconds of the same rate */
	assert_int_equal(rate_ring_read(r, 1, 100, out, 10), 4);
	assert_true(out[0].cps == 1 && out[1].cps == 2 && out[3].cps == 2 && out[3].t == 100);
	/* a week without ticks: a day of minutes, an hour of seconds, all of the new value */
	rate_ring_push(r, &a, 7 * 86400);
	assert_int_equal(rate_ring_read(r, 60, 1000000, out, RATE_HISTORY_MINUTES + 10),
			 RATE_HISTORY_MINUTES);
	/* (the oldest minute kept still holds the 4 s before the gap) */
	assert_true(out[1].cps == 1 && out[RATE_HISTORY_MINUTES - 1].cps == 1);
	assert_int_equal(r->seconds, 4 + 7 * 86400);
	assert_int_equal(rate_ring_read(r, 1, 1000000, out, 10), 10);
	assert_true(out[9].cps == 1);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds_oldest_first),
		cmocka_unit_test(test_an_hour_of_seconds_wraps),
		cmocka_unit_test(test_minutes_are_means),
		cmocka_unit_test(test_gaps_fill_and_a_day_is_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
