/*
 * History of rates and connection counts in fixed memory: one point per second for the last
 * hour and one per minute for the last day, for the whole dataplane and per service (a fixed
 * number of service slots, `stats.history_services`). Control lcore only.
 */
#ifndef DPDK_LB_RATE_HISTORY_H
#define DPDK_LB_RATE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

/* struct rate_history_point, RATE_HISTORY_SECONDS, RATE_HISTORY_MINUTES */
#include "rate_ring.h"

/* Allocates the global series and service_slots service series (ids up to max_services); 0/-1. */
int rate_history_init(uint32_t max_services, uint32_t service_slots);

/* Frees every series. */
void rate_history_free(void);

/*
 * Records the seconds elapsed since the last call (call about once a second): per-second rates
 * from the counters' growth, connection counts now; a late call fills the seconds it missed.
 */
void rate_history_tick(void);

/*
 * Copies up to max points of series scope (-1 global, else a service id) at resolution_s (1 or
 * 60) into out, oldest first; returns the count (0 for an unknown scope or resolution).
 * t is the point's Unix time in seconds; conns is the connection count (active + inactive),
 * the others are per-second averages over the point's interval; drops is global only (0 for a
 * service).
 */
size_t rate_history_read(int scope /* -1 global, else service id */, unsigned resolution_s,
			 struct rate_history_point *out, size_t max);

#endif
