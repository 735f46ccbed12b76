#include "config_store.h"

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "dataplane.h"
#include "admin_state_file.h"
#include "config_validate.h"
#include "health.h"
#include "holding_page.h"
#include "id_pool.h"
#include "jsonrpc.h"
#include "rate_estimator.h"

static struct id_pool service_ids;
static struct id_pool real_ids;

static uint64_t generation;

uint64_t config_store_generation(void)
{
	return generation;
}

const struct lb_config *config_store_running(void)
{
	return lb_rt.config;
}

/* Gives every new service and real an id; returns 0 or -1 when the pools are exhausted. */
static int assign_ids(struct lb_config *c, uint32_t *new_ids, uint32_t *n_new, char *err,
		      size_t errlen)
{
	for (uint32_t i = 0; i < c->n_services; i++) {
		struct lb_service_cfg *s = &c->services[i];
		if (s->id == 0) {
			s->id = id_pool_alloc(&service_ids);
			if (s->id == 0)
				return lb_err(err, errlen, "no room for another service (dataplane.max_services = %u)",
					      lb_rt.max_services);
			/* high bit marks a service id in the rollback list */
			new_ids[(*n_new)++] = s->id | 0x80000000u;
			stats_reset_service(s->id);
			rate_estimator_reset_service(s->id);
		}
		LB_SERVICE_FOREACH_DEST(s, r) {
			if (r->id != 0)
				continue;
			r->id = id_pool_alloc(&real_ids);
			if (r->id == 0)
				return lb_err(err, errlen,
					      "no room for another real server (dataplane.max_reals = %u; "
					      "removed reals are reusable once their connections ended)",
					      lb_rt.max_reals);
			r->gen = real_ids.gen[r->id];
			new_ids[(*n_new)++] = r->id;
			stats_reset_real(r->id);
			rate_estimator_reset_real(r->id);
		}
	}
	return 0;
}

/* Returns the ids assign_ids handed out; the candidate itself is discarded by the caller. */
static void rollback_ids(const uint32_t *new_ids, uint32_t n_new)
{
	for (uint32_t k = 0; k < n_new; k++) {
		if (new_ids[k] & 0x80000000u)
			id_pool_release(&service_ids, new_ids[k] & 0x7fffffffu, false);
		else
			id_pool_release(&real_ids, new_ids[k], false);
	}
}

static struct config_store_publication last_pub;
static bool neigh_sync_due; /* reals were removed: their neighbours may be unwanted now */

/*
 * Runs once no worker can hold the snapshot that still had the removed services and reals: only
 * then may a removed service's persistence templates go (a worker on the old snapshot could still
 * store one) and its ids be handed out again.
 */
static void release_removed_ids(void *arg)
{
	struct snapshot_diff *d = arg;

	for (uint32_t k = 0; k < d->n_removed_services; k++) {
		/* A service added later under this id must not inherit its clients. */
		persist_table_forget_service(lb_rt.persist, d->removed_services[k]);
		id_pool_release(&service_ids, d->removed_services[k], false);
	}
	for (uint32_t k = 0; k < d->n_removed_reals; k++)
		id_pool_release(&real_ids, d->removed_reals[k], true);
	snapshot_diff_free(d);
	free(d);
}

/* Marks the neighbours the configuration needs and frees the others. */
static void sync_neighbours(const struct lb_config *c)
{
	neigh_table_unmark(lb_rt.neigh);
	for (uint32_t i = 0; i < c->n_services; i++)
		LB_SERVICE_FOREACH_DEST(&c->services[i], r) {
			if (lb_forward_method_get(r->forward)->appliance)
				continue; /* the local fallback is the appliance itself */
			int port = snapshot_egress_port(&r->ip);
			(void)neigh_table_slot(lb_rt.neigh, &r->ip, port < 0 ? 0 : (uint16_t)port);
		}
	neigh_table_release_unwanted(lb_rt.neigh);
}

static uint32_t count_reals(const struct lb_config *c)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->n_services; i++)
		n += c->services[i].n_reals + (c->services[i].has_fallback ? 1 : 0);
	return n;
}

/*
 * What the dataplane is given for each real of the services the candidate touches (all of them
 * for a whole configuration): the wish combined with the health and agent observations.
 */
static void derive_effective_weights(struct lb_config *candidate)
{
	for (uint32_t i = 0; i < candidate->n_services; i++) {
		struct lb_service_cfg *s = &candidate->services[i];
		if (candidate->incremental && !s->changed)
			continue;
		for (uint32_t j = 0; j < s->n_reals; j++) {
			struct lb_effective e = health_effective(s, &s->reals[j]);
			s->reals[j].eff_weight = e.weight;
			s->reals[j].eff_out = e.out;
		}
		if (s->has_fallback) {
			s->fallback.eff_weight = s->fallback.weight;
			s->fallback.eff_out = false;
		}
	}
}

static int commit_candidate(struct lb_config *candidate, bool observed, char *err, size_t errlen)
{
	uint32_t n_new = 0, total_reals = count_reals(candidate);
	uint32_t *new_ids;
	struct lb_snapshot *snap;

	/* The one gate: whatever the source of the change, the dataplane only sees valid configs. */
	switch (lb_config_validate(candidate, err, errlen)) {
	case LB_VALID:
		break;
	case LB_OVER_CAPACITY:
		return LB_RPC_CAPACITY;
	default:
		return JSONRPC_INVALID_PARAMS;
	}
	int block_rc = block_table_prepare(candidate, err, errlen);
	if (block_rc != 0)
		return block_rc;
	new_ids = calloc(candidate->n_services + total_reals + 1, sizeof(uint32_t));
	if (new_ids == NULL) {
		block_table_abort(candidate);
		lb_err(err, errlen, "out of memory");
		return JSONRPC_INTERNAL_ERROR;
	}
	if (assign_ids(candidate, new_ids, &n_new, err, errlen) != 0) {
		rollback_ids(new_ids, n_new);
		free(new_ids);
		block_table_abort(candidate);
		return LB_RPC_CAPACITY;
	}
	derive_effective_weights(candidate);
	struct snapshot_diff *diff = calloc(1, sizeof(*diff));
	uint64_t t_build = rte_rdtsc();
	snap = diff == NULL ? NULL
			    : snapshot_build(candidate, lb_rt.snapshot ? lb_rt.config : NULL, diff,
					     err, errlen);
	lb_rt.last_build_ns = (rte_rdtsc() - t_build) * 1000000000ull / lb_rt.tsc_hz;
	if (snap == NULL) {
		if (diff == NULL)
			lb_err(err, errlen, "out of memory");
		free(diff);
		rollback_ids(new_ids, n_new);
		free(new_ids);
		block_table_abort(candidate);
		return JSONRPC_INVALID_PARAMS;
	}
	free(new_ids);
	last_pub.rebuilt_services = diff->n_rebuilt_services;
	last_pub.rebuilt_schedulers = diff->n_rebuilt_scheds;
	bool removed = diff->n_removed_services != 0 || diff->n_removed_reals != 0;
	uint64_t t0 = rte_rdtsc();
	snapshot_publish(snap, removed ? release_removed_ids : NULL, diff);
	lb_rt.last_publish_ns = (rte_rdtsc() - t0) * 1000000000ull / lb_rt.tsc_hz;
	LB_LOG(INFO, "%s %lu published: %u services, %u reals, %u services "
		     "rebuilt, %u schedulers (build %lu us, publish %lu us)",
	       observed ? "observed weights, snapshot" : "configuration, snapshot",
	       (unsigned long)snap->generation, candidate->n_services, total_reals,
	       diff->n_rebuilt_services, diff->n_rebuilt_scheds,
	       (unsigned long)(lb_rt.last_build_ns / 1000), (unsigned long)(lb_rt.last_publish_ns / 1000));
	if (removed) {
		neigh_sync_due |= diff->n_removed_reals != 0;
	} else {
		snapshot_diff_free(diff);
		free(diff);
	}
	/* Observations are not configuration: config.apply's if_generation does not see them. */
	if (!observed)
		generation++;
	health_sync(candidate, !candidate->incremental);
	block_table_commit(lb_rt.config, candidate);
	candidate->block_changed = false;
	/* The running configuration is valid as a whole: the next candidate starts unmarked. */
	candidate->incremental = false;
	for (uint32_t i = 0; i < candidate->n_services; i++)
		candidate->services[i].changed = false;
	if (lb_rt.config != candidate) {
		lb_config_free(lb_rt.config);
		*lb_rt.config = *candidate;
		memset(candidate, 0, sizeof(*candidate));
	}
	return 0;
}

int config_store_commit(struct lb_config *candidate, char *err, size_t errlen)
{
	int rc = commit_candidate(candidate, false, err, errlen);

	/* Observed weights never change a fallback: only configuration commits move listeners. */
	if (rc == 0)
		holding_page_sync(lb_rt.config);
	return rc;
}

int config_store_refresh(const uint8_t *dirty, uint32_t max_id, char *err, size_t errlen)
{
	struct lb_config candidate;
	bool any = false;

	if (lb_config_clone(lb_rt.config, &candidate) != 0)
		return lb_err(err, errlen, "out of memory");
	candidate.incremental = true;
	for (uint32_t i = 0; i < candidate.n_services; i++) {
		struct lb_service_cfg *s = &candidate.services[i];
		s->changed = s->id <= max_id && dirty[s->id];
		any |= s->changed;
	}
	int rc = any ? commit_candidate(&candidate, true, err, errlen) : 0;
	lb_config_free(&candidate);
	return rc;
}

int config_store_init(char *err, size_t errlen)
{
	struct lb_config *c = lb_rt.config;
	char serr[LB_ERR_LEN];
	int n;

	if (id_pool_init(&service_ids, lb_rt.max_services) != 0 ||
	    id_pool_init(&real_ids, lb_rt.max_reals) != 0 ||
	    stats_init(lb_rt.max_services, lb_rt.max_reals) != 0 ||
	    block_table_init(c->blocklist_capacity) != 0 ||
	    src_sketch_init(c->source_slots ? rte_align32pow2(c->source_slots) : 0) != 0)
		return lb_err(err, errlen, "out of memory");
	for (uint32_t i = 0; i < c->n_static_neigh; i++) {
		int port = snapshot_egress_port(&c->static_neigh[i].ip);
		if (neigh_table_set_static(lb_rt.neigh, &c->static_neigh[i].ip,
					   port < 0 ? 0 : (uint16_t)port, c->static_neigh[i].mac) < 0)
			return lb_err(err, errlen, "neighbours.static: table full");
	}
	/* The operator's drains and offlines of the last run come back before anything is published. */
	admin_state_file_init(c, lb_rt.config_path);
	n = admin_state_file_apply(c, serr, sizeof(serr));
	if (n < 0)
		LB_LOG(ERR, "health: admin states not restored: %s", serr);
	else if (n > 0)
		LB_LOG(NOTICE, "health: %d admin states restored from %s", n, admin_state_file_path());
	/* The boot configuration commits onto itself: same checks as any RPC change. */
	if (config_store_commit(c, err, errlen) != 0)
		return -1;
	return 0;
}

void config_store_last_publication(struct config_store_publication *p)
{
	*p = last_pub;
	p->pending_snapshots = snapshot_pending();
	p->pending_objects = snapshot_pending_objects();
}

void config_store_poll(void)
{
	/* Neighbours of removed reals go once no snapshot that used them is left. */
	if (snapshot_reclaim() == 0 && neigh_sync_due) {
		neigh_sync_due = false;
		sync_neighbours(lb_rt.config);
	}
}

void config_store_reclaim_ids(void)
{
	id_pool_reclaim(&real_ids, stats_real_idle);
}
