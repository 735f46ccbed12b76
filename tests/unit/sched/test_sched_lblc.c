/* lblc: a destination address sticks to its server until that server is overloaded. */
#include "sched_test.h"

enum { A, B, C };

static void test_lblc_sticks_while_not_overloaded(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 4, 4};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lblc", NULL), 0);
	assert_int_equal(fixture_pick(f), A); /* wlc over idle servers: the first */
	/* wlc would now take B, but A is at its weight, not over it: it keeps the address. */
	fixture_load(f, A, 2, 50);
	assert_int_equal(fixture_pick(f), A);
	/* Over its weight, but nobody is under half load (B, C: 2*2 == 4): still A. */
	fixture_load(f, A, 3, 0);
	fixture_load(f, B, 2, 0);
	fixture_load(f, C, 2, 0);
	assert_int_equal(fixture_pick(f), A);
	fixture_fini(f);
}

static void test_lblc_moves_when_overloaded(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {2, 4, 4};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lblc", NULL), 0);
	assert_int_equal(fixture_pick(f), A);
	fixture_load(f, A, 3, 0); /* over weight 2 */
	fixture_load(f, B, 2, 0); /* 512/4 */
	fixture_load(f, C, 1, 0); /* 256/4, under half load: A counts as overloaded */
	assert_int_equal(fixture_pick(f), C);
	/* The address now belongs to C, even once A is idle again. */
	fixture_load(f, A, 0, 0);
	fixture_load(f, C, 4, 0);
	assert_int_equal(fixture_pick(f), C);
	fixture_fini(f);
}

static void test_lblc_per_destination_address(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	const struct lb_addr vip1 = lb_addr_from_v4(htonl(0xcb007101u));
	const struct lb_addr vip2 = lb_addr_from_v4(htonl(0xcb007102u));
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "lblc", NULL), 0);
	f->req.vip = vip1;
	assert_int_equal(fixture_pick(f), A);
	fixture_load(f, A, 1, 0);
	f->req.vip = vip2; /* a new address: wlc picks B */
	assert_int_equal(fixture_pick(f), B);
	fixture_load(f, B, 1, 1);
	f->req.vip = vip1;
	assert_int_equal(fixture_pick(f), A);
	f->req.vip = vip2;
	assert_int_equal(fixture_pick(f), B);
	fixture_fini(f);
}

static void test_lblc_unavailable_server_remapped(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "lblc", NULL), 0);
	assert_int_equal(fixture_pick(f), A);
	f->dest[A].weight = 0;
	assert_int_equal(fixture_pick(f), B);
	f->dest[B].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(fixture_pick(f), C);
	f->dest[C].weight = 0;
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

static void test_lblc_recent_entry_survives_a_full_table(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	const struct lb_addr hot = lb_addr_from_v4(htonl(0xcb007101u));
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "lblc", NULL), 0);
	f->req.vip = hot;
	assert_int_equal(fixture_pick(f), A);
	fixture_load(f, A, 1, 0); /* new addresses go to B from now on */
	for (uint32_t v = 0; v < 4096; v++) {
		f->req.vip = lb_addr_from_v4(htonl(0x0b000000u + v));
		assert_int_equal(fixture_pick(f), B);
		if (v % 2 == 0) {
			/* Used more recently than most others: never the LRU victim of its set. */
			f->req.vip = hot;
			assert_int_equal(fixture_pick(f), A);
		}
	}
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lblc_sticks_while_not_overloaded),
		cmocka_unit_test(test_lblc_moves_when_overloaded),
		cmocka_unit_test(test_lblc_per_destination_address),
		cmocka_unit_test(test_lblc_unavailable_server_remapped),
		cmocka_unit_test(test_lblc_recent_entry_survives_a_full_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
