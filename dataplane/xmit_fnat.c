/*
 * Full NAT: both ends rewritten. The real sees a connection from one of the service's local
 * addresses and a local port of the worker that owns the flow, so its replies come back to the
 * appliance whatever its routing; the client still sees the VIP. With client_address "toa" the
 * SYN carries the client's address and port in TCP option 254, for real servers that read it.
 */
#include <string.h>

#include "nat_rewrite.h"
#include "xmit.h"

#define TOA_KIND 254
#define TOA_LEN 8 /* kind, length, port (2), IPv4 address (4) */

static inline size_t l4_len(const struct pkt_info *info)
{
	return (size_t)info->l3_len - (info->l4_off - info->l3_off);
}

static inline size_t quoted_l4_avail(const struct pkt_info *info)
{
	return (size_t)info->l3_off + info->l3_len - info->quote.l4_off;
}

/*
 * Appends TOA to the SYN's options. False when the options are full or the segment cannot grow
 * in place (then the SYN goes without it and toa_no_room counts it).
 */
static bool add_toa(struct rte_mbuf *m, const struct pkt_info *info,
		    const struct flow_key *client_key)
{
	size_t frame_len = (size_t)info->l3_off + info->l3_len;
	if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_data_len(m) < frame_len)
		return false;
	uint8_t *tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, info->l4_off);
	size_t doff = (size_t)(tcp[12] >> 4) * 4, seg = l4_len(info);
	if (doff + TOA_LEN > 60)
		return false;
	/* Ethernet padding of a short frame sits after the IP packet: drop it first. */
	if (rte_pktmbuf_data_len(m) > frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - frame_len));
	if (rte_pktmbuf_append(m, TOA_LEN) == NULL)
		return false;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, info->l3_off);
	tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, info->l4_off);
	memmove(tcp + doff + TOA_LEN, tcp + doff, seg - doff);
	uint8_t *opt = tcp + doff;
	opt[0] = TOA_KIND;
	opt[1] = TOA_LEN;
	memcpy(opt + 2, &client_key->sport, 2);
	memcpy(opt + 4, client_key->src, 4);
	tcp[12] = (uint8_t)((((doff + TOA_LEN) / 4) << 4) | (tcp[12] & 0x0f));
	uint16_t total = (uint16_t)(info->l3_len + TOA_LEN);
	uint16_t old_total = nat_load16(ip + 2), new_total = rte_cpu_to_be_16(total);
	nat_store16(ip + NAT_IP_CSUM_OFF,
		    csum_replace16(nat_load16(ip + NAT_IP_CSUM_OFF), old_total, new_total));
	nat_store16(ip + 2, new_total);
	/* the segment grew: from scratch, an incremental update would not do */
	pkt_set_l4_checksum(ip, AF_INET, IPPROTO_TCP, tcp, seg + TOA_LEN, 16);
	return true;
}

static int fnat_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct pkt_info *info = x->info;
	uint8_t *ip = frame + info->l3_off, *l4 = frame + info->l4_off;
	size_t len = l4_len(info);

	if (likely(x->reply_key == NULL)) {
		/* the entry's local endpoint; the real's as the reply key has it (a group's real
		 * on port 0 takes the port the client asked for) */
		uint16_t rport = snap_real_port_be(x->r, x->client_key->dport);
		nat_set_endpoint(info->family, ip, l4, len, info->proto, true, x->local_addr,
				 x->local_port);
		nat_set_endpoint(info->family, ip, l4, len, info->proto, false, x->r->ip.v6, rport);
	} else {
		/* reply key: real address:port -> local address:port */
		nat_set_endpoint(info->family, ip, l4, len, info->proto, true, x->reply_key->dst,
				 x->reply_key->dport);
		nat_set_endpoint(info->family, ip, l4, len, info->proto, false,
				 x->reply_key->src, x->reply_key->sport);
	}
	if (x->ss != NULL && x->ss->client_addr_mode == LB_CLIENT_ADDR_TOA &&
	    info->family == AF_INET && info->proto == IPPROTO_TCP &&
	    (info->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN) {
		if (add_toa(m, info, x->client_key))
			LB_COUNTER_ADD(w->stats->toa_added, 1);
		else
			LB_COUNTER_ADD(w->stats->toa_no_room, 1);
	}
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

static void fnat_to_client(struct rte_mbuf *m, const struct pkt_info *info,
			   const struct flow_key *client_key)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = frame + info->l3_off, *l4 = frame + info->l4_off;
	size_t len = l4_len(info);

	nat_set_endpoint(info->family, ip, l4, len, info->proto, true, client_key->dst,
			 client_key->dport);
	nat_set_endpoint(info->family, ip, l4, len, info->proto, false, client_key->src,
			 client_key->sport);
}

/* Error about a reply (VIP -> client, quoted) heading to the real: its own packet, local side. */
static int fnat_icmp_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct pkt_info *info = x->info;
	const struct flow_key *rk = x->reply_key;
	uint8_t f = info->family, *ip = frame + info->l3_off;
	uint8_t *qip = frame + info->quote.ip_off, *ql4 = frame + info->quote.l4_off;
	(void)w;

	nat_set_endpoint(f, ip, NULL, 0, 0, true, rk->dst, 0);
	nat_set_endpoint(f, ip, NULL, 0, 0, false, rk->src, 0);
	nat_set_endpoint(f, qip, ql4, quoted_l4_avail(info), info->quote.proto, true, rk->src,
			 rk->sport);
	nat_set_endpoint(f, qip, ql4, quoted_l4_avail(info), info->quote.proto, false, rk->dst,
			 rk->dport);
	xmit_icmp_checksum(m, info);
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

/* Error about our local -> real packet (quoted) heading to the client: its VIP packet. */
static void fnat_icmp_to_client(struct rte_mbuf *m, const struct pkt_info *info,
				const struct flow_key *client_key, const struct flow_key *reply_key)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t f = info->family, *ip = frame + info->l3_off;
	uint8_t *qip = frame + info->quote.ip_off, *ql4 = frame + info->quote.l4_off;

	if (nat_endpoint_is(f, ip, true, reply_key->src))
		nat_set_endpoint(f, ip, NULL, 0, 0, true, client_key->dst, 0);
	nat_set_endpoint(f, ip, NULL, 0, 0, false, client_key->src, 0);
	nat_set_endpoint(f, qip, ql4, quoted_l4_avail(info), info->quote.proto, true,
			 client_key->src, client_key->sport);
	nat_set_endpoint(f, qip, ql4, quoted_l4_avail(info), info->quote.proto, false,
			 client_key->dst, client_key->dport);
	xmit_icmp_checksum(m, info);
}

const struct xmit_ops xmit_fnat_ops = {
	.name = "fnat",
	.to_real = fnat_to_real,
	.to_client = fnat_to_client,
	.icmp_to_real = fnat_icmp_to_real,
	.icmp_to_client = fnat_icmp_to_client,
};
