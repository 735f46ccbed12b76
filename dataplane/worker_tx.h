/* A worker's lowest layer: counted drops, its per-port transmit batches, copying out of mbufs. */
#ifndef DPDK_LB_WORKER_TX_H
#define DPDK_LB_WORKER_TX_H

#include <string.h>

#include <rte_mbuf.h>

#include "counters.h"
#include "lb_runtime.h"
#include "src_sketch.h"
#include "vlan.h"

static inline void drop(struct lb_worker *w, struct rte_mbuf *m, enum lb_drop_reason reason)
{
	LB_COUNTER_ADD(w->stats->drops[reason], 1);
	if (w->src_cur != NULL) /* the packet being handled: charged to its source */
		LB_COUNTER_ADD(w->src_cur->drops, 1);
	rte_pktmbuf_free(m);
}

/* Queues m on link port (a VLAN's: tagged, on its physical port's batch). */
static inline void tx_enqueue_raw(struct lb_worker *w, uint16_t port, struct rte_mbuf *m)
{
	if (unlikely(port >= lb_rt.n_ports)) {
		int phys = vlan_tx_tag(m, port);
		if (phys < 0) {
			drop(w, m, LB_DROP_VLAN_TAG);
			return;
		}
		port = (uint16_t)phys;
	}
	struct lb_tx_batch *b = &w->tx[port];

	if (unlikely(b->n == RTE_DIM(b->pkts))) {
		drop(w, m, LB_DROP_TX_FULL);
		return;
	}
	b->pkts[b->n++] = m;
}

/* Copies len bytes from offset off of m, chained or not, to dst (the range must be in m). */
static inline void mbuf_copy_out(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *dst)
{
	const void *src = rte_pktmbuf_read(m, off, len, dst);

	if (src != NULL && src != dst)
		memcpy(dst, src, len);
}

#endif
