/* lblcr: a server set per destination address; grows when overloaded, shrinks when stable. */
#include "sched_test.h"

enum { A, B, C };

static void test_lblcr_grows_when_overloaded(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 4, 4};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lblcr", NULL), 0);
	f->req.now_s = 1000;
	assert_int_equal(fixture_pick(f), A); /* set {A} */
	fixture_load(f, A, 2, 0);             /* at its weight: not overloaded */
	assert_int_equal(fixture_pick(f), A);
	fixture_load(f, A, 3, 0); /* over, and B is under half load */
	fixture_load(f, B, 1, 0);
	/* wlc over all: A 768/2, B 256/4, C 0/4 -> C joins: set {C, A} */
	assert_int_equal(fixture_pick(f), C);
	/* Least loaded member: A 512/2 = 256 vs C 512/4 = 128 -> C; B is not a member. */
	fixture_load(f, A, 2, 0);
	fixture_load(f, B, 0, 0);
	fixture_load(f, C, 2, 0);
	assert_int_equal(fixture_pick(f), C);
	/* A idle again: the least loaded member is A. */
	fixture_load(f, A, 0, 0);
	assert_int_equal(fixture_pick(f), A);
	fixture_fini(f);
}

/* Builds set {C, A} at time 1000 as above, then asks again at `later` with A idle. */
static int pick_after_stable_set(uint32_t later)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 4, 4};

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lblcr", NULL), 0);
	f->req.now_s = 1000;
	assert_int_equal(fixture_pick(f), A);
	fixture_load(f, A, 3, 0);
	fixture_load(f, B, 1, 0);
	assert_int_equal(fixture_pick(f), C);
	/* At `later`: A (512/2) is the busiest member and would be dropped if the set expired. */
	f->req.now_s = later;
	fixture_load(f, A, 2, 0);
	fixture_load(f, B, 0, 0);
	fixture_load(f, C, 2, 0);
	assert_int_equal(fixture_pick(f), C);
	/* Now A is idle: it is chosen only if it is still a member. */
	fixture_load(f, A, 0, 0);
	int d = fixture_pick(f);
	fixture_fini(f);
	return d;
}

static void test_lblcr_drops_busiest_after_a_day(void **unused)
{
	(void)unused;
	assert_int_equal(pick_after_stable_set(1000 + 86400), A);     /* not yet */
	assert_int_equal(pick_after_stable_set(1000 + 86401), C);     /* A dropped */
	assert_int_equal(pick_after_stable_set(0), A);                /* no clock: no aging */
}

static void test_lblcr_unavailable(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 0, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lblcr", NULL), 0);
	assert_int_equal(fixture_pick(f), A);
	f->dest[A].flags = SCHED_DEST_OVERLOADED;
	/* The only member is unavailable: wlc picks C, which joins. */
	assert_int_equal(fixture_pick(f), C);
	f->dest[A].flags = 0;
	fixture_load(f, C, 1, 0);
	assert_int_equal(fixture_pick(f), A); /* both members again: the idle one */
	f->dest[A].weight = 0;
	f->dest[C].weight = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

static void test_lblcr_per_destination_address(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	const struct lb_addr vip1 = lb_addr_from_v4(htonl(0xcb007101u));
	const struct lb_addr vip2 = lb_addr_from_v4(htonl(0xcb007102u));
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "lblcr", NULL), 0);
	f->req.vip = vip1;
	assert_int_equal(fixture_pick(f), A);
	fixture_load(f, A, 1, 0);
	f->req.vip = vip2;
	assert_int_equal(fixture_pick(f), B);
	fixture_load(f, B, 1, 5);
	f->req.vip = vip1;
	assert_int_equal(fixture_pick(f), A);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lblcr_grows_when_overloaded),
		cmocka_unit_test(test_lblcr_drops_busiest_after_a_day),
		cmocka_unit_test(test_lblcr_unavailable),
		cmocka_unit_test(test_lblcr_per_destination_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
