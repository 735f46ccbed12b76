/*
 * Test hook: a held worker stops polling (its queues, hand-overs and control requests wait)
 * until released, so tests can make a worker fall behind deterministically instead of hoping
 * the scheduler does it. Only reachable with DPDK_LB_TEST_HOOKS=1 (control/rpc_test_hooks.c).
 */
#ifndef DPDK_LB_WORKER_HOLD_H
#define DPDK_LB_WORKER_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "lb_runtime.h"

/* Holds or releases worker `index`; -1 when there is no such worker. */
int worker_hold_set(uint16_t index, bool held);

/* Whether worker `index` is held (false for no such worker). */
bool worker_hold_get(uint16_t index);

/* Holds the workers DPDK_LB_TEST_HOLD_WORKERS lists ("1" or "0,2"), with test hooks on; call
 * before the workers are launched. -1 and *bad set to the entry when one is not a worker. */
int worker_hold_from_env(const char **bad);

/* Worker side: waits, offline for RCU, while w is held. */
void worker_hold_wait(struct lb_worker *w);

#endif
