/*
 * Fuzz target for lib/pkt_parse: any byte string is a frame. Besides "no crash, no read past
 * len" (the sanitizers), checks the invariants the dataplane relies on for what pkt_parse
 * accepts, and that the checksum helpers agree with themselves.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_progress.h"
#include "pkt_parse.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

static uint16_t read_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void check_ipv4(const uint8_t *data, size_t size, const struct pkt_info *info)
{
	FUZZ_CHECK(info->ethertype == PKT_ETHERTYPE_IPV4);
	FUZZ_CHECK(info->l3_off + 20u <= size);
	FUZZ_CHECK((data[info->l3_off] >> 4) == 4);
	FUZZ_CHECK(info->l4_off >= info->l3_off + 20u);
	FUZZ_CHECK(info->l4_off <= info->l3_off + 60u);
	FUZZ_CHECK((size_t)info->l3_off + info->l3_len <= size);
	FUZZ_CHECK(info->l4_off <= info->l3_off + info->l3_len);
	FUZZ_CHECK(info->l3_len == read_be16(data + info->l3_off + 2));
	FUZZ_CHECK(info->proto == data[info->l3_off + 9]);
	/* never a fragment: those are reassembled first */
	FUZZ_CHECK((read_be16(data + info->l3_off + 6) & 0x3fff) == 0);

	size_t l4_len = (size_t)info->l3_off + info->l3_len - info->l4_off;
	const uint8_t *l4 = data + info->l4_off;
	if (info->proto == IPPROTO_TCP) {
		/* the whole TCP header, options included, is inside the datagram */
		FUZZ_CHECK(l4_len >= 20);
		FUZZ_CHECK((size_t)(l4[12] >> 4) * 4 >= 20);
		FUZZ_CHECK((size_t)(l4[12] >> 4) * 4 <= l4_len);
		FUZZ_CHECK(info->sport == read_be16(l4));
		FUZZ_CHECK(info->dport == read_be16(l4 + 2));
		FUZZ_CHECK(info->tcp_flags == l4[13]);
	} else if (info->proto == IPPROTO_UDP) {
		FUZZ_CHECK(l4_len >= 8);
		FUZZ_CHECK(info->sport == read_be16(l4));
		FUZZ_CHECK(info->dport == read_be16(l4 + 2));
		FUZZ_CHECK(read_be16(l4 + 4) >= 8);
		FUZZ_CHECK(read_be16(l4 + 4) <= l4_len);
	} else {
		FUZZ_CHECK(info->sport == 0 && info->dport == 0);
		if (info->proto == IPPROTO_ICMP)
			FUZZ_CHECK(l4_len >= 8);
	}
	if (info->has_quote) {
		/* the quoted header and 8 bytes of its transport header were really quoted */
		const struct pkt_icmp_quote *q = &info->quote;
		FUZZ_CHECK(info->proto == IPPROTO_ICMP);
		FUZZ_CHECK(q->ip_off == info->l4_off + 8u);
		FUZZ_CHECK(q->l4_off >= q->ip_off + 20u && q->l4_off <= q->ip_off + 60u);
		FUZZ_CHECK((size_t)q->l4_off + 8 <= (size_t)info->l3_off + info->l3_len);
		FUZZ_CHECK(q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP);
		FUZZ_CHECK(q->sport == read_be16(data + q->l4_off));
		FUZZ_CHECK(q->dport == read_be16(data + q->l4_off + 2));
	}
}

static void check_checksums(const uint8_t *data, size_t size)
{
	/* splitting at any even offset gives the same sum as one pass */
	size_t split = (size / 2) & ~(size_t)1;
	uint32_t whole = pkt_csum_partial(data, size, 0);
	uint32_t chained = pkt_csum_partial(data + split, size - split,
					    pkt_csum_partial(data, split, 0));
	FUZZ_CHECK(pkt_csum_fold(whole) == pkt_csum_fold(chained));

	/* appending the folded checksum of an even-length buffer makes the total sum zero */
	if ((size & 1) == 0 && size <= 4096) {
		uint16_t csum = pkt_csum_fold(whole);
		uint8_t tail[2] = {(uint8_t)(csum >> 8), (uint8_t)csum};
		uint32_t with = pkt_csum_partial(tail, 2, whole);
		FUZZ_CHECK(pkt_csum_fold(with) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info info, before;
	/* stale bytes from an earlier packet, as in a worker's reused parse result */
	memset(&before, 0xa5, sizeof(before));
	memcpy(&info, &before, sizeof(info));
	enum pkt_parse_result r = pkt_parse(data, size, &info);

	FUZZ_CHECK(r == PKT_PARSE_IPV4 || r == PKT_PARSE_ARP || r == PKT_PARSE_UNSUPPORTED ||
		   r == PKT_PARSE_MALFORMED || r == PKT_PARSE_IPV4_FRAGMENT || r == PKT_PARSE_IPV6 ||
		   r == PKT_PARSE_IPV6_FRAGMENT);
	/* a frame the parser accepted (anything but malformed or unsupported) */
	if (r != PKT_PARSE_MALFORMED && r != PKT_PARSE_UNSUPPORTED)
		fuzz_progress_reached();
	if (r == PKT_PARSE_IPV6_FRAGMENT)
		FUZZ_CHECK(info.l4_off == info.l3_off + 48u && info.l3_off + 48u <= size);
	if (r == PKT_PARSE_IPV6) {
		FUZZ_CHECK(info.family == AF_INET6 && info.ethertype == PKT_ETHERTYPE_IPV6);
		FUZZ_CHECK((data[info.l3_off] >> 4) == 6);
		FUZZ_CHECK((size_t)info.l3_off + info.l3_len <= size);
		FUZZ_CHECK(info.l3_len == 40u + read_be16(data + info.l3_off + 4));
		FUZZ_CHECK(info.l4_off >= info.l3_off + 40u && info.l4_off <= info.l3_off + info.l3_len);
		FUZZ_CHECK(memcmp(info.src6, data + info.l3_off + 8, 16) == 0);
		if (info.proto == IPPROTO_TCP || info.proto == IPPROTO_UDP) {
			FUZZ_CHECK(info.l4_off + 8u <= size);
			FUZZ_CHECK(info.sport == read_be16(data + info.l4_off));
		}
		if (info.has_quote)
			FUZZ_CHECK((size_t)info.quote.l4_off + 8 <= (size_t)info.l3_off + info.l3_len);
	}
	if (r == PKT_PARSE_IPV4_FRAGMENT) {
		FUZZ_CHECK(info.is_fragment == 1);
		FUZZ_CHECK((size_t)info.l3_off + info.l3_len <= size);
		FUZZ_CHECK((read_be16(data + info.l3_off + 6) & 0x3fff) != 0);
	}
	/* a chained buffer: headers read from the head only, lengths checked against the total */
	if (size > 34) {
		struct pkt_info seg;
		enum pkt_parse_result rs = pkt_parse_segmented(data, 34, size, &seg);
		FUZZ_CHECK(rs != PKT_PARSE_IPV4 || seg.l4_off <= 34);
	}
	FUZZ_CHECK(info.n_vlans <= PKT_MAX_VLANS);
	if (r == PKT_PARSE_IPV4 || r == PKT_PARSE_ARP) {
		FUZZ_CHECK(info.l3_off == 14u + 4u * info.n_vlans);
		FUZZ_CHECK(info.l3_off <= size);
	}
	if (r == PKT_PARSE_IPV4)
		check_ipv4(data, size, &info);
	if (r == PKT_PARSE_ARP) {
		FUZZ_CHECK(info.ethertype == PKT_ETHERTYPE_ARP);
		FUZZ_CHECK(info.l3_off + 28u <= size);
		FUZZ_CHECK(info.arp.op == read_be16(data + info.l3_off + 6));
		FUZZ_CHECK(memcmp(info.arp.sha, data + info.l3_off + 8, 6) == 0);
		FUZZ_CHECK(memcmp(&info.arp.tpa, data + info.l3_off + 24, 4) == 0);
	}
	/* the result depends on the bytes only: a second parse agrees (into a result that held the
	 * same bytes before, since the parser leaves the cold tail it did not need untouched) */
	struct pkt_info again;
	memcpy(&again, &before, sizeof(again));
	FUZZ_CHECK(pkt_parse(data, size, &again) == r);
	FUZZ_CHECK(memcmp(&info, &again, sizeof(info)) == 0);

	check_checksums(data, size);
	return 0;
}
