/* Maglev (mh) table access for tests and tools; the scheduler is reached via sched_find("mh"). */
#ifndef DPDK_LB_SCHED_MH_H
#define DPDK_LB_SCHED_MH_H

#include <stdint.h>

#define SCHED_MH_EMPTY UINT32_MAX /* slot value when no dest has a weight */

/* The slot table of an mh shared block (dest index per slot); *size gets its length. */
const uint32_t *sched_mh_table(const void *shared, uint32_t *size);

#endif
