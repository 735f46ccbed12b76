/* nat_rewrite.h / csum.h: every incremental update must equal a checksum computed from scratch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nat_rewrite.h"
#include "pkt_parse.h"

/* Independent reference: the plain RFC 1071 sum, written here without csum.h. */
static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static bool ip_header_ok(const uint8_t *ip)
{
	return ref_sum(ip, 20, 0) == 0xffff;
}

static bool l4_ok(const uint8_t *ip, const uint8_t *l4, size_t l4_len, uint8_t proto)
{
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = (uint8_t)(l4_len >> 8);
	pseudo[11] = (uint8_t)l4_len;
	uint32_t acc = ref_sum(pseudo, 12, 0);
	return ref_sum(l4, l4_len, acc) == 0xffff;
}

/* Writes a valid IPv4 + TCP/UDP packet of l4_len bytes with random contents into buf. */
static void make_packet(uint8_t *buf, uint8_t proto, size_t l4_len, unsigned int seed)
{
	srand(seed);
	for (size_t i = 0; i < 20 + l4_len; i++)
		buf[i] = (uint8_t)rand();
	buf[0] = 0x45;
	buf[2] = (uint8_t)((20 + l4_len) >> 8);
	buf[3] = (uint8_t)(20 + l4_len);
	buf[9] = proto;
	buf[10] = buf[11] = 0;
	uint16_t s = (uint16_t)~ref_sum(buf, 20, 0);
	buf[10] = (uint8_t)(s >> 8);
	buf[11] = (uint8_t)s;
	uint8_t *l4 = buf + 20;
	size_t coff = proto == IPPROTO_TCP ? 16 : 6;
	if (proto == IPPROTO_TCP)
		l4[12] = 0x50;
	else {
		l4[4] = (uint8_t)(l4_len >> 8);
		l4[5] = (uint8_t)l4_len;
	}
	l4[coff] = l4[coff + 1] = 0;
	uint8_t pseudo[12];
	memcpy(pseudo, buf + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = (uint8_t)(l4_len >> 8);
	pseudo[11] = (uint8_t)l4_len;
	uint16_t c = (uint16_t)~ref_sum(l4, l4_len, ref_sum(pseudo, 12, 0));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	l4[coff] = (uint8_t)(c >> 8);
	l4[coff + 1] = (uint8_t)c;
}

static void rewrite_keeps_checksums_valid(uint8_t proto)
{
	uint8_t buf[1600];
	/* odd and even lengths, with and without payload */
	static const size_t lens[] = {8, 20, 21, 33, 64, 511, 1000, 1479};
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		size_t l4_len = lens[li];
		if (proto == IPPROTO_TCP && l4_len < 20)
			continue;
		for (unsigned int seed = 1; seed <= 200; seed++) {
			make_packet(buf, proto, l4_len, seed * 7919u + (unsigned int)li);
			assert_true(ip_header_ok(buf));
			assert_true(l4_ok(buf, buf + 20, l4_len, proto));
			uint32_t addr = (uint32_t)rand() * 2654435761u;
			uint16_t port = (uint16_t)rand();
			nat_rewrite_endpoint(buf, buf + 20, l4_len, proto, seed & 1, addr, port);
			assert_memory_equal(buf + ((seed & 1) ? 12 : 16), &addr, 4);
			assert_memory_equal(buf + 20 + ((seed & 1) ? 0 : 2), &port, 2);
			assert_true(ip_header_ok(buf));
			assert_true(l4_ok(buf, buf + 20, l4_len, proto));
		}
	}
}

static void test_tcp_rewrite(void **state)
{
	(void)state;
	rewrite_keeps_checksums_valid(IPPROTO_TCP);
}

static void test_udp_rewrite(void **state)
{
	(void)state;
	rewrite_keeps_checksums_valid(IPPROTO_UDP);
}

static void test_udp_without_checksum_stays_without(void **state)
{
	uint8_t buf[64];
	(void)state;
	make_packet(buf, IPPROTO_UDP, 40, 3);
	buf[26] = buf[27] = 0; /* sender did not checksum */
	nat_rewrite_endpoint(buf, buf + 20, 40, IPPROTO_UDP, false, 0x01020304, 0x5000);
	assert_int_equal(buf[26], 0);
	assert_int_equal(buf[27], 0);
	assert_true(ip_header_ok(buf));
}

static void test_quoted_tcp_header_without_checksum_field(void **state)
{
	uint8_t buf[64];
	(void)state;
	make_packet(buf, IPPROTO_TCP, 20, 5);
	uint8_t before[20];
	memcpy(before, buf + 20, 20);
	/* An ICMP error quotes 8 bytes: ports change, bytes 8.. are not touched. */
	nat_rewrite_endpoint(buf, buf + 20, 8, IPPROTO_TCP, true, 0x0a000001, 0x1234);
	assert_memory_equal(buf + 28, before + 8, 12);
	assert_true(ip_header_ok(buf));
}

static void test_replace16_of_equal_words_is_identity(void **state)
{
	(void)state;
	for (uint32_t c = 0; c <= 0xffff; c += 251)
		for (uint32_t w = 0; w <= 0xffff; w += 4099) {
			uint16_t r = csum_replace16((uint16_t)c, (uint16_t)w, (uint16_t)w);
			/* 0x0000 and 0xffff are the same number in one's complement */
			assert_true(r == c || (r ^ c) == 0xffff);
		}
}

static void test_set_l4_checksum_from_scratch(void **state)
{
	uint8_t buf[1600];
	(void)state;
	for (unsigned int seed = 1; seed <= 50; seed++) {
		uint8_t proto = (seed & 1) ? IPPROTO_TCP : IPPROTO_UDP;
		size_t len = 20 + seed * 13; /* odd and even lengths */
		make_packet(buf, proto, len, seed);
		buf[20 + (proto == IPPROTO_TCP ? 16 : 6)] ^= 0x5a; /* break it */
		assert_false(l4_ok(buf, buf + 20, len, proto));
		pkt_set_l4_checksum(buf, AF_INET, proto, buf + 20, len, proto == IPPROTO_TCP ? 16 : 6);
		assert_true(l4_ok(buf, buf + 20, len, proto));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_rewrite),
		cmocka_unit_test(test_udp_rewrite),
		cmocka_unit_test(test_udp_without_checksum_stays_without),
		cmocka_unit_test(test_quoted_tcp_header_without_checksum_field),
		cmocka_unit_test(test_replace16_of_equal_words_is_identity),
		cmocka_unit_test(test_set_l4_checksum_from_scratch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
