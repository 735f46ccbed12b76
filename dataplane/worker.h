/* The worker lcore's poll loop. */
#ifndef DPDK_LB_WORKER_H
#define DPDK_LB_WORKER_H

#include <rte_mbuf.h>

#include "lb_runtime.h"

/* Creates worker `index` on lcore_id (flow table, rings, counters); NULL on failure. */
struct lb_worker *worker_create(uint16_t index, unsigned int lcore_id, uint32_t cap4, uint32_t cap6);

/* rte_eal_remote_launch entry point: polls until lb_rt.quit. arg is the struct lb_worker. */
int worker_main(void *arg);

#endif
