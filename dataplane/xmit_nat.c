/*
 * NAT (LVS masquerading): the destination becomes the real server (its port may differ); the
 * real answers through the appliance, its gateway, and the reply's source becomes the VIP again.
 * IPv4 and IPv6 alike: addresses come from the connection's keys.
 */
#include "nat_rewrite.h"
#include "xmit.h"

/* Bytes of the transport header after l4_off within the IP packet. */
static inline size_t l4_len(const struct pkt_info *info)
{
	return (size_t)info->l3_len - (info->l4_off - info->l3_off);
}

/* Bytes of the quoted transport header an ICMP error carries (at least 8, see pkt_parse). */
static inline size_t quoted_l4_avail(const struct pkt_info *info)
{
	return (size_t)info->l3_off + info->l3_len - info->quote.l4_off;
}

static int nat_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct pkt_info *info = x->info;
	(void)w;

	/*
	 * The real's address and port come from the snapshot, not from the reply key: one random
	 * memory access less per packet (a group's real on port 0 keeps the client's port). Its
	 * address bytes start where an IPv4 address does (lb_addr's union): no copy.
	 */
	uint16_t port = snap_real_port_be(x->r, x->client_key->dport);
	nat_set_endpoint(info->family, frame + info->l3_off, frame + info->l4_off, l4_len(info),
			 info->proto, false, x->r->ip.v6, port);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

static void nat_to_client(struct rte_mbuf *m, const struct pkt_info *info,
			  const struct flow_key *client_key)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	nat_set_endpoint(info->family, frame + info->l3_off, frame + info->l4_off, l4_len(info),
			 info->proto, true, client_key->dst, client_key->dport);
}

/* The client's reply (VIP -> client, quoted) caused the error: the real sent it as itself. */
static int nat_icmp_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct pkt_info *info = x->info;
	const struct flow_key *rk = x->reply_key;
	(void)w;

	nat_set_endpoint(info->family, frame + info->l3_off, NULL, 0, 0, false, rk->src, 0);
	nat_set_endpoint(info->family, frame + info->quote.ip_off, frame + info->quote.l4_off,
			 quoted_l4_avail(info), info->quote.proto, true, rk->src, rk->sport);
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
	uint8_t *ip = frame + info->l3_off;

	if (nat_endpoint_is(info->family, ip, true, reply_key->src))
		nat_set_endpoint(info->family, ip, NULL, 0, 0, true, client_key->dst, 0);
	nat_set_endpoint(info->family, frame + info->quote.ip_off, frame + info->quote.l4_off,
			 quoted_l4_avail(info), info->quote.proto, false, client_key->dst,
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
