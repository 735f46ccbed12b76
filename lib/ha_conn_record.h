/*
 * Pure parts of the failover pair's connection sync (control/ha/ha_conn_sync.h): the pair check
 * (connection ownership needs the same worker count and fnat port range on both appliances)
 * and the batcher that packs connection records into CONN_BATCH messages.
 */
#ifndef DPDK_LB_HA_CONN_RECORD_H
#define DPDK_LB_HA_CONN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha_wire.h"

/*
 * true when a peer advertising `peer` may install our connections and we its: same worker count
 * and fnat local port range (a worker owns ports min + w + k * workers). false with why
 * ("workers 2 here, 1 on peer") otherwise.
 */
bool ha_pair_compatible(uint16_t workers, uint16_t port_min, uint16_t port_max,
			const struct ha_advert *peer, char *why, size_t whylen);

/* Records waiting to leave in one CONN_BATCH message. */
struct ha_batcher {
	struct ha_msg msg;  /* type CONN_BATCH, flags as given, batch.count records so far */
	uint16_t capacity;  /* records per message (ha_wire_batch_capacity of the message size) */
	uint64_t first_ns;  /* when the oldest record waiting was added */
};

/* Empties b for messages of msg_size bytes with header flags `flags` (HA_WIRE_F_*). */
void ha_batcher_init(struct ha_batcher *b, size_t msg_size, uint16_t flags);

/* Adds r at now_ns; true when the batch is now full and must be sent (then ha_batcher_reset). */
bool ha_batcher_add(struct ha_batcher *b, const struct ha_conn_record *r, uint64_t now_ns);

/* true when records wait and the oldest has waited at least max_wait_ns. */
bool ha_batcher_due(const struct ha_batcher *b, uint64_t now_ns, uint64_t max_wait_ns);

/* Empties the batch after it was sent (or lost). */
void ha_batcher_reset(struct ha_batcher *b);

/* The owner of fnat local port `port` among `workers` for the range [min, max]; -1 outside. */
int ha_fnat_port_owner(uint16_t workers, uint16_t port_min, uint16_t port_max, uint16_t port);

#endif
