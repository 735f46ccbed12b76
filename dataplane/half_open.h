/*
 * Half-open TCP flows under a SYN flood (docs/architecture.md, "Flow table under a SYN flood").
 * Each worker remembers the positions of the TCP flows it created, oldest first, in a ring.
 * When its table is nearly full (15/16) a new connection takes the place of the oldest flow that
 * is still half-open; from a high-water mark on ("pressure") half-open flows live shorter. Established
 * flows are never pushed out. O(1) per packet, worker-local, no locks.
 */
#ifndef DPDK_LB_HALF_OPEN_H
#define DPDK_LB_HALF_OPEN_H

#include <stdbool.h>
#include <stdint.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "tcp_state.h"

/* A record's birth stamp: TSC >> HALF_OPEN_STAMP_SHIFT (about 0.4 ms at 2.5 GHz). */
#define HALF_OPEN_STAMP_SHIFT 20

struct half_open_rec {
	uint32_t pos;  /* the flow's position in the table */
	uint32_t born; /* its birth stamp; the entry keeps the low 16 bits to check it is the same flow */
};

struct half_open_ring {
	struct half_open_rec *recs;
	uint32_t mask;        /* recs holds mask + 1 records (a power of 2 >= table capacity) */
	uint32_t head, tail;  /* free-running; head == tail: empty */
	uint32_t pressure_on;  /* keys held from which the table is under pressure */
	uint32_t pressure_off; /* ... and below which it no longer is */
	uint32_t short_stamps; /* the lifetime under pressure in stamps */
	uint32_t evict_at;     /* keys held from which a new flow first ends the oldest half-open one */
};

/* Half-open: a SYN was seen, the handshake has not completed. */
static inline bool half_open_state(uint8_t state)
{
	return state == LB_TCP_NONE || state == LB_TCP_SYN_RECV || state == LB_TCP_SYN_SENT ||
	       state == LB_TCP_SYNACK;
}

/*
 * Sizes worker w's ring for its table and sets the thresholds from the configuration
 * (dataplane.half_open_pressure_percent, dataplane.half_open_pressure_timeout_s); 0 or -ENOMEM.
 */
int half_open_init(struct lb_worker *w, const struct lb_config *cfg, int socket);

/* The flow table moved a tracked half-open flow to pos (flow_table.h, pinned_moved). */
void half_open_moved(void *arg, int32_t pos);

/* Heap bytes of worker w's ring. */
uint64_t half_open_bytes(const struct lb_worker *w);

/* Remembers the TCP flow just created at pos (its entry gets its birth stamp). */
void half_open_track(struct lb_worker *w, int32_t pos, uint64_t now);

/*
 * Ends the oldest flow that is still half-open to make room; false when the ring holds none
 * (within a bounded scan: the rest of the ring is scanned by the next calls).
 */
bool half_open_evict_oldest(struct lb_worker *w);

/*
 * Ends the oldest half-open flow held in key's two buckets (both full), so that key fits;
 * false when they hold none (established flows are never pushed out).
 */
bool half_open_evict_in_buckets(struct lb_worker *w, const struct flow_key *key, uint32_t hash,
				uint64_t now);

/*
 * Once per loop: enters or leaves pressure from the table's fill, drops up to budget stale
 * records from the head, and under pressure ends half-open flows older than the pressure
 * lifetime, oldest first.
 */
void half_open_step(struct lb_worker *w, uint64_t now, uint32_t budget);

#endif
