/*
 * mh: Maglev table properties. Shares follow weights, removing one server moves little else,
 * the table depends on the set of servers and not on their order, the size must be prime.
 */
#include <errno.h>
#include <stdio.h>

#include "sched_mh.h"
#include "sched_test.h"

#define M_DEFAULT 65537u

/* Slot counts per dest of the fixture's current table. */
static void count_slots(const struct sched_fixture *f, uint32_t *count)
{
	uint32_t size = 0;
	const uint32_t *slot = sched_mh_table(f->shared, &size);

	assert_non_null(slot);
	memset(count, 0, f->n * sizeof(*count));
	for (uint32_t s = 0; s < size; s++) {
		assert_true(slot[s] < f->n);
		count[slot[s]]++;
	}
}

/*
 * Checks every share against its weight share. Relative tolerance rel_tol (fraction of the
 * expected count) and absolute tolerance abs_tol (fraction of the table), both must hold.
 */
static void check_shares(struct sched_fixture *f, double rel_tol, double abs_tol)
{
	uint32_t *count = calloc(f->n, sizeof(*count));
	double total_weight = 0, worst_rel = 0, worst_slots = 0;

	assert_non_null(count);
	count_slots(f, count);
	for (uint32_t i = 0; i < f->n; i++)
		total_weight += f->dest[i].weight;
	for (uint32_t i = 0; i < f->n; i++) {
		double expect = (double)M_DEFAULT * f->dest[i].weight / total_weight;
		double diff = count[i] > expect ? count[i] - expect : expect - count[i];

		if (f->dest[i].weight == 0) {
			assert_int_equal(count[i], 0);
			continue;
		}
		if (diff / expect > worst_rel)
			worst_rel = diff / expect;
		if (diff > worst_slots)
			worst_slots = diff;
		if (diff / M_DEFAULT > abs_tol || diff / expect > rel_tol)
			fail_msg("dest %u weight %u: %u slots, expected %.1f", i, f->dest[i].weight,
				 count[i], expect);
	}
	print_message("N=%u: worst deviation %.2f slots, %.3f%% of the expected share\n", f->n,
		      worst_slots, 100 * worst_rel);
	free(count);
}

static void build_default(struct sched_fixture *f)
{
	assert_int_equal(fixture_init(f, "mh", NULL), 0);
	uint32_t size = 0;
	assert_non_null(sched_mh_table(f->shared, &size));
	assert_int_equal(size, M_DEFAULT);
}

/*
 * M > 100 * N (N = 3, 100): the paper's condition for shares within 1%; each server's slot count
 * is within about one slot of M * w / W, far inside 1% of its expected share.
 */
static void test_mh_shares_n3(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 2, 3};
	(void)unused;

	fixture_dests(f, 3, w);
	build_default(f);
	check_shares(f, 0.01, 0.01);
	fixture_fini(f);
}

static void test_mh_shares_n100(void **unused)
{
	struct sched_fixture *f = fixture_new();
	uint32_t w[100];
	(void)unused;

	for (uint32_t i = 0; i < 100; i++)
		w[i] = i % 4 + 1;
	fixture_dests(f, 100, w);
	build_default(f);
	check_shares(f, 0.01, 0.01);
	fixture_fini(f);
}

/*
 * N = 1000: M = 65537 is only 65 * N, so 1% of a share is under one slot and the relative
 * criterion cannot hold; use the absolute |slots/M - w/W| <= 1% as the brief asks, and also
 * the tighter 5% of the share (3 slots of ~65) that the weighted turns achieve.
 */
static void test_mh_shares_n1000(void **unused)
{
	struct sched_fixture *f = fixture_new();
	uint32_t w[1000];
	(void)unused;

	for (uint32_t i = 0; i < 1000; i++)
		w[i] = 1;
	fixture_dests(f, 1000, w);
	build_default(f);
	check_shares(f, 0.05, 0.01);
	fixture_fini(f);

	f = fixture_new();
	for (uint32_t i = 0; i < 1000; i++)
		w[i] = i % 3 + 1;
	fixture_dests(f, 1000, w);
	build_default(f);
	check_shares(f, 0.05, 0.01);
	fixture_fini(f);
}

static void test_mh_weight0_gets_no_slot(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 0, 1, 0};
	(void)unused;

	fixture_dests(f, 4, w);
	build_default(f);
	check_shares(f, 0.01, 0.01);
	fixture_fini(f);
}

/* Identity of a dest across tables built from different lists: its address. */
static uint32_t dest_key(const struct sched_fixture *f, uint32_t i)
{
	return ntohl(f->dest[i].addr.v4);
}

/* Removes dest `victim` of n and counts slots that changed owner without having been its. */
static void check_removal(uint32_t n, uint32_t victim, const uint32_t *weights)
{
	struct sched_fixture *before = fixture_new(), *after = fixture_new();
	uint32_t size = 0, moved = 0, owned = 0;

	fixture_dests(before, n, weights);
	build_default(before);
	const uint32_t *old_slot = sched_mh_table(before->shared, &size);
	/* The same set without the victim, list order kept. */
	after->n = 0;
	for (uint32_t i = 0; i < n; i++)
		if (i != victim)
			after->dest[after->n++] = before->dest[i];
	build_default(after);
	const uint32_t *new_slot = sched_mh_table(after->shared, &size);

	for (uint32_t s = 0; s < size; s++) {
		if (old_slot[s] == victim) {
			owned++;
			continue;
		}
		if (dest_key(before, old_slot[s]) != dest_key(after, new_slot[s]))
			moved++;
	}
	print_message("N=%u: removed server owned %u slots; %u other slots moved (%.3f%%)\n", n,
		      owned, moved, 100.0 * moved / size);
	assert_true(owned > 0);
	assert_true(moved <= size / 100);
	fixture_fini(before);
	fixture_fini(after);
}

static void test_mh_remove_one_moves_little(void **unused)
{
	uint32_t w[1000];
	(void)unused;

	for (uint32_t i = 0; i < 1000; i++)
		w[i] = 1;
	check_removal(3, 1, w);
	check_removal(100, 0, w);
	check_removal(100, 57, w);
	check_removal(1000, 500, w);
	for (uint32_t i = 0; i < 100; i++)
		w[i] = i % 4 + 1;
	check_removal(100, 42, w);
}

/* Deterministic shuffle (xorshift32 Fisher-Yates) of the fixture's dests. */
static void shuffle_dests(struct sched_fixture *f, uint32_t seed)
{
	for (uint32_t i = f->n - 1; i > 0; i--) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		uint32_t j = seed % (i + 1);
		struct sched_dest t = f->dest[i];
		f->dest[i] = f->dest[j];
		f->dest[j] = t;
	}
}

static void test_mh_order_independent(void **unused)
{
	static const uint32_t sizes[] = {3, 100, 1000};
	uint32_t w[1000];
	(void)unused;

	for (uint32_t i = 0; i < 1000; i++)
		w[i] = i % 5; /* includes weight 0 */
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct sched_fixture *a = fixture_new(), *b = fixture_new();
		uint32_t size_a = 0, size_b = 0;

		fixture_dests(a, sizes[k], w);
		fixture_dests(b, sizes[k], w);
		shuffle_dests(b, 0x9e3779b9u + (uint32_t)k);
		build_default(a);
		build_default(b);
		const uint32_t *ta = sched_mh_table(a->shared, &size_a);
		const uint32_t *tb = sched_mh_table(b->shared, &size_b);
		assert_int_equal(size_a, size_b);
		for (uint32_t s = 0; s < size_a; s++)
			if (dest_key(a, ta[s]) != dest_key(b, tb[s]))
				fail_msg("N=%u: slot %u differs after shuffling", sizes[k], s);
		fixture_fini(a);
		fixture_fini(b);
	}
}

static void test_mh_table_size(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1};
	static const uint32_t bad[] = {1, 2, 4, 256, 4095, 65536, 65535, 131072};
	static const uint32_t good[] = {251, 509, 4093, 65521, 131071};
	(void)unused;

	fixture_dests(f, 3, w);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct sched_params p = {.table_size = bad[k]};
		assert_int_equal(fixture_init(f, "mh", &p), -EINVAL);
		assert_null(f->shared);
		free(f->state);
	}
	for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		struct sched_params p = {.table_size = good[k]};
		uint32_t size = 0;
		assert_int_equal(fixture_init(f, "mh", &p), 0);
		assert_non_null(sched_mh_table(f->shared, &size));
		assert_int_equal(size, good[k]);
		f->ops->release(f->shared);
		free(f->state);
	}
	/* More servers with a weight than slots: some could never be chosen. */
	struct sched_fixture *big = fixture_new();
	uint32_t ones[300];
	for (uint32_t i = 0; i < 300; i++)
		ones[i] = 1;
	fixture_dests(big, 300, ones);
	struct sched_params small = {.table_size = 251};
	assert_int_equal(fixture_init(big, "mh", &small), -EINVAL);
	big->shared = NULL;
	fixture_fini(big);
	f->shared = NULL;
	f->state = NULL;
	fixture_fini(f);
}

/* Clients 192.0.2.x / 198.18.x.y: count picks per dest over many client addresses. */
static void pick_many(struct sched_fixture *f, uint32_t clients, uint32_t *count, uint32_t *fails)
{
	memset(count, 0, f->n * sizeof(*count));
	*fails = 0;
	for (uint32_t c = 0; c < clients; c++) {
		f->req.client = lb_addr_from_v4(htonl(0xc6120000u + c));
		int d = fixture_pick(f);
		if (d < 0)
			(*fails)++;
		else
			count[d]++;
	}
}

static void test_mh_lookup_follows_table(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 3};
	uint32_t count[2], fails;
	(void)unused;

	fixture_dests(f, 2, w);
	build_default(f);
	pick_many(f, 8000, count, &fails);
	assert_int_equal(fails, 0);
	assert_in_range(count[0], 1800, 2200);
	/* Same client, same server: the hash is static. */
	f->req.client = lb_addr_from_v4(htonl(0xc0000263u));
	int first = fixture_pick(f);
	for (int k = 0; k < 10; k++)
		assert_int_equal(fixture_pick(f), first);
	fixture_fini(f);
}

static void test_mh_unavailable_without_fallback(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1};
	uint32_t count[3], fails;
	(void)unused;

	fixture_dests(f, 3, w);
	build_default(f);
	f->dest[1].flags = SCHED_DEST_OVERLOADED;
	pick_many(f, 3000, count, &fails);
	/* The clients hashed to the overloaded server get none; the others keep theirs. */
	assert_int_equal(count[1], 0);
	assert_in_range(fails, 850, 1150);
	/* Weight 0 after init (before the control lcore rebuilds): not chosen either. */
	f->dest[1].flags = 0;
	f->dest[2].weight = 0;
	pick_many(f, 3000, count, &fails);
	assert_int_equal(count[2], 0);
	assert_in_range(fails, 850, 1150);
	fixture_fini(f);
}

static void test_mh_fallback(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1, 1};
	struct sched_params p = {.flags = SCHED_FLAG_FALLBACK};
	uint32_t count[4], fails, before[4];
	(void)unused;

	fixture_dests(f, 4, w);
	assert_int_equal(fixture_init(f, "mh", &p), 0);
	pick_many(f, 4000, before, &fails);
	assert_int_equal(fails, 0);
	f->dest[0].flags = SCHED_DEST_OVERLOADED;
	pick_many(f, 4000, count, &fails);
	assert_int_equal(fails, 0);
	assert_int_equal(count[0], 0);
	/* The displaced quarter spreads over the three others, not all onto one. */
	for (uint32_t i = 1; i < 4; i++)
		assert_in_range(count[i], before[i] + 200, before[i] + 470);
	/* Only one left: everything goes there, even past the probes. */
	f->dest[1].weight = 0;
	f->dest[2].flags = SCHED_DEST_OVERLOADED;
	pick_many(f, 500, count, &fails);
	assert_int_equal(fails, 0);
	assert_int_equal(count[3], 500);
	f->dest[3].weight = 0;
	pick_many(f, 10, count, &fails);
	assert_int_equal(fails, 10);
	fixture_fini(f);
}

static void test_mh_port_flag(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {1, 1, 1, 1};
	struct sched_params p = {.flags = SCHED_FLAG_PORT};
	uint32_t seen[4] = {0};
	(void)unused;

	fixture_dests(f, 4, w);
	build_default(f);
	int first = fixture_pick(f);
	for (uint16_t port = 1024; port < 1100; port++) {
		f->req.client_port = port;
		assert_int_equal(fixture_pick(f), first); /* the port is ignored by default */
	}
	assert_int_equal(fixture_reinit(f, &p), 0);
	for (uint16_t port = 1024; port < 1100; port++) {
		f->req.client_port = port;
		seen[fixture_pick(f)]++;
	}
	for (uint32_t i = 0; i < 4; i++)
		assert_true(seen[i] > 0);
	fixture_fini(f);
}

static void test_mh_no_dests(void **unused)
{
	struct sched_fixture *f = fixture_new();
	const uint32_t w[] = {0, 0};
	(void)unused;

	fixture_dests(f, 0, w);
	build_default(f);
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
	f = fixture_new();
	fixture_dests(f, 2, w);
	build_default(f);
	assert_int_equal(fixture_pick(f), -1);
	fixture_fini(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mh_shares_n3),
		cmocka_unit_test(test_mh_shares_n100),
		cmocka_unit_test(test_mh_shares_n1000),
		cmocka_unit_test(test_mh_weight0_gets_no_slot),
		cmocka_unit_test(test_mh_remove_one_moves_little),
		cmocka_unit_test(test_mh_order_independent),
		cmocka_unit_test(test_mh_table_size),
		cmocka_unit_test(test_mh_lookup_follows_table),
		cmocka_unit_test(test_mh_unavailable_without_fallback),
		cmocka_unit_test(test_mh_fallback),
		cmocka_unit_test(test_mh_port_flag),
		cmocka_unit_test(test_mh_no_dests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
