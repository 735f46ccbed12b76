/*
 * Path MTU: a packet that will not fit the egress port's MTU (after any encapsulation) and may
 * not be fragmented is dropped, and its sender told the size that fits — ICMP "fragmentation
 * needed" for IPv4 with DF, ICMPv6 "packet too big" for IPv6 — from the address it sent to.
 * Without this a sender behind a smaller MTU (or a tunnel) would retransmit into a black hole.
 * An IPv6 packet of at most 1280 bytes that only the encapsulation makes too big passes: its outer
 * packet is fragmented (RFC 2473 7.1; frag_allow_outer).
 */
#include "pmtu.h"

#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "frag.h"
#include "nat_rewrite.h"
#include "worker_tx.h"

#define IP_DF 0x4000
#define ICMP_QUOTE_PAYLOAD 8 /* RFC 792: the IP header and 64 bits of the datagram */
#define IPV6_MIN_MTU 1280

/*
 * A new packet back to where m came from: m's L2 header (VLAN tags included) with the MAC
 * addresses swapped, followed by l3_len bytes for the caller to fill. NULL without an mbuf.
 */
static struct rte_mbuf *reply_alloc(const struct rte_mbuf *m, const struct pkt_info *info,
				    size_t l3_len, uint8_t **l3)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct rte_mbuf *r = rte_pktmbuf_alloc(lb_rt.pool);
	uint8_t *out = r != NULL ? (uint8_t *)rte_pktmbuf_append(r, (uint16_t)(info->l3_off + l3_len))
				 : NULL;

	if (out == NULL) {
		rte_pktmbuf_free(r);
		return NULL;
	}
	memcpy(out, frame, info->l3_off);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)out;
	rte_ether_addr_copy(&((const struct rte_ether_hdr *)frame)->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&lb_rt.ports[m->port].mac, &eth->src_addr);
	r->port = m->port;
	*l3 = out + info->l3_off;
	return r;
}

/* Tells the client (back the way its packet came) to send at most `mtu` bytes. */
static void send_frag_needed(struct lb_worker *w, const struct rte_mbuf *m,
			     const struct pkt_info *info, uint16_t mtu)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *inner = frame + info->l3_off;
	size_t ihl = (size_t)(inner[0] & 0x0f) * 4;
	size_t quote = ihl + ICMP_QUOTE_PAYLOAD;
	if (quote > info->l3_len)
		quote = info->l3_len;
	size_t total = 20 + 8 + quote;
	uint8_t *ip;
	struct rte_mbuf *r = reply_alloc(m, info, total, &ip);
	if (r == NULL)
		return;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	nat_store16(ip + 2, rte_cpu_to_be_16((uint16_t)total));
	nat_store16(ip + 4, rte_cpu_to_be_16(w->ip_id++));
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	nat_store32(ip + 12, info->dst_v4); /* the VIP the client was talking to */
	nat_store32(ip + 16, info->src_v4);
	((struct rte_ipv4_hdr *)ip)->hdr_checksum = rte_ipv4_cksum((struct rte_ipv4_hdr *)ip);
	uint8_t *icmp = ip + 20;
	memset(icmp, 0, 8);
	icmp[0] = PKT_ICMP_DEST_UNREACH;
	icmp[1] = PKT_ICMP_FRAG_NEEDED_CODE;
	nat_store16(icmp + 6, rte_cpu_to_be_16(mtu));
	memcpy(icmp + 8, inner, quote);
	pkt_set_l4_checksum(ip, AF_INET, IPPROTO_ICMP, icmp, 8 + quote, 2);
	LB_COUNTER_ADD(w->stats->icmp_frag_needed_sent, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, AF_INET)->icmp_out[PKT_ICMP_DEST_UNREACH], 1);
	tx_enqueue(w, m->port, r);
}

/* ICMPv6 "packet too big" to the client: IPv6 routers never fragment, so always the answer. */
static void send_packet_too_big(struct lb_worker *w, const struct rte_mbuf *m,
				const struct pkt_info *info, uint32_t mtu)
{
	/* RFC 4443: as much of the packet as fits in the minimum MTU */
	size_t quote = info->l3_len < IPV6_MIN_MTU - 48 ? info->l3_len : IPV6_MIN_MTU - 48;
	size_t total = 40 + 8 + quote;
	uint8_t *ip;
	struct rte_mbuf *r = reply_alloc(m, info, total, &ip);
	if (r == NULL)
		return;
	uint8_t *icmp = ip + 40;
	memset(ip, 0, 48);
	ip[0] = 0x60;
	nat_store16(ip + 4, rte_cpu_to_be_16((uint16_t)(8 + quote)));
	ip[6] = PKT_IPPROTO_ICMPV6;
	ip[7] = 64;
	memcpy(ip + 8, info->dst6, 16); /* the VIP the client was talking to */
	memcpy(ip + 24, info->src6, 16);
	icmp[0] = PKT_ICMP6_PACKET_TOO_BIG;
	nat_store32(icmp + 4, rte_cpu_to_be_32(mtu));
	mbuf_copy_out(m, info->l3_off, (uint32_t)quote, icmp + 8);
	pkt_set_l4_checksum(ip, AF_INET6, PKT_IPPROTO_ICMPV6, icmp, 8 + quote, 2);
	LB_COUNTER_ADD(w->stats->icmp_frag_needed_sent, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, AF_INET6)->icmp_out[PKT_ICMP6_PACKET_TOO_BIG], 1);
	tx_enqueue(w, m->port, r);
}

bool pmtu_fits_slow(struct lb_worker *w, const struct rte_mbuf *m, const struct pkt_info *info,
		    uint16_t port, uint16_t overhead)
{
	uint32_t mtu = lb_rt.ports[port].mtu;

	if (info->family == AF_INET) {
		const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l3_off);
		if (!(rte_be_to_cpu_16(nat_load16(ip + 6)) & IP_DF))
			return true; /* fragmented on the way out */
		send_frag_needed(w, m, info, (uint16_t)(mtu - overhead));
		return false;
	}
	if (frag_is_reassembled(m))
		return true; /* we reassembled it: we fragment it again */
	/*
	 * RFC 2473 7.1: a packet of at most the IPv6 minimum MTU must get through a tunnel whose
	 * MTU is smaller, so the entry point fragments the outer packet; answering "packet too big"
	 * could not help, the sender may not go below 1280.
	 */
	if (overhead > 0 && info->l3_len <= IPV6_MIN_MTU)
		return true;
	send_packet_too_big(w, m, info, mtu - overhead < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu - overhead);
	return false;
}
