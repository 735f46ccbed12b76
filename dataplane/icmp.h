/* ICMP and ICMPv6 on a worker: echo answered, errors relayed to the side of their connection. */
#ifndef DPDK_LB_ICMP_H
#define DPDK_LB_ICMP_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"

/* ICMP (icmp.c): the worker that must handle it, or this one. */
uint16_t icmp_owner(const struct lb_worker *w, const struct lb_snapshot *snap,
		    const struct pkt_info *info);

/* ICMP (icmp.c): answers echo requests to our addresses, relays errors about known flows. */
void icmp_handle(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
		 const struct pkt_info *info, uint64_t now);

/* An ICMP error on its way round the workers, looking for the dr/tun flow it quotes. */
struct icmp_walk_item {
	struct rte_mbuf *m;
	uint64_t hops; /* workers that have looked already */
};

/* Tries the ICMP errors other workers passed on against this worker's flows (icmp.c). */
void icmp_walk_drain(struct lb_worker *w, const struct lb_snapshot *snap, uint64_t now);

#endif
