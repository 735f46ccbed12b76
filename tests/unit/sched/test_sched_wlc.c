/* wlc: least (active*256 + inactive) / weight, by cross-multiplication. */
#include "sched_test.h"

static void test_wlc_weighs_overhead(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 3};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "wlc", NULL), 0);
	fixture_load(f, 0, 1, 0); /* 256/1 */
	fixture_load(f, 1, 2, 0); /* 512/3 = 170.7 */
	assert_int_equal(fixture_pick(f), 1);
	fixture_load(f, 1, 3, 1); /* 769/3 = 256.3 */
	assert_int_equal(fixture_pick(f), 0);
	fixture_load(f, 1, 3, 0); /* 768/3 = 256: tie, the earlier one */
	assert_int_equal(fixture_pick(f), 0);
	fixture_fini(f);
}

static void test_wlc_all_idle_takes_first(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 10, 5};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "wlc", NULL), 0);
	/* 0/1 == 0/10: idle servers tie; IPVS keeps the first. */
	assert_int_equal(fixture_pick(f), 0);
	fixture_fini(f);
}

static void test_wlc_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 2, 0};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "wlc", NULL), 0);
	fixture_load(f, 1, 50, 0);
	assert_int_equal(fixture_pick(f), 1);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wlc_weighs_overhead),
		cmocka_unit_test(test_wlc_all_idle_takes_first),
		cmocka_unit_test(test_wlc_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
