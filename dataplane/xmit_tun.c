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
	struct rte_mbuf *r = rte_pktmbuf_alloc(lb_rt.pool);
	if (r == NULL)
		return;
	uint8_t *out = (uint8_t *)rte_pktmbuf_append(r, (uint16_t)(info->l3_off + total));
	if (out == NULL) {
		rte_pktmbuf_free(r);
		return;
	}
	/* Same L2 header (VLAN tags included), addresses swapped. */
	memcpy(out, frame, info->l3_off);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)out;
	rte_ether_addr_copy(&((const struct rte_ether_hdr *)frame)->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&lb_rt.ports[m->port].mac, &eth->src_addr);
	uint8_t *ip = out + info->l3_off;
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
	r->port = m->port;
	LB_COUNTER_ADD(w->stats->icmp_frag_needed_sent, 1);
	worker_send(w, m->port, r);
}

static int tun_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
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
