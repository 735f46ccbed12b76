/*
 * The workers' client path: packets to services, collected per burst, looked up in bulk in the
 * flow table, their flows created (a SYN) or found, and sent to the flow's real.
 */
#ifndef DPDK_LB_WORKER_FLOW_H
#define DPDK_LB_WORKER_FLOW_H

#include <stdint.h>

#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"

/* A client packet to a service, waiting for its burst's bulk flow lookup. */
struct pending {
	struct rte_mbuf *m;
	const struct snap_service *ss;
	struct src_slot *src; /* its source's sketch slot, or NULL */
	struct pkt_info info;
};

/* Handles the n pending packets in order; the packet being handled keeps its source slot. */
void worker_flow_path(struct lb_worker *w, const struct lb_snapshot *snap, struct pending *pend,
		      uint32_t n, uint64_t now);

#endif
