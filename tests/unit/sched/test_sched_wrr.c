/* wrr: IPVS weighted round robin sequences. */
#include "sched_test.h"

enum { A, B, C, D };

static void run_wrr(const uint32_t *w, uint32_t n, const int *expect, size_t len)
{
	struct sched_fixture *f = fixture_new();

	fixture_dests(f, n, w);
	assert_int_equal(fixture_init(f, "wrr", NULL), 0);
	assert_sequence(f, expect, len);
	fixture_fini(f);
}

static void test_wrr_321(void **unused)
{
	const uint32_t w[] = {3, 2, 1};
	/* Two full cycles: the sequence repeats. */
	const int expect[] = {A, A, B, A, B, C, A, A, B, A, B, C};
	(void)unused;

	run_wrr(w, 3, expect, sizeof(expect) / sizeof(expect[0]));
}

static void test_wrr_422_steps_by_gcd(void **unused)
{
	const uint32_t w[] = {4, 2, 2};
	const int expect[] = {A, A, B, C, A, A, B, C};
	(void)unused;

	run_wrr(w, 3, expect, sizeof(expect) / sizeof(expect[0]));
}

static void test_wrr_equal_weights_is_rr(void **unused)
{
	const uint32_t w[] = {5, 5, 5};
	const int expect[] = {A, B, C, A, B, C};
	(void)unused;

	run_wrr(w, 3, expect, sizeof(expect) / sizeof(expect[0]));
}

static void test_wrr_weight0_never(void **unused)
{
	const uint32_t w[] = {2, 0, 1};
	const int expect[] = {A, A, C, A, A, C};
	(void)unused;

	run_wrr(w, 3, expect, sizeof(expect) / sizeof(expect[0]));
}

static void test_wrr_overloaded_skipped(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {3, 2, 1};
	const int expect[] = {B, B, C, B, B, C};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[A].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "wrr", NULL), 0);
	assert_sequence(f, expect, sizeof(expect) / sizeof(expect[0]));
	fixture_fini(f);
}

static void test_wrr_heaviest_drained_skips_empty_levels(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {65535, 1, 2};
	/* Levels 65535..3 have no available taker: C at 2, then B and C at 1. */
	const int expect[] = {C, B, C, C, B, C};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[A].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "wrr", NULL), 0);
	assert_sequence(f, expect, sizeof(expect) / sizeof(expect[0]));
	/* A is back: it takes the top levels again, from the next pass on. */
	f->dest[A].flags = 0;
	assert_int_equal(fixture_pick(f), A);
	assert_int_equal(fixture_pick(f), A);
	fixture_fini(f);
}

static void test_wrr_all_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 2};
	(void)unused;

	fixture_dests(f, 2, w);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "wrr", NULL), 0);
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrr_321),
		cmocka_unit_test(test_wrr_422_steps_by_gcd),
		cmocka_unit_test(test_wrr_equal_weights_is_rr),
		cmocka_unit_test(test_wrr_weight0_never),
		cmocka_unit_test(test_wrr_overloaded_skipped),
		cmocka_unit_test(test_wrr_heaviest_drained_skips_empty_levels),
		cmocka_unit_test(test_wrr_all_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
