/*
 * IP-in-IP tunnelling (LVS "tun"): the client's packet travels unchanged inside an outer IPv4
 * header from the appliance's port address to the real server, which decapsulates it and
 * answers the client directly. The outer header costs 20 bytes of MTU: a DF packet that no
 * longer fits is dropped and answered with ICMP "fragmentation needed" carrying the MTU the
 * client must use, so path MTU discovery works through the tunnel; without DF the outer packet
 * is fragmented on the way out. IPv6-in-IPv6 costs 40 bytes; the client is told the MTU left
 * (never below 1280), and a packet of at most 1280 bytes that only the outer header makes too
 * big leaves as outer fragments (RFC 2473 7.1, as Linux ip6_tunnel does).
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "frag.h"
#include "nat_rewrite.h"
#include "xmit.h"

#define OUTER_LEN 20
#define IPPROTO_IPIP_ 4
#define IP_DF 0x4000

#define OUTER6_LEN 40
#define IPPROTO_IPV6_ 41

/* IPv6-in-IPv6 (next header 41). */
static int tun6_to_real(struct rte_mbuf *m, const struct xmit_ctx *x)
{
	const struct pkt_info *info = x->info;
	const struct lb_port *egress = &lb_rt.ports[x->r->port_id];
	const struct lb_addr *src = egress->has_address6 ? &egress->address6
				    : egress->address.family == AF_INET6 ? &egress->address : NULL;

	if (src == NULL)
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR); /* no IPv6 source for the outer header */
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
	/* What passed the path MTU check but exceeds the MTU now leaves as outer fragments. */
	frag_allow_outer(m);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

static int tun_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	if (x->info->family == AF_INET6)
		return tun6_to_real(m, x);

	const struct pkt_info *info = x->info;
	const uint8_t *inner = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l3_off);
	uint16_t inner_frag = rte_be_to_cpu_16(nat_load16(inner + 6));

	/* the outer source, the egress port's address, was looked up when the snapshot was built */
	if (!(x->r->xflags & SNAP_REAL_TUN_SRC4))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR); /* no source address for the outer header */
	/* Path MTU was checked by the caller with encap_v4 (pmtu.h); without DF the outer packet
	 * is fragmented on the way out (frag_send). */
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
	nat_store32(ip + 12, x->r->tun_src4);
	nat_store32(ip + 16, x->r->ip.v4);
	((struct rte_ipv4_hdr *)ip)->hdr_checksum = 0;
	((struct rte_ipv4_hdr *)ip)->hdr_checksum = rte_ipv4_cksum((struct rte_ipv4_hdr *)ip);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

const struct xmit_ops xmit_tun_ops = {
	.name = "tun",
	.encap_v4 = OUTER_LEN,
	.encap_v6 = OUTER6_LEN,
	.to_real = tun_to_real,
};
