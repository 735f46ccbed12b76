/*
 * The node's role in a failover pair as the workers see it: with HA off the node always owns
 * its VIPs; with HA on only while the heartbeat thread has made it MASTER.
 */
#ifndef DPDK_LB_HA_ROLE_H
#define DPDK_LB_HA_ROLE_H

#include <stdbool.h>

#include "ha_wire.h"
#include "lb_runtime.h"

/* True when this node answers for and forwards to the VIPs and fnat local addresses now. */
static inline bool ha_owns_vips(void)
{
	return !lb_rt.ha_enabled ||
	       __atomic_load_n(&lb_rt.ha_state, __ATOMIC_ACQUIRE) == HA_STATE_MASTER;
}

/* True when a frame to dst arriving on port is the pair's multicast traffic (for the kernel). */
static inline bool ha_is_pair_multicast(uint16_t port, const struct lb_addr *dst)
{
	return lb_rt.ha_enabled && lb_rt.ha_has_group && port == lb_rt.ha_port &&
	       lb_addr_equal(&lb_rt.ha_group, dst);
}

#endif
