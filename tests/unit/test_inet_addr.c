/* Unit tests for lib/inet_addr: address and prefix parsing, formatting, ordering, MACs. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "inet_addr.h"

static struct lb_addr must_parse(const char *text)
{
	struct lb_addr a;

	assert_int_equal(lb_addr_parse(text, &a), 0);
	return a;
}

static void test_parse_ipv4(void **state)
{
	struct lb_addr a;

	(void)state;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(lb_addr_parse("10.1.2.3", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.v4, htonl(0x0a010203));
	/* unused bytes are zero so keys can be compared with memcmp */
	assert_int_equal(a.reserved[0] | a.reserved[1] | a.reserved[2], 0);
	for (size_t i = 4; i < sizeof(a.v6); i++)
		assert_int_equal(a.v6[i], 0);

	assert_int_equal(lb_addr_parse("0.0.0.0", &a), 0);
	assert_int_equal(a.v4, 0);
	assert_int_equal(lb_addr_parse("255.255.255.255", &a), 0);
	assert_int_equal(a.v4, 0xffffffffu);
}

static void test_parse_ipv6(void **state)
{
	static const uint8_t expected[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					     0,    0,    0,    0,    0, 0, 0, 1};
	struct lb_addr a;

	(void)state;
	assert_int_equal(lb_addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.v6, expected, 16);

	assert_int_equal(lb_addr_parse("::", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(lb_addr_parse("::ffff:10.0.0.1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.v6[10], 0xff);
	assert_int_equal(a.v6[15], 1);
}

static void test_parse_garbage(void **state)
{
	static const char *const bad[] = {
		"",          "1.2.3",       "1.2.3.4.5",  "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
		"1.2.3.4/24", "abc",        "2001:db8:::1", "2001:db8::1::2", "::g", "1.2.3.-4",
		"10.0.0.1x", "fe80::1%eth0", "[::1]",
	};
	struct lb_addr a;
	struct lb_addr sentinel;

	(void)state;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = sentinel;
		if (lb_addr_parse(bad[i], &a) != -1)
			fail_msg("lb_addr_parse accepted \"%s\"", bad[i]);
		/* a failed parse leaves the output alone */
		assert_memory_equal(&a, &sentinel, sizeof(a));
	}
	assert_int_equal(lb_addr_parse(NULL, &a), -1);
}

static void test_parse_prefix(void **state)
{
	struct lb_addr a;
	uint8_t plen = 99;

	(void)state;
	assert_int_equal(lb_addr_parse_prefix("10.0.0.2/24", &a, &plen), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.v4, htonl(0x0a000002));
	assert_int_equal(plen, 24);

	assert_int_equal(lb_addr_parse_prefix("10.0.0.2/0", &a, &plen), 0);
	assert_int_equal(plen, 0);
	assert_int_equal(lb_addr_parse_prefix("10.0.0.2/32", &a, &plen), 0);
	assert_int_equal(plen, 32);
	/* no prefix means the full length of the family */
	assert_int_equal(lb_addr_parse_prefix("10.0.0.2", &a, &plen), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(lb_addr_parse_prefix("2001:db8::1", &a, &plen), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(plen, 128);
	assert_int_equal(lb_addr_parse_prefix("2001:db8::1/64", &a, &plen), 0);
	assert_int_equal(plen, 64);
	assert_int_equal(lb_addr_parse_prefix("2001:db8::1/128", &a, &plen), 0);
	assert_int_equal(plen, 128);
}

static void test_parse_prefix_rejects(void **state)
{
	static const char *const bad[] = {
		"1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/24x", "1.2.3.4/abc", "/24",
		"2001:db8::1/129", "2001:db8::1/", "1.2.3.4/24/1", "1.2.3.4/256", "1.2.3.4/4294967320",
		"garbage/24", "",
	};
	struct lb_addr a;
	uint8_t plen;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lb_addr_parse_prefix(bad[i], &a, &plen) != -1)
			fail_msg("lb_addr_parse_prefix accepted \"%s\" (prefix %u)", bad[i], plen);
	assert_int_equal(lb_addr_parse_prefix(NULL, &a, &plen), -1);
}

static void test_format(void **state)
{
	char buf[LB_ADDR_STRLEN];
	char pbuf[LB_ADDR_PORT_STRLEN];
	struct lb_addr a = lb_addr_from_v4(htonl(0xc0a80001));
	struct lb_addr unset;

	(void)state;
	assert_string_equal(lb_addr_format(&a, buf, sizeof(buf)), "192.168.0.1");
	assert_string_equal(lb_addr_port_format(&a, 8080, pbuf, sizeof(pbuf)), "192.168.0.1:8080");

	a = must_parse("2001:DB8:0:0::1");
	assert_string_equal(lb_addr_format(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_string_equal(lb_addr_port_format(&a, 443, pbuf, sizeof(pbuf)), "[2001:db8::1]:443");

	/* the longest textual IPv6 address fits LB_ADDR_STRLEN */
	a = must_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	assert_non_null(lb_addr_format(&a, buf, sizeof(buf)));
	assert_true(strlen(buf) < sizeof(buf));
	assert_ptr_equal(lb_addr_port_format(&a, 65535, pbuf, sizeof(pbuf)), pbuf);
	assert_true(strlen(pbuf) < sizeof(pbuf));
	assert_int_equal(pbuf[0], '[');

	memset(&unset, 0, sizeof(unset));
	assert_string_equal(lb_addr_format(&unset, buf, sizeof(buf)), "?");
}

static void test_format_roundtrip(void **state)
{
	static const char *const texts[] = {"0.0.0.0", "10.0.0.1", "255.255.255.255", "::",
					    "::1", "fe80::1:2", "2001:db8:1:2:3:4:5:6"};
	char buf[LB_ADDR_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct lb_addr a = must_parse(texts[i]), b;
		assert_string_equal(lb_addr_format(&a, buf, sizeof(buf)), texts[i]);
		assert_int_equal(lb_addr_parse(buf, &b), 0);
		assert_true(lb_addr_equal(&a, &b));
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void test_same_prefix_v4(void **state)
{
	struct lb_addr a = must_parse("10.1.2.3");
	struct lb_addr same24 = must_parse("10.1.2.200");
	struct lb_addr other_half = must_parse("10.1.2.130"); /* differs at bit 24 (0x03 vs 0x82) */
	struct lb_addr other24 = must_parse("10.1.3.3");
	struct lb_addr far = must_parse("192.168.0.1");
	struct lb_addr v6 = must_parse("::a01:203");

	(void)state;
	assert_true(lb_addr_same_prefix(&a, &far, 0));
	assert_true(lb_addr_same_prefix(&a, &same24, 24));
	assert_false(lb_addr_same_prefix(&a, &other24, 24));
	assert_true(lb_addr_same_prefix(&a, &other24, 23));
	assert_false(lb_addr_same_prefix(&a, &other_half, 25));
	assert_true(lb_addr_same_prefix(&a, &other_half, 24));
	assert_true(lb_addr_same_prefix(&a, &same24, 24));
	assert_false(lb_addr_same_prefix(&a, &same24, 25)); /* 3 and 200 differ in bit 24 */
	assert_true(lb_addr_same_prefix(&a, &a, 32));
	assert_false(lb_addr_same_prefix(&a, &same24, 32));
	/* different families never share a prefix, not even /0 */
	assert_false(lb_addr_same_prefix(&a, &v6, 0));
}

static void test_same_prefix_v6(void **state)
{
	struct lb_addr a = must_parse("2001:db8:1:2::1");
	struct lb_addr same64 = must_parse("2001:db8:1:2:ffff::9");
	struct lb_addr other64 = must_parse("2001:db8:1:3::1");
	struct lb_addr nearly = must_parse("2001:db8:1:2::0");
	struct lb_addr far = must_parse("fe80::1");

	(void)state;
	assert_true(lb_addr_same_prefix(&a, &far, 0));
	assert_true(lb_addr_same_prefix(&a, &same64, 64));
	assert_false(lb_addr_same_prefix(&a, &same64, 65));
	assert_false(lb_addr_same_prefix(&a, &other64, 64));
	assert_true(lb_addr_same_prefix(&a, &other64, 63));
	assert_true(lb_addr_same_prefix(&a, &nearly, 127));
	assert_false(lb_addr_same_prefix(&a, &nearly, 128));
	assert_true(lb_addr_same_prefix(&a, &a, 128));
}

static void test_compare_ordering(void **state)
{
	struct lb_addr v4_low = must_parse("9.255.255.255");
	struct lb_addr v4_high = must_parse("10.0.0.0");
	struct lb_addr v6_low = must_parse("::");
	struct lb_addr v6_high = must_parse("2001:db8::1");

	(void)state;
	/* byte order (network order), not host integer order */
	assert_true(lb_addr_compare(&v4_low, &v4_high) < 0);
	assert_true(lb_addr_compare(&v4_high, &v4_low) > 0);
	assert_int_equal(lb_addr_compare(&v4_low, &v4_low), 0);
	/* family first: every IPv4 address sorts before every IPv6 address */
	assert_true(lb_addr_compare(&v4_high, &v6_low) < 0);
	assert_true(lb_addr_compare(&v6_low, &v4_high) > 0);
	assert_true(lb_addr_compare(&v6_low, &v6_high) < 0);
	assert_true(lb_addr_compare(&v6_high, &v6_low) > 0);

	struct lb_addr a = must_parse("1.2.3.4"), b = must_parse("1.2.3.4");
	assert_true(lb_addr_equal(&a, &b));
	b = must_parse("1.2.3.5");
	assert_false(lb_addr_equal(&a, &b));
	/* the same bytes in another family are another address */
	struct lb_addr v6 = must_parse("102:304::");
	assert_false(lb_addr_equal(&a, &v6));
}

static void test_from_v4(void **state)
{
	struct lb_addr a = lb_addr_from_v4(htonl(0x01020304));
	struct lb_addr b = must_parse("1.2.3.4");

	(void)state;
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_mac_parse_format(void **state)
{
	static const uint8_t expected[6] = {0x02, 0x00, 0xab, 0xcd, 0xef, 0x01};
	uint8_t mac[6];
	char buf[18];

	(void)state;
	assert_int_equal(lb_mac_parse("02:00:ab:cd:ef:01", mac), 0);
	assert_memory_equal(mac, expected, 6);
	assert_int_equal(lb_mac_parse("02:00:AB:CD:EF:01", mac), 0);
	assert_memory_equal(mac, expected, 6);
	assert_string_equal(lb_mac_format(mac, buf, sizeof(buf)), "02:00:ab:cd:ef:01");

	static const uint8_t all_ones[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	assert_string_equal(lb_mac_format(all_ones, buf, sizeof(buf)), "ff:ff:ff:ff:ff:ff");
	assert_int_equal(lb_mac_parse(buf, mac), 0);
	assert_memory_equal(mac, all_ones, 6);
}

static void test_mac_rejects(void **state)
{
	static const char *const bad[] = {
		"02:00:00:00:00",       /* five octets */
		"02:00:00:00:00:01x",   /* trailing character */
		"02:00:00:00:00:01:",   /* trailing colon */
		"02:00:00:00:00:01 ",   /* trailing space */
		"02:00:00:00:00:001",   /* three digits */
		"02-00-00-00-00-01",    /* wrong separator */
		"0g:00:00:00:00:01",    /* not hex */
		"",
		"2:0:0:0:0:1",          /* single digits */
	};
	static const uint8_t untouched[6] = {1, 2, 3, 4, 5, 6};
	uint8_t mac[6];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(mac, untouched, 6);
		if (lb_mac_parse(bad[i], mac) != -1)
			fail_msg("lb_mac_parse accepted \"%s\"", bad[i]);
		assert_memory_equal(mac, untouched, 6);
	}
	assert_int_equal(lb_mac_parse(NULL, mac), -1);
}

static void test_mac_rejects_signs_and_spaces(void **state)
{
	/*
	 * Each octet must be two hex digits. sscanf's %2x also takes a sign or leading white
	 * space as part of the field width, so these 17-character strings must still be rejected.
	 */
	static const char *const bad[] = {
		"-1:00:00:00:00:00",
		"+1:00:00:00:00:00",
		" 1:00:00:00:00:00",
		"02:00:00:00:00:-1",
	};
	uint8_t mac[6];

	(void)state;
	/* Regression (was a bug): lib/inet_addr.c lb_mac_parse accepts all four ("-1:00:00:00:00:00" gives
	 * ff:00:00:00:00:00, "+1:..." and " 1:..." give 01:...); it should check every
	 * character is a hex digit or ':' in the right place. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lb_mac_parse(bad[i], mac) != -1)
			fail_msg("lb_mac_parse accepted \"%s\"", bad[i]);
}

static void test_parse_prefix_rejects_signs_and_spaces(void **state)
{
	/* The prefix length is decimal digits only. */
	static const char *const bad[] = {"1.2.3.4/+24", "1.2.3.4/ 24", "2001:db8::1/ 64"};
	struct lb_addr a;
	uint8_t plen;

	(void)state;
	/* Regression (was a bug): lib/inet_addr.c lb_addr_parse_prefix uses strtol, which skips white space and
	 * accepts a sign: "1.2.3.4/+24" and "1.2.3.4/ 24" parse as /24 instead of failing.
	 * */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lb_addr_parse_prefix(bad[i], &a, &plen) != -1)
			fail_msg("lb_addr_parse_prefix accepted \"%s\" (prefix %u)", bad[i], plen);
}

static void test_addr_port_parse(void **state)
{
	static const char *const bad[] = {
		"", ":", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:+80",
		"10.0.0.1: 80", "10.0.0.1:8a", "::1:80", "[10.0.0.1]:80", "[::1]", "[::1:80",
		"[]:80", "host:80", "10.0.0.1:123456",
	};
	struct lb_addr a;
	uint16_t port = 0;
	char buf[LB_ADDR_PORT_STRLEN];

	(void)state;
	assert_int_equal(lb_addr_port_parse("127.0.0.1:9108", &a, &port), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(port, 9108);
	assert_string_equal(lb_addr_port_format(&a, port, buf, sizeof(buf)), "127.0.0.1:9108");
	assert_int_equal(lb_addr_port_parse("[2001:db8::1]:65535", &a, &port), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(port, 65535);
	assert_string_equal(lb_addr_port_format(&a, port, buf, sizeof(buf)), "[2001:db8::1]:65535");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lb_addr_port_parse(bad[i], &a, &port) != -1)
			fail_msg("lb_addr_port_parse accepted \"%s\"", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_prefix_rejects),
		cmocka_unit_test(test_parse_prefix_rejects_signs_and_spaces),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_same_prefix_v4),
		cmocka_unit_test(test_same_prefix_v6),
		cmocka_unit_test(test_compare_ordering),
		cmocka_unit_test(test_from_v4),
		cmocka_unit_test(test_mac_parse_format),
		cmocka_unit_test(test_mac_rejects),
		cmocka_unit_test(test_mac_rejects_signs_and_spaces),
		cmocka_unit_test(test_addr_port_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
