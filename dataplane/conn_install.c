/*
 * Connections installed by connection sync on the worker that owns them (conn_install.h).
 */
#include "conn_install.h"

#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "conn.h"

#define INSTALL_BUDGET 256 /* requests applied per worker loop: packets keep priority */

static struct rte_ring *rings[LB_MAX_WORKERS]; /* published once with a release store */

/* Written by its worker only (LB_COUNTER_ADD), read by the control lcore. */
static struct worker_install_state {
	struct conn_install_counts counts;
	bool has_hop;          /* a hop was learned from a client packet of an installed flow */
	uint8_t hop_mac[6];
	uint16_t hop_port;
} __rte_cache_aligned state[LB_MAX_WORKERS];

int conn_install_init(uint32_t size)
{
	char name[RTE_RING_NAMESIZE];

	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		if (rings[w] != NULL)
			continue;
		snprintf(name, sizeof(name), "conninst_w%u", w);
		struct rte_ring *r = rte_ring_create_elem(name, sizeof(struct conn_install_req), size,
							  (int)rte_lcore_to_socket_id(lb_rt.workers[w]->lcore_id),
							  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (r == NULL)
			return -1;
		__atomic_store_n(&rings[w], r, __ATOMIC_RELEASE);
	}
	return 0;
}

bool conn_install_post(uint16_t w, const struct conn_install_req *r)
{
	struct rte_ring *ring = w < LB_MAX_WORKERS ? rings[w] : NULL;
	struct conn_install_req copy = *r; /* the ring API takes a non-const pointer */

	return ring != NULL && rte_ring_sp_enqueue_elem(ring, &copy, sizeof(copy)) == 0;
}

static uint64_t install_expiry(const struct lb_snapshot *snap, const struct conn_install_req *r,
			       uint64_t now)
{
	uint64_t left = (uint64_t)r->timeout_s * lb_rt.tsc_hz;
	uint64_t full = snap->timeout_tsc[r->state < LB_CONN_STATE_COUNT ? r->state : 0];

	/* The master refreshes a live connection only every sync period: keep at least the state's
	 * whole timeout, as the IPVS backup does, so that it does not lapse in between. */
	return now + (left > full ? left : full);
}

/* A connection already here for key: the same one (refresh it) or another (end it). */
static bool update_existing(struct lb_worker *w, const struct lb_snapshot *snap, int32_t pos,
			    const struct conn_install_req *r, uint64_t now)
{
	struct worker_install_state *st = &state[w->index];
	struct flow_entry *e = flow_table_entry(w->flows, pos);
	struct flow_key rbuf;
	const struct flow_key *rk =
		e->peer != FLOW_NO_PEER ? flow_table_key(w->flows, e->peer, &rbuf) : NULL;
	bool same = e->real_id == r->real_id && e->real_gen == r->real_gen &&
		    e->forward == r->forward && (rk != NULL) == (r->has_reply != 0) &&
		    (rk == NULL || memcmp(rk, &r->reply_key, sizeof(*rk)) == 0);

	if (!same) {
		conn_release(w, pos);
		LB_COUNTER_ADD(st->counts.replaced, 1);
		return false;
	}
	if (e->state != r->state) {
		conn_count_adjust(w, e, r->state);
		e->state = r->state;
	}
	uint64_t exp = install_expiry(snap, r, now);
	if (exp > e->expires)
		e->expires = exp;
	LB_COUNTER_ADD(st->counts.updated, 1);
	return true;
}

/* Makes room for the reply key: a timed-out owner gives it up; false when a live one has it. */
static bool reply_key_free(struct lb_worker *w, const struct flow_key *rk, uint32_t rhash,
			   uint64_t now)
{
	int32_t old = flow_table_lookup(w->flows, rk, rhash);

	if (old < 0)
		return true;
	int32_t owner = flow_table_entry(w->flows, old)->peer;
	if (!(flow_table_entry(w->flows, old)->flags & FLOW_F_REPLY) || owner == FLOW_NO_PEER ||
	    flow_table_entry(w->flows, owner)->expires > now)
		return false;
	conn_release(w, owner);
	return true;
}

static void install_add(struct lb_worker *w, const struct lb_snapshot *snap,
			const struct conn_install_req *r, uint64_t now)
{
	struct worker_install_state *st = &state[w->index];
	uint32_t hash = flow_table_hash(w->flows, &r->key);
	int32_t pos = flow_table_lookup(w->flows, &r->key, hash);

	if (pos >= 0 && (flow_table_entry(w->flows, pos)->flags & FLOW_F_REPLY)) {
		LB_COUNTER_ADD(st->counts.reply_in_use, 1);
		return;
	}
	if (pos >= 0 && update_existing(w, snap, pos, r, now))
		return;
	uint32_t rhash = 0;
	if (r->has_reply) {
		rhash = flow_table_hash(w->flows, &r->reply_key);
		if (!reply_key_free(w, &r->reply_key, rhash, now)) {
			LB_COUNTER_ADD(st->counts.reply_in_use, 1);
			return;
		}
	}
	uint64_t expires = install_expiry(snap, r, now);
	pos = flow_table_insert(w->flows, &r->key, hash, expires);
	if (pos < 0) {
		LB_COUNTER_ADD(st->counts.table_full, 1);
		return;
	}
	struct flow_entry *e = flow_table_entry(w->flows, pos);
	if (r->has_reply) {
		int32_t rpos = flow_table_insert(w->flows, &r->reply_key, rhash, 0);
		if (rpos < 0) {
			flow_table_remove(w->flows, pos);
			LB_COUNTER_ADD(st->counts.table_full, 1);
			return;
		}
		struct flow_entry *re = flow_table_entry(w->flows, rpos);
		memset(re->hop_mac, 0, sizeof(re->hop_mac));
		re->hop_port = 0;
		re->flags = FLOW_F_REPLY | FLOW_F_HOP_UNKNOWN;
		re->peer = pos;
		re->expires = FLOW_REPLY_EXPIRES;
		e = flow_table_entry(w->flows, pos);
		e->peer = rpos;
		e->flags = FLOW_F_LEARN_HOP;
		/* fnat: the client path learns it from the reply key (fnat_local_learn) */
		e->local_idx = FLOW_LOCAL_UNKNOWN;
	}
	e->forward = r->forward;
	e->real_id = r->real_id;
	e->real_gen = r->real_gen;
	e->service_id = r->service_id;
	e->state = LB_TCP_NONE; /* counted inactive first, then moved to its state's count */
	LB_COUNTER_ADD(w->real_counters[r->real_id].inactive, 1);
	conn_count_adjust(w, e, r->state);
	e->state = r->state;
	e->expires = expires;
	LB_COUNTER_ADD(w->stats->flows, 1);
	LB_COUNTER_ADD(st->counts.installed, 1);
}

static void install_remove(struct lb_worker *w, const struct conn_install_req *r)
{
	struct worker_install_state *st = &state[w->index];
	int32_t pos = flow_table_lookup(w->flows, &r->key, flow_table_hash(w->flows, &r->key));

	if (pos < 0 || (flow_table_entry(w->flows, pos)->flags & FLOW_F_REPLY)) {
		LB_COUNTER_ADD(st->counts.absent, 1);
		return;
	}
	conn_release(w, pos);
	LB_COUNTER_ADD(st->counts.removed, 1);
}

void conn_install_worker_step(struct lb_worker *w, const struct lb_snapshot *snap, uint64_t now)
{
	struct rte_ring *ring = __atomic_load_n(&rings[w->index], __ATOMIC_ACQUIRE);
	struct conn_install_req reqs[32];

	if (ring == NULL)
		return;
	for (uint32_t done = 0; done < INSTALL_BUDGET;) {
		unsigned int n = rte_ring_sc_dequeue_burst_elem(ring, reqs, sizeof(reqs[0]),
								RTE_DIM(reqs), NULL);
		for (unsigned int i = 0; i < n; i++) {
			if (reqs[i].op == CONN_INSTALL_ADD)
				install_add(w, snap, &reqs[i], now);
			else
				install_remove(w, &reqs[i]);
		}
		done += n;
		if (n < RTE_DIM(reqs))
			break;
	}
}

void conn_install_learn_hop(struct lb_worker *w, struct flow_entry *e, const struct rte_mbuf *m)
{
	struct worker_install_state *st = &state[w->index];
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	e->flags &= (uint8_t)~FLOW_F_LEARN_HOP;
	if (e->peer == FLOW_NO_PEER)
		return;
	struct flow_entry *re = flow_table_entry(w->flows, e->peer);
	memcpy(re->hop_mac, &eth->src_addr, 6);
	re->hop_port = m->port;
	re->flags &= (uint8_t)~FLOW_F_HOP_UNKNOWN;
	memcpy(st->hop_mac, &eth->src_addr, 6);
	st->hop_port = m->port;
	st->has_hop = true;
	LB_COUNTER_ADD(st->counts.hops_learned, 1);
}

bool conn_install_reply_hop(struct lb_worker *w, struct flow_entry *re)
{
	const struct worker_install_state *st = &state[w->index];

	if (!st->has_hop)
		return false;
	/* Kept marked: the connection's own first client packet still sets the right hop. */
	memcpy(re->hop_mac, st->hop_mac, 6);
	re->hop_port = st->hop_port;
	return true;
}

void conn_install_counts(struct conn_install_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t w = 0; w < LB_MAX_WORKERS; w++) {
		const struct conn_install_counts *c = &state[w].counts;
		out->installed += LB_COUNTER_READ(c->installed);
		out->updated += LB_COUNTER_READ(c->updated);
		out->replaced += LB_COUNTER_READ(c->replaced);
		out->removed += LB_COUNTER_READ(c->removed);
		out->absent += LB_COUNTER_READ(c->absent);
		out->table_full += LB_COUNTER_READ(c->table_full);
		out->reply_in_use += LB_COUNTER_READ(c->reply_in_use);
		out->hops_learned += LB_COUNTER_READ(c->hops_learned);
	}
}
