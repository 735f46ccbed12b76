/* Bounds-checked parsing of the frames the dataplane handles: Ethernet, 802.1Q, ARP, IPv4, TCP, UDP. */
#ifndef DPDK_LB_PKT_PARSE_H
#define DPDK_LB_PKT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "inet_addr.h"

#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_ARP 0x0806
#define PKT_ETHERTYPE_VLAN 0x8100
#define PKT_ETHERTYPE_QINQ 0x88a8
#define PKT_ETHERTYPE_IPV6 0x86dd
#define PKT_MAX_VLANS 2

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

#define PKT_ARP_REQUEST 1
#define PKT_ARP_REPLY 2

enum pkt_parse_result {
	PKT_PARSE_IPV4 = 0,    /* IPv4 with a TCP/UDP header (or ICMP / another protocol: see proto) */
	PKT_PARSE_ARP,         /* Ethernet/IPv4 ARP */
	PKT_PARSE_UNSUPPORTED, /* well-formed but not handled (other ethertype, ARP for other hardware) */
	PKT_PARSE_MALFORMED,   /* truncated or inconsistent headers */
	PKT_PARSE_IPV4_FRAGMENT, /* a fragment of an IPv4 datagram (first or not): reassemble it */
	PKT_PARSE_IPV6,          /* IPv6 with a TCP/UDP/ICMPv6 header (or another next header) */
	PKT_PARSE_IPV6_FRAGMENT, /* IPv6 with a fragment header right after the fixed header */
};

struct pkt_arp {
	uint16_t op; /* host order */
	uint8_t sha[6];
	uint32_t spa; /* network order */
	uint8_t tha[6];
	uint32_t tpa; /* network order */
};

#define PKT_ICMP_ECHO_REPLY 0
#define PKT_ICMP_DEST_UNREACH 3
#define PKT_ICMP_ECHO_REQUEST 8
#define PKT_ICMP_TIME_EXCEEDED 11
#define PKT_ICMP_PARAM_PROBLEM 12
#define PKT_ICMP_FRAG_NEEDED_CODE 4

#define PKT_ICMP6_DEST_UNREACH 1
#define PKT_ICMP6_PACKET_TOO_BIG 2
#define PKT_ICMP6_TIME_EXCEEDED 3
#define PKT_ICMP6_PARAM_PROBLEM 4
#define PKT_ICMP6_ECHO_REQUEST 128
#define PKT_ICMP6_ECHO_REPLY 129
#define PKT_ICMP6_NS 135
#define PKT_ICMP6_NA 136
#define PKT_IPPROTO_ICMPV6 58

/* The IPv4 packet an ICMP error quotes: its header and the first 8 bytes of its payload. */
struct pkt_icmp_quote {
	uint16_t ip_off; /* offset of the quoted IP header in the frame */
	uint16_t l4_off; /* offset of its TCP/UDP header (8 bytes of it are there) */
	uint8_t proto;
	uint32_t src_v4, dst_v4; /* network order (IPv4) */
	uint8_t src6[16], dst6[16]; /* IPv6 */
	uint16_t sport, dport;   /* host order */
};

/*
 * Offsets and fields of a parsed frame; offsets are from the start of the frame.
 *
 * Only the hot head, up to src6, is zeroed per packet (32 bytes of ~168): every field a
 * reader may look at without first checking what the parse result or a flag says about it.
 * The fields after it are written by the parse before it returns the result that makes them
 * valid, and read only under that result or flag (each reader was checked; a reused pkt_info
 * holds the previous packet's values there, never uninitialised reads of this one's):
 *  - src6, dst6: written by parse_ipv6 before any IPv6 result; read only where family is
 *    AF_INET6 (family is in the head, 0 until an IP result sets it);
 *  - frag_id6: written before PKT_PARSE_IPV6_FRAGMENT, read only for IPv6 fragments;
 *  - arp: all of it written before PKT_PARSE_ARP, read only for that result;
 *  - quote: written in full for the packet's family before has_quote is set (in the head);
 *  - nd_target: written before an IPv6 result whose icmp_type is NS or NA (parse_nd), and read
 *    only for those; nd_lladdr: read only where has_lladdr (in the head) is set.
 */
struct pkt_info {
	/* hot head: zeroed by the parse */
	uint16_t l3_off;    /* after Ethernet and VLAN tags */
	uint16_t l4_off;    /* after the IPv4 header or the IPv6 header and its extension headers */
	uint16_t l3_len;    /* IPv4 total length; IPv6: 40 + payload length */
	uint16_t ethertype; /* inner ethertype, host order */
	uint8_t family;     /* AF_INET or AF_INET6 for IP packets */
	uint8_t n_vlans;
	uint8_t proto;      /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP ... */
	uint8_t tcp_flags;
	uint8_t is_fragment; /* a fragment (PKT_PARSE_IPV4_FRAGMENT): only the IPv4 fields are set */
	uint8_t icmp_type, icmp_code; /* valid for IPPROTO_ICMP and ICMPv6 */
	uint8_t has_quote;            /* an ICMP error quoting a TCP/UDP packet: see quote */
	uint16_t sport, dport;   /* host order; 0 when the protocol has no ports */
	uint16_t ip_id;      /* IPv4 identification, host order */
	uint8_t has_lladdr;  /* nd_lladdr is set */
	uint32_t src_v4, dst_v4; /* network order (IPv4) */
	/* cold tail, from src6 on: not zeroed, see above */
	uint8_t src6[16], dst6[16]; /* IPv6 */
	uint32_t frag_id6;       /* IPv6 fragment identification, host order */
	struct pkt_arp arp;      /* valid for PKT_PARSE_ARP */
	struct pkt_icmp_quote quote;
	/* ICMPv6 neighbour solicitation/advertisement */
	uint8_t nd_target[16];
	uint8_t nd_lladdr[6]; /* source (NS) or target (NA) link-layer address option */
};

/* The bytes of pkt_info the parse zeroes: the hot head. */
#define PKT_INFO_HOT_LEN offsetof(struct pkt_info, src6)

_Static_assert(PKT_INFO_HOT_LEN == 32, "the hot head is two 16-byte stores");

/* The packet's source address (either family). */
static inline struct lb_addr pkt_src_addr(const struct pkt_info *info)
{
	struct lb_addr a;
	if (info->family == AF_INET6)
		return lb_addr_from_v6(info->src6);
	a = lb_addr_from_v4(info->src_v4);
	return a;
}

/* The packet's destination address (either family). */
static inline struct lb_addr pkt_dst_addr(const struct pkt_info *info)
{
	struct lb_addr a;
	if (info->family == AF_INET6)
		return lb_addr_from_v6(info->dst6);
	a = lb_addr_from_v4(info->dst_v4);
	return a;
}

/* Parses len bytes of frame; fills info and classifies the frame. Never reads past len. */
enum pkt_parse_result pkt_parse(const uint8_t *frame, size_t len, struct pkt_info *info);

/*
 * Parses a frame of total_len bytes of which only the first head_len are at frame (a chained
 * buffer, e.g. a reassembled datagram): lengths are checked against total_len, headers must lie
 * within head_len. Never reads past head_len.
 */
enum pkt_parse_result pkt_parse_segmented(const uint8_t *frame, size_t head_len, size_t total_len,
					  struct pkt_info *info);

/* Internet checksum (RFC 1071) of len bytes, folded, not inverted, starting from sum. */
uint32_t pkt_csum_partial(const void *data, size_t len, uint32_t sum);

/* Folds a 32-bit partial sum into the 16-bit one's complement checksum (inverted). */
uint16_t pkt_csum_fold(uint32_t sum);

/*
 * Computes and stores the checksum of the transport message of len bytes at l4 whose checksum
 * field is at csum_off: TCP, UDP and ICMPv6 include the pseudo-header of the IP header at ip
 * (family AF_INET or AF_INET6); ICMP (IPv4) covers the message alone.
 */
void pkt_set_l4_checksum(const uint8_t *ip, uint8_t family, uint8_t proto, uint8_t *l4, size_t len,
			 size_t csum_off);

#endif
