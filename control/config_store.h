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

/* Generation of the running configuration: 1 after boot, +1 per committed change. */
uint64_t config_store_generation(void);

/* The running configuration (read-only for callers). */
const struct lb_config *config_store_running(void);

/* Frees draining real ids that no flow uses any more; called periodically. */
void config_store_reclaim_ids(void);

#endif
