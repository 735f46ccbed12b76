/* fnat local ports: each worker allocates from its own slice, without a lock. */
#ifndef DPDK_LB_FNAT_PORTS_H
#define DPDK_LB_FNAT_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "snapshot.h"

/*
 * fnat (fnat_ports.c): picks a local address and a port of this worker's slice for a
 * connection of client key ck to real r (port rport, network order); fills the reply key
 * (real -> local), its hash and the local address's index in ss. 0, or -1 when every
 * candidate tried is in use.
 */
int fnat_reply_key_alloc(struct lb_worker *w, const struct snap_service *ss,
			 const struct snap_real *r, uint16_t rport, const struct flow_key *ck,
			 uint64_t now, struct flow_key *rk, uint32_t *rhash, uint8_t *local_idx);

/*
 * Whether fnat connection e's local address is its entry's index into ss->local_addrs: made by
 * this service, with an index that no edit moved since. Otherwise its reply key says.
 */
static inline bool fnat_local_known(const struct flow_entry *e, const struct snap_service *ss)
{
	return e->local_idx < ss->n_local_addrs && e->service_id == ss->id && !ss->locals_moved;
}

/* A flow installed by connection sync: finds its local address in ss from its reply key rk. */
void fnat_local_learn(struct flow_entry *e, const struct snap_service *ss,
		      const struct flow_key *rk);

#endif
