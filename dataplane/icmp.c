/*
 * ICMP and ICMPv6 on the dataplane: echo requests to a VIP, a local address or a port address
 * are answered in place, as are IPv6 neighbour solicitations for them; errors that quote a
 * packet of a known connection are delivered to the side that sent it, translated for
 * nat/fnat; everything else is dropped and counted. (Neighbour advertisements never get here:
 * the worker hands them to the neighbour table; ICMP for the kernel goes to exception.h.)
 */
#include <rte_ether.h>

#include "conn_install.h"
#include "nat_rewrite.h"
#include "flow_owner.h"
#include "frag.h"
#include "ha_role.h"
#include "icmp.h"
#include "worker_tx.h"
#include "xmit.h"

#define ND_NA_FLAGS_SOLICITED_OVERRIDE 0x60 /* first byte of the NA flags word */
#define ND_OPT_TARGET_LLADDR 2
#define NA_LEN 32 /* header, target, target link-layer address option */

/* The VIPs and local addresses are ours only while w's node owns them (ha_role.h). */
static bool is_our_address(const struct lb_worker *w, const struct lb_snapshot *snap,
			   const struct rte_mbuf *m, const struct lb_addr *a)
{
	struct snap_service_key k;
	const struct lb_port *port = &lb_rt.ports[m->port];

	snap_service_key_make(&k, a, 0, 0);
	return (w->ha_active &&
		(lookup_table_find(&snap->vip_index, &k) >= 0 || is_local_address(snap, a))) ||
	       (port->has_address && lb_addr_equal(&port->address, a)) ||
	       (port->has_address6 && lb_addr_equal(&port->address6, a));
}

static struct lb_addr quote_src(const struct pkt_info *info)
{
	return info->family == AF_INET6 ? lb_addr_from_v6(info->quote.src6)
					: lb_addr_from_v4(info->quote.src_v4);
}

static struct lb_addr quote_dst(const struct pkt_info *info)
{
	return info->family == AF_INET6 ? lb_addr_from_v6(info->quote.dst6)
					: lb_addr_from_v4(info->quote.dst_v4);
}

uint16_t icmp_owner(const struct lb_worker *w, const struct lb_snapshot *snap,
		    const struct pkt_info *info)
{
	const struct pkt_icmp_quote *q = &info->quote;
	struct snap_service_key key;

	if (!info->has_quote)
		return w->index;
	struct lb_addr qsrc = quote_src(info), qdst = quote_dst(info);
	/* We sent the quoted packet from a local address: its port names the owner. */
	if (is_local_address(snap, &qsrc)) {
		int owner = owner_by_local_port(q->sport);
		return owner < 0 ? w->index : (uint16_t)owner;
	}
	/* We sent it to a nat real on behalf of the client it names. */
	if (is_nat_real(snap, &qdst, q->proto, q->dport))
		return owner_by_client(&qsrc, q->sport);
	/* The quoted packet is a reply from the VIP: the client it went to names the owner. */
	snap_service_key_make(&key, &qsrc, q->proto, q->sport);
	int64_t idx = lookup_table_find(&snap->service_index, &key);
	if (idx >= 0 && snap->services[idx]->steer_by_client)
		return owner_by_client(&qdst, q->dport);
	/* dr/tun flows live where the NIC's RSS put them: start here, walk on if unknown. */
	return w->index;
}

static void swap_l2(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&lb_rt.ports[m->port].mac, &eth->src_addr);
}

static void echo_reply(struct lb_worker *w, struct rte_mbuf *m, const struct pkt_info *info)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = frame + info->l3_off, *icmp = frame + info->l4_off;

	swap_l2(m);
	/* Swapping the addresses leaves every checksum as it was; TTL and type do not. */
	if (info->family == AF_INET) {
		nat_store32(ip + NAT_IP_SRC_OFF, info->dst_v4);
		nat_store32(ip + NAT_IP_DST_OFF, info->src_v4);
		uint16_t old_ttl_word = nat_load16(ip + 8);
		ip[8] = 64;
		nat_store16(ip + NAT_IP_CSUM_OFF, csum_replace16(nat_load16(ip + NAT_IP_CSUM_OFF),
								 old_ttl_word, nat_load16(ip + 8)));
	} else {
		memcpy(ip + NAT_IP6_SRC_OFF, info->dst6, 16);
		memcpy(ip + NAT_IP6_DST_OFF, info->src6, 16);
		ip[7] = 64; /* hop limit: not covered by any checksum */
	}
	uint16_t old_type_word = nat_load16(icmp);
	icmp[0] = info->family == AF_INET ? PKT_ICMP_ECHO_REPLY : PKT_ICMP6_ECHO_REPLY;
	nat_store16(icmp + 2, csum_replace16(nat_load16(icmp + 2), old_type_word, nat_load16(icmp)));
	LB_COUNTER_ADD(w->stats->icmp_echo_replies, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->icmp_out[icmp[0]], 1);
	tx_enqueue(w, m->port, m);
}

/* RFC 4861: a solicitation for one of our addresses gets a solicited advertisement, in place. */
static void neighbour_advertise(struct lb_worker *w, const struct lb_snapshot *snap,
				struct rte_mbuf *m, const struct pkt_info *info)
{
	static const uint8_t unspecified[16];
	struct lb_addr target = lb_addr_from_v6(info->nd_target);

	if (!is_our_address(w, snap, m, &target) || memcmp(info->src6, unspecified, 16) == 0 ||
	    !rte_pktmbuf_is_contiguous(m)) {
		/* not ours, or duplicate address detection: nothing to say */
		drop(w, m, LB_DROP_NOT_VIP);
		return;
	}
	uint32_t want = (uint32_t)info->l4_off + NA_LEN;
	if (rte_pktmbuf_pkt_len(m) > want)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - want));
	else if (rte_pktmbuf_pkt_len(m) < want &&
		 rte_pktmbuf_append(m, (uint16_t)(want - rte_pktmbuf_pkt_len(m))) == NULL) {
		drop(w, m, LB_DROP_ICMP_OTHER);
		return;
	}
	swap_l2(m);
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = frame + info->l3_off, *icmp = frame + info->l4_off;
	nat_store16(ip + 4, rte_cpu_to_be_16((uint16_t)(info->l4_off - info->l3_off - 40 + NA_LEN)));
	memcpy(ip + NAT_IP6_DST_OFF, info->src6, 16);
	memcpy(ip + NAT_IP6_SRC_OFF, info->nd_target, 16);
	ip[7] = 255; /* required for neighbour discovery */
	memset(icmp, 0, NA_LEN);
	icmp[0] = PKT_ICMP6_NA;
	icmp[4] = ND_NA_FLAGS_SOLICITED_OVERRIDE;
	memcpy(icmp + 8, info->nd_target, 16);
	icmp[24] = ND_OPT_TARGET_LLADDR;
	icmp[25] = 1;
	memcpy(icmp + 26, &lb_rt.ports[m->port].mac, 6);
	struct pkt_info na = *info;
	na.l3_len = (uint16_t)(info->l4_off - info->l3_off + NA_LEN);
	xmit_icmp_checksum(m, &na);
	LB_COUNTER_ADD(w->stats->nd_advertisements, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, AF_INET6)->icmp_out[PKT_ICMP6_NA], 1);
	tx_enqueue(w, m->port, m);
}

/*
 * A dr/tun flow lives on the worker RSS gave it, which an ICMP error about it cannot tell. With
 * several workers the error goes round them, one ring hop at a time, until one knows the flow
 * or all have said no. Errors are rare; flows' packets never take this path.
 */
static bool walk_on(struct lb_worker *w, struct rte_mbuf *m, uint64_t hops)
{
	if (hops + 1 >= lb_rt.n_workers)
		return false;
	struct icmp_walk_item item = {.m = m, .hops = hops + 1};
	struct lb_worker *next = lb_rt.workers[(w->index + 1) % lb_rt.n_workers];
	if (rte_ring_mp_enqueue_elem(next->icmp_walk, &item, sizeof(item)) != 0) {
		drop(w, m, LB_DROP_HANDOFF_RING_FULL);
		return true;
	}
	LB_COUNTER_ADD(w->stats->handoffs, 1);
	return true;
}

static void relay_error(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
			const struct pkt_info *info, uint64_t now, uint64_t hops)
{
	struct flow_key k, kbuf, rbuf;
	const struct pkt_icmp_quote *q = &info->quote;
	struct lb_addr qsrc = quote_src(info), qdst = quote_dst(info);

	/* The key of the packet travelling opposite to the quoted one: how the table knows it. */
	flow_key_make_addrs(&k, q->proto, &qdst, q->dport, &qsrc, q->sport);
	int32_t pos = flow_table_lookup(w->flows, &k, flow_table_hash(w->flows, &k));
	if (pos < 0) {
		if (!walk_on(w, m, hops))
			drop(w, m, LB_DROP_ICMP_NO_FLOW);
		return;
	}
	const struct flow_entry *e = flow_table_entry(w->flows, pos);
	if (e->flags & FLOW_F_REPLY) {
		/* About a packet we sent to the real: back to the client, as the client knows it. */
		const struct flow_entry *fe = flow_table_entry(w->flows, e->peer);
		if (fe->expires <= now) {
			drop(w, m, LB_DROP_ICMP_NO_FLOW);
			return;
		}
		if (unlikely(e->flags & FLOW_F_HOP_UNKNOWN) &&
		    !conn_install_reply_hop(w, flow_table_entry(w->flows, pos))) {
			drop(w, m, LB_DROP_SYNC_HOP_UNKNOWN);
			return;
		}
		xmit_ops_get(fe->forward)->icmp_to_client(m, info,
							  flow_table_key(w->flows, e->peer, &kbuf),
							  flow_table_key(w->flows, pos, &rbuf));
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		memcpy(&eth->dst_addr, e->hop_mac, 6);
		rte_ether_addr_copy(&lb_rt.ports[e->hop_port].mac, &eth->src_addr);
		LB_COUNTER_ADD(w->stats->icmp_errors_relayed, 1);
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->icmp_out[info->icmp_type], 1);
		tx_enqueue(w, e->hop_port, m);
		return;
	}
	/* About the real's reply to the client: to the real, by the connection's method. */
	const struct snap_real *r = snap_real_get(snap, e->real_id);
	if (e->expires <= now || !snap_real_serves(r, e->real_gen)) {
		drop(w, m, LB_DROP_ICMP_NO_FLOW);
		return;
	}
	const struct xmit_ops *ops = xmit_ops_get(e->forward);
	struct xmit_ctx x = {
		.info = info,
		.r = r,
		.ss = NULL,
		.client_key = flow_table_key(w->flows, pos, &kbuf),
		.reply_key = e->peer != FLOW_NO_PEER ? flow_table_key(w->flows, e->peer, &rbuf) : NULL,
	};
	int port = (ops->icmp_to_real != NULL ? ops->icmp_to_real : ops->to_real)(w, m, &x);
	if (port < 0) {
		drop(w, m, (enum lb_drop_reason)(-port - 1));
		return;
	}
	LB_COUNTER_ADD(w->stats->icmp_errors_relayed, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->icmp_out[info->icmp_type], 1);
	if (port != XMIT_CONSUMED) /* local: the kernel's connection gets its error */
		tx_enqueue(w, (uint16_t)port, m);
}

void icmp_handle(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
		 const struct pkt_info *info, uint64_t now)
{
	bool v6 = info->family == AF_INET6;
	struct lb_addr dst = pkt_dst_addr(info);

	if (info->icmp_type == (v6 ? PKT_ICMP6_ECHO_REQUEST : PKT_ICMP_ECHO_REQUEST)) {
		if (is_our_address(w, snap, m, &dst))
			echo_reply(w, m, info);
		else
			drop(w, m, LB_DROP_NOT_VIP);
		return;
	}
	if (v6 && info->icmp_type == PKT_ICMP6_NS) {
		neighbour_advertise(w, snap, m, info);
		return;
	}
	/* A backup relays nothing: the flows the errors are about are the master's. */
	if (!w->ha_active) {
		drop(w, m, LB_DROP_HA_BACKUP);
		return;
	}
	/* Errors are short; a reassembled one would need its checksum summed over segments. */
	if (info->has_quote && rte_pktmbuf_is_contiguous(m)) {
		relay_error(w, snap, m, info, now, 0);
		return;
	}
	drop(w, m, LB_DROP_ICMP_OTHER);
}

void icmp_walk_drain(struct lb_worker *w, const struct lb_snapshot *snap, uint64_t now)
{
	struct icmp_walk_item items[8];
	unsigned int n = rte_ring_sc_dequeue_burst_elem(w->icmp_walk, items, sizeof(items[0]),
							RTE_DIM(items), NULL);

	for (unsigned int i = 0; i < n; i++) {
		struct pkt_info info;
		struct rte_mbuf *m = items[i].m;
		/* parsed again: the sender's parse lived on its stack */
		enum pkt_parse_result r = pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *),
						    rte_pktmbuf_data_len(m), &info);
		if ((r != PKT_PARSE_IPV4 && r != PKT_PARSE_IPV6) || !info.has_quote) {
			drop(w, m, LB_DROP_ICMP_OTHER);
			continue;
		}
		relay_error(w, snap, m, &info, now, items[i].hops);
	}
}
