/* lc: least active*256 + inactive, weight only gates. */
#include "sched_test.h"

static void test_lc_least_overhead(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 100};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lc", NULL), 0);
	fixture_load(f, 0, 2, 0);   /* 512 */
	fixture_load(f, 1, 1, 300); /* 556: inactive ones add up */
	fixture_load(f, 2, 3, 0);   /* 768: a big weight does not help lc */
	assert_int_equal(fixture_pick(f), 0);
	fixture_load(f, 1, 1, 255); /* 511 */
	assert_int_equal(fixture_pick(f), 1);
	fixture_fini(f);
}

static void test_lc_tie_keeps_earlier(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 5, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lc", NULL), 0);
	fixture_load(f, 0, 4, 0);
	fixture_load(f, 1, 3, 1);
	fixture_load(f, 2, 3, 1);
	assert_int_equal(fixture_pick(f), 1);
	fixture_fini(f);
}

static void test_lc_weight0_overloaded_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 1, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "lc", NULL), 0);
	fixture_load(f, 2, 1000, 0); /* idle ones are drained or overloaded */
	assert_int_equal(fixture_pick(f), 2);
	f->dest[2].weight = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lc_least_overhead),
		cmocka_unit_test(test_lc_tie_keeps_earlier),
		cmocka_unit_test(test_lc_weight0_overloaded_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
