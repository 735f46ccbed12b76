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
#include "half_open.h"
#include "pkt_parse.h"
#include "snapshot.h"
#include "ha_role.h"
#include "tcp_state.h"
#include "conn.h"
#include "conn_schedule.h"
#include "flow_owner.h"
#include "fnat_ports.h"
#include "icmp.h"
#include "worker_flow.h"
#include "worker_clock.h"
#include "worker_hold.h"
#include "worker_tx.h"
#include "vlan.h"
#include "xmit.h"

#define EXPIRE_BUDGET_BUSY 64     /* timer-wheel entries visited per loop under load, beyond 2 per packet */
#define EXPIRE_BUDGET_IDLE 4096   /* ... and when the queues were empty */
#define IDLE_POLLS_BEFORE_SLEEP 64

static void tx_flush(struct lb_worker *w)
{
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
		struct lb_tx_batch *b = &w->tx[p];
		if (b->n == 0) {
			/* the bonding PMD sends its LACPDUs from inside tx_burst, so it must run */
			if (lb_rt.ports[p].tx_poll && w->index == 0)
				rte_eth_tx_burst(lb_rt.ports[p].port_id, 0, b->pkts, 0);
			continue;
		}
		capture_burst(w->index, p, b->pkts, b->n, RTE_PCAPNG_DIRECTION_OUT);
		uint16_t sent = rte_eth_tx_burst(lb_rt.ports[p].port_id, w->index, b->pkts, b->n);
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

/*
 * Answers an ARP request for a VIP or the port's own address in place; other ARP goes up. A
 * gratuitous request (sender and target address the same: a peer announcing it took a VIP
 * over) is an announcement, not a question: not answered, as Linux does not answer one for its
 * own address.
 */
static void handle_arp(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
		       const struct pkt_info *info)
{
	const struct lb_port *port = &lb_rt.ports[m->port];
	struct role_key key;

	if (info->arp.op == PKT_ARP_REQUEST && info->arp.spa != info->arp.tpa) {
		role_key_make(&key, AF_INET, &info->arp.tpa);
		const struct role_slot *rs = role_find(&snap->roles, &key);
		/* A backup leaves the VIPs to the master: the requester learns the master's MAC. */
		bool ours = (w->ha_active && rs != NULL && (rs->roles & (ROLE_VIP | ROLE_LOCAL))) ||
			    (port->has_address && port->address.family == AF_INET &&
			     port->address.v4 == info->arp.tpa);
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
	int port = worker_xmit_to_real(w, m, r->ops, &x);
	if (port < 0)
		return;
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
		       const struct pkt_info *info, const struct role_slot *dslot, uint64_t now)
{
	if (dslot != NULL && (dslot->roles & ROLE_LOCAL)) {
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
	if (role_is_port_address(dslot, m->port)) {
		exception_to_kernel(w, m, now, LB_DROP_NOT_VIP);
		return -1;
	}
	struct role_key sk;
	struct lb_addr dst = pkt_dst_addr(info);

	role_key_make(&sk, info->family,
		      info->family == AF_INET6 ? (const void *)info->src6 : &info->src_v4);
	if (role_nat_real(role_find(&snap->roles, &sk), &snap->nat_real_index, info->proto,
			  info->sport)) {
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
static inline void count_received(struct lb_worker *w, struct burst_tally *t,
				  const struct pkt_info *info, bool ip)
{
	struct lb_protocol_stats *ps = LB_PROTOCOL_STATS(w, info->family);

	if (ip)
		t->received[info->family == AF_INET6]++;
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

/* One burst being classified (handle_burst): what its packets share. */
struct burst {
	const struct lb_snapshot *snap;
	uint64_t now;
	bool handed_over; /* these packets were handed over by another worker */
	bool may_steer;   /* packets another worker owns are handed over */
	bool blocking;    /* the blocklist has entries */
	struct block_live bl;
	uint32_t n_pend;
	struct pending pend[LB_BURST]; /* client packets and replies, for the bulk flow path */
	struct handoff_batch hb;
	struct burst_tally tally;
	/* Traffic comes in runs for one service: look the destination up once per run. */
	struct role_key last_key; /* these four are read only once last_idx is set */
	uint8_t last_proto;
	uint16_t last_port;
	const struct role_slot *last_slot;
	int64_t last_idx;
};

static void handle_burst(struct lb_worker *w, const struct lb_snapshot *snap,
			 struct rte_mbuf **pkts, uint16_t n, uint64_t now, bool handed_over);

/* Handles the pending client packets now, to keep order with the packet that comes next. */
static inline void burst_flush_pending(struct lb_worker *w, struct burst *b)
{
	worker_flow_path(w, b->snap, b->pend, b->n_pend, b->now, &b->tally);
	b->n_pend = 0;
}

/* A fragment: to the worker that reassembles its datagram, or reassembled here. */
static void burst_fragment(struct lb_worker *w, struct burst *b, struct rte_mbuf *m,
			   struct pkt_info *info)
{
	if (!b->handed_over)
		b->tally.received[info->family == AF_INET6]++;
	if (source_refused(w, &b->bl, b->blocking, b->handed_over, m, info))
		return;
	if (b->may_steer) {
		uint16_t owner = frag_owner(info);
		if (owner != w->index) {
			handoff_add(&b->hb, owner, m);
			return;
		}
	}
	struct rte_mbuf *whole = frag_reassemble(w, m, info, b->now);
	if (whole != NULL) {
		/* Keep order with what came before it, then handle it as received. */
		burst_flush_pending(w, b);
		/* no longer a fragment: it may belong to another worker's flow (nat) */
		handle_burst(w, b->snap, &whole, 1, b->now, false);
	}
}

/* ICMP and ICMPv6: neighbour answers, the kernel's messages, errors about our flows. */
static void burst_icmp(struct lb_worker *w, struct burst *b, struct rte_mbuf *m,
		       struct pkt_info *info)
{
	if (info->proto == PKT_IPPROTO_ICMPV6 && info->icmp_type == PKT_ICMP6_NA) {
		neighbour_frame(w, m);
		return;
	}
	if (icmp_for_kernel(m, info)) {
		exception_to_kernel(w, m, b->now, LB_DROP_ICMP_OTHER);
		return;
	}
	/* Keep order with the client packets before it (a SYN, then its error). */
	/* pend[n_pend], this packet's slot, is not touched by the flush */
	burst_flush_pending(w, b);
	uint16_t owner = b->may_steer ? icmp_owner(w, b->snap, info) : w->index;
	if (owner != w->index)
		handoff_add(&b->hb, owner, m);
	else
		icmp_handle(w, b->snap, m, info, b->now);
}

/*
 * The service a TCP or UDP packet is addressed to (its index, or -1 for none) and the roles of
 * its destination (*dslot, NULL for none): one probe of the roles table.
 */
static inline int64_t burst_service_index(struct burst *b, const struct pkt_info *info,
					  const struct role_slot **dslot)
{
	struct role_key k;

	role_key_make(&k, info->family,
		      info->family == AF_INET6 ? (const void *)info->dst6 : &info->dst_v4);
	if (b->last_idx == -2 || !role_key_equal(&k, &b->last_key) ||
	    info->proto != b->last_proto || info->dport != b->last_port) {
		b->last_key = k;
		b->last_proto = info->proto;
		b->last_port = info->dport;
		b->last_slot = role_find(&b->snap->roles, &k);
		b->last_idx = role_service(b->last_slot, &b->snap->service_index, info->proto,
					   info->dport);
	}
	*dslot = b->last_slot;
	return b->last_idx;
}

/* TCP and UDP: a reply of one of our flows or a client packet, for the bulk flow path. */
static void burst_transport(struct lb_worker *w, struct burst *b, struct rte_mbuf *m,
			    struct pending *p)
{
	const struct role_slot *dslot;
	int64_t idx = burst_service_index(b, &p->info, &dslot);

	if (idx < 0) {
		int owner = reply_owner(w, b->snap, m, &p->info, dslot, b->now);
		if (owner < 0)
			return;
		if (b->may_steer && owner != w->index) {
			handoff_add(&b->hb, (uint16_t)owner, m);
		} else {
			/* with the client packets: one bulk lookup, handled in arrival order */
			p->m = m;
			p->ss = NULL;
			p->src = w->src_cur;
			b->n_pend++;
		}
		return;
	}
	if (!w->ha_active) {
		drop(w, m, LB_DROP_HA_BACKUP);
		return;
	}
	const struct snap_service *ss = b->snap->services[idx];
	if (b->may_steer && ss->steer_by_client) {
		struct lb_addr client = pkt_src_addr(&p->info);
		uint16_t owner = owner_by_client(&client, p->info.sport);
		if (owner != w->index) {
			handoff_add(&b->hb, owner, m);
			return;
		}
	}
	if (unlikely(ss->ops)) {
		handle_ops_datagram(w, b->snap, ss, m, &p->info, b->now);
		return;
	}
	p->m = m;
	p->ss = ss;
	p->src = w->src_cur;
	b->n_pend++;
}

/* One packet of the burst, parsed into its pending slot and sent on its way. */
static void burst_packet(struct lb_worker *w, struct burst *b, struct rte_mbuf *m)
{
	struct pending *p = &b->pend[b->n_pend];

	w->src_cur = NULL;
	switch (pkt_parse_segmented(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				    rte_pktmbuf_pkt_len(m), &p->info)) {
	case PKT_PARSE_ARP:
		handle_arp(w, b->snap, m, &p->info);
		return;
	case PKT_PARSE_MALFORMED:
		drop(w, m, LB_DROP_PARSE);
		return;
	case PKT_PARSE_UNSUPPORTED:
		drop(w, m, LB_DROP_UNSUPPORTED);
		return;
	case PKT_PARSE_IPV4_FRAGMENT:
	case PKT_PARSE_IPV6_FRAGMENT:
		burst_fragment(w, b, m, &p->info);
		return;
	case PKT_PARSE_IPV4:
	case PKT_PARSE_IPV6:
		if (!b->handed_over) /* its fragments were received already, not the datagram */
			count_received(w, &b->tally, &p->info, !frag_is_reassembled(m));
		if (source_refused(w, &b->bl, b->blocking, b->handed_over, m, &p->info))
			return;
		break;
	}
	if (p->info.proto == IPPROTO_ICMP || p->info.proto == PKT_IPPROTO_ICMPV6) {
		burst_icmp(w, b, m, &p->info);
		return;
	}
	if (p->info.proto != IPPROTO_TCP && p->info.proto != IPPROTO_UDP) {
		struct lb_addr dst = pkt_dst_addr(&p->info);
		if (exception_is_port_address(m->port, &dst))
			exception_to_kernel(w, m, b->now, LB_DROP_NOT_VIP);
		else
			drop(w, m, LB_DROP_NOT_VIP);
		return;
	}
	burst_transport(w, b, m, p);
}

/*
 * Classifies a burst: client packets to services and replies of nat/fnat connections go to the
 * bulk flow path (one lookup for both, then handled in arrival order), ICMP and fragments are
 * handled one by one (after the packets before them), and packets whose flow another worker
 * owns (nat: by client, fnat replies: by local port) are handed over, unless they were handed
 * to us already.
 */
static void handle_burst(struct lb_worker *w, const struct lb_snapshot *snap,
			 struct rte_mbuf **pkts, uint16_t n, uint64_t now, bool handed_over)
{
	struct burst b; /* not zeroed: its 6 KB of pending slots are written before they are read */

	b.snap = snap;
	b.now = now;
	b.handed_over = handed_over;
	b.may_steer = lb_rt.n_workers > 1 && !handed_over;
	b.bl.lpm4 = __atomic_load_n(&block_live.lpm4, __ATOMIC_ACQUIRE);
	b.bl.lpm6 = __atomic_load_n(&block_live.lpm6, __ATOMIC_ACQUIRE);
	b.n_pend = 0;
	b.last_idx = -2;
	b.blocking = b.bl.lpm4 != NULL || b.bl.lpm6 != NULL;
	burst_tally_init(&b.tally);
	if (b.may_steer)
		memset(b.hb.n, 0, sizeof(b.hb.n));
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		burst_packet(w, &b, pkts[i]);
	}
	burst_flush_pending(w, &b);
	burst_tally_flush(w, &b.tally);
	w->src_cur = NULL;
	if (b.may_steer)
		handoff_flush(w, &b.hb);
}

static void expire_one(void *arg, int32_t pos)
{
	conn_release(arg, pos);
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
		if (unlikely(__atomic_load_n(&w->test_held, __ATOMIC_RELAXED))) {
			worker_hold_wait(w);
			continue;
		}
		const struct lb_snapshot *snap = __atomic_load_n(&lb_rt.snapshot, __ATOMIC_ACQUIRE);
		uint64_t now = worker_clock_now(w);

		w->ha_active = ha_owns_vips();
		uint32_t received = 0;

		for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
			if (w->index >= lb_rt.ports[p].n_queues)
				continue;
			uint16_t n = rte_eth_rx_burst(lb_rt.ports[p].port_id, w->index, pkts, LB_BURST);
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
		/* More than a loop can create, so that expiry keeps up with any creation rate. */
		flow_table_expire(w->flows, now,
				  received ? 2 * received + EXPIRE_BUDGET_BUSY : EXPIRE_BUDGET_IDLE,
				  expire_one, w);
		flow_table_sweep_unqueued(w->flows, now, 1, expire_one, w);
		half_open_step(w, now, received ? EXPIRE_BUDGET_BUSY : EXPIRE_BUDGET_IDLE);
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
