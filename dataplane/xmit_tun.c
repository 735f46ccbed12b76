/*
 * IP-in-IP tunnelling (LVS "tun"): the client's packet travels unchanged inside an outer IPv4
 * header from the appliance's port address to the real server, which decapsulates it and
 * answers the client directly. The outer header costs 20 bytes of MTU: a DF packet that no
 * longer fits is dropped and answered with ICMP "fragmentation needed" carrying the MTU the
 * client must use, so path MTU discovery works through the tunnel; without DF the outer packet
 * is fragmented on the way out.
 */
#include <string.h>

#include <rte_ether.h>

#include "nat_rewrite.h"
#include "worker.h"
#include "xmit.h"

#define OUTER_LEN 20
#define IPPROTO_IPIP_ 4
#define IP_DF 0x4000
#define ICMP_QUOTE_PAYLOAD 8 /* RFC 792: the IP header and 64 bits of the datagram */

static void ipv4_header_checksum(uint8_t *ip)
{
	ip[10] = ip[11] = 0;
	uint16_t sum = pkt_csum_fold(pkt_csum_partial(ip, (size_t)(ip[0] & 0x0f) * 4, 0));
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

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
	ipv4_header_checksum(ip);
	uint8_t *icmp = ip + 20;
	memset(icmp, 0, 8);
	icmp[0] = PKT_ICMP_DEST_UNREACH;
	icmp[1] = PKT_ICMP_FRAG_NEEDED_CODE;
	nat_store16(icmp + 6, rte_cpu_to_be_16(mtu));
	memcpy(icmp + 8, inner, quote);
	uint16_t sum = pkt_csum_fold(pkt_csum_partial(icmp, 8 + quote, 0));
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	LB_COUNTER_ADD(w->stats->icmp_frag_needed_sent, 1);
	worker_send(w, m->port, r);
}

#define OUTER6_LEN 40
#define IPPROTO_IPV6_ 41
#define IPV6_MIN_MTU 1280

static void icmp6_checksum(uint8_t *ip6, uint8_t *icmp, size_t len)
{
	uint8_t tail[8] = {0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, PKT_IPPROTO_ICMPV6};
	uint32_t sum = pkt_csum_partial(ip6 + 8, 32, 0);

	sum = pkt_csum_partial(tail, 8, sum);
	icmp[2] = icmp[3] = 0;
	uint16_t c = pkt_csum_fold(pkt_csum_partial(icmp, len, sum));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
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
	const void *q = rte_pktmbuf_read(m, info->l3_off, (uint32_t)quote, icmp + 8);
	if (q != icmp + 8)
		memcpy(icmp + 8, q, quote);
	icmp6_checksum(ip, icmp, 8 + quote);
	LB_COUNTER_ADD(w->stats->icmp_frag_needed_sent, 1);
	worker_send(w, m->port, r);
}

/* IPv6-in-IPv6 (next header 41). */
static int tun6_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	const struct pkt_info *info = x->info;
	const struct lb_port *egress = &lb_rt.ports[x->r->port_id];
	const struct lb_addr *src = egress->has_address6 ? &egress->address6
				    : egress->address.family == AF_INET6 ? &egress->address : NULL;

	if (src == NULL)
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR); /* no IPv6 source for the outer header */
	if ((uint32_t)info->l3_len + OUTER6_LEN > egress->mtu) {
		uint32_t mtu = egress->mtu - OUTER6_LEN;
		send_packet_too_big(w, m, info, mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu);
		return XMIT_DROP(LB_DROP_TOO_BIG);
	}
	size_t frame_len = (size_t)info->l3_off + info->l3_len;
	if (rte_pktmbuf_pkt_len(m) > frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - frame_len));
	uint8_t *start = (uint8_t *)rte_pktmbuf_prepend(m, OUTER6_LEN);
	if (start == NULL)
		return XMIT_DROP(LB_DROP_TOO_BIG);
	memmove(start, start + OUTER6_LEN, info->l3_off);
	uint8_t *ip = start + info->l3_off;
	const uint8_t *in = ip + OUTER6_LEN;
	/* version 6, the client's traffic class, no flow label */
	ip[0] = (uint8_t)(0x60 | (in[0] & 0x0f));
	ip[1] = (uint8_t)(in[1] & 0xf0);
	ip[2] = ip[3] = 0;
	nat_store16(ip + 4, rte_cpu_to_be_16(info->l3_len));
	ip[6] = IPPROTO_IPV6_;
	ip[7] = 64;
	memcpy(ip + 8, src->v6, 16);
	memcpy(ip + 24, x->r->ip.v6, 16);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

static int tun_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	if (x->info->family == AF_INET6)
		return tun6_to_real(w, m, x);

	const struct pkt_info *info = x->info;
	const struct lb_port *egress = &lb_rt.ports[x->r->port_id];
	const uint8_t *inner = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l3_off);
	uint16_t inner_frag = rte_be_to_cpu_16(nat_load16(inner + 6));

	if (!egress->has_address)
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR); /* no source address for the outer header */
	/* Without DF the outer packet is fragmented on the way out (frag_send). */
	if ((uint32_t)info->l3_len + OUTER_LEN > egress->mtu && (inner_frag & IP_DF)) {
		send_frag_needed(w, m, info, (uint16_t)(egress->mtu - OUTER_LEN));
		return XMIT_DROP(LB_DROP_TOO_BIG);
	}
	/* Ethernet padding after a short packet must not end up inside the tunnel. */
	size_t frame_len = (size_t)info->l3_off + info->l3_len;
	if (rte_pktmbuf_pkt_len(m) > frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - frame_len));
	uint8_t *start = (uint8_t *)rte_pktmbuf_prepend(m, OUTER_LEN);
	if (start == NULL)
		return XMIT_DROP(LB_DROP_TOO_BIG); /* no headroom: cannot happen with pool mbufs */
	memmove(start, start + OUTER_LEN, info->l3_off); /* L2 header (and VLAN tags) forward */
	uint8_t *ip = start + info->l3_off;
	const uint8_t *in = ip + OUTER_LEN;
	ip[0] = 0x45;
	ip[1] = in[1]; /* TOS/DSCP of the client's packet */
	nat_store16(ip + 2, rte_cpu_to_be_16((uint16_t)(info->l3_len + OUTER_LEN)));
	nat_store16(ip + 4, rte_cpu_to_be_16(w->ip_id++));
	nat_store16(ip + 6, rte_cpu_to_be_16(inner_frag & IP_DF));
	ip[8] = 64;
	ip[9] = IPPROTO_IPIP_;
	nat_store32(ip + 12, egress->address.v4);
	nat_store32(ip + 16, x->r->ip.v4);
	ipv4_header_checksum(ip);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

const struct xmit_ops xmit_tun_ops = {
	.name = "tun",
	.to_real = tun_to_real,
};
