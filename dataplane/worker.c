/*
 * Worker lcore: rx burst -> parse -> classify -> flow lookup (bulk) or schedule -> transmit
 * method -> tx burst. No locks, no syscalls, no allocation and no logging per packet.
 */
#include "worker.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "capture.h"
#include "block_table.h"
#include "conn_dump.h"
#include "conn_install.h"
#include "conn_events.h"
#include "exception.h"
#include "flow_table.h"
#include "frag.h"
#include "pmtu.h"
#include "pkt_parse.h"
#include "snapshot.h"
#include "ha_role.h"
#include "tcp_state.h"
#include "conn.h"
#include "conn_schedule.h"
#include "flow_owner.h"
#include "fnat_ports.h"
#include "icmp.h"
#include "worker_tx.h"
#include "vlan.h"
#include "xmit.h"

#define EXPIRE_BUDGET_BUSY 64     /* flow slots visited per loop under load */
#define EXPIRE_BUDGET_IDLE 4096   /* ... and when the queues were empty */
#define IDLE_POLLS_BEFORE_SLEEP 64

static void tx_flush(struct lb_worker *w)
{
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
		struct lb_tx_batch *b = &w->tx[p];
		if (b->n == 0)
			continue;
		capture_burst(w->index, p, b->pkts, b->n, RTE_PCAPNG_DIRECTION_OUT);
		uint16_t sent = rte_eth_tx_burst(p, w->index, b->pkts, b->n);
		LB_COUNTER_ADD(w->stats->tx_packets, sent);
		for (uint16_t i = sent; i < b->n; i++)
			drop(w, b->pkts[i], LB_DROP_TX_FULL);
		b->n = 0;
	}
}

/*
 * ARP frames and neighbour advertisements go to the control lcore's neighbour table, which also
 * passes those addressed to the port's own address on to its kernel interface.
 */
static void neighbour_frame(struct lb_worker *w, struct rte_mbuf *m)
{
	if (rte_ring_sp_enqueue(w->to_control, m) != 0)
		drop(w, m, LB_DROP_CONTROL_RING_FULL);
	else
		LB_COUNTER_ADD(w->stats->neighbour_frames, 1);
}

/* Answers an ARP request for a VIP or the port's own address in place; other ARP goes up. */
static void handle_arp(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
		       const struct pkt_info *info)
{
	const struct lb_port *port = &lb_rt.ports[m->port];
	struct lb_addr target = lb_addr_from_v4(info->arp.tpa);
	struct snap_service_key key;

	if (info->arp.op == PKT_ARP_REQUEST) {
		snap_service_key_make(&key, &target, 0, 0);
		/* A backup leaves the VIPs to the master: the requester learns the master's MAC. */
		bool ours = (w->ha_active && (lookup_table_find(&snap->vip_index, &key) >= 0 ||
					      is_local_address(snap, &target))) ||
			    (port->has_address && lb_addr_equal(&port->address, &target));
		if (ours) {
			uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
			struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
			struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(frame + info->l3_off);

			rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
			rte_ether_addr_copy(&port->mac, &eth->src_addr);
			arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
			rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
			arp->arp_data.arp_tip = arp->arp_data.arp_sip;
			rte_ether_addr_copy(&port->mac, &arp->arp_data.arp_sha);
			arp->arp_data.arp_sip = info->arp.tpa;
			LB_COUNTER_ADD(w->stats->arp_replies, 1);
			tx_enqueue(w, m->port, m);
			return;
		}
	}
	/* Replies (and requests from others) feed the control lcore's neighbour table. */
	neighbour_frame(w, m);
}

/* Schedules a new flow; returns its entry position or a negative XMIT_DROP code. */
static int32_t flow_create(struct lb_worker *w, const struct lb_snapshot *snap,
			   const struct snap_service *ss, const struct flow_key *key, uint32_t hash,
			   struct rte_mbuf *m, const struct pkt_info *info, uint64_t now)
{
	uint32_t real_id = ss->persistent_s ? schedule_persistent(w, snap, ss, info, now)
					     : schedule_new(w, snap, ss, info, now);
	if (real_id == 0)
		return XMIT_DROP(LB_DROP_NO_REAL);

	const struct snap_real *r = snap_real_get(snap, real_id);
	struct flow_key rk;
	uint32_t rhash = 0;
	const struct lb_forward_method *method = lb_forward_method_get(r->forward);
	if (method->reply_key) {
		/* A group's real on port 0 takes the port the client asked for. */
		uint16_t rport = r->l4_port ? rte_cpu_to_be_16(r->l4_port) : key->dport;
		if (method->steering == LB_STEER_CLIENT_HASH) {
			memset(&rk, 0, sizeof(rk));
			rk.family = key->family;
			rk.proto = key->proto;
			rk.sport = rport;
			rk.dport = key->sport;
			flow_key_set_addr(rk.src, &r->ip);
			memcpy(rk.dst, key->src, 16);
			rhash = flow_table_hash(w->flows, &rk);
			int32_t old = flow_table_lookup(w->flows, &rk, rhash);
			if (old >= 0) {
				/* Only a flow that timed out (not swept yet) may give its tuple up. */
				int32_t owner = w->flows->entries[old].peer;
				if (owner == FLOW_NO_PEER || w->flows->entries[owner].expires > now)
					return XMIT_DROP(LB_DROP_REPLY_TUPLE_IN_USE);
				conn_release(w, owner);
			}
		} else if (fnat_reply_key_alloc(w, ss, r, rport, key, now, &rk, &rhash) != 0) {
			return XMIT_DROP(LB_DROP_LOCAL_PORTS_EXHAUSTED);
		}
	}
	int32_t pos = flow_table_insert(w->flows, key, hash);
	if (pos < 0)
		return XMIT_DROP(LB_DROP_FLOW_TABLE_FULL);
	struct flow_entry *e = &w->flows->entries[pos];
	if (method->reply_key) {
		int32_t rpos = flow_table_insert(w->flows, &rk, rhash);
		if (rpos < 0) {
			flow_table_remove(w->flows, pos);
			return XMIT_DROP(LB_DROP_FLOW_TABLE_FULL);
		}
		struct flow_entry *re = &w->flows->entries[rpos];
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		/* Replies go back the way the client's packets came: no routing table needed. */
		memcpy(re->hop_mac, &eth->src_addr, 6);
		re->hop_port = m->port;
		re->flags = FLOW_F_REPLY;
		re->peer = pos;
		re->expires = FLOW_REPLY_EXPIRES;
		e = &w->flows->entries[pos];
		e->peer = rpos;
	}
	e->forward = r->forward;
	e->real_id = real_id;
	e->real_gen = snap_real_get(snap, real_id)->gen;
	e->service_id = (uint16_t)ss->id;
	e->state = info->proto == IPPROTO_TCP ? LB_TCP_NONE : LB_UDP_STATE;
	e->expires = now + snap->timeout_tsc[e->state];
	LB_COUNTER_ADD(w->real_counters[real_id].inactive, 1);
	LB_COUNTER_ADD(w->real_counters[real_id].conns, 1);
	LB_COUNTER_ADD(w->service_counters[ss->id].conns, 1);
	LB_COUNTER_ADD(w->stats->flows_created, 1);
	if (w->src_cur != NULL)
		LB_COUNTER_ADD(w->src_cur->conns, 1);
	LB_COUNTER_ADD(w->stats->flows, 1);
	if (info->proto == IPPROTO_TCP)
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->tcp_new, 1);
	conn_event_emit(w, CONN_EV_CREATED, pos, now);
	return pos;
}

/*
 * IPVS conn_reuse_mode: a client that reuses its port after closing gets scheduled afresh.
 * With input-only tracking the appliance never sees the real's FIN, so FIN_WAIT counts as
 * closing too; and a connection whose real was removed can only be revived elsewhere.
 */
static inline bool flow_reusable(const struct flow_entry *e, const struct lb_snapshot *snap)
{
	switch (e->state) {
	case LB_TCP_FIN_WAIT:
	case LB_TCP_TIME_WAIT:
	case LB_TCP_CLOSE:
	case LB_TCP_CLOSE_WAIT:
	case LB_TCP_LAST_ACK:
		return true;
	default:
		return !snap_real_serves(snap_real_get(snap, e->real_id), e->real_gen);
	}
}

struct pending {
	struct rte_mbuf *m;
	const struct snap_service *ss;
	struct src_slot *src; /* its source's sketch slot, or NULL */
	struct pkt_info info;
};

static void handle_pending(struct lb_worker *w, const struct lb_snapshot *snap,
			   struct pending *pend, uint32_t n, uint64_t now)
{
	struct flow_key keys[LB_BURST];
	const struct flow_key *key_ptrs[LB_BURST];
	uint32_t hashes[LB_BURST] = {0}; /* GCC 12 cannot see the loop below fills [0, n) */
	int32_t positions[LB_BURST];

	if (n == 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		flow_key_make(&keys[i], &pend[i].info);
		key_ptrs[i] = &keys[i];
		hashes[i] = flow_table_hash(w->flows, &keys[i]);
	}
	flow_table_lookup_bulk(w->flows, key_ptrs, hashes, n, positions);
	uint32_t created = 0, removals = w->flows->removals;

	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pend[i].m;
		const struct pkt_info *info = &pend[i].info;
		const struct snap_service *ss = pend[i].ss;
		int32_t pos = positions[i];
		struct flow_entry *e;

		w->src_cur = pend[i].src;

		/* A flow created earlier in this burst (SYN, then its ACK) postdates the bulk lookup. */
		if (pos < 0 && created)
			pos = flow_table_lookup(w->flows, &keys[i], hashes[i]);
		/*
		 * A flow released earlier in this burst (expired, reused by a SYN) may be the one the
		 * bulk lookup found: that position is free or someone else's now. Found by the
		 * randomised edit test: a tuple twice in one burst released its flow twice.
		 */
		else if (pos >= 0 && unlikely(w->flows->removals != removals))
			pos = flow_table_lookup(w->flows, &keys[i], hashes[i]);
		/* A reply key equal to a client key cannot be a connection of this service. */
		if (pos >= 0 && (w->flows->entries[pos].flags & FLOW_F_REPLY)) {
			drop(w, m, LB_DROP_REPLY_TUPLE_IN_USE);
			continue;
		}
		/* An entry that timed out but was not swept yet is a new connection. */
		if (pos >= 0 && w->flows->entries[pos].expires <= now) {
			conn_release(w, pos);
			pos = -1;
		}
		/* A SYN on a closing connection, or on one whose real is gone, opens a new one. */
		if (pos >= 0 && info->proto == IPPROTO_TCP &&
		    (info->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) == PKT_TCP_SYN &&
		    flow_reusable(&w->flows->entries[pos], snap)) {
			conn_release(w, pos);
			pos = -1;
		}
		if (pos < 0) {
			/* Like IPVS: only a SYN starts a TCP connection. */
			if (info->proto == IPPROTO_TCP &&
			    (info->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) != PKT_TCP_SYN) {
				LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->tcp_invalid, 1);
				drop(w, m, LB_DROP_NO_FLOW);
				continue;
			}
			pos = flow_create(w, snap, ss, &keys[i], hashes[i], m, info, now);
			if (pos < 0) {
				drop(w, m, (enum lb_drop_reason)(-pos - 1));
				continue;
			}
			created++;
		}
		e = &w->flows->entries[pos];
		const struct snap_real *r = snap_real_get(snap, e->real_id);
		if (unlikely(!snap_real_serves(r, e->real_gen))) {
			/*
			 * The real was removed (or taken out of scheduling). IPVS expire_nodest_conn: 0 drops and lets the flow
			 * time out; 1 ends the flow now so the client's next SYN goes elsewhere.
			 */
			if (snap->expire_nodest_conn)
				conn_release(w, pos);
			drop(w, m, LB_DROP_NO_REAL);
			continue;
		}
		/* A connection installed by connection sync learns its reply hop here. */
		if (unlikely(e->flags & FLOW_F_LEARN_HOP))
			conn_install_learn_hop(w, e, m);
		/* nat and fnat see the replies too: the state machine gets both directions. */
		conn_touch(w, snap, e, info,
			   e->peer != FLOW_NO_PEER ? LB_TCP_DIR_INPUT : LB_TCP_DIR_INPUT_ONLY, now);

		uint32_t len = rte_pktmbuf_pkt_len(m);
		struct xmit_ctx x = {
			.info = info,
			.r = r,
			.ss = ss,
			.client_key = &keys[i],
			/* only fnat needs it on this path (its local address and port) */
			.reply_key = lb_forward_method_get(e->forward)->rewrites_source
					     ? flow_table_key(w->flows, e->peer)
					     : NULL,
		};
		/* before any rewrite, so an ICMP answer quotes what the client sent */
		const struct xmit_ops *ops = xmit_ops_get(e->forward);
		if (!pmtu_fits(w, m, info, r->port_id, xmit_encap_len(ops, info->family))) {
			drop(w, m, LB_DROP_TOO_BIG);
			continue;
		}
		int port = ops->to_real(w, m, &x);
		if (port < 0) {
			drop(w, m, (enum lb_drop_reason)(-port - 1));
			continue;
		}
		/* A packet handed to the kernel (local fallback) is counted there, exactly once. */
		if (port == XMIT_CONSUMED)
			continue;
		LB_COUNTER_ADD(w->real_counters[e->real_id].inpkts, 1);
		LB_COUNTER_ADD(w->real_counters[e->real_id].inbytes, len);
		LB_COUNTER_ADD(w->service_counters[e->service_id].inpkts, 1);
		LB_COUNTER_ADD(w->service_counters[e->service_id].inbytes, len);
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->forwarded, 1);
		tx_enqueue(w, (uint16_t)port, m);
	}
}

/* The pending packets, in order; the packet being handled keeps its source slot. */
static void handle_ipv4_burst(struct lb_worker *w, const struct lb_snapshot *snap,
			      struct pending *pend, uint32_t n, uint64_t now)
{
	struct src_slot *cur = w->src_cur;

	handle_pending(w, snap, pend, n, now);
	w->src_cur = cur;
}

/* One-packet scheduling: the datagram is scheduled alone and leaves nothing behind. */
static void handle_ops_datagram(struct lb_worker *w, const struct lb_snapshot *snap,
				const struct snap_service *ss, struct rte_mbuf *m,
				const struct pkt_info *info, uint64_t now)
{
	uint32_t real_id = schedule_new(w, snap, ss, info, now);

	if (real_id == 0) {
		drop(w, m, LB_DROP_NO_REAL);
		return;
	}
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const struct snap_real *r = snap_real_get(snap, real_id);
	struct flow_key ck;
	flow_key_make(&ck, info);
	/* Configuration allows ops with dr and tun only: neither needs a reply key. */
	struct xmit_ctx x = {.info = info, .r = r, .ss = ss, .client_key = &ck, .reply_key = NULL};
	const struct xmit_ops *ops = xmit_ops_get(r->forward);
	if (!pmtu_fits(w, m, info, r->port_id, xmit_encap_len(ops, info->family))) {
		drop(w, m, LB_DROP_TOO_BIG);
		return;
	}
	int port = ops->to_real(w, m, &x);
	if (port < 0) {
		drop(w, m, (enum lb_drop_reason)(-port - 1));
		return;
	}
	/* IPVS counts every one-packet "connection". */
	LB_COUNTER_ADD(w->real_counters[real_id].conns, 1);
	LB_COUNTER_ADD(w->real_counters[real_id].inpkts, 1);
	LB_COUNTER_ADD(w->real_counters[real_id].inbytes, len);
	LB_COUNTER_ADD(w->service_counters[ss->id].conns, 1);
	LB_COUNTER_ADD(w->service_counters[ss->id].inpkts, 1);
	LB_COUNTER_ADD(w->service_counters[ss->id].inbytes, len);
	if (port != XMIT_CONSUMED) {
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->forwarded, 1);
		tx_enqueue(w, (uint16_t)port, m);
	}
}

/* A reply of a nat/fnat connection (real -> client or real -> local address). */
static void handle_reply(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
			 const struct pkt_info *info, uint64_t now)
{
	struct flow_key k;

	flow_key_make(&k, info);
	int32_t pos = flow_table_lookup(w->flows, &k, flow_table_hash(w->flows, &k));
	if (pos < 0 || !(w->flows->entries[pos].flags & FLOW_F_REPLY)) {
		/* Never forward it as is: that would leak the real's address to the client. */
		drop(w, m, LB_DROP_NO_REPLY_FLOW);
		return;
	}
	const struct flow_entry *re = &w->flows->entries[pos];
	if (unlikely(re->flags & FLOW_F_HOP_UNKNOWN) &&
	    !conn_install_reply_hop(w, &w->flows->entries[pos])) {
		drop(w, m, LB_DROP_SYNC_HOP_UNKNOWN);
		return;
	}
	int32_t fpos = re->peer;
	struct flow_entry *e = &w->flows->entries[fpos];
	if (e->expires <= now) {
		conn_release(w, fpos);
		drop(w, m, LB_DROP_NO_REPLY_FLOW);
		return;
	}
	if (unlikely(!snap_real_serves(snap_real_get(snap, e->real_id), e->real_gen))) {
		if (snap->expire_nodest_conn)
			conn_release(w, fpos);
		drop(w, m, LB_DROP_NO_REAL);
		return;
	}
	conn_touch(w, snap, e, info, LB_TCP_DIR_OUTPUT, now);

	if (!pmtu_fits(w, m, info, re->hop_port, 0)) {
		drop(w, m, LB_DROP_TOO_BIG); /* the real was told the size that fits */
		return;
	}
	uint32_t len = rte_pktmbuf_pkt_len(m);
	xmit_ops_get(e->forward)->to_client(m, info, flow_table_key(w->flows, fpos));
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memcpy(&eth->dst_addr, re->hop_mac, 6);
	rte_ether_addr_copy(&lb_rt.ports[re->hop_port].mac, &eth->src_addr);
	LB_COUNTER_ADD(w->real_counters[e->real_id].outpkts, 1);
	LB_COUNTER_ADD(w->real_counters[e->real_id].outbytes, len);
	LB_COUNTER_ADD(w->service_counters[e->service_id].outpkts, 1);
	LB_COUNTER_ADD(w->service_counters[e->service_id].outbytes, len);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->forwarded, 1);
	tx_enqueue(w, re->hop_port, m);
}

/* Packets of flows other workers own, collected per owner during one burst. */
struct handoff_batch {
	uint16_t n[LB_MAX_WORKERS];
	struct rte_mbuf *pkts[LB_MAX_WORKERS][LB_BURST];
};

static inline void handoff_add(struct handoff_batch *hb, uint16_t owner, struct rte_mbuf *m)
{
	hb->pkts[owner][hb->n[owner]++] = m;
}

static void handoff_flush(struct lb_worker *w, struct handoff_batch *hb)
{
	for (uint16_t o = 0; o < lb_rt.n_workers; o++) {
		if (hb->n[o] == 0)
			continue;
		unsigned int sent = rte_ring_enqueue_burst(lb_rt.workers[o]->handoff,
							   (void **)hb->pkts[o], hb->n[o], NULL);
		LB_COUNTER_ADD(w->stats->handoffs, sent);
		for (unsigned int i = sent; i < hb->n[o]; i++)
			drop(w, hb->pkts[o][i], LB_DROP_HANDOFF_RING_FULL);
	}
}

/*
 * A TCP/UDP packet to no service: a reply of a nat or fnat connection, the kernel's (to the
 * port's address), or not ours. Returns the worker that owns it (this one included), or -1 once
 * it was dropped or handed to the kernel.
 */
static int reply_owner(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
		       const struct pkt_info *info, uint64_t now)
{
	struct lb_addr src = pkt_src_addr(info), dst = pkt_dst_addr(info);

	if (is_local_address(snap, &dst)) {
		if (!w->ha_active) {
			drop(w, m, LB_DROP_HA_BACKUP);
			return -1;
		}
		int owner = owner_by_local_port(info->dport);
		if (owner < 0) {
			drop(w, m, LB_DROP_NO_REPLY_FLOW);
			return -1;
		}
		return owner;
	}
	/* The kernel's own connections and listeners (a nat reply goes to a client, not here). */
	if (exception_is_port_address(m->port, &dst)) {
		exception_to_kernel(w, m, now, LB_DROP_NOT_VIP);
		return -1;
	}
	if (is_nat_real(snap, &src, info->proto, info->sport)) {
		if (!w->ha_active) {
			drop(w, m, LB_DROP_HA_BACKUP);
			return -1;
		}
		return owner_by_client(&dst, info->dport);
	}
	/* The pair's heartbeats and sync to its multicast group go to the kernel's sockets. */
	if (ha_is_pair_multicast(m->port, &dst)) {
		exception_to_kernel(w, m, now, LB_DROP_NOT_VIP);
		return -1;
	}
	drop(w, m, LB_DROP_NOT_VIP);
	return -1;
}

/*
 * ICMP or ICMPv6 to the port's own address that the dataplane does not answer itself (it
 * answers echo requests and neighbour solicitations): echo replies and errors for the kernel.
 */
static inline bool icmp_for_kernel(const struct rte_mbuf *m, const struct pkt_info *info)
{
	if (info->proto == IPPROTO_ICMP ? info->icmp_type == PKT_ICMP_ECHO_REQUEST
					: info->icmp_type == PKT_ICMP6_ECHO_REQUEST ||
						  info->icmp_type == PKT_ICMP6_NS)
		return false;
	struct lb_addr dst = pkt_dst_addr(info);
	return exception_is_port_address(m->port, &dst);
}

/* stats.protocol's view of a packet received (not one handed over); ip: count it as an IP
 * packet too (not for a reassembled datagram, whose fragments were). */
static inline void count_received(struct lb_worker *w, const struct pkt_info *info, bool ip)
{
	struct lb_protocol_stats *ps = LB_PROTOCOL_STATS(w, info->family);

	if (ip)
		LB_COUNTER_ADD(ps->received, 1);
	if (info->proto == IPPROTO_UDP)
		LB_COUNTER_ADD(ps->udp_datagrams, 1);
	else if (info->proto == IPPROTO_TCP && (info->tcp_flags & PKT_TCP_RST))
		LB_COUNTER_ADD(ps->tcp_resets, 1);
	else if (info->proto == IPPROTO_ICMP || info->proto == PKT_IPPROTO_ICMPV6)
		LB_COUNTER_ADD(ps->icmp_in[info->icmp_type], 1);
}

/*
 * The start of the packet path for an IP packet: counts it for its source (top sources; a packet
 * handed over by another worker was counted there) and drops it when the source is blocked.
 * With an empty blocklist this is one predictable branch.
 */
static inline bool source_refused(struct lb_worker *w, const struct block_live *bl, bool blocking,
				  bool handed_over, struct rte_mbuf *m, const struct pkt_info *info)
{
	if (!handed_over)
		src_sketch_count(w, info);
	if (unlikely(blocking) && block_table_match(w, bl, info)) {
		drop(w, m, LB_DROP_BLOCKED);
		return true;
	}
	return false;
}

/*
 * Classifies a burst: client packets to services go to the bulk flow path, replies and ICMP are
 * handled one by one, and packets whose flow another worker owns (nat: by client, fnat replies:
 * by local port) are handed over, unless they were handed to us already.
 */
static void handle_burst(struct lb_worker *w, const struct lb_snapshot *snap,
			 struct rte_mbuf **pkts, uint16_t n, uint64_t now, bool handed_over)
{
	struct pending pend[LB_BURST];
	struct handoff_batch hb;
	uint32_t n_pend = 0;
	bool may_steer = lb_rt.n_workers > 1 && !handed_over;
	/* Traffic comes in runs for one service: look the service up once per run. */
	struct snap_service_key last_key = {0}; /* read only once last_idx is set */
	int64_t last_idx = -2;
	struct block_live bl = {__atomic_load_n(&block_live.lpm4, __ATOMIC_ACQUIRE),
				__atomic_load_n(&block_live.lpm6, __ATOMIC_ACQUIRE)};
	bool blocking = bl.lpm4 != NULL || bl.lpm6 != NULL;

	if (may_steer)
		memset(hb.n, 0, sizeof(hb.n));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pending *p = &pend[n_pend];
		struct snap_service_key key;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		w->src_cur = NULL;
		switch (pkt_parse_segmented(rte_pktmbuf_mtod(m, const uint8_t *),
					    rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m), &p->info)) {
		case PKT_PARSE_ARP:
			handle_arp(w, snap, m, &p->info);
			continue;
		case PKT_PARSE_MALFORMED:
			drop(w, m, LB_DROP_PARSE);
			continue;
		case PKT_PARSE_UNSUPPORTED:
			drop(w, m, LB_DROP_UNSUPPORTED);
			continue;
		case PKT_PARSE_IPV4_FRAGMENT:
		case PKT_PARSE_IPV6_FRAGMENT: {
			if (!handed_over)
				LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, p->info.family)->received, 1);
			if (source_refused(w, &bl, blocking, handed_over, m, &p->info))
				continue;
			if (may_steer) {
				uint16_t owner = frag_owner(&p->info);
				if (owner != w->index) {
					handoff_add(&hb, owner, m);
					continue;
				}
			}
			struct rte_mbuf *whole = frag_reassemble(w, m, &p->info, now);
			if (whole != NULL) {
				/* Keep order with what came before it, then handle it as received. */
				handle_ipv4_burst(w, snap, pend, n_pend, now);
				n_pend = 0;
				/* no longer a fragment: it may belong to another worker's flow (nat) */
				handle_burst(w, snap, &whole, 1, now, false);
			}
			continue;
		}
		case PKT_PARSE_IPV4:
		case PKT_PARSE_IPV6:
			if (!handed_over) /* its fragments were received already, not the datagram */
				count_received(w, &p->info, !frag_is_reassembled(m));
			if (source_refused(w, &bl, blocking, handed_over, m, &p->info))
				continue;
			break;
		}
		if (p->info.proto == IPPROTO_ICMP || p->info.proto == PKT_IPPROTO_ICMPV6) {
			if (p->info.proto == PKT_IPPROTO_ICMPV6 && p->info.icmp_type == PKT_ICMP6_NA) {
				neighbour_frame(w, m);
				continue;
			}
			if (icmp_for_kernel(m, &p->info)) {
				exception_to_kernel(w, m, now, LB_DROP_ICMP_OTHER);
				continue;
			}
			/* Keep order with the client packets before it (a SYN, then its error). */
			/* pend[n_pend], this packet's slot, is not touched by the flush */
			handle_ipv4_burst(w, snap, pend, n_pend, now);
			n_pend = 0;
			uint16_t owner = may_steer ? icmp_owner(w, snap, &p->info) : w->index;
			if (owner != w->index)
				handoff_add(&hb, owner, m);
			else
				icmp_handle(w, snap, m, &p->info, now);
			continue;
		}
		struct lb_addr dst = pkt_dst_addr(&p->info);
		if (p->info.proto != IPPROTO_TCP && p->info.proto != IPPROTO_UDP) {
			if (exception_is_port_address(m->port, &dst))
				exception_to_kernel(w, m, now, LB_DROP_NOT_VIP);
			else
				drop(w, m, LB_DROP_NOT_VIP);
			continue;
		}
		snap_service_key_make(&key, &dst, p->info.proto, p->info.dport);
		int64_t idx;
		if (last_idx != -2 && snap_service_key_equal(&key, &last_key)) {
			idx = last_idx;
		} else {
			idx = lookup_table_find(&snap->service_index, &key);
			last_key = key;
			last_idx = idx;
		}
		if (idx < 0) {
			int owner = reply_owner(w, snap, m, &p->info, now);
			if (owner < 0)
				continue;
			if (may_steer && owner != w->index) {
				handoff_add(&hb, (uint16_t)owner, m);
			} else {
				/* The reply may answer a SYN pending in this very burst. */
				handle_ipv4_burst(w, snap, pend, n_pend, now);
				n_pend = 0;
				handle_reply(w, snap, m, &p->info, now);
			}
			continue;
		}
		if (!w->ha_active) {
			drop(w, m, LB_DROP_HA_BACKUP);
			continue;
		}
		const struct snap_service *ss = snap->services[idx];
		if (may_steer && ss->steer_by_client) {
			struct lb_addr client = pkt_src_addr(&p->info);
			uint16_t owner = owner_by_client(&client, p->info.sport);
			if (owner != w->index) {
				handoff_add(&hb, owner, m);
				continue;
			}
		}
		if (unlikely(ss->ops)) {
			handle_ops_datagram(w, snap, ss, m, &p->info, now);
			continue;
		}
		p->m = m;
		p->ss = ss;
		p->src = w->src_cur;
		n_pend++;
	}
	handle_ipv4_burst(w, snap, pend, n_pend, now);
	w->src_cur = NULL;
	if (may_steer)
		handoff_flush(w, &hb);
}

static void expire_sweep(struct lb_worker *w, uint64_t now, uint32_t budget)
{
	struct flow_table *ft = w->flows;

	for (uint32_t k = 0; k < budget; k++) {
		uint32_t pos = ft->sweep_cursor++;
		if (ft->sweep_cursor >= ft->capacity)
			ft->sweep_cursor = 0;
		uint64_t exp = ft->entries[pos].expires;
		if (exp != 0 && exp <= now)
			conn_release(w, (int32_t)pos);
	}
}

static void drain_control_tx(struct lb_worker *w)
{
	void *objs[LB_BURST];
	unsigned int n = rte_ring_dequeue_burst(w->from_control, objs, LB_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = objs[i];
		if (m->port < lb_rt.n_links)
			tx_enqueue(w, m->port, m);
		else
			rte_pktmbuf_free(m);
	}
}

int worker_main(void *arg)
{
	struct lb_worker *w = arg;
	struct rte_mbuf *pkts[LB_BURST];

	rte_rcu_qsbr_thread_online(lb_rt.rcu, w->index);
	while (!__atomic_load_n(&lb_rt.quit, __ATOMIC_RELAXED)) {
		const struct lb_snapshot *snap = __atomic_load_n(&lb_rt.snapshot, __ATOMIC_ACQUIRE);
		uint64_t now = rte_rdtsc();

		w->ha_active = ha_owns_vips();
		uint32_t received = 0;

		for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
			if (w->index >= lb_rt.ports[p].n_queues)
				continue;
			uint16_t n = rte_eth_rx_burst(p, w->index, pkts, LB_BURST);
			if (n == 0)
				continue;
			for (uint16_t i = 0; i < n; i++)
				pkts[i]->port = p;
			received += n;
			LB_COUNTER_ADD(w->stats->rx_packets, n);
			capture_burst(w->index, p, pkts, n, RTE_PCAPNG_DIRECTION_IN);
			if (unlikely(lb_rt.ports[p].has_vlans))
				n = vlan_rx(w, p, pkts, n);
			handle_burst(w, snap, pkts, n, now, false);
		}
		if (lb_rt.n_workers > 1) {
			icmp_walk_drain(w, snap, now);
			unsigned int h = rte_ring_dequeue_burst(w->handoff, (void **)pkts, LB_BURST, NULL);
			if (h != 0) {
				received += h;
				handle_burst(w, snap, pkts, (uint16_t)h, now, true);
			}
		}
		drain_control_tx(w);
		tx_flush(w);
		frag_expire(w, now);
		frag_free_death_row(w);
		conn_dump_worker_step(w);
		conn_install_worker_step(w, snap, now);
		expire_sweep(w, now, received ? EXPIRE_BUDGET_BUSY : EXPIRE_BUDGET_IDLE);
		rte_rcu_qsbr_quiescent(lb_rt.rcu, w->index);

		if (received) {
			w->idle_polls = 0;
		} else if (lb_rt.idle_sleep_us && ++w->idle_polls > IDLE_POLLS_BEFORE_SLEEP) {
			/* Offline while asleep so configuration publication never waits for us. */
			rte_rcu_qsbr_thread_offline(lb_rt.rcu, w->index);
			struct timespec ts = {0, (long)lb_rt.idle_sleep_us * 1000};
			nanosleep(&ts, NULL);
			rte_rcu_qsbr_thread_online(lb_rt.rcu, w->index);
		}
	}
	rte_rcu_qsbr_thread_offline(lb_rt.rcu, w->index);
	return 0;
}
