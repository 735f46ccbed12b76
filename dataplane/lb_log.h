/* The daemon's rte_log type "dpdk_lb": `--log-level=dpdk_lb:debug` raises it. Not for the fast path. */
#ifndef DPDK_LB_LOG_H
#define DPDK_LB_LOG_H

#include <rte_log.h>

extern int lb_logtype;

#define LB_LOG(level, fmt, ...) rte_log(RTE_LOG_##level, lb_logtype, "dpdk-lb: " fmt "\n", ##__VA_ARGS__)

#endif
