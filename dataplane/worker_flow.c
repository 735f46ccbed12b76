/* The workers' client path (worker_flow.h). */
#include "worker_flow.h"

#include <string.h>

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "conn.h"
#include "conn_events.h"
#include "conn_install.h"
#include "conn_schedule.h"
#include "flow_owner.h"
#include "flow_table.h"
#include "fnat_ports.h"
#include "frag.h"
#include "half_open.h"
#include "pmtu.h"
#include "syn_proxy.h"
#include "tcp_state.h"
#include "worker_tx.h"
#include "xmit.h"

/*
 * Inserts a key. From 15/16 of the table on, it first ends the oldest half-open flow (never an
 * established one); a full table keeps ending them until the key fits, twice at most (a nat/fnat
 * flow frees two keys, dr/tun one).
 */
static int32_t flow_insert_evicting(struct lb_worker *w, const struct flow_key *key, uint32_t hash,
				    uint64_t expires, uint64_t now)
{
	if (unlikely(flow_table_fill(w->flows) >= w->half_open->evict_at))
		half_open_evict_oldest(w);
	int32_t pos = flow_table_insert(w->flows, key, hash, expires);

	for (int k = 0; pos == -ENOSPC && k < 2 && half_open_evict_oldest(w); k++)
		pos = flow_table_insert(w->flows, key, hash, expires);
	/* Both of its buckets full: the oldest half-open flow there makes room, if there is one. */
	if (pos == -EBUSY && half_open_evict_in_buckets(w, key, hash, now))
		pos = flow_table_insert(w->flows, key, hash, expires);
	return pos;
}

/*
 * nat's reply key for client key ck to real r (port rport): real -> client. False when a live
 * flow has it; one that timed out (not swept yet) gives it up.
 */
static bool nat_reply_key_make(struct lb_worker *w, const struct snap_real *r, uint16_t rport,
			       const struct flow_key *ck, uint64_t now, struct flow_key *rk,
			       uint32_t *rhash)
{
	memset(rk, 0, sizeof(*rk));
	rk->family = ck->family;
	rk->proto = ck->proto;
	rk->sport = rport;
	rk->dport = ck->sport;
	flow_key_set_addr(rk->src, &r->ip);
	memcpy(rk->dst, ck->src, 16);
	*rhash = flow_table_hash(w->flows, rk);
	int32_t old = flow_table_lookup(w->flows, rk, *rhash);
	if (old < 0)
		return true;
	int32_t owner = flow_table_entry(w->flows, old)->peer;
	if (owner == FLOW_NO_PEER || flow_table_entry(w->flows, owner)->expires > now)
		return false;
	conn_release(w, owner);
	return true;
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
	uint8_t local_idx = FLOW_LOCAL_UNKNOWN;
	const struct lb_forward_method *method = lb_forward_method_get(r->forward);
	if (method->reply_key) {
		uint16_t rport = snap_real_port_be(r, key->dport);
		if (method->steering == LB_STEER_CLIENT_HASH) {
			if (!nat_reply_key_make(w, r, rport, key, now, &rk, &rhash))
				return XMIT_DROP(LB_DROP_REPLY_TUPLE_IN_USE);
		} else if (fnat_reply_key_alloc(w, ss, r, rport, key, now, &rk, &rhash,
						&local_idx) != 0) {
			return XMIT_DROP(LB_DROP_LOCAL_PORTS_EXHAUSTED);
		}
	}
	uint8_t state = info->proto == IPPROTO_TCP ? LB_TCP_NONE : LB_UDP_STATE;
	uint64_t expires = now + conn_timeout(w, snap, state);
	int32_t pos = flow_insert_evicting(w, key, hash, expires, now);
	if (pos < 0)
		return XMIT_DROP(LB_DROP_FLOW_TABLE_FULL);
	struct flow_entry *e = flow_table_entry(w->flows, pos);
	if (method->reply_key) {
		int32_t rpos = flow_insert_evicting(w, &rk, rhash, 0, now);
		if (rpos < 0) {
			flow_table_remove(w->flows, pos);
			return XMIT_DROP(LB_DROP_FLOW_TABLE_FULL);
		}
		struct flow_entry *re = flow_table_entry(w->flows, rpos);
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		/* Replies go back the way the client's packets came: no routing table needed. */
		memcpy(re->hop_mac, &eth->src_addr, 6);
		re->hop_port = m->port;
		re->flags = FLOW_F_REPLY;
		re->peer = pos;
		re->expires = FLOW_REPLY_EXPIRES;
		e = flow_table_entry(w->flows, pos);
		e->peer = rpos;
		/* fnat: the client path rewrites from these, not from the reply key */
		e->local_idx = local_idx;
		e->local_port = rk.dport;
	}
	e->forward = r->forward;
	e->real_id = real_id;
	e->real_gen = snap_real_get(snap, real_id)->gen;
	e->service_id = (uint16_t)ss->id;
	e->state = state;
	e->expires = expires;
	if (info->proto == IPPROTO_TCP)
		half_open_track(w, pos, now);
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


/* Fills keys and hashes of the n pending packets and looks them up in one bulk probe. */
static inline void pending_lookup(struct lb_worker *w, const struct pending *pend, uint32_t n,
				  struct flow_key *keys, uint32_t *hashes, int32_t *positions)
{
	const struct flow_key *key_ptrs[LB_BURST];

	for (uint32_t i = 0; i < n; i++) {
		flow_key_make(&keys[i], &pend[i].info);
		key_ptrs[i] = &keys[i];
		hashes[i] = flow_table_hash(w->flows, &keys[i]);
	}
	flow_table_lookup_bulk(w->flows, key_ptrs, hashes, n, positions);
}

/*
 * After the bulk lookup, the line each packet reads next: a client packet's real, a reply's
 * connection entry (its key, which the reply is rewritten to, is in the same slot).
 */
static inline void pending_prefetch(struct lb_worker *w, const struct lb_snapshot *snap,
				    const int32_t *positions, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (positions[i] < 0)
			continue;
		const struct flow_entry *e = flow_table_entry(w->flows, positions[i]);
		if (e->flags & FLOW_F_REPLY) {
			rte_prefetch0(flow_table_slot(w->flows, e->peer));
			rte_prefetch0(flow_table_entry(w->flows, e->peer));
		} else if (e->expires != 0) {
			rte_prefetch0(snap_real_get(snap, e->real_id));
		}
	}
}

/*
 * The flow of pending packet p whose bulk lookup gave pos: looked up again where this burst
 * created or released flows since, replaced where it is over, created for a SYN. -1 once the
 * packet was dropped; *created counts the flows made.
 */
static inline int32_t pending_flow(struct lb_worker *w, const struct lb_snapshot *snap,
				   struct pending *p, const struct flow_key *key, uint32_t hash,
				   int32_t pos, uint32_t removals, uint32_t *created, uint64_t now)
{
	const struct pkt_info *info = &p->info;

	/* A flow created earlier in this burst (SYN, then its ACK) postdates the bulk lookup. */
	if (pos < 0 && *created)
		pos = flow_table_lookup(w->flows, key, hash);
	/*
	 * A flow released earlier in this burst (expired, reused by a SYN) may be the one the
	 * bulk lookup found: that position is free or someone else's now. Found by the
	 * randomised edit test: a tuple twice in one burst released its flow twice.
	 */
	else if (pos >= 0 && unlikely(w->flows->removals != removals))
		pos = flow_table_lookup(w->flows, key, hash);
	/* A reply key equal to a client key cannot be a connection of this service. */
	if (pos >= 0 && (flow_table_entry(w->flows, pos)->flags & FLOW_F_REPLY)) {
		drop(w, p->m, LB_DROP_REPLY_TUPLE_IN_USE);
		return -1;
	}
	/* An entry that timed out but was not swept yet is a new connection. */
	if (pos >= 0 && flow_table_entry(w->flows, pos)->expires <= now) {
		conn_release(w, pos);
		pos = -1;
	}
	bool syn_only = info->proto == IPPROTO_TCP &&
			(info->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) == PKT_TCP_SYN;
	/* A SYN on a closing connection, or on one whose real is gone, opens a new one. */
	if (pos >= 0 && syn_only && flow_reusable(flow_table_entry(w->flows, pos), snap)) {
		conn_release(w, pos);
		pos = -1;
	}
	if (pos >= 0)
		return pos;
	/* A SYN proxy answers SYNs itself; a good cookie's ACK is now the SYN for the real. */
	int64_t cookie = SYN_PROXY_PASS;
	if (unlikely(p->ss->syn_proxy) && info->proto == IPPROTO_TCP) {
		cookie = syn_proxy_no_flow(w, p, key, now);
		if (cookie == SYN_PROXY_CONSUMED)
			return -1;
		syn_only = info->tcp_flags == PKT_TCP_SYN;
	}
	/* Like IPVS: only a SYN starts a TCP connection. */
	if (info->proto == IPPROTO_TCP && !syn_only) {
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->tcp_invalid, 1);
		drop(w, p->m, LB_DROP_NO_FLOW);
		return -1;
	}
	pos = flow_create(w, snap, p->ss, key, hash, p->m, info, now);
	if (pos < 0) {
		drop(w, p->m, (enum lb_drop_reason)(-pos - 1));
		return -1;
	}
	if (cookie >= 0)
		syn_proxy_flow_made(w, pos, (uint32_t)cookie);
	(*created)++;
	return pos;
}

/* Sends pending packet p to the real of its flow at pos (or drops it, counted). */
static inline void pending_forward(struct lb_worker *w, const struct lb_snapshot *snap,
				   struct pending *p, const struct flow_key *key, int32_t pos,
				   uint64_t now, struct burst_tally *t)
{
	struct rte_mbuf *m = p->m;
	const struct pkt_info *info = &p->info;
	struct flow_entry *e = flow_table_entry(w->flows, pos);
	const struct snap_real *r = snap_real_get(snap, e->real_id);
	struct flow_key rbuf;

	if (unlikely(!snap_real_serves(r, e->real_gen))) {
		/*
		 * The real was removed (or taken out of scheduling). IPVS expire_nodest_conn: 0 drops
		 * and lets the flow time out; 1 ends the flow now so the client's next SYN goes
		 * elsewhere.
		 */
		if (snap->expire_nodest_conn)
			conn_release(w, pos);
		drop(w, m, LB_DROP_NO_REAL);
		return;
	}
	/* A connection installed by connection sync learns its reply hop here. */
	if (unlikely(e->flags & FLOW_F_LEARN_HOP))
		conn_install_learn_hop(w, e, m);
	if (unlikely(e->flags & FLOW_F_SYN_PROXY) &&
	    !syn_proxy_to_real(w, m, &p->info, key, pos, now))
		return;
	/* nat and fnat see the replies too: the state machine gets both directions. */
	conn_touch(w, snap, e, info,
		   e->peer != FLOW_NO_PEER ? LB_TCP_DIR_INPUT : LB_TCP_DIR_INPUT_ONLY, now);

	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct xmit_ctx x = {.info = info, .r = r, .ss = p->ss, .client_key = key};
	/* fnat: the local endpoint, from the entry while its index still names its address */
	if (lb_forward_method_get(e->forward)->rewrites_source) {
		if (likely(fnat_local_known(e, p->ss))) {
			x.local_addr = p->ss->local_addrs[e->local_idx].v6;
			x.local_port = e->local_port;
		} else {
			x.reply_key = flow_table_key(w->flows, e->peer, &rbuf);
			if (e->local_idx == FLOW_LOCAL_UNKNOWN)
				fnat_local_learn(e, p->ss, x.reply_key);
		}
	}
	/* the real's ops, resolved at build, unless the flow predates a change of its method */
	const struct xmit_ops *ops = likely(r->forward == e->forward) ? r->ops
								      : xmit_ops_get(e->forward);
	int port = worker_xmit_to_real(w, m, ops, &x);
	if (port < 0)
		return;
	/* A packet handed to the kernel (local fallback) is counted there, exactly once. */
	if (port == XMIT_CONSUMED)
		return;
	tally_in(w, t, info->family, e->service_id, e->real_id, len);
	tx_enqueue(w, (uint16_t)port, m);
}

/*
 * A reply of a nat/fnat connection (real -> client or real -> local address) whose bulk lookup
 * gave pos: to the client, from the VIP, through the hop the client's packets came from.
 */
static void pending_reply(struct lb_worker *w, const struct lb_snapshot *snap, struct pending *p,
			  int32_t pos, uint64_t now, struct burst_tally *t)
{
	struct rte_mbuf *m = p->m;
	const struct pkt_info *info = &p->info;
	struct flow_key k;

	if (pos < 0 || !(flow_table_entry(w->flows, pos)->flags & FLOW_F_REPLY)) {
		/* Never forward it as is: that would leak the real's address to the client. */
		drop(w, m, LB_DROP_NO_REPLY_FLOW);
		return;
	}
	const struct flow_entry *re = flow_table_entry(w->flows, pos);
	if (unlikely(re->flags & FLOW_F_HOP_UNKNOWN) &&
	    !conn_install_reply_hop(w, flow_table_entry(w->flows, pos))) {
		drop(w, m, LB_DROP_SYNC_HOP_UNKNOWN);
		return;
	}
	int32_t fpos = re->peer;
	struct flow_entry *e = flow_table_entry(w->flows, fpos);
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
	if (unlikely(e->flags & FLOW_F_SYN_PROXY) &&
	    !syn_proxy_from_real(w, snap, m, info, fpos, now))
		return;
	conn_touch(w, snap, e, info, LB_TCP_DIR_OUTPUT, now);

	if (!pmtu_fits(w, m, info, re->hop_port, 0)) {
		drop(w, m, LB_DROP_TOO_BIG); /* the real was told the size that fits */
		return;
	}
	uint32_t len = rte_pktmbuf_pkt_len(m);
	xmit_ops_get(e->forward)->to_client(m, info, flow_table_key(w->flows, fpos, &k));
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memcpy(&eth->dst_addr, re->hop_mac, 6);
	rte_ether_addr_copy(&lb_rt.ports[re->hop_port].mac, &eth->src_addr);
	tally_out(w, t, info->family, e->service_id, e->real_id, len);
	tx_enqueue(w, re->hop_port, m);
}

/*
 * The burst's packets in order: one bulk lookup for all (a reply's key is its packet's tuple as
 * well), the entries' next lines prefetched, then each on its flow.
 */
static void handle_pending(struct lb_worker *w, const struct lb_snapshot *snap,
			   struct pending *pend, uint32_t n, uint64_t now, struct burst_tally *t)
{
	struct flow_key keys[LB_BURST];
	uint32_t hashes[LB_BURST] = {0}; /* GCC 12 cannot see pending_lookup fills [0, n) */
	int32_t positions[LB_BURST];

	if (n == 0)
		return;
	pending_lookup(w, pend, n, keys, hashes, positions);
	pending_prefetch(w, snap, positions, n);
	uint32_t created = 0, removals = w->flows->removals;

	for (uint32_t i = 0; i < n; i++) {
		w->src_cur = pend[i].src;
		if (pend[i].ss == NULL) {
			int32_t pos = positions[i];
			/* created or released earlier in this burst: the bulk lookup is stale */
			if ((pos < 0 && created) || (pos >= 0 && w->flows->removals != removals))
				pos = flow_table_lookup(w->flows, &keys[i], hashes[i]);
			pending_reply(w, snap, &pend[i], pos, now, t);
			continue;
		}
		int32_t pos = pending_flow(w, snap, &pend[i], &keys[i], hashes[i], positions[i],
					   removals, &created, now);
		if (pos >= 0)
			pending_forward(w, snap, &pend[i], &keys[i], pos, now, t);
	}
}

void worker_flow_path(struct lb_worker *w, const struct lb_snapshot *snap, struct pending *pend,
		      uint32_t n, uint64_t now, struct burst_tally *t)
{
	struct src_slot *cur = w->src_cur;

	handle_pending(w, snap, pend, n, now, t);
	w->src_cur = cur;
}

/* One-packet scheduling: the datagram is scheduled alone and leaves nothing behind. */
