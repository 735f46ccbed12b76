/* twos: two weighted random draws, the less loaded per weight wins. */
#include "sched_test.h"

static void test_twos_single_server(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 3, 0};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "twos", NULL), 0);
	for (uint32_t r = 0; r < 64; r++) {
		f->req.random = r * 2654435761u;
		assert_int_equal(fixture_pick(f), 1);
	}
	fixture_fini(f);
}

static void test_twos_never_picks_the_busier_of_two(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	uint32_t picks[2] = {0, 0};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "twos", NULL), 0);
	fixture_load(f, 0, 10, 0);
	fixture_load(f, 1, 0, 0);
	/* A is picked only when both draws land on A: a quarter of the time. */
	for (uint32_t r = 0; r < 4000; r++) {
		f->req.random = r * 2654435761u + 12345u;
		int d = fixture_pick(f);
		assert_true(d == 0 || d == 1);
		picks[d]++;
	}
	assert_in_range(picks[0], 850, 1150);
	fixture_fini(f);
}

static void test_twos_draws_by_weight(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 3};
	uint32_t picks[2] = {0, 0};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "twos", NULL), 0);
	/*
	 * Equal overhead per weight (0) ties: the first draw wins, so picks follow the weights:
	 * 1/4 and 3/4.
	 */
	for (uint32_t r = 0; r < 4000; r++) {
		f->req.random = r * 2654435761u + 999u;
		picks[fixture_pick(f)]++;
	}
	assert_in_range(picks[0], 850, 1150);
	fixture_fini(f);
}

static void test_twos_compares_per_weight(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 4};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "twos", NULL), 0);
	fixture_load(f, 0, 1, 0); /* 256/1 */
	fixture_load(f, 1, 3, 0); /* 768/4 = 192: B whenever B is drawn */
	uint32_t picks[2] = {0, 0};
	/* A wins only when both draws are A: (1/5)^2 = 4% of the time. */
	for (uint32_t r = 0; r < 1000; r++) {
		f->req.random = r * 2654435761u;
		picks[fixture_pick(f)]++;
	}
	assert_in_range(picks[0], 20, 60);
	fixture_fini(f);
}

static void test_twos_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 2, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_init(f, "twos", NULL), 0);
	for (uint32_t r = 0; r < 32; r++) {
		f->req.random = r * 40503u;
		assert_int_equal(fixture_pick(f), 2);
	}
	f->dest[2].weight = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twos_single_server),
		cmocka_unit_test(test_twos_never_picks_the_busier_of_two),
		cmocka_unit_test(test_twos_draws_by_weight),
		cmocka_unit_test(test_twos_compares_per_weight),
		cmocka_unit_test(test_twos_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
