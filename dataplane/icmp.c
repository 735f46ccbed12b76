/*
 * ICMP on the dataplane: echo requests to a VIP, a local address or a port address are answered
 * in place; errors that quote a packet of a known connection are delivered to the side that
 * sent it, translated for nat/fnat; everything else is dropped and counted.
 */
#include <rte_ether.h>

#include "nat_rewrite.h"
#include "worker_internal.h"
#include "xmit.h"

static bool is_our_address(const struct lb_snapshot *snap, const struct rte_mbuf *m,
			   uint32_t addr_be)
{
	struct snap_service_key k;
	struct lb_addr a = lb_addr_from_v4(addr_be);
	const struct lb_port *port = &lb_rt.ports[m->port];

	snap_service_key_make(&k, &a, 0, 0);
	return lookup_table_find(&snap->vip_index, &k) >= 0 || is_local_address(snap, addr_be) ||
	       (port->has_address && lb_addr_equal(&port->address, &a));
}

/* The key of the packet travelling opposite to the quoted one: how the table knows the flow. */
static void quote_reverse_key(const struct pkt_info *info, struct flow_key *k)
{
	const struct pkt_icmp_quote *q = &info->quote;

	flow_key_make_v4(k, q->proto, q->dst_v4, q->dport, q->src_v4, q->sport);
}

uint16_t icmp_owner(const struct lb_worker *w, const struct lb_snapshot *snap,
		    const struct pkt_info *info)
{
	const struct pkt_icmp_quote *q = &info->quote;
	struct snap_service_key key;

	if (!info->has_quote)
		return w->index;
	/* We sent the quoted packet from a local address: its port names the owner. */
	if (is_local_address(snap, q->src_v4)) {
		int owner = owner_by_local_port(q->sport);
		return owner < 0 ? w->index : (uint16_t)owner;
	}
	/* We sent it to a nat real on behalf of the client it names. */
	if (is_nat_real(snap, q->dst_v4, q->proto, q->dport))
		return owner_by_client(q->src_v4, q->sport);
	/* The quoted packet is a reply from the VIP: the client it went to names the owner. */
	struct lb_addr vip = lb_addr_from_v4(q->src_v4);
	snap_service_key_make(&key, &vip, q->proto, q->sport);
	int64_t idx = lookup_table_find(&snap->service_index, &key);
	if (idx >= 0 && snap->services[idx].steer_by_client)
		return owner_by_client(q->dst_v4, q->dport);
	/* dr/tun flows live where the NIC's RSS put them: this worker's table is all we know. */
	return w->index;
}

static void echo_reply(struct lb_worker *w, struct rte_mbuf *m, const struct pkt_info *info)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	uint8_t *ip = frame + info->l3_off, *icmp = frame + info->l4_off;

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&lb_rt.ports[m->port].mac, &eth->src_addr);
	/* Swapping the addresses leaves the header checksum as it was; the TTL does not. */
	nat_store32(ip + NAT_IP_SRC_OFF, info->dst_v4);
	nat_store32(ip + NAT_IP_DST_OFF, info->src_v4);
	uint16_t old_ttl_word = nat_load16(ip + 8);
	ip[8] = 64;
	nat_store16(ip + NAT_IP_CSUM_OFF, csum_replace16(nat_load16(ip + NAT_IP_CSUM_OFF),
							 old_ttl_word, nat_load16(ip + 8)));
	uint16_t old_type_word = nat_load16(icmp);
	icmp[0] = PKT_ICMP_ECHO_REPLY;
	nat_store16(icmp + 2, csum_replace16(nat_load16(icmp + 2), old_type_word, nat_load16(icmp)));
	LB_COUNTER_ADD(w->stats->icmp_echo_replies, 1);
	tx_enqueue(w, m->port, m);
}

static void relay_error(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
			const struct pkt_info *info, uint64_t now)
{
	struct flow_key k;

	quote_reverse_key(info, &k);
	int32_t pos = flow_table_lookup(w->flows, &k, flow_table_hash(w->flows, &k));
	if (pos < 0) {
		drop(w, m, LB_DROP_ICMP_NO_FLOW);
		return;
	}
	const struct flow_entry *e = &w->flows->entries[pos];
	if (e->flags & FLOW_F_REPLY) {
		/* About a packet we sent to the real: back to the client, as the client knows it. */
		const struct flow_entry *fe = &w->flows->entries[e->peer];
		if (fe->expires <= now) {
			drop(w, m, LB_DROP_ICMP_NO_FLOW);
			return;
		}
		xmit_ops_get(fe->forward)->icmp_to_client(m, info, flow_table_key(w->flows, e->peer),
							  flow_table_key(w->flows, pos));
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		memcpy(&eth->dst_addr, e->hop_mac, 6);
		rte_ether_addr_copy(&lb_rt.ports[e->hop_port].mac, &eth->src_addr);
		LB_COUNTER_ADD(w->stats->icmp_errors_relayed, 1);
		tx_enqueue(w, e->hop_port, m);
		return;
	}
	/* About the real's reply to the client: to the real, by the connection's method. */
	const struct snap_real *r = &snap->reals[e->real_id];
	if (e->expires <= now || r->gen != e->real_gen) {
		drop(w, m, LB_DROP_ICMP_NO_FLOW);
		return;
	}
	const struct xmit_ops *ops = xmit_ops_get(e->forward);
	struct xmit_ctx x = {
		.info = info,
		.r = r,
		.ss = NULL,
		.client_key = flow_table_key(w->flows, pos),
		.reply_key = e->peer != FLOW_NO_PEER ? flow_table_key(w->flows, e->peer) : NULL,
	};
	int port = (ops->icmp_to_real != NULL ? ops->icmp_to_real : ops->to_real)(w, m, &x);
	if (port < 0) {
		drop(w, m, (enum lb_drop_reason)(-port - 1));
		return;
	}
	LB_COUNTER_ADD(w->stats->icmp_errors_relayed, 1);
	tx_enqueue(w, (uint16_t)port, m);
}

void icmp_handle(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
		 const struct pkt_info *info, uint64_t now)
{
	if (info->icmp_type == PKT_ICMP_ECHO_REQUEST) {
		if (is_our_address(snap, m, info->dst_v4))
			echo_reply(w, m, info);
		else
			drop(w, m, LB_DROP_NOT_VIP);
		return;
	}
	/* Errors are short; a reassembled one would need its checksum summed over segments. */
	if (info->has_quote && rte_pktmbuf_is_contiguous(m)) {
		relay_error(w, snap, m, info, now);
		return;
	}
	drop(w, m, LB_DROP_ICMP_OTHER);
}
