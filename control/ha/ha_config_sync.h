/*
 * Configuration replication (docs/ha.md, "Configuration replication"): the MASTER sends its
 * replicated configuration (services, timeouts, ipvs: never ports, rpc, eal or ha, which are
 * each node's own) as CONFIG chunks of one generation after every commit and on request; the
 * BACKUP reassembles them and applies the result through the one validator and publication
 * path (config_store_commit), keeping the ids of the services and reals it already had so
 * their connections carry on. Control lcore only.
 */
#ifndef DPDK_LB_HA_CONFIG_SYNC_H
#define DPDK_LB_HA_CONFIG_SYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ha_wire.h"

typedef int (*ha_config_send_fn)(struct ha_msg *m);

/* MASTER: (re)starts sending the running configuration (flags: HA_WIRE_F_FULL_SYNC or 0). */
void ha_config_tx_start(uint16_t flags);

/* MASTER: sends the next chunks of a configuration being sent, a bounded number per call. */
void ha_config_tx_poll(ha_config_send_fn send);

/* BACKUP: one authenticated CONFIG chunk; applies the configuration once it is whole. */
void ha_config_on_chunk(const struct ha_msg *m);

/* The master's generation last applied here (0: none yet). */
uint64_t ha_config_applied_generation(void);

/* The generation being reassembled (0: none). */
uint64_t ha_config_rx_generation(void);

/*
 * Makes the replicated sections of doc (services, timeouts, ipvs) those of a copy of running in
 * *out, keeping the ids of services and reals running already has; 0, or -1 with err. Exposed
 * for ha.status-free testing of the merge rules.
 */
int ha_config_merge(const struct lb_config *running, const json_t *doc, struct lb_config *out,
		    char *err, size_t errlen);

/* Counters and the last failure, for ha.status. */
json_t *ha_config_status_json(void);

#endif
