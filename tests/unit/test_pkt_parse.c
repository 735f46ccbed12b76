/* Unit tests for lib/pkt_parse: hand-built frames, truncation, malformed headers, checksums. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkt_parse.h"

#define FRAME_MAX 256

/* A frame under construction. */
struct frame {
	uint8_t bytes[FRAME_MAX];
	size_t len;
	size_t l3_off; /* where the IPv4 header starts */
	size_t l4_off; /* where the L4 header starts */
};

static const uint8_t mac_dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void append(struct frame *f, const void *data, size_t n)
{
	assert_true(f->len + n <= FRAME_MAX);
	memcpy(f->bytes + f->len, data, n);
	f->len += n;
}

static void append_be16(struct frame *f, uint16_t v)
{
	uint8_t b[2];

	put_be16(b, v);
	append(f, b, 2);
}

/* Ethernet header with the given VLAN tag types (each followed by TCI 100+i) and ethertype. */
static void build_eth(struct frame *f, const uint16_t *tag_types, size_t n_tags, uint16_t ethertype)
{
	memset(f, 0, sizeof(*f));
	append(f, mac_dst, 6);
	append(f, mac_src, 6);
	for (size_t i = 0; i < n_tags; i++) {
		append_be16(f, tag_types[i]);
		append_be16(f, (uint16_t)(100 + i));
	}
	append_be16(f, ethertype);
}

/* IPv4 header (no options unless ihl_words > 5) for l4_len bytes of payload, checksummed. */
static void build_ipv4(struct frame *f, uint8_t proto, size_t ihl_words, size_t l4_len,
		       uint16_t frag_field)
{
	uint8_t h[60];
	size_t ihl = ihl_words * 4;

	memset(h, 0, sizeof(h));
	h[0] = (uint8_t)(0x40 | ihl_words);
	put_be16(h + 2, (uint16_t)(ihl + l4_len));
	put_be16(h + 4, 0x1234);
	put_be16(h + 6, frag_field);
	h[8] = 64;
	h[9] = proto;
	put_be32(h + 12, 0xc0a80a01); /* 192.168.10.1 */
	put_be32(h + 16, 0x0a000064); /* 10.0.0.100 */
	put_be16(h + 10, pkt_csum_fold(pkt_csum_partial(h, ihl, 0)));
	f->l3_off = f->len;
	append(f, h, ihl);
	f->l4_off = f->len;
}

static void build_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags,
		      size_t doff_words, size_t payload)
{
	uint8_t h[60];

	memset(h, 0, sizeof(h));
	put_be16(h, sport);
	put_be16(h + 2, dport);
	put_be32(h + 4, 1000);
	h[12] = (uint8_t)(doff_words << 4);
	h[13] = flags;
	put_be16(h + 14, 65535);
	append(f, h, doff_words * 4);
	for (size_t i = 0; i < payload; i++)
		append(f, "x", 1);
}

/* A complete Ethernet/IPv4/TCP frame with `payload` data bytes. */
static void build_tcp_frame(struct frame *f, uint8_t flags, size_t payload)
{
	build_eth(f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(f, IPPROTO_TCP, 5, 20 + payload, 0);
	build_tcp(f, 12345, 80, flags, 5, payload);
}

static void build_udp_frame(struct frame *f, size_t payload)
{
	uint8_t h[8];

	build_eth(f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(f, IPPROTO_UDP, 5, 8 + payload, 0);
	put_be16(h, 5353);
	put_be16(h + 2, 53);
	put_be16(h + 4, (uint16_t)(8 + payload));
	put_be16(h + 6, 0);
	append(f, h, 8);
	for (size_t i = 0; i < payload; i++)
		append(f, "u", 1);
}

static void build_arp_frame(struct frame *f, const uint16_t *tags, size_t n_tags, uint16_t op)
{
	uint8_t a[28];

	build_eth(f, tags, n_tags, PKT_ETHERTYPE_ARP);
	memset(a, 0, sizeof(a));
	put_be16(a, 1);                  /* Ethernet */
	put_be16(a + 2, PKT_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, mac_src, 6);
	put_be32(a + 14, 0x0a000001);    /* 10.0.0.1 */
	memset(a + 18, 0, 6);
	put_be32(a + 24, 0x0a000002);    /* 10.0.0.2 */
	f->l3_off = f->len;
	append(f, a, sizeof(a));
}

/* Parses an exact-size heap copy, so AddressSanitizer reports any read past len. */
static enum pkt_parse_result parse_exact(const uint8_t *bytes, size_t len, struct pkt_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum pkt_parse_result r;

	assert_non_null(copy);
	memcpy(copy, bytes, len);
	r = pkt_parse(copy, len, info);
	free(copy);
	return r;
}

static enum pkt_parse_result parse_frame(const struct frame *f, struct pkt_info *info)
{
	return parse_exact(f->bytes, f->len, info);
}

static void test_tcp_syn(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	build_tcp_frame(&f, PKT_TCP_SYN, 0);
	assert_int_equal(f.len, 54);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.l3_off, 14);
	assert_int_equal(info.l4_off, 34);
	assert_int_equal(info.l3_len, 40);
	assert_int_equal(info.ethertype, PKT_ETHERTYPE_IPV4);
	assert_int_equal(info.n_vlans, 0);
	assert_int_equal(info.proto, IPPROTO_TCP);
	assert_int_equal(info.tcp_flags, PKT_TCP_SYN);
	assert_int_equal(info.is_fragment, 0);
	assert_int_equal(info.sport, 12345);
	assert_int_equal(info.dport, 80);
	assert_int_equal(info.src_v4, htonl(0xc0a80a01));
	assert_int_equal(info.dst_v4, htonl(0x0a000064));
}

static void test_tcp_flags_and_payload(void **state)
{
	struct frame f;
	struct pkt_info info;
	const uint8_t flags = PKT_TCP_ACK | PKT_TCP_PSH | PKT_TCP_FIN;

	(void)state;
	build_tcp_frame(&f, flags, 100);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.tcp_flags, flags);
	assert_int_equal(info.l3_len, 140);
}

static void test_ip_options_and_padding(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	/* IHL 7: 8 bytes of options move the L4 header */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 7, 20, 0);
	build_tcp(&f, 1, 2, PKT_TCP_ACK, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.l4_off, 14 + 28);
	assert_int_equal(info.sport, 1);
	assert_int_equal(info.dport, 2);

	/* Ethernet padding after the IPv4 datagram is allowed; l3_len is the IPv4 length */
	build_tcp_frame(&f, PKT_TCP_ACK, 0);
	while (f.len < 60)
		append(&f, "\0", 1);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.l3_len, 40);

	/* TCP options: data offset 8 */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 32, 0);
	build_tcp(&f, 7, 8, PKT_TCP_SYN, 8, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.tcp_flags, PKT_TCP_SYN);
}

static void test_udp(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	build_udp_frame(&f, 12);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.proto, IPPROTO_UDP);
	assert_int_equal(info.sport, 5353);
	assert_int_equal(info.dport, 53);
	assert_int_equal(info.l4_off, 34);
	assert_int_equal(info.l3_len, 20 + 8 + 12);
	assert_int_equal(info.tcp_flags, 0);

	/* UDP length beyond the datagram */
	put_be16(f.bytes + f.l4_off + 4, 8 + 13);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	/* UDP length below its own header */
	put_be16(f.bytes + f.l4_off + 4, 7);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
}

static void test_icmp_and_other_protocols(void **state)
{
	struct frame f;
	struct pkt_info info;
	uint8_t body[8] = {8, 0, 0, 0, 0, 1, 0, 1};

	(void)state;
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_ICMP, 5, 8, 0);
	append(&f, body, 8);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.proto, IPPROTO_ICMP);
	assert_int_equal(info.sport, 0);
	assert_int_equal(info.dport, 0);

	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_ICMP, 5, 4, 0);
	append(&f, body, 4);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);

	build_eth(&f, NULL, 0, 0x0800);
	build_ipv4(&f, 47 /* GRE */, 5, 4, 0);
	append(&f, body, 4);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.proto, 47);
	assert_int_equal(info.sport, 0);
}

static void test_vlan_tags(void **state)
{
	static const uint16_t one[] = {PKT_ETHERTYPE_VLAN};
	static const uint16_t qinq[] = {PKT_ETHERTYPE_QINQ, PKT_ETHERTYPE_VLAN};
	static const uint16_t two_q[] = {PKT_ETHERTYPE_VLAN, PKT_ETHERTYPE_VLAN};
	static const uint16_t three[] = {PKT_ETHERTYPE_QINQ, PKT_ETHERTYPE_VLAN, PKT_ETHERTYPE_VLAN};
	struct frame f;
	struct pkt_info info;

	(void)state;
	build_eth(&f, one, 1, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 20, 0);
	build_tcp(&f, 1000, 443, PKT_TCP_SYN, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.n_vlans, 1);
	assert_int_equal(info.l3_off, 18);
	assert_int_equal(info.l4_off, 38);
	assert_int_equal(info.ethertype, PKT_ETHERTYPE_IPV4);
	assert_int_equal(info.dport, 443);

	build_eth(&f, qinq, 2, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_UDP, 5, 8, 0);
	append(&f, (const uint8_t[]){0, 1, 0, 2, 0, 8, 0, 0}, 8);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.n_vlans, 2);
	assert_int_equal(info.l3_off, 22);
	assert_int_equal(info.l4_off, 42);
	assert_int_equal(info.sport, 1);
	assert_int_equal(info.dport, 2);

	build_eth(&f, two_q, 2, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 20, 0);
	build_tcp(&f, 1, 2, PKT_TCP_SYN, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.n_vlans, 2);

	build_eth(&f, three, 3, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 20, 0);
	build_tcp(&f, 1, 2, PKT_TCP_SYN, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_UNSUPPORTED);
}

static void test_arp_request(void **state)
{
	static const uint8_t zero_mac[6] = {0};
	static const uint16_t one[] = {PKT_ETHERTYPE_VLAN};
	struct frame f;
	struct pkt_info info;

	(void)state;
	build_arp_frame(&f, NULL, 0, PKT_ARP_REQUEST);
	assert_int_equal(f.len, 42);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_ARP);
	assert_int_equal(info.ethertype, PKT_ETHERTYPE_ARP);
	assert_int_equal(info.l3_off, 14);
	assert_int_equal(info.arp.op, PKT_ARP_REQUEST);
	assert_memory_equal(info.arp.sha, mac_src, 6);
	assert_int_equal(info.arp.spa, htonl(0x0a000001));
	assert_memory_equal(info.arp.tha, zero_mac, 6);
	assert_int_equal(info.arp.tpa, htonl(0x0a000002));

	build_arp_frame(&f, one, 1, PKT_ARP_REPLY);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_ARP);
	assert_int_equal(info.n_vlans, 1);
	assert_int_equal(info.l3_off, 18);
	assert_int_equal(info.arp.op, PKT_ARP_REPLY);
	assert_int_equal(info.arp.tpa, htonl(0x0a000002));

	/* not Ethernet/IPv4 ARP */
	build_arp_frame(&f, NULL, 0, PKT_ARP_REQUEST);
	put_be16(f.bytes + f.l3_off, 6); /* IEEE 802 hardware type */
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_UNSUPPORTED);
	build_arp_frame(&f, NULL, 0, PKT_ARP_REQUEST);
	f.bytes[f.l3_off + 5] = 16; /* protocol address length */
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_UNSUPPORTED);
}

static void test_other_ethertypes(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV6);
	for (int i = 0; i < 40; i++)
		append(&f, "\x60", 1);
	/* IPv6 is parsed now: this payload length (0x6060) runs past the frame */
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	assert_int_equal(info.ethertype, PKT_ETHERTYPE_IPV6);

	build_eth(&f, NULL, 0, 0x88cc); /* LLDP */
	append(&f, "\0\0\0\0", 4);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_UNSUPPORTED);
}

/* Every strict prefix of a well-formed unpadded frame cuts a header and is MALFORMED. */
static void check_all_truncations(const struct frame *f, enum pkt_parse_result full_result)
{
	struct pkt_info info;

	for (size_t len = 0; len < f->len; len++) {
		enum pkt_parse_result r = parse_exact(f->bytes, len, &info);
		if (r != PKT_PARSE_MALFORMED)
			fail_msg("frame of %zu bytes truncated to %zu: result %d, want MALFORMED",
				 f->len, len, (int)r);
	}
	assert_int_equal(parse_exact(f->bytes, f->len, &info), full_result);
}

static void test_truncation(void **state)
{
	static const uint16_t qinq[] = {PKT_ETHERTYPE_QINQ, PKT_ETHERTYPE_VLAN};
	struct frame f;

	(void)state;
	build_tcp_frame(&f, PKT_TCP_SYN, 0);
	check_all_truncations(&f, PKT_PARSE_IPV4);
	build_tcp_frame(&f, PKT_TCP_ACK, 17);
	check_all_truncations(&f, PKT_PARSE_IPV4);
	build_udp_frame(&f, 5);
	check_all_truncations(&f, PKT_PARSE_IPV4);
	build_arp_frame(&f, NULL, 0, PKT_ARP_REQUEST);
	check_all_truncations(&f, PKT_PARSE_ARP);
	build_arp_frame(&f, qinq, 2, PKT_ARP_REQUEST);
	check_all_truncations(&f, PKT_PARSE_ARP);
	build_eth(&f, qinq, 2, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 6, 24, 0);
	build_tcp(&f, 1, 2, PKT_TCP_SYN, 6, 0);
	check_all_truncations(&f, PKT_PARSE_IPV4);
}

static void test_null_frame(void **state)
{
	struct pkt_info info;

	(void)state;
	assert_int_equal(pkt_parse(NULL, 0, &info), PKT_PARSE_MALFORMED);
	assert_int_equal(pkt_parse(NULL, 60, &info), PKT_PARSE_MALFORMED);
}

static void test_bad_ipv4_headers(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	/* IHL below 5 */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		build_tcp_frame(&f, PKT_TCP_SYN, 0);
		f.bytes[f.l3_off] = (uint8_t)(0x40 | ihl);
		assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	}
	/* IHL larger than the datagram */
	build_tcp_frame(&f, PKT_TCP_SYN, 0);
	f.bytes[f.l3_off] = 0x4f;
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	/* not version 4 */
	build_tcp_frame(&f, PKT_TCP_SYN, 0);
	f.bytes[f.l3_off] = 0x65;
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	/* total length larger than the frame */
	build_tcp_frame(&f, PKT_TCP_SYN, 0);
	put_be16(f.bytes + f.l3_off + 2, 41);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	put_be16(f.bytes + f.l3_off + 2, 0xffff);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	/* total length smaller than the IPv4 header */
	put_be16(f.bytes + f.l3_off + 2, 19);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	/* total length leaving no room for the TCP header (the rest is padding) */
	put_be16(f.bytes + f.l3_off + 2, 30);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
}

static void test_bad_tcp_data_offset(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	for (uint8_t doff = 0; doff < 5; doff++) {
		build_tcp_frame(&f, PKT_TCP_SYN, 0);
		f.bytes[f.l4_off + 12] = (uint8_t)(doff << 4);
		assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	}
	/* data offset beyond the datagram */
	build_tcp_frame(&f, PKT_TCP_SYN, 8);
	f.bytes[f.l4_off + 12] = 8 << 4; /* 32 bytes > 28 available */
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_MALFORMED);
	f.bytes[f.l4_off + 12] = 7 << 4; /* 28 bytes: exactly fits */
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
}

static void test_fragments(void **state)
{
	struct frame f;
	struct pkt_info info;

	(void)state;
	/* non-first fragment: offset 185 * 8 bytes, no L4 header */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 20, 185);
	build_tcp(&f, 1, 2, PKT_TCP_SYN, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4_FRAGMENT);
	assert_int_equal(info.is_fragment, 1);
	assert_int_equal(info.sport, 0); /* fragments are reassembled before ports are read */
	/* last fragment (MF clear, offset set) */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_UDP, 5, 8, 1);
	append(&f, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4_FRAGMENT);

	/* first fragment: MF set, offset 0 */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 20, 0x2000);
	build_tcp(&f, 4000, 80, PKT_TCP_ACK, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4_FRAGMENT);
	assert_int_equal(info.is_fragment, 1);

	/* DF alone is not a fragment */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_TCP, 5, 20, 0x4000);
	build_tcp(&f, 4000, 80, PKT_TCP_ACK, 5, 0);
	assert_int_equal(parse_frame(&f, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.is_fragment, 0);

	/* a reassembled datagram in a chained buffer: only its head is readable here */
	build_eth(&f, NULL, 0, PKT_ETHERTYPE_IPV4);
	build_ipv4(&f, IPPROTO_UDP, 5, 1480, 0);
	append(&f, (const uint8_t[]){0x13, 0x88, 0x00, 0x35, 0x05, 0xc8, 0, 0}, 8); /* ulen 1480 */
	assert_int_equal(pkt_parse_segmented(f.bytes, f.len, f.len + 1472, &info), PKT_PARSE_IPV4);
	assert_int_equal(info.sport, 5000);
	assert_int_equal(info.l3_len, 1500);
	/* ... but not longer than the whole packet */
	assert_int_equal(pkt_parse_segmented(f.bytes, f.len, f.len + 1471, &info), PKT_PARSE_MALFORMED);
	/* headers must be in the head */
	assert_int_equal(pkt_parse_segmented(f.bytes, f.len - 4, f.len + 1472, &info),
			 PKT_PARSE_MALFORMED);
}

/* An Ethernet + IPv6 frame with next header nh and the given payload. */
static size_t ipv6_frame(uint8_t *buf, uint8_t nh, const uint8_t *payload, size_t plen)
{
	static const uint8_t head[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd};
	memcpy(buf, head, 14);
	memset(buf + 14, 0, 40);
	buf[14] = 0x60;
	buf[18] = (uint8_t)(plen >> 8);
	buf[19] = (uint8_t)plen;
	buf[20] = nh;
	buf[21] = 64;
	buf[14 + 8 + 15] = 0x10;  /* src ...::10 */
	buf[14 + 24 + 15] = 0x64; /* dst ...::100 */
	memcpy(buf + 54, payload, plen);
	return 54 + plen;
}

static void test_ipv6(void **state)
{
	uint8_t f[256];
	struct pkt_info info;
	(void)state;

	/* TCP behind a hop-by-hop header */
	uint8_t hbh_tcp[8 + 20] = {6, 0, 1, 4, 0, 0, 0, 0, 0x9c, 0x40, 0, 80};
	hbh_tcp[8 + 12] = 0x50;
	hbh_tcp[8 + 13] = PKT_TCP_SYN;
	size_t n = ipv6_frame(f, 0, hbh_tcp, sizeof(hbh_tcp));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_IPV6);
	assert_int_equal(info.family, AF_INET6);
	assert_int_equal(info.proto, IPPROTO_TCP);
	assert_int_equal(info.l4_off, 14 + 40 + 8);
	assert_int_equal(info.sport, 40000);
	assert_int_equal(info.tcp_flags, PKT_TCP_SYN);
	assert_int_equal(info.src6[15], 0x10);
	/* payload length beyond the frame */
	f[19] += 1;
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_MALFORMED);
	/* an extension header running past the packet */
	hbh_tcp[1] = 9;
	n = ipv6_frame(f, 0, hbh_tcp, sizeof(hbh_tcp));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_MALFORMED);

	/* neighbour solicitation with a source link-layer address option */
	uint8_t ns[32] = {PKT_ICMP6_NS};
	ns[8 + 15] = 0x64;
	memcpy(ns + 24, (const uint8_t[]){1, 1, 2, 0, 0, 0, 0, 9}, 8);
	n = ipv6_frame(f, PKT_IPPROTO_ICMPV6, ns, sizeof(ns));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_IPV6);
	assert_int_equal(info.icmp_type, PKT_ICMP6_NS);
	assert_int_equal(info.nd_target[15], 0x64);
	assert_int_equal(info.has_lladdr, 1);
	assert_int_equal(info.nd_lladdr[5], 9);
	/* an option of length 0 would loop forever: malformed */
	ns[25] = 0;
	n = ipv6_frame(f, PKT_IPPROTO_ICMPV6, ns, sizeof(ns));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_MALFORMED);

	/* ICMPv6 error quoting UDP */
	uint8_t err[8 + 40 + 8] = {PKT_ICMP6_DEST_UNREACH, 4};
	err[8] = 0x60;
	err[8 + 6] = IPPROTO_UDP;
	memcpy(err + 48, (const uint8_t[]){0x14, 0xe9, 0, 53, 0, 8, 0, 0}, 8);
	n = ipv6_frame(f, PKT_IPPROTO_ICMPV6, err, sizeof(err));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_IPV6);
	assert_int_equal(info.has_quote, 1);
	assert_int_equal(info.quote.sport, 5353);
	assert_int_equal(info.quote.dport, 53);
	/* quoting fewer than 8 bytes of UDP: no quote */
	n = ipv6_frame(f, PKT_IPPROTO_ICMPV6, err, sizeof(err) - 1);
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_IPV6);
	assert_int_equal(info.has_quote, 0);

	/* a fragment: reassembled before anything else is read */
	uint8_t frag[16] = {IPPROTO_UDP, 0, 0, 1, 0, 0, 0x12, 0x34};
	n = ipv6_frame(f, 44, frag, sizeof(frag));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_IPV6_FRAGMENT);
	assert_int_equal(info.frag_id6, 0x1234);
	assert_int_equal(info.proto, IPPROTO_UDP);
	/* ... but only right after the fixed header */
	uint8_t late[8 + 16] = {44, 0};
	memcpy(late + 8, frag, sizeof(frag));
	n = ipv6_frame(f, 0, late, sizeof(late));
	assert_int_equal(pkt_parse(f, n, &info), PKT_PARSE_UNSUPPORTED);
}

static void test_checksum_ipv4_header(void **state)
{
	/* The classic example header: checksum 0xb861. */
	uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(hdr, sizeof(hdr), 0)), 0xb861);
	/* with the checksum in place the header sums to zero */
	hdr[10] = 0xb8;
	hdr[11] = 0x61;
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(hdr, sizeof(hdr), 0)), 0);
	/* partial sums chain over even-length pieces */
	hdr[10] = hdr[11] = 0;
	uint32_t chained = pkt_csum_partial(hdr + 8, 12, pkt_csum_partial(hdr, 8, 0));
	assert_int_equal(pkt_csum_fold(chained), 0xb861);
}

static void test_checksum_odd_and_carries(void **state)
{
	static const uint8_t odd[3] = {0x01, 0x02, 0x03};
	static const uint8_t one = 0xab;

	(void)state;
	/* 0x0102 + 0x0300 (the odd byte is the high half of a zero-padded word) */
	assert_int_equal(pkt_csum_partial(odd, 3, 0), 0x0402);
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(odd, 3, 0)), 0xfbfd);
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(&one, 1, 0)), (uint16_t)~0xab00);
	assert_int_equal(pkt_csum_partial(odd, 0, 0x1234), 0x1234);
	/* end-around carry: 0xffff + 0x0001 folds to 0x0001 */
	assert_int_equal(pkt_csum_fold(0x10000), (uint16_t)~0x0001);
	assert_int_equal(pkt_csum_fold(0xffffffffu), (uint16_t)~0xffff);

	/* 64 KiB of 0xff: every word is 0xffff, the one's complement sum is 0xffff */
	size_t n = 65536;
	uint8_t *ones = malloc(n);
	assert_non_null(ones);
	memset(ones, 0xff, n);
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(ones, n, 0)), 0);
	/* a large starting sum carries correctly: 0xfffffff0 is 0xfff0 in one's complement */
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(ones, n, 0xfffffff0u)), (uint16_t)~0xfff0);
	free(ones);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_syn),
		cmocka_unit_test(test_tcp_flags_and_payload),
		cmocka_unit_test(test_ip_options_and_padding),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_icmp_and_other_protocols),
		cmocka_unit_test(test_vlan_tags),
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_other_ethertypes),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_null_frame),
		cmocka_unit_test(test_bad_ipv4_headers),
		cmocka_unit_test(test_bad_tcp_data_offset),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_checksum_ipv4_header),
		cmocka_unit_test(test_checksum_odd_and_carries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
