/* ovf: the highest weight until its active connections exceed its weight, then the next. */
#include "sched_test.h"

static void test_ovf_overflows_in_weight_order(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 4, 4, 1};
	(void)unused;

	fixture_dests(f, 4, w);
	assert_int_equal(fixture_init(f, "ovf", NULL), 0);
	assert_int_equal(fixture_pick(f), 1);
	fixture_load(f, 1, 4, 0); /* active == weight still takes more */
	assert_int_equal(fixture_pick(f), 1);
	fixture_load(f, 1, 5, 0); /* over: the next highest, the tie's later member */
	assert_int_equal(fixture_pick(f), 2);
	fixture_load(f, 2, 5, 0);
	assert_int_equal(fixture_pick(f), 0);
	fixture_load(f, 0, 3, 0);
	assert_int_equal(fixture_pick(f), 3);
	fixture_load(f, 3, 2, 0);
	/* Everyone over capacity: no server, as in IPVS. */
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

static void test_ovf_weight0_and_overloaded(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 9, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "ovf", NULL), 0);
	assert_int_equal(fixture_pick(f), 2);
	f->dest[2].weight = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ovf_overflows_in_weight_order),
		cmocka_unit_test(test_ovf_weight0_and_overloaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
