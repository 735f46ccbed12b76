/*
 * NAT (LVS masquerading): the destination becomes the real server (its port may differ); the
 * real answers through the appliance, its gateway, and the reply's source becomes the VIP again.
 */
#include "nat_rewrite.h"
#include "xmit.h"

static inline uint32_t key_addr4(const uint8_t *a)
{
	return nat_load32(a);
}

/* Bytes of the quoted L4 header an ICMP error carries (at least 8, see pkt_parse). */
static inline size_t quoted_l4_avail(const struct pkt_info *info)
{
	return (size_t)info->l3_off + info->l3_len - info->quote.l4_off;
}

static int nat_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct pkt_info *info = x->info;
	(void)w;

	/* The reply key starts with the real's side: its address and the port in use. */
	nat_rewrite_endpoint(frame + info->l3_off, frame + info->l4_off,
			     (size_t)info->l3_len - (info->l4_off - info->l3_off), info->proto, false,
			     key_addr4(x->reply_key->src), x->reply_key->sport);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

static void nat_to_client(struct rte_mbuf *m, const struct pkt_info *info,
			  const struct flow_key *client_key)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	nat_rewrite_endpoint(frame + info->l3_off, frame + info->l4_off,
			     (size_t)info->l3_len - (info->l4_off - info->l3_off), info->proto, true,
			     key_addr4(client_key->dst), client_key->dport);
}

/* The client's reply (VIP -> client, quoted) caused the error: the real sent it as itself. */
static int nat_icmp_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct pkt_info *info = x->info;
	(void)w;

	nat_rewrite_endpoint(frame + info->l3_off, NULL, 0, IPPROTO_ICMP, false,
			     key_addr4(x->reply_key->src), 0);
	nat_rewrite_endpoint(frame + info->quote.ip_off, frame + info->quote.l4_off,
			     quoted_l4_avail(info), info->quote.proto, true, key_addr4(x->reply_key->src),
			     x->reply_key->sport);
	xmit_icmp_checksum(m, info);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

/* Our client -> real packet (quoted) caused the error: the client must see its VIP packet. */
static void nat_icmp_to_client(struct rte_mbuf *m, const struct pkt_info *info,
			       const struct flow_key *client_key, const struct flow_key *reply_key)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	if (info->src_v4 == key_addr4(reply_key->src))
		nat_rewrite_endpoint(frame + info->l3_off, NULL, 0, IPPROTO_ICMP, true,
				     key_addr4(client_key->dst), 0);
	nat_rewrite_endpoint(frame + info->quote.ip_off, frame + info->quote.l4_off,
			     quoted_l4_avail(info), info->quote.proto, false, key_addr4(client_key->dst),
			     client_key->dport);
	xmit_icmp_checksum(m, info);
}

const struct xmit_ops xmit_nat_ops = {
	.name = "nat",
	.to_real = nat_to_real,
	.to_client = nat_to_client,
	.icmp_to_real = nat_icmp_to_real,
	.icmp_to_client = nat_icmp_to_client,
};
