/* rr: next available server in list order, skipping weight 0 and overloaded servers. */
#include "sched_test.h"

static void test_rr_cycles_in_list_order(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 5, 1};
	const int expect[] = {0, 1, 2, 0, 1, 2, 0};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "rr", NULL), 0);
	/* Weights other than 0 do not matter to rr. */
	assert_sequence(f, expect, sizeof(expect) / sizeof(expect[0]));
	fixture_fini(f);
}

static void test_rr_skips_weight0_and_overloaded(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 0, 1, 1};
	const int expect[] = {0, 3, 0, 3};
	(void)unused;

	fixture_dests(f, 4, w);
	f->dest[2].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "rr", NULL), 0);
	assert_sequence(f, expect, sizeof(expect) / sizeof(expect[0]));
	/* The overloaded server recovers: it comes next after 3 -> 0, in list order. */
	f->dest[2].flags = 0;
	const int after[] = {0, 2, 3};
	assert_sequence(f, after, sizeof(after) / sizeof(after[0]));
	fixture_fini(f);
}

static void test_rr_all_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 1};
	(void)unused;

	fixture_dests(f, 2, w);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "rr", NULL), 0);
	assert_int_equal(fixture_pick(f), -1);
	f->n = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rr_cycles_in_list_order),
		cmocka_unit_test(test_rr_skips_weight0_and_overloaded),
		cmocka_unit_test(test_rr_all_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
