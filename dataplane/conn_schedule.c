/*
 * Choosing the real server of a new connection: the service's scheduler with every worker's
 * connection counts (the load board) and the live thresholds, the fallback server when no
 * real can take it, and persistence templates shared by all workers.
 */
#include <string.h>

#include <rte_random.h>

#include "persist_table.h"
#include "conn_schedule.h"

#define MAX_DESTS_WITH_LOAD 4096 /* larger services are scheduled without load figures */

/* Connections of the other workers: board total minus our recorded share, never below 0. */
static inline uint32_t others_share(const uint32_t *total, const uint32_t *mine, uint32_t id)
{
	uint32_t t = __atomic_load_n(&total[id], __ATOMIC_RELAXED);
	uint32_t m = __atomic_load_n(&mine[id], __ATOMIC_RELAXED);

	/* The two loads are not one snapshot: a refresh between them must not wrap around. */
	return t > m ? t - m : 0;
}

/* Load of each destination: the other workers' (~10 ms old) plus ours, exact. */
static void fill_load(const struct lb_worker *w, const struct snap_service *ss,
		      struct sched_load *load)
{
	const struct lb_load_board *b = &lb_rt.load;

	for (uint32_t i = 0; i < ss->n_dests; i++) {
		uint32_t id = ss->dest_real_ids[i];
		load[i].active = others_share(b->total_active, b->worker_active[w->index], id) +
				 (uint32_t)LB_COUNTER_READ(w->real_counters[id].active);
		load[i].inactive = others_share(b->total_inactive, b->worker_inactive[w->index], id) +
				   (uint32_t)LB_COUNTER_READ(w->real_counters[id].inactive);
	}
}

/*
 * Runs the service's scheduler for a new connection and returns the chosen real id: the
 * fallback server when no real can take it, 0 when there is none either.
 */
uint32_t schedule_new(struct lb_worker *w, const struct lb_snapshot *snap,
			     const struct snap_service *ss, const struct pkt_info *info, uint64_t now)
{
	struct sched_request req;
	struct sched_load load[MAX_DESTS_WITH_LOAD];
	struct sched_dest marked[MAX_DESTS_WITH_LOAD];
	const struct sched_dest *dests = ss->dests;
	bool fits = ss->n_dests <= MAX_DESTS_WITH_LOAD;

	memset(&req, 0, sizeof(req));
	req.client = pkt_src_addr(info);
	req.vip = pkt_dst_addr(info);
	req.client_port = info->sport;
	req.vip_port = info->dport;
	req.proto = info->proto;
	req.random = (uint32_t)rte_rand();
	req.now_s = (uint32_t)(now / lb_rt.tsc_hz); /* lblcr ages its sets by it */
	if (((ss->sched->ops_flags & SCHED_OPS_NEEDS_LOAD) || ss->has_thresholds) && fits) {
		fill_load(w, ss, load);
		req.load = load;
	} else if (ss->sched->ops_flags & SCHED_OPS_NEEDS_LOAD) {
		memset(load, 0, sizeof(load));
		req.load = load;
	}
	if (ss->has_thresholds && fits) {
		/* Upper limit checked live; the way back down follows the control lcore's hysteresis. */
		for (uint32_t i = 0; i < ss->n_dests; i++) {
			uint32_t id = ss->dest_real_ids[i];
			uint32_t upper = snap_real_get(snap, id)->u_threshold;
			marked[i] = ss->dests[i];
			if (upper != 0 &&
			    (__atomic_load_n(&lb_rt.load.overloaded[id], __ATOMIC_RELAXED) ||
			     load[i].active + load[i].inactive >= upper))
				marked[i].flags |= SCHED_DEST_OVERLOADED;
		}
		dests = marked;
	}
	int dest = ss->sched->schedule(ss->sched_shared,
				       ss->sched_state + (size_t)w->index * ss->sched_state_stride, dests,
				       ss->n_dests, &req);
	return dest >= 0 ? ss->dest_real_ids[dest] : ss->fallback_real_id;
}

/*
 * Persistence: the client's live template decides, unless its real is gone, now belongs to
 * another service, is the fallback server, or is quiescent with expire_quiescent_template.
 * Otherwise the scheduler decides and the choice becomes the template. Each new connection
 * refreshes the template for the service's timeout.
 */
uint32_t schedule_persistent(struct lb_worker *w, const struct lb_snapshot *snap,
				    const struct snap_service *ss, const struct pkt_info *info,
				    uint64_t now)
{
	struct persist_key key;
	struct lb_addr client = pkt_src_addr(info);
	uint32_t now_s = (uint32_t)(now / lb_rt.tsc_hz), real_id;
	uint8_t gen8;

	persist_key_make(&key, ss->id, &client, ss->netmask_len);
	if (persist_table_lookup(lb_rt.persist, &key, now_s, &real_id, &gen8) && real_id != 0 &&
	    real_id <= snap->max_reals) {
		const struct snap_real *r = snap_real_get(snap, real_id);
		if (r->gen != 0 && (uint8_t)r->gen == gen8 && r->service_id == ss->id &&
		    !(r->flags & SNAP_REAL_OUT) &&
		    real_id != ss->fallback_real_id &&
		    (r->weight > 0 || !ss->expire_quiescent_template)) {
			persist_table_store(lb_rt.persist, &key, real_id, r->gen, now_s, ss->persistent_s);
			return real_id;
		}
	}
	real_id = schedule_new(w, snap, ss, info, now);
	/* The fallback server gets no template: clients return to the reals as soon as they can. */
	if (real_id != 0 && real_id != ss->fallback_real_id) {
		if (persist_table_store(lb_rt.persist, &key, real_id, snap_real_get(snap, real_id)->gen, now_s,
					ss->persistent_s))
			LB_COUNTER_ADD(w->stats->templates_created, 1);
		else
			LB_COUNTER_ADD(w->stats->persistence_full, 1);
	}
	return real_id;
}

