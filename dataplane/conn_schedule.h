/* Scheduling a new connection: scheduler, thresholds, fallback server, persistence. */
#ifndef DPDK_LB_CONN_SCHEDULE_H
#define DPDK_LB_CONN_SCHEDULE_H

#include <stdint.h>

#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"

/*
 * Runs the service's scheduler for a new connection of the packet `info` and returns the chosen
 * real id: the fallback server when no real can take it, 0 when there is none (conn_schedule.c).
 */
uint32_t schedule_new(struct lb_worker *w, const struct lb_snapshot *snap,
		      const struct snap_service *ss, const struct pkt_info *info, uint64_t now);

/* schedule_new behind the client's persistence template (conn_schedule.c). */
uint32_t schedule_persistent(struct lb_worker *w, const struct lb_snapshot *snap,
			     const struct snap_service *ss, const struct pkt_info *info,
			     uint64_t now);

#endif
