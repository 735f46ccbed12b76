/*
 * Test hook: a worker's clock frozen at a TSC value the test sets or advances, so that tests can
 * put a worker loop at an exact instant (a flow's expiry, a wheel tick's boundary) instead of
 * sleeping around it. Only reachable with DPDK_LB_TEST_HOOKS=1 (control/rpc_test_hooks.c).
 */
#ifndef DPDK_LB_WORKER_CLOCK_H
#define DPDK_LB_WORKER_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

#include "lb_runtime.h"

/* Freezes worker `index`'s clock at tsc (> 0), or gives it the real one back (tsc 0); then waits
 * (at most about a second) until the worker has run a whole loop on it. True once it has; false
 * when it is held or did not get there in time. */
bool worker_clock_set(uint16_t index, uint64_t tsc);

/* Worker `index`'s frozen TSC, 0 when it runs on the real clock. */
uint64_t worker_clock_get(uint16_t index);

/* Worker side, once per loop: the loop's `now`. */
static inline uint64_t worker_clock_now(struct lb_worker *w)
{
	uint64_t frozen = __atomic_load_n(&w->test_clock, __ATOMIC_SEQ_CST);

	if (likely(frozen == 0))
		return rte_rdtsc();
	/* Tells worker_clock_set a loop started on this value. */
	__atomic_store_n(&w->test_clock_loops, w->test_clock_loops + 1, __ATOMIC_SEQ_CST);
	return frozen;
}

#endif
