/*
 * How late a periodic job ran, over its last LATENESS_WINDOW runs: the control loop's probe
 * (system.info) and the health checks' timers (stats.get) report p99 and max from it.
 */
#ifndef DPDK_LB_LATENESS_WINDOW_H
#define DPDK_LB_LATENESS_WINDOW_H

#include <stdint.h>

#define LATENESS_WINDOW 4096

struct lateness_window {
	uint64_t samples[LATENESS_WINDOW];
	uint64_t n; /* samples recorded since start */
};

/* Records one lateness (nanoseconds), replacing the oldest once the window is full. */
void lateness_record(struct lateness_window *w, uint64_t late_ns);

/* The 99th percentile and the maximum of the window, and how many samples it holds. */
void lateness_summary(const struct lateness_window *w, uint64_t *p99_ns, uint64_t *max_ns,
		      uint32_t *samples);

#endif
