/* dh: static hash of the destination address (the VIP), weighted. */
#include "sched_test.h"

/* Picks for VIPs 203.0.113.0/16-ish + v, v < vips; returns the number with no server. */
static uint32_t pick_vips(struct sched_fixture *f, uint32_t vips, uint32_t *count)
{
	uint32_t fails = 0;

	memset(count, 0, f->n * sizeof(*count));
	for (uint32_t v = 0; v < vips; v++) {
		f->req.vip = lb_addr_from_v4(htonl(0xcb000000u + v));
		int d = fixture_pick(f);
		if (d < 0)
			fails++;
		else
			count[d]++;
	}
	return fails;
}

static void test_dh_same_destination_same_server(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1, 1};
	(void)unused;

	fixture_dests(f, 4, w);
	assert_int_equal(fixture_init(f, "dh", NULL), 0);
	int first = fixture_pick(f);
	assert_in_range(first, 0, 3);
	/* Clients do not matter to dh: only the destination address does. */
	for (uint32_t c = 0; c < 100; c++) {
		f->req.client = lb_addr_from_v4(htonl(0xc0000200u + c));
		f->req.client_port = (uint16_t)(1024 + c);
		assert_int_equal(fixture_pick(f), first);
	}
	fixture_fini(f);
}

static void test_dh_shares_follow_weight(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {3, 1, 0};
	uint32_t count[3];
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "dh", NULL), 0);
	/* The weight-0 server keeps a weight-1 share (1/5); its destinations get none. */
	assert_in_range(pick_vips(f, 5000, count), 900, 1100);
	assert_int_equal(count[2], 0);
	assert_in_range(count[0], 2800, 3200);
	fixture_fini(f);
}

/* Quiescing one server leaves every destination of the others on its server. */
static void test_dh_weight0_moves_only_its_destinations(void **unused)
{
	const uint32_t w[] = {2, 1, 1, 3, 1};
	enum { VIPS = 20000 };
	(void)unused;

	for (uint32_t fallback = 0; fallback <= 1; fallback++) {
		struct sched_fixture *f = fixture_new();
		struct sched_params p = {.flags = fallback ? SCHED_FLAG_FALLBACK : 0};
		int *before = calloc(VIPS, sizeof(*before));
		uint32_t own = 0;

		assert_non_null(before);
		fixture_dests(f, 5, w);
		assert_int_equal(fixture_init(f, "dh", &p), 0);
		for (uint32_t v = 0; v < VIPS; v++) {
			f->req.vip = lb_addr_from_v4(htonl(0xcb000000u + v));
			before[v] = fixture_pick(f);
		}
		f->dest[2].weight = 0;
		assert_int_equal(fixture_reinit(f, &p), 0);
		for (uint32_t v = 0; v < VIPS; v++) {
			f->req.vip = lb_addr_from_v4(htonl(0xcb000000u + v));
			int now = fixture_pick(f);
			if (before[v] != 2) {
				assert_int_equal(now, before[v]);
				continue;
			}
			own++;
			if (fallback)
				assert_true(now >= 0 && now != 2);
			else
				assert_int_equal(now, -1);
		}
		assert_true(own > 0);
		free(before);
		fixture_fini(f);
	}
}

static void test_dh_unavailable_means_none(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	uint32_t count[2];
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "dh", NULL), 0);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_in_range(pick_vips(f, 2000, count), 900, 1100);
	assert_int_equal(count[1], 0);
	f->dest[0].weight = 0;
	assert_int_equal(pick_vips(f, 50, count), 50);
	fixture_fini(f);
}

static void test_dh_fallback_extension(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	struct sched_params p = {.flags = SCHED_FLAG_FALLBACK};
	uint32_t count[2];
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "dh", &p), 0);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(pick_vips(f, 500, count), 0);
	assert_int_equal(count[0], 500);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dh_same_destination_same_server),
		cmocka_unit_test(test_dh_shares_follow_weight),
		cmocka_unit_test(test_dh_weight0_moves_only_its_destinations),
		cmocka_unit_test(test_dh_unavailable_means_none),
		cmocka_unit_test(test_dh_fallback_extension),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
