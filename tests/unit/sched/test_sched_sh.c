/* sh: static hash of the client address (and port with the port flag), weighted, fallback flag. */
#include <stdbool.h>

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
	/* The weight-0 server keeps a weight-1 share of the buckets; its clients get none. */
	assert_in_range(pick_clients(f, 9000, count), 900, 1100);
	assert_int_equal(count[1], 0);
	assert_in_range(count[0], 900, 1100);
	assert_in_range(count[2], 1800, 2200);
	assert_in_range(count[3], 4500, 5500);
	fixture_fini(f);
}

#define QUIESCE_CLIENTS 20000u

/*
 * Sets dests[j] of the given weights to weight 0 (rebuilding the table, as a weight change does)
 * and checks every client of another server stays where it was, while j's clients get no server
 * or, with fallback, another server.
 */
static void check_quiesce(const uint32_t *w, uint32_t n, uint32_t j, bool fallback)
{
	struct sched_fixture *f = fixture_new();
	struct sched_params p = {.flags = fallback ? SCHED_FLAG_FALLBACK : 0};
	int *before = calloc(QUIESCE_CLIENTS, sizeof(*before));
	uint32_t moved_clients = 0;

	assert_non_null(before);
	fixture_dests(f, n, w);
	assert_int_equal(fixture_init(f, "sh", &p), 0);
	for (uint32_t c = 0; c < QUIESCE_CLIENTS; c++) {
		f->req.client = lb_addr_from_v4(htonl(0xc6120000u + c));
		before[c] = fixture_pick(f);
		assert_in_range(before[c], 0, n - 1);
	}
	f->dest[j].weight = 0;
	assert_int_equal(fixture_reinit(f, &p), 0);
	for (uint32_t c = 0; c < QUIESCE_CLIENTS; c++) {
		f->req.client = lb_addr_from_v4(htonl(0xc6120000u + c));
		int now = fixture_pick(f);
		if (before[c] != (int)j) {
			if (now != before[c])
				fail_msg("client %u of server %d moved to %d", c, before[c], now);
			continue;
		}
		moved_clients++;
		if (fallback)
			assert_true(now >= 0 && now != (int)j);
		else
			assert_int_equal(now, -1);
	}
	assert_true(moved_clients > 0);
	free(before);
	fixture_fini(f);
}

static void test_sh_weight0_moves_only_its_clients(void **unused)
{
	const uint32_t equal[] = {1, 1, 1};
	const uint32_t five[] = {1, 1, 1, 1, 1}; /* more servers than a 256-bucket table holds well */
	const uint32_t mixed[] = {3, 1, 2, 5, 4, 1};
	(void)unused;

	for (int fallback = 0; fallback <= 1; fallback++) {
		/* The case seen: three servers, the first quiesced, the other two kept their clients. */
		check_quiesce(equal, 3, 0, fallback);
		check_quiesce(equal, 3, 2, fallback);
		for (uint32_t j = 0; j < 5; j++)
			check_quiesce(five, 5, j, fallback);
		check_quiesce(mixed, 6, 1, fallback);
		check_quiesce(mixed, 6, 5, fallback);
	}
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
		cmocka_unit_test(test_sh_weight0_moves_only_its_clients),
		cmocka_unit_test(test_sh_port_flag),
		cmocka_unit_test(test_sh_no_weight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
