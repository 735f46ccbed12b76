/*
 * The workers' flow path: packets to services and replies of nat/fnat connections, collected
 * per burst, looked up in bulk in the flow table, their flows created (a SYN) or found, and sent
 * to the flow's real or, replies, to the client.
 */
#ifndef DPDK_LB_WORKER_FLOW_H
#define DPDK_LB_WORKER_FLOW_H

#include <stdint.h>

#include "burst_tally.h"
#include "lb_runtime.h"
#include "pkt_parse.h"
#include "pmtu.h"
#include "snapshot.h"
#include "worker_tx.h"
#include "xmit.h"

/* A client packet to a service or a reply, waiting for its burst's bulk flow lookup. */
struct pending {
	struct rte_mbuf *m;
	const struct snap_service *ss; /* NULL: a reply of a nat/fnat connection */
	struct src_slot *src; /* its source's sketch slot, or NULL */
	struct pkt_info info;
};

/*
 * Sends m to real r by its forwarding method, after the path MTU check (made before any rewrite,
 * so an ICMP answer quotes what the client sent): the port to queue it on, XMIT_CONSUMED, or -1
 * once it was dropped (counted).
 */
static inline int worker_xmit_to_real(struct lb_worker *w, struct rte_mbuf *m,
				      const struct xmit_ops *ops, const struct xmit_ctx *x)
{
	if (!pmtu_fits(w, m, x->info, x->r->port_id, xmit_encap_len(ops, x->info->family))) {
		drop(w, m, LB_DROP_TOO_BIG);
		return -1;
	}
	int port = ops->to_real(w, m, x);
	if (port < 0) {
		drop(w, m, (enum lb_drop_reason)(-port - 1));
		return -1;
	}
	return port;
}

/*
 * Handles the n pending packets in order, counting what they forward in t; the packet being
 * handled keeps its source slot.
 */
void worker_flow_path(struct lb_worker *w, const struct lb_snapshot *snap, struct pending *pend,
		      uint32_t n, uint64_t now, struct burst_tally *t);

#endif
