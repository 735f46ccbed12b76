#include "pkt_parse.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

static inline uint16_t read_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t read_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t read_raw32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static enum pkt_parse_result parse_arp(const uint8_t *p, size_t len, struct pkt_info *info)
{
	if (len < 28)
		return PKT_PARSE_MALFORMED;
	/* Only Ethernet hardware addresses with IPv4 protocol addresses are ours to answer. */
	if (read_be16(p) != 1 || read_be16(p + 2) != PKT_ETHERTYPE_IPV4 || p[4] != 6 || p[5] != 4)
		return PKT_PARSE_UNSUPPORTED;
	info->arp.op = read_be16(p + 6);
	memcpy(info->arp.sha, p + 8, 6);
	info->arp.spa = read_raw32(p + 14);
	memcpy(info->arp.tha, p + 18, 6);
	info->arp.tpa = read_raw32(p + 24);
	return PKT_PARSE_ARP;
}

/*
 * The quoted packet of an ICMP error: only what NAT translation needs, validated against what
 * was actually quoted (RFC 792 guarantees the IP header and 8 bytes of payload, no more).
 */
static void parse_icmp_quote(const uint8_t *frame, size_t icmp_off, size_t icmp_len,
			     struct pkt_info *info)
{
	const uint8_t *q = frame + icmp_off + 8;
	size_t avail = icmp_len - 8;

	if (avail < 20 || (q[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(q[0] & 0x0f) * 4;
	if (ihl < 20 || avail < ihl + 8)
		return;
	if ((read_be16(q + 6) & 0x1fff) != 0)
		return; /* a non-first fragment quotes no ports */
	if (q[9] != IPPROTO_TCP && q[9] != IPPROTO_UDP)
		return;
	info->quote.ip_off = (uint16_t)(icmp_off + 8);
	info->quote.l4_off = (uint16_t)(icmp_off + 8 + ihl);
	info->quote.proto = q[9];
	info->quote.src_v4 = read_raw32(q + 12);
	info->quote.dst_v4 = read_raw32(q + 16);
	info->quote.sport = read_be16(q + ihl);
	info->quote.dport = read_be16(q + ihl + 2);
	info->has_quote = 1;
}

static int parse_ports(const uint8_t *l4, size_t l4_avail, size_t l4_total, struct pkt_info *info);

static enum pkt_parse_result parse_ipv4(const uint8_t *frame, size_t len, size_t total_len,
					struct pkt_info *info)
{
	const uint8_t *ip = frame + info->l3_off;
	size_t avail = len - info->l3_off;           /* readable here */
	size_t total_avail = total_len - info->l3_off; /* in the whole packet */

	if (avail < 20)
		return PKT_PARSE_MALFORMED;
	if ((ip[0] >> 4) != 4)
		return PKT_PARSE_MALFORMED;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t total = read_be16(ip + 2);
	if (ihl < 20 || ihl > avail || total < ihl || total > total_avail)
		return PKT_PARSE_MALFORMED;
	info->l3_len = total;
	info->l4_off = (uint16_t)(info->l3_off + ihl);
	info->proto = ip[9];
	info->src_v4 = read_raw32(ip + 12);
	info->dst_v4 = read_raw32(ip + 16);

	uint16_t frag = read_be16(ip + 6);
	info->ip_id = read_be16(ip + 4);
	if ((frag & 0x3fff) != 0) {
		/* MF set or an offset: only the whole datagram has a transport header to go by. */
		info->is_fragment = 1;
		return PKT_PARSE_IPV4_FRAGMENT;
	}

	const uint8_t *l4 = ip + ihl;
	/* Transport headers must be readable here; lengths may reach into later segments. */
	size_t l4_total = total - ihl;
	size_t l4_avail = l4_total < avail - ihl ? l4_total : avail - ihl;
	if (parse_ports(l4, l4_avail, l4_total, info) != 0)
		return PKT_PARSE_MALFORMED;
	if (info->proto == IPPROTO_ICMP) {
		if (l4_avail < 8)
			return PKT_PARSE_MALFORMED;
		info->icmp_type = l4[0];
		info->icmp_code = l4[1];
		if ((l4[0] == PKT_ICMP_DEST_UNREACH || l4[0] == PKT_ICMP_TIME_EXCEEDED ||
		     l4[0] == PKT_ICMP_PARAM_PROBLEM))
			parse_icmp_quote(frame, info->l4_off, l4_avail, info);
	}
	info->family = AF_INET;
	return PKT_PARSE_IPV4;
}

/* TCP and UDP: ports, flags and length checks; 0, or -1 when malformed. Other protocols: 0. */
static int parse_ports(const uint8_t *l4, size_t l4_avail, size_t l4_total, struct pkt_info *info)
{
	switch (info->proto) {
	case IPPROTO_TCP: {
		if (l4_avail < 20)
			return -1;
		size_t doff = (size_t)(l4[12] >> 4) * 4;
		if (doff < 20 || doff > l4_total)
			return -1;
		info->sport = read_be16(l4);
		info->dport = read_be16(l4 + 2);
		info->tcp_flags = l4[13];
		break;
	}
	case IPPROTO_UDP: {
		if (l4_avail < 8)
			return -1;
		uint16_t ulen = read_be16(l4 + 4);
		if (ulen < 8 || ulen > l4_total)
			return -1;
		info->sport = read_be16(l4);
		info->dport = read_be16(l4 + 2);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* IPv6 extension headers skipped on the way to the transport header. */
static bool ipv6_is_skippable_ext(uint8_t nh)
{
	return nh == 0 /* hop-by-hop */ || nh == 43 /* routing */ || nh == 60 /* destination */;
}

#define IPV6_MAX_EXT_HEADERS 8

/* The quoted IPv6 packet of an ICMPv6 error, when it is TCP/UDP right after the fixed header. */
static void parse_icmp6_quote(const uint8_t *frame, size_t icmp_off, size_t icmp_len,
			      struct pkt_info *info)
{
	const uint8_t *q = frame + icmp_off + 8;

	if (icmp_len < 8 + 40 + 8 || (q[0] >> 4) != 6 || (q[6] != IPPROTO_TCP && q[6] != IPPROTO_UDP))
		return;
	info->quote.ip_off = (uint16_t)(icmp_off + 8);
	info->quote.l4_off = (uint16_t)(icmp_off + 8 + 40);
	info->quote.proto = q[6];
	memcpy(info->quote.src6, q + 8, 16);
	memcpy(info->quote.dst6, q + 24, 16);
	info->quote.sport = read_be16(q + 40);
	info->quote.dport = read_be16(q + 42);
	info->has_quote = 1;
}

/* Neighbour discovery: the target and the link-layer address option, if any. */
static int parse_nd(const uint8_t *icmp, size_t len, struct pkt_info *info)
{
	if (len < 24)
		return -1;
	memcpy(info->nd_target, icmp + 8, 16);
	/* RFC 4861 options: type, length in units of 8 bytes (never 0) */
	uint8_t want = icmp[0] == PKT_ICMP6_NS ? 1 : 2;
	for (size_t off = 24; off + 2 <= len;) {
		size_t olen = (size_t)icmp[off + 1] * 8;
		if (olen == 0 || off + olen > len)
			return -1;
		if (icmp[off] == want && olen >= 8) {
			memcpy(info->nd_lladdr, icmp + off + 2, 6);
			info->has_lladdr = 1;
		}
		off += olen;
	}
	return 0;
}

static enum pkt_parse_result parse_ipv6(const uint8_t *frame, size_t len, size_t total_len,
					struct pkt_info *info)
{
	const uint8_t *ip = frame + info->l3_off;
	size_t avail = len - info->l3_off;
	size_t total_avail = total_len - info->l3_off;

	if (avail < 40 || (ip[0] >> 4) != 6)
		return PKT_PARSE_MALFORMED;
	size_t total = 40 + (size_t)read_be16(ip + 4);
	if (total > total_avail || total > UINT16_MAX)
		return PKT_PARSE_MALFORMED;
	info->family = AF_INET6;
	info->l3_len = (uint16_t)total;
	memcpy(info->src6, ip + 8, 16);
	memcpy(info->dst6, ip + 24, 16);
	uint8_t nh = ip[6];
	size_t off = 40;
	if (nh == 44) {
		/* RFC 8200 fragment header; reassembled first (only directly after the fixed header) */
		if (avail < 48 || total < 48)
			return PKT_PARSE_MALFORMED;
		info->proto = ip[40];
		info->l4_off = (uint16_t)(info->l3_off + 48);
		info->frag_id6 = read_be32(ip + 44);
		info->is_fragment = 1;
		return PKT_PARSE_IPV6_FRAGMENT;
	}
	for (int n = 0; ipv6_is_skippable_ext(nh); n++) {
		if (n == IPV6_MAX_EXT_HEADERS || off + 8 > avail || off + 8 > total)
			return n == IPV6_MAX_EXT_HEADERS ? PKT_PARSE_UNSUPPORTED : PKT_PARSE_MALFORMED;
		size_t hlen = ((size_t)ip[off + 1] + 1) * 8;
		nh = ip[off];
		off += hlen;
	}
	if (off > total)
		return PKT_PARSE_MALFORMED;
	info->proto = nh;
	info->l4_off = (uint16_t)(info->l3_off + off);
	if (nh == 44)
		return PKT_PARSE_UNSUPPORTED; /* a fragment header after other extension headers */
	size_t l4_total = total - off;
	size_t l4_avail = off <= avail ? (l4_total < avail - off ? l4_total : avail - off) : 0;
	const uint8_t *l4 = ip + off;
	if (parse_ports(l4, l4_avail, l4_total, info) != 0)
		return PKT_PARSE_MALFORMED;
	if (nh == PKT_IPPROTO_ICMPV6) {
		if (l4_avail < 8)
			return PKT_PARSE_MALFORMED;
		info->icmp_type = l4[0];
		info->icmp_code = l4[1];
		if (l4[0] == PKT_ICMP6_NS || l4[0] == PKT_ICMP6_NA) {
			if (parse_nd(l4, l4_avail, info) != 0)
				return PKT_PARSE_MALFORMED;
		} else if (l4[0] >= PKT_ICMP6_DEST_UNREACH && l4[0] <= PKT_ICMP6_PARAM_PROBLEM) {
			parse_icmp6_quote(frame, info->l4_off, l4_avail, info);
		}
	}
	return PKT_PARSE_IPV6;
}

enum pkt_parse_result pkt_parse(const uint8_t *frame, size_t len, struct pkt_info *info)
{
	return pkt_parse_segmented(frame, len, len, info);
}

enum pkt_parse_result pkt_parse_segmented(const uint8_t *frame, size_t head_len, size_t total_len,
					  struct pkt_info *info)
{
	size_t len = head_len;

	memset(info, 0, PKT_INFO_HOT_LEN); /* the cold tail is written before it is valid */
	if (frame == NULL || len < 14 || total_len < head_len)
		return PKT_PARSE_MALFORMED;

	size_t off = 12;
	uint16_t type = read_be16(frame + off);
	while (type == PKT_ETHERTYPE_VLAN || type == PKT_ETHERTYPE_QINQ) {
		if (info->n_vlans == PKT_MAX_VLANS)
			return PKT_PARSE_UNSUPPORTED;
		if (len < off + 6)
			return PKT_PARSE_MALFORMED;
		info->n_vlans++;
		off += 4;
		type = read_be16(frame + off);
	}
	off += 2;
	info->ethertype = type;
	info->l3_off = (uint16_t)off;

	switch (type) {
	case PKT_ETHERTYPE_IPV4:
		return parse_ipv4(frame, len, total_len, info);
	case PKT_ETHERTYPE_IPV6:
		return parse_ipv6(frame, len, total_len, info);
	case PKT_ETHERTYPE_ARP:
		return parse_arp(frame + off, len - off, info);
	default:
		return PKT_PARSE_UNSUPPORTED;
	}
}

uint32_t pkt_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len >= 2) {
		acc += (uint32_t)((p[0] << 8) | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)(p[0] << 8);
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pkt_set_l4_checksum(const uint8_t *ip, uint8_t family, uint8_t proto, uint8_t *l4, size_t len,
			 size_t csum_off)
{
	uint32_t sum = 0;

	l4[csum_off] = l4[csum_off + 1] = 0;
	if (family == AF_INET6) {
		const uint8_t tail[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
					 (uint8_t)len, 0, 0, 0, proto};
		sum = pkt_csum_partial(ip + 8, 32, 0);
		sum = pkt_csum_partial(tail, 8, sum);
	} else if (proto != IPPROTO_ICMP) {
		const uint8_t tail[4] = {0, proto, (uint8_t)(len >> 8), (uint8_t)len};
		sum = pkt_csum_partial(ip + 12, 8, 0);
		sum = pkt_csum_partial(tail, 4, sum);
	}
	uint16_t c = pkt_csum_fold(pkt_csum_partial(l4, len, sum));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff; /* 0 would mean "no checksum" */
	l4[csum_off] = (uint8_t)(c >> 8);
	l4[csum_off + 1] = (uint8_t)c;
}
