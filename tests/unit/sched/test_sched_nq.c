/* nq: the first server with no active connection, else sed. */
#include "sched_test.h"

static void test_nq_first_idle_wins(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {10, 1, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "nq", NULL), 0);
	/* sed would pick A: (1+1)/10 < (0+1)/1; nq takes the idle B, the first idle one. */
	fixture_load(f, 0, 1, 0);
	assert_int_equal(fixture_pick(f), 1);
	/* Inactive connections do not make a server busy. */
	fixture_load(f, 1, 0, 7);
	assert_int_equal(fixture_pick(f), 1);
	fixture_fini(f);
}

static void test_nq_falls_back_to_sed(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 10, 2};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "nq", NULL), 0);
	fixture_load(f, 0, 1, 0);  /* 2/1 */
	fixture_load(f, 1, 14, 0); /* 15/10 */
	fixture_load(f, 2, 2, 0);  /* 3/2 ties B: B is earlier */
	assert_int_equal(fixture_pick(f), 1);
	fixture_fini(f);
}

static void test_nq_idle_but_unavailable_skipped(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 1, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "nq", NULL), 0);
	fixture_load(f, 2, 3, 0);
	assert_int_equal(fixture_pick(f), 2);
	f->dest[2].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nq_first_idle_wins),
		cmocka_unit_test(test_nq_falls_back_to_sed),
		cmocka_unit_test(test_nq_idle_but_unavailable_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
