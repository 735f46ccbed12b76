/* sh: static hash of the client address (and port with the port flag), weighted, fallback flag. */
#include "sched_test.h"

/* Picks for clients 198.18.0.0 + c, c < clients; returns the number of clients with no server. */
static uint32_t pick_clients(struct sched_fixture *f, uint32_t clients, uint32_t *count)
{
	uint32_t fails = 0;

	memset(count, 0, f->n * sizeof(*count));
	for (uint32_t c = 0; c < clients; c++) {
		f->req.client = lb_addr_from_v4(htonl(0xc6120000u + c));
		int d = fixture_pick(f);
		if (d < 0)
			fails++;
		else
			count[d]++;
	}
	return fails;
}

static void test_sh_same_client_same_server(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "sh", NULL), 0);
	int first = fixture_pick(f);
	assert_in_range(first, 0, 2);
	for (uint16_t port = 1; port < 200; port++) {
		f->req.client_port = port;
		assert_int_equal(fixture_pick(f), first);
	}
	fixture_fini(f);
}

static void test_sh_shares_follow_weight(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 0, 2, 5};
	uint32_t count[4];
	(void)unused;

	fixture_dests(f, 4, w);
	assert_int_equal(fixture_init(f, "sh", NULL), 0);
	assert_int_equal(pick_clients(f, 8000, count), 0);
	assert_int_equal(count[1], 0);
	assert_in_range(count[0], 900, 1100);
	assert_in_range(count[2], 1800, 2200);
	assert_in_range(count[3], 4600, 5400);
	fixture_fini(f);
}

static void test_sh_order_independent(void **unused)
{
	struct sched_fixture *a = fixture_new(), *b = fixture_new();
	const uint32_t w[] = {1, 2, 3, 4};
	(void)unused;

	fixture_dests(a, 4, w);
	/* b lists the same servers backwards */
	b->n = 4;
	for (uint32_t i = 0; i < 4; i++)
		b->dest[i] = a->dest[3 - i];
	assert_int_equal(fixture_init(a, "sh", NULL), 0);
	assert_int_equal(fixture_init(b, "sh", NULL), 0);
	for (uint32_t c = 0; c < 1000; c++) {
		a->req.client = b->req.client = lb_addr_from_v4(htonl(0xc6120000u + c));
		int da = fixture_pick(a), db = fixture_pick(b);
		assert_true(da >= 0 && db >= 0);
		assert_int_equal(da, 3 - db);
	}
	fixture_fini(a);
	fixture_fini(b);
}

static void test_sh_unavailable_without_fallback(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1};
	uint32_t count[2];
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "sh", NULL), 0);
	f->dest[0].flags = SCHED_DEST_OVERLOADED;
	/* IPVS sh: a client whose server is unavailable gets none. */
	assert_in_range(pick_clients(f, 2000, count), 900, 1100);
	assert_int_equal(count[0], 0);
	f->dest[1].weight = 0;
	assert_int_equal(pick_clients(f, 100, count), 100);
	fixture_fini(f);
}

static void test_sh_fallback(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1};
	struct sched_params p = {.flags = SCHED_FLAG_FALLBACK};
	uint32_t before[3], count[3];
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "sh", &p), 0);
	assert_int_equal(pick_clients(f, 3000, before), 0);
	f->dest[2].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(pick_clients(f, 3000, count), 0);
	assert_int_equal(count[2], 0);
	/* Clients of the available servers stay; the displaced ones split between them. */
	assert_in_range(count[0], before[0] + 350, before[0] + 650);
	assert_in_range(count[1], before[1] + 350, before[1] + 650);
	f->dest[0].weight = 0;
	assert_int_equal(pick_clients(f, 300, count), 0);
	assert_int_equal(count[1], 300);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	assert_int_equal(pick_clients(f, 10, count), 10);
	fixture_fini(f);
}

static void test_sh_port_flag(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1};
	struct sched_params p = {.flags = SCHED_FLAG_PORT};
	uint32_t seen[3] = {0};
	(void)unused;

	fixture_dests(f, 3, w);
	assert_int_equal(fixture_init(f, "sh", &p), 0);
	for (uint16_t port = 1024; port < 1324; port++) {
		f->req.client_port = port;
		seen[fixture_pick(f)]++;
	}
	for (uint32_t i = 0; i < 3; i++)
		assert_in_range(seen[i], 60, 140);
	fixture_fini(f);
}

static void test_sh_no_weight(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 0};
	struct sched_params p = {.flags = SCHED_FLAG_FALLBACK};
	(void)unused;

	fixture_dests(f, 2, w);
	assert_int_equal(fixture_init(f, "sh", &p), 0);
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
	f = fixture_new();
	fixture_dests(f, 0, w);
	assert_int_equal(fixture_init(f, "sh", &p), 0);
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sh_same_client_same_server),
		cmocka_unit_test(test_sh_shares_follow_weight),
		cmocka_unit_test(test_sh_order_independent),
		cmocka_unit_test(test_sh_unavailable_without_fallback),
		cmocka_unit_test(test_sh_fallback),
		cmocka_unit_test(test_sh_port_flag),
		cmocka_unit_test(test_sh_no_weight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
