/* Helpers behind the hashing schedulers: prime test, hash stability and mixing, canonical order. */
#include <stdio.h>

#include "sched_test.h"
#include "sched_util.h"

static void test_util_primes(void **unused)
{
	static const uint32_t primes[] = {2, 3, 251, 509, 4093, 65521, 65537, 131071, 16777213};
	static const uint32_t composites[] = {0, 1, 4, 9, 65535, 65536, 4294967295u, 16777215};
	(void)unused;

	for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		assert_true(sched_is_prime(primes[i]));
	for (size_t i = 0; i < sizeof(composites) / sizeof(composites[0]); i++)
		assert_false(sched_is_prime(composites[i]));
	assert_true(sched_is_prime(SCHED_MH_DEFAULT_TABLE_SIZE));
	assert_true(sched_is_prime(SCHED_MH_MAX_TABLE_SIZE));
}

/*
 * The hash decides every Maglev, dh and sh table: nodes of a cluster must agree on it, so a
 * change to it is a compatibility break. These pinned values catch an accidental one.
 */
static void test_util_hash_is_pinned(void **unused)
{
	const uint8_t key[] = "dpdk-lb";
	(void)unused;

	print_message("hash('dpdk-lb', 0) = 0x%016llx\n",
		      (unsigned long long)sched_hash64(key, 7, 0));
	assert_true(sched_hash64(key, 7, 0) == 0xf92b18e2e64e65f1ull);
	assert_true(sched_hash64(key, 7, 0) != sched_hash64(key, 7, 1));
	assert_true(sched_hash64(key, 7, 0) != sched_hash64(key, 6, 0));
	assert_true(sched_hash64(key, 0, 0) != sched_hash64(key, 0, 1));
}

/* Flipping one input bit flips about half of the output bits (avalanche). */
static void test_util_hash_avalanche(void **unused)
{
	uint64_t flips = 0, trials = 0;
	(void)unused;

	for (uint32_t base = 0; base < 64; base++) {
		uint8_t key[8];
		for (int b = 0; b < 8; b++)
			key[b] = (uint8_t)(base * 37 + b);
		uint64_t h0 = sched_hash64(key, sizeof(key), 7);
		for (int bit = 0; bit < 64; bit++) {
			key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			flips += (uint64_t)__builtin_popcountll(h0 ^ sched_hash64(key, sizeof(key), 7));
			key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			trials++;
		}
	}
	double mean = (double)flips / (double)trials;
	print_message("mean output bits flipped per input bit: %.2f of 64\n", mean);
	assert_true(mean > 30.0 && mean < 34.0);
}

static void test_util_canonical_order(void **unused)
{
	struct sched_dest d[4];
	uint32_t order[4];
	(void)unused;

	memset(d, 0, sizeof(d));
	d[0].addr = lb_addr_from_v4(htonl(0x0a000002u));
	d[0].port = 80;
	d[1].addr = lb_addr_from_v4(htonl(0x0a000001u));
	d[1].port = 8080;
	d[2].addr = lb_addr_from_v4(htonl(0x0a000001u));
	d[2].port = 80;
	assert_int_equal(lb_addr_parse("2001:db8::1", &d[3].addr), 0);
	d[3].port = 1;
	assert_int_equal(sched_canonical_order(d, 4, order), 0);
	/* IPv4 before IPv6 (family order), then address bytes, then port */
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_primes),
		cmocka_unit_test(test_util_hash_is_pinned),
		cmocka_unit_test(test_util_hash_avalanche),
		cmocka_unit_test(test_util_canonical_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
