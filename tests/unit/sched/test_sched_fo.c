/* fo: the available server with the highest weight. */
#include "sched_test.h"

static void test_fo_highest_weight(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 5, 5, 3};
	(void)unused;

	fixture_dests(f, 4, w);
	assert_int_equal(fixture_init(f, "fo", NULL), 0);
	/* Ties keep the earlier one, and fo sticks to it: no load is consulted. */
	assert_int_equal(fixture_pick(f), 1);
	assert_int_equal(fixture_pick(f), 1);
	fixture_fini(f);
}

static void test_fo_fails_over(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 5, 5, 3};
	(void)unused;

	fixture_dests(f, 4, w);
	assert_int_equal(fixture_init(f, "fo", NULL), 0);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_pick(f), 2);
	f->dest[2].weight = 0;
	assert_int_equal(fixture_pick(f), 3);
	f->dest[3].weight = 0;
	f->dest[0].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fo_highest_weight),
		cmocka_unit_test(test_fo_fails_over),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
