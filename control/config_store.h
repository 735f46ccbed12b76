/*
 * The running configuration and the one way to change it: a candidate is validated, gets ids,
 * becomes a snapshot and is published, or nothing changes at all.
 */
#ifndef DPDK_LB_CONFIG_STORE_H
#define DPDK_LB_CONFIG_STORE_H

#include <stdint.h>

#include "config.h"

/* Publishes the boot configuration (lb_rt.config); 0 or -1 with err set. */
int config_store_init(char *err, size_t errlen);

/*
 * Makes candidate the running configuration. On success takes over candidate's contents
 * (candidate is left empty) and returns 0; on failure returns a JSON-RPC error code with err
 * set, the running configuration unchanged and candidate to be discarded by the caller.
 */
int config_store_commit(struct lb_config *candidate, char *err, size_t errlen);

/*
 * Republishes the running configuration's services whose id is marked in dirty[0..max_id]
 * with fresh effective weights (health and agent observations changed): the same validator
 * and incremental publication, without a new generation. 0 or a JSON-RPC error code.
 */
int config_store_refresh(const uint8_t *dirty, uint32_t max_id, char *err, size_t errlen);

/* Generation of the running configuration: 1 after boot, +1 per committed change. */
uint64_t config_store_generation(void);

/* The running configuration (read-only for callers). */
const struct lb_config *config_store_running(void);

/*
 * Frees what published changes left behind once its grace period is over, then releases removed
 * ids and unwanted neighbours; never waits. Called on every control loop turn.
 */
void config_store_poll(void);

/* What the last publication rebuilt and what is still waiting for a grace period. */
struct config_store_publication {
	uint32_t rebuilt_services;   /* services given new objects (the others were shared) */
	uint32_t rebuilt_schedulers; /* of which with a new scheduler (init ran) */
	uint32_t pending_snapshots;  /* publications whose old objects are not freed yet */
	uint32_t pending_objects;    /* objects those hold */
};

/* Fills p (system.info). */
void config_store_last_publication(struct config_store_publication *p);

/* Frees draining real ids that no flow uses any more; called periodically. */
void config_store_reclaim_ids(void);

#endif
