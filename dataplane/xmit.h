/* Transmit methods: one file each (xmit_dr.c ...), listed in xmit.c's table by lb_forward. */
#ifndef DPDK_LB_XMIT_H
#define DPDK_LB_XMIT_H

#include <rte_mbuf.h>

#include "counters.h"
#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"

struct xmit_ops {
	const char *name;
	/*
	 * Rewrites m (client -> real direction) for real r and returns the egress port, or a
	 * negative lb_drop_reason (-1 - reason) when the packet must be dropped.
	 */
	int (*to_real)(struct lb_worker *w, struct rte_mbuf *m, const struct pkt_info *info,
		       const struct snap_real *r);
};

/* The ops for a forwarding method (enum lb_forward). */
const struct xmit_ops *xmit_ops_get(uint8_t forward);

/* Encodes a drop reason as a to_real() return value. */
#define XMIT_DROP(reason) (-1 - (int)(reason))

#endif
