/*
 * Snapshot internals shared by snapshot.c (the build), snapshot_service.c (service and scheduler
 * objects) and snapshot_reclaim.c (deferred freeing). Control lcore only.
 */
#ifndef DPDK_LB_SNAPSHOT_INTERNAL_H
#define DPDK_LB_SNAPSHOT_INTERNAL_H

#include "snapshot.h"

/* A service's scheduler: rebuilt only when its reals, weights or scheduler options change. */
struct snap_sched {
	uint64_t born_build;    /* build that made it */
	uint64_t carried_build; /* latest build that kept it */
	const struct sched_ops *ops;
	void *shared;
	uint32_t n_dests;
	struct sched_dest *dests;
	uint32_t *dest_real_ids;
	uint8_t *state; /* n_workers blocks of stride bytes, one per worker */
	uint32_t stride;
};

/* Things to free later, each with its own free function. */
struct snap_garbage {
	uint32_t n, cap;
	struct snap_garbage_item {
		void (*fn)(void *p);
		void *p;
	} *items;
};

/* Appends p to *g (allocated on first use); 0 or -1 when out of memory. */
int snap_garbage_add(struct snap_garbage **g, void (*fn)(void *p), void *p);

/* Objects held by the garbage list (for snapshot_pending_objects). */
uint32_t snap_garbage_count(const struct snap_garbage *g);

/* Frees every item, then the list (NULL-safe). */
void snap_garbage_run(struct snap_garbage *g);

/* Frees the list without its items (NULL-safe). */
void snap_garbage_drop(struct snap_garbage *g);

/* True when a service builds to the same object in both configurations (reals included). */
bool snap_service_cfg_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b);

/* True when a service's scheduler input (options, reals, weights, ids) is the same in both. */
bool snap_sched_cfg_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b);

/*
 * Whether an fnat flow of prev (the running object of the same service) may find its local
 * address index naming another address in sc: an edit moved or removed one, now or before.
 */
bool snap_service_locals_moved(const struct snap_service *prev, const struct lb_service_cfg *sc);

/* True when the lookup keys of a service (VIP, ports, protocols, local addresses) are the same. */
bool snap_service_keys_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b);

/* True when a service contributes the same keys to the nat-real index in both. */
bool snap_service_nat_keys_same(const struct lb_service_cfg *a, const struct lb_service_cfg *b);

/*
 * Builds the object of service sc in build number `build`, sharing `reuse` (a scheduler built
 * for the same input) when not NULL; NULL with err set on failure.
 */
struct snap_service *snap_service_build(const struct lb_config *cfg,
					const struct lb_service_cfg *sc, struct snap_sched *reuse,
					uint64_t build, char *err, size_t errlen);

/* Frees a service object, not its scheduler (garbage callback). */
void snap_service_free(void *ss);

/* Frees a scheduler object (garbage callback). */
void snap_sched_free(void *sched);

#endif
