/* sed: least (active + 1) / weight; inactive connections do not count. */
#include "sched_test.h"

static void test_sed_prefers_big_weight_over_idle(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 10};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "sed", NULL), 0);
	/* A: (0+1)/1 = 1; B: (1+1)/10 = 0.2. wlc would take the idle A; sed takes B. */
	fixture_load(f, 1, 1, 0);
	assert_int_equal(fixture_pick(f), 1);
	/* B: (9+1)/10 = 1 ties A: the earlier one. */
	fixture_load(f, 1, 9, 0);
	assert_int_equal(fixture_pick(f), 0);
	fixture_fini(f);
}

static void test_sed_ignores_inactive(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 2};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "sed", NULL), 0);
	fixture_load(f, 0, 1, 5000);
	fixture_load(f, 1, 2, 0);
	assert_int_equal(fixture_pick(f), 0);
	fixture_fini(f);
}

static void test_sed_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 1, 3};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[2].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "sed", NULL), 0);
	fixture_load(f, 1, 100, 0);
	assert_int_equal(fixture_pick(f), 1);
	f->dest[1].weight = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sed_prefers_big_weight_over_idle),
		cmocka_unit_test(test_sed_ignores_inactive),
		cmocka_unit_test(test_sed_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
