/* syn_cookie.c: SipHash against its reference vectors, cookies made and checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "syn_cookie.h"

static const struct syn_cookie_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

/* The reference vectors (key 00..0f, message 00, 01, ...) for 8 and 16 bytes. */
static void test_siphash_reference(void **state)
{
	(void)state;
	uint64_t m[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

	assert_true(syn_cookie_siphash24(&key, m, 1) == 0x93f5f5799a932462ULL);
	assert_true(syn_cookie_siphash24(&key, m, 2) == 0x3f2acc7f57c29bdbULL);
}

static struct syn_cookie_tuple tuple4(const char *src, uint16_t sport, const char *dst,
				      uint16_t dport)
{
	struct syn_cookie_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, t.src), 1);
	assert_int_equal(inet_pton(AF_INET, dst, t.dst), 1);
	t.sport = htons(sport);
	t.dport = htons(dport);
	t.client_isn = 0x12345678;
	return t;
}

static void test_round_trip_every_mss_index(void **state)
{
	(void)state;
	struct syn_cookie_tuple t = tuple4("198.51.100.7", 40000, "192.0.2.10", 80);

	for (unsigned int i = 0; i < SYN_COOKIE_MSS_COUNT; i++) {
		uint32_t c = syn_cookie_make(&key, &t, 1000, i);
		assert_int_equal(c & 7, i);
		assert_int_equal(syn_cookie_check(&key, &t, 1000, c), (int)i);
		/* the previous minute's cookie is still good */
		assert_int_equal(syn_cookie_check(&key, &t, 1001, c), (int)i);
	}
}

static void test_expired_counter(void **state)
{
	(void)state;
	struct syn_cookie_tuple t = tuple4("198.51.100.7", 40000, "192.0.2.10", 80);
	uint32_t c = syn_cookie_make(&key, &t, 1000, 3);

	assert_int_equal(syn_cookie_check(&key, &t, 1002, c), -1);
	assert_int_equal(syn_cookie_check(&key, &t, 999, c), -1); /* not from the future */
	assert_int_equal(syn_cookie_check(&key, &t, 0, syn_cookie_make(&key, &t, 0, 1)), 1);
}

static void test_wrong_tuple_or_key(void **state)
{
	(void)state;
	struct syn_cookie_tuple t = tuple4("198.51.100.7", 40000, "192.0.2.10", 80);
	uint32_t c = syn_cookie_make(&key, &t, 7, 5);
	struct syn_cookie_tuple u;

	u = tuple4("198.51.100.8", 40000, "192.0.2.10", 80);
	assert_int_equal(syn_cookie_check(&key, &u, 7, c), -1);
	u = tuple4("198.51.100.7", 40001, "192.0.2.10", 80);
	assert_int_equal(syn_cookie_check(&key, &u, 7, c), -1);
	u = tuple4("198.51.100.7", 40000, "192.0.2.11", 80);
	assert_int_equal(syn_cookie_check(&key, &u, 7, c), -1);
	u = tuple4("198.51.100.7", 40000, "192.0.2.10", 81);
	assert_int_equal(syn_cookie_check(&key, &u, 7, c), -1);
	u = t;
	u.client_isn++; /* a later segment's seq - 1 is not the ISN */
	assert_int_equal(syn_cookie_check(&key, &u, 7, c), -1);
	u = t;
	u.family = AF_INET6;
	assert_int_equal(syn_cookie_check(&key, &u, 7, c), -1);
	struct syn_cookie_key other = {key.k0 ^ 1, key.k1};
	assert_int_equal(syn_cookie_check(&other, &t, 7, c), -1);
	/* another MSS index in the low bits does not pass either */
	assert_int_equal(syn_cookie_check(&key, &t, 7, (c & ~7u) | 4), -1);
	assert_int_equal(syn_cookie_check(&key, &t, 7, c + 1), -1);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct syn_cookie_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", t.src), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::10", t.dst), 1);
	t.sport = htons(5555);
	t.dport = htons(443);
	uint32_t c = syn_cookie_make(&key, &t, 42, 1);
	assert_int_equal(syn_cookie_check(&key, &t, 42, c), 1);
	t.src[15] ^= 1; /* the low bytes of an IPv6 address count */
	assert_int_equal(syn_cookie_check(&key, &t, 42, c), -1);
}

static void test_mss_index(void **state)
{
	(void)state;
	assert_int_equal(syn_cookie_mss_index(0), 0);
	assert_int_equal(syn_cookie_mss_index(536), 0);
	assert_int_equal(syn_cookie_mss_index(1219), 0);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(1460)), 1460);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(1440)), 1440);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(1459)), 1440);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(9000)), 8960);
	assert_int_equal(syn_cookie_mss(syn_cookie_mss_index(65535)), 8960);
	for (unsigned int i = 0; i < SYN_COOKIE_MSS_COUNT; i++)
		assert_int_equal(syn_cookie_mss_index(syn_cookie_mss(i)), i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_reference),
		cmocka_unit_test(test_round_trip_every_mss_index),
		cmocka_unit_test(test_expired_counter),
		cmocka_unit_test(test_wrong_tuple_or_key),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mss_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
