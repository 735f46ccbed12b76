/* Path MTU discovery answers for packets that do not fit their egress port (pmtu.c). */
#ifndef DPDK_LB_PMTU_H
#define DPDK_LB_PMTU_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "lb_runtime.h"
#include "pkt_parse.h"

/*
 * True when m (parsed as info) fits port's MTU with `overhead` bytes of encapsulation added, or
 * may be fragmented on the way out. Otherwise its sender gets ICMP "fragmentation needed" /
 * ICMPv6 "packet too big" and the caller drops m as too_big.
 */
bool pmtu_fits_slow(struct lb_worker *w, const struct rte_mbuf *m, const struct pkt_info *info,
		    uint16_t port, uint16_t overhead);

static inline bool pmtu_fits(struct lb_worker *w, const struct rte_mbuf *m,
			     const struct pkt_info *info, uint16_t port, uint16_t overhead)
{
	if (likely((uint32_t)info->l3_len + overhead <= lb_rt.ports[port].mtu))
		return true;
	return pmtu_fits_slow(w, m, info, port, overhead);
}

#endif
