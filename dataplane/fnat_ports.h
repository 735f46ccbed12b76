/* fnat local ports: each worker allocates from its own slice, without a lock. */
#ifndef DPDK_LB_FNAT_PORTS_H
#define DPDK_LB_FNAT_PORTS_H

#include <stdint.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "snapshot.h"

/*
 * fnat (fnat_ports.c): picks a local address and a port of this worker's slice for a
 * connection of client key ck to real r (port rport, network order); fills the reply key
 * (real -> local) and its hash. 0, or -1 when every candidate tried is in use.
 */
int fnat_reply_key_alloc(struct lb_worker *w, const struct snap_service *ss,
			 const struct snap_real *r, uint16_t rport, const struct flow_key *ck,
			 uint64_t now, struct flow_key *rk, uint32_t *rhash);

#endif
