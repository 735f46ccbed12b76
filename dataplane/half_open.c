#include "half_open.h"

#include <errno.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "conn.h"
#include "flow_table.h"

/* Stale records one eviction may skip before giving up (the next call goes on from there). */
#define EVICT_SCAN_MAX 256

int half_open_init(struct lb_worker *w, const struct lb_config *cfg, int socket)
{
	struct half_open_ring *r = rte_zmalloc_socket("half_open", sizeof(*r), RTE_CACHE_LINE_SIZE,
						      socket);
	/* as many records as the table holds flows (its positions range a little further) */
	uint32_t size = rte_align32pow2(cfg->flow_capacity);

	if (r == NULL)
		return -ENOMEM;
	r->recs = rte_malloc_socket("half_open_recs", sizeof(*r->recs) * size, RTE_CACHE_LINE_SIZE,
				    socket);
	if (r->recs == NULL) {
		rte_free(r);
		return -ENOMEM;
	}
	r->mask = size - 1;
	uint64_t on = (uint64_t)cfg->flow_capacity * cfg->half_open_pressure_percent / 100;
	r->pressure_on = on > 0 ? (uint32_t)on : 1;
	/* 10 % of hysteresis: a table hovering at the mark does not flip every loop. */
	r->pressure_off = (uint32_t)(on * 9 / 10);
	/* Evicting from 15/16 on keeps free slots in the buckets, so that a new key rarely finds
	 * both of its buckets full (flow_table.h). */
	r->evict_at = cfg->flow_capacity - cfg->flow_capacity / 16;
	uint64_t tsc = (uint64_t)cfg->half_open_pressure_timeout_s * lb_rt.tsc_hz;
	r->short_stamps = (uint32_t)RTE_MIN(tsc >> HALF_OPEN_STAMP_SHIFT, (uint64_t)INT32_MAX);
	w->half_open_pressure_tsc = tsc;
	w->half_open = r;
	w->flows->pinned_moved = half_open_moved;
	w->flows->pinned_moved_arg = w;
	return 0;
}

/* The record still names the flow it was made for, and that flow is still half-open. */
static inline bool rec_valid(const struct flow_table *ft, const struct half_open_rec *rec)
{
	const struct flow_entry *e = flow_table_entry(ft, rec->pos);

	return e->expires != 0 && !(e->flags & FLOW_F_REPLY) && e->born == (uint16_t)rec->born &&
	       half_open_state(e->state);
}

static void ring_append(struct half_open_ring *r, int32_t pos, uint32_t born)
{
	/*
	 * Full: the oldest record goes. The ring is at least the table's size, so that record is
	 * stale unless its flow outlived as many newer ones; such a flow still expires, it only
	 * cannot be evicted any more.
	 */
	if (r->tail - r->head > r->mask)
		r->head++;
	r->recs[r->tail & r->mask] = (struct half_open_rec){.pos = (uint32_t)pos, .born = born};
	r->tail++;
}

void half_open_moved(void *arg, int32_t pos)
{
	struct lb_worker *w = arg;
	uint32_t now_stamp = (uint32_t)(rte_rdtsc() >> HALF_OPEN_STAMP_SHIFT);
	uint16_t born = flow_table_entry(w->flows, pos)->born;

	/* Its old record is stale now (another key has that slot); a new one at the tail, with
	 * the flow's own birth stamp: the ring is then nearly, not strictly, in creation order. */
	ring_append(w->half_open, pos, now_stamp - (uint16_t)((uint16_t)now_stamp - born));
}

void half_open_track(struct lb_worker *w, int32_t pos, uint64_t now)
{
	uint32_t born = (uint32_t)(now >> HALF_OPEN_STAMP_SHIFT);

	ring_append(w->half_open, pos, born);
	flow_table_entry(w->flows, pos)->born = (uint16_t)born;
	flow_table_entry(w->flows, pos)->flags |= FLOW_F_PINNED;
}

bool half_open_evict_oldest(struct lb_worker *w)
{
	struct half_open_ring *r = w->half_open;

	for (uint32_t k = 0; k < EVICT_SCAN_MAX && r->head != r->tail; k++) {
		struct half_open_rec rec = r->recs[r->head & r->mask];
		r->head++;
		if (!rec_valid(w->flows, &rec))
			continue;
		conn_release(w, (int32_t)rec.pos);
		LB_COUNTER_ADD(w->stats->half_open_evicted, 1);
		return true;
	}
	return false;
}

bool half_open_evict_in_buckets(struct lb_worker *w, const struct flow_key *key, uint32_t hash,
				uint64_t now)
{
	int32_t pos[2 * FLOW_BUCKET_SLOTS];
	uint32_t n = flow_table_bucket_positions(w->flows, key, hash, pos);
	uint16_t now_stamp = (uint16_t)(now >> HALF_OPEN_STAMP_SHIFT);
	int32_t victim = -1;
	uint16_t oldest = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct flow_entry *e = flow_table_entry(w->flows, pos[i]);
		/* expires 0: free, or a flow being made right now (its reply key is what is inserted) */
		if (e->expires == 0 || (e->flags & FLOW_F_REPLY) || !half_open_state(e->state))
			continue;
		uint16_t age = (uint16_t)(now_stamp - e->born);
		if (victim < 0 || age > oldest) {
			victim = pos[i];
			oldest = age;
		}
	}
	if (victim < 0)
		return false;
	conn_release(w, victim);
	LB_COUNTER_ADD(w->stats->half_open_evicted, 1);
	LB_COUNTER_ADD(w->stats->half_open_evicted_bucket, 1);
	return true;
}

static void pressure_update(struct lb_worker *w, const struct half_open_ring *r)
{
	uint32_t held = flow_table_fill(w->flows);

	if (!w->flow_pressure && held >= r->pressure_on) {
		w->flow_pressure = true;
		LB_COUNTER_ADD(w->stats->flow_pressure, 1);
		LB_COUNTER_ADD(w->stats->flow_pressure_episodes, 1);
	} else if (w->flow_pressure && held < r->pressure_off) {
		w->flow_pressure = false;
		LB_COUNTER_ADD(w->stats->flow_pressure, (uint64_t)-1);
	}
}

void half_open_step(struct lb_worker *w, uint64_t now, uint32_t budget)
{
	struct half_open_ring *r = w->half_open;
	uint32_t now_stamp = (uint32_t)(now >> HALF_OPEN_STAMP_SHIFT);

	pressure_update(w, r);
	/*
	 * The head is kept clear of stale records (flows established or gone), so that an eviction
	 * finds a half-open flow at once; under pressure the oldest half-open flows end too. The
	 * walk stops at the first live half-open flow: with no handshake pending (or when every
	 * flow stays half-open, as in a flood) it reads one entry per loop.
	 */
	for (uint32_t k = 0; k < budget && r->head != r->tail; k++) {
		struct half_open_rec rec = r->recs[r->head & r->mask];
		if (rec_valid(w->flows, &rec)) {
			/* Oldest first: the first one younger than the pressure lifetime ends the walk. */
			if (!w->flow_pressure || now_stamp - rec.born < r->short_stamps)
				break;
			conn_release(w, (int32_t)rec.pos);
			LB_COUNTER_ADD(w->stats->half_open_expired_early, 1);
		}
		r->head++;
	}
}

uint64_t half_open_bytes(const struct lb_worker *w)
{
	return (uint64_t)(w->half_open->mask + 1) * sizeof(struct half_open_rec);
}
