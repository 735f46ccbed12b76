/* Service and scheduler objects of a snapshot, and the comparisons that decide what to rebuild. */
#include "snapshot_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

_Static_assert(offsetof(struct lb_service_cfg, port_ranges) < offsetof(struct lb_service_cfg, reals) &&
		       offsetof(struct lb_service_cfg, reals) <
			       offsetof(struct lb_service_cfg, local_addrs),
	       "snap_service_cfg_same compares the segments between these fields in this order");

/* memcmp of [from, to) of two services. */
static inline bool same_bytes(const struct lb_service_cfg *a, const struct lb_service_cfg *b,
			      size_t from, size_t to)
{
	return memcmp((const char *)a + from, (const char *)b + from, to - from) == 0;
}

/*
 * Byte comparison is conservative: padding or bytes after a string's NUL may differ between two
 * equal services, which costs a rebuild, never a wrong share. Every byte is compared (fields
 * added later included) except the reals pointer, compared by contents, and the unused tails of
 * the two fixed arrays, which are most of the struct.
 */
bool snap_service_cfg_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b)
{
	const size_t ranges = offsetof(struct lb_service_cfg, port_ranges);
	const size_t reals = offsetof(struct lb_service_cfg, reals);
	const size_t locals = offsetof(struct lb_service_cfg, local_addrs);

	if (a->n_reals != b->n_reals || a->n_port_ranges != b->n_port_ranges ||
	    a->n_local_addrs != b->n_local_addrs)
		return false;
	return same_bytes(a, b, 0, ranges) &&
	       memcmp(a->port_ranges, b->port_ranges, a->n_port_ranges * sizeof(a->port_ranges[0])) == 0 &&
	       same_bytes(a, b, ranges + sizeof(a->port_ranges), reals) &&
	       same_bytes(a, b, reals + sizeof(a->reals), locals) &&
	       memcmp(a->local_addrs, b->local_addrs, a->n_local_addrs * sizeof(a->local_addrs[0])) == 0 &&
	       same_bytes(a, b, locals + sizeof(a->local_addrs), sizeof(*a)) &&
	       (a->n_reals == 0 || memcmp(a->reals, b->reals, a->n_reals * sizeof(*a->reals)) == 0);
}

bool snap_sched_cfg_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b)
{
	if (strcmp(a->scheduler, b->scheduler) != 0 || a->sched_flags != b->sched_flags ||
	    a->mh_table_size != b->mh_table_size || a->n_reals != b->n_reals)
		return false;
	for (uint32_t j = 0; j < a->n_reals; j++) {
		const struct lb_real_cfg *x = &a->reals[j], *y = &b->reals[j];
		if (x->id != y->id || x->eff_weight != y->eff_weight || x->eff_out != y->eff_out ||
		    x->port != y->port || !lb_addr_equal(&x->ip, &y->ip))
			return false;
	}
	return true;
}

bool snap_service_keys_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b)
{
	if (!lb_addr_equal(&a->vip, &b->vip) || a->port != b->port || a->proto != b->proto ||
	    a->protos != b->protos || a->n_port_ranges != b->n_port_ranges ||
	    a->n_local_addrs != b->n_local_addrs)
		return false;
	for (uint8_t r = 0; r < a->n_port_ranges; r++)
		if (a->port_ranges[r].lo != b->port_ranges[r].lo ||
		    a->port_ranges[r].hi != b->port_ranges[r].hi)
			return false;
	for (uint8_t l = 0; l < a->n_local_addrs; l++)
		if (!lb_addr_equal(&a->local_addrs[l], &b->local_addrs[l]))
			return false;
	return true;
}

bool snap_service_locals_moved(const struct snap_service *prev, const struct lb_service_cfg *sc)
{
	if (prev->locals_moved || prev->n_local_addrs > sc->n_local_addrs)
		return true;
	for (uint8_t l = 0; l < prev->n_local_addrs; l++)
		if (!lb_addr_equal(&prev->local_addrs[l], &sc->local_addrs[l]))
			return true;
	return false;
}

static bool has_nat_dest(const struct lb_service_cfg *sc)
{
	LB_SERVICE_FOREACH_DEST(sc, r)
		if (lb_forward_steers_by_client(r->forward))
			return true;
	return false;
}

bool snap_service_nat_keys_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b)
{
	if (!has_nat_dest(a) && !has_nat_dest(b))
		return true;
	if (a->n_reals != b->n_reals || a->has_fallback != b->has_fallback || a->port != b->port ||
	    a->proto != b->proto)
		return false;
	for (uint32_t j = 0; j <= a->n_reals; j++) {
		const struct lb_real_cfg *x = j < a->n_reals ? &a->reals[j] : &a->fallback;
		const struct lb_real_cfg *y = j < b->n_reals ? &b->reals[j] : &b->fallback;
		if (j == a->n_reals && !a->has_fallback)
			break;
		if (x->forward != y->forward || x->port != y->port || !lb_addr_equal(&x->ip, &y->ip))
			return false;
	}
	return true;
}

void snap_sched_free(void *p)
{
	struct snap_sched *s = p;

	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->release != NULL)
		s->ops->release(s->shared);
	free(s->dests);
	free(s->dest_real_ids);
	free(s->state);
	free(s);
}

void snap_service_free(void *ss)
{
	free(ss);
}

/* Builds the scheduler of sc: its destinations, shared data (init) and zeroed worker state. */
static struct snap_sched *sched_build(const struct lb_service_cfg *sc, uint64_t build, char *err,
				      size_t errlen)
{
	struct sched_params params = {.flags = sc->sched_flags, .table_size = sc->mh_table_size};
	struct snap_sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		goto oom;
	s->born_build = build;
	s->ops = sched_find(sc->scheduler);
	if (s->ops == NULL) { /* the validator rejects it first */
		lb_err(err, errlen, "internal: unknown scheduler %s", sc->scheduler);
		goto fail;
	}
	/* Whole cache lines per worker: no false sharing between lcores. */
	s->stride = (uint32_t)RTE_MAX(RTE_ALIGN_CEIL(s->ops->lcore_state_size, RTE_CACHE_LINE_SIZE),
				      (size_t)RTE_CACHE_LINE_SIZE);
	s->dests = calloc(sc->n_reals + 1, sizeof(*s->dests));
	s->dest_real_ids = calloc(sc->n_reals + 1, sizeof(*s->dest_real_ids));
	s->state = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)s->stride * lb_rt.n_workers);
	if (s->dests == NULL || s->dest_real_ids == NULL || s->state == NULL)
		goto oom;
	memset(s->state, 0, (size_t)s->stride * lb_rt.n_workers);
	/* A real out of scheduling is no destination at all, as if ldirectord had removed it. */
	s->n_dests = 0;
	for (uint32_t j = 0; j < sc->n_reals; j++) {
		const struct lb_real_cfg *rc = &sc->reals[j];
		if (rc->eff_out)
			continue;
		s->dests[s->n_dests].weight = rc->eff_weight;
		s->dests[s->n_dests].addr = rc->ip;
		s->dests[s->n_dests].port = rc->port;
		s->dest_real_ids[s->n_dests++] = rc->id;
	}
	if (s->ops->init != NULL) {
		int rc = s->ops->init(&s->shared, s->dests, s->n_dests, &params);
		if (rc != 0) {
			lb_err(err, errlen, "scheduler %s: %s", sc->scheduler, strerror(-rc));
			goto fail;
		}
	}
	return s;
oom:
	lb_err(err, errlen, "out of memory");
fail:
	snap_sched_free(s);
	return NULL;
}

struct snap_service *snap_service_build(const struct lb_config *cfg,
					const struct lb_service_cfg *sc, struct snap_sched *reuse,
					uint64_t build, char *err, size_t errlen)
{
	struct snap_service *ss = calloc(1, sizeof(*ss));
	struct snap_sched *s = reuse;

	if (ss == NULL) {
		lb_err(err, errlen, "out of memory");
		return NULL;
	}
	if (s == NULL && (s = sched_build(sc, build, err, errlen)) == NULL) {
		free(ss);
		return NULL;
	}
	s->carried_build = build;
	ss->born_build = build;
	ss->sched_obj = s;
	ss->sched = s->ops;
	ss->sched_shared = s->shared;
	ss->sched_state = s->state;
	ss->sched_state_stride = s->stride;
	ss->n_dests = s->n_dests;
	ss->dests = s->dests;
	ss->dest_real_ids = s->dest_real_ids;
	ss->id = sc->id;
	ss->proto = sc->proto;
	ss->forward = sc->forward;
	ss->ops = sc->ops;
	ss->persistent_s = sc->persistent_s;
	ss->netmask_len = sc->netmask_len;
	ss->expire_quiescent_template = sc->expire_quiescent_template < 0
						? cfg->expire_quiescent_template
						: sc->expire_quiescent_template != 0;
	ss->vip = sc->vip;
	ss->port = sc->port;
	ss->steer_by_client = lb_service_steers_by_client(sc);
	ss->client_addr_mode = sc->client_addr_mode;
	ss->n_local_addrs = sc->n_local_addrs;
	memcpy(ss->local_addrs, sc->local_addrs, sizeof(ss->local_addrs));
	for (uint32_t j = 0; j < sc->n_reals; j++)
		if (sc->reals[j].u_threshold != 0)
			ss->has_thresholds = true;
	ss->fallback_real_id = sc->has_fallback ? sc->fallback.id : 0;
	ss->syn_proxy = sc->syn_proxy;
	return ss;
}
