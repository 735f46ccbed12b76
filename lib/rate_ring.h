/*
 * One series of history in fixed memory: a point per second for the last hour and a point per
 * minute (the mean of its 60 seconds) for the last day. Points carry no timestamp: they are
 * contiguous, and their times are counted back from the newest one's.
 */
#ifndef DPDK_LB_RATE_RING_H
#define DPDK_LB_RATE_RING_H

#include <stddef.h>
#include <stdint.h>

#define RATE_HISTORY_SECONDS 3600
#define RATE_HISTORY_MINUTES 1440

/* A point as readers get it: Unix time t in seconds, at the end of the point's interval. */
struct rate_history_point {
	uint64_t t;
	double conns, cps, inpps, outpps, inbps, outbps, drops;
};

/* The values of a point, in the order of struct rate_history_point's doubles. */
enum rate_ring_field {
	RATE_RING_CONNS = 0,
	RATE_RING_CPS,
	RATE_RING_INPPS,
	RATE_RING_OUTPPS,
	RATE_RING_INBPS,
	RATE_RING_OUTBPS,
	RATE_RING_DROPS,
	RATE_RING_FIELDS,
};

struct rate_ring_values {
	float v[RATE_RING_FIELDS]; /* float: half the memory, and 24 bits are plenty for a chart */
};

struct rate_ring {
	struct rate_ring_values sec[RATE_HISTORY_SECONDS];
	struct rate_ring_values min[RATE_HISTORY_MINUTES];
	uint64_t seconds; /* seconds recorded since the ring was cleared */
	uint64_t minutes; /* minute points recorded */
	double acc[RATE_RING_FIELDS]; /* sum over the minute being recorded */
	unsigned acc_n;               /* its seconds so far */
};

/* Empties r. */
void rate_ring_clear(struct rate_ring *r);

/*
 * Records n_seconds consecutive seconds that all had values v (n_seconds > 1 fills a gap); a
 * gap longer than a day records a day.
 */
void rate_ring_push(struct rate_ring *r, const struct rate_ring_values *v, uint64_t n_seconds);

/*
 * Copies the newest up to max points at resolution_s (1 or 60) into out, oldest first, the
 * newest second having Unix time newest_t; returns the count (0 for another resolution).
 */
size_t rate_ring_read(const struct rate_ring *r, unsigned resolution_s, uint64_t newest_t,
		      struct rate_history_point *out, size_t max);

#endif
