/*
 * fnat local ports. Worker w owns the ports min + w + k * n_workers of the range, on every
 * local address: replies name their owner in their destination port, and a worker allocates
 * from its own slice without a lock. A port is free for a real when no flow of this worker uses
 * (real address, real port, local address, port); the same local port may serve other reals.
 */
#include "conn.h"
#include "flow_owner.h"
#include "fnat_ports.h"

#define FNAT_PORT_TRIES 64 /* candidates tried before counting the SYN as exhausted */

int fnat_reply_key_alloc(struct lb_worker *w, const struct snap_service *ss,
			 const struct snap_real *r, uint16_t rport, const struct flow_key *ck,
			 uint64_t now, struct flow_key *rk, uint32_t *rhash, uint8_t *local_idx)
{
	uint32_t n = lb_rt.n_workers;
	uint32_t span = (uint32_t)lb_rt.fnat_port_max - lb_rt.fnat_port_min + 1;
	uint32_t slice = (span - w->index + n - 1) / n; /* ports of this worker's slice */
	uint32_t client_hash;

	if (ss->n_local_addrs == 0 || slice == 0)
		return -1;
	struct lb_addr client = flow_key_addr(ck->family, ck->src);
	client_hash = (addr_fold(&client) ^ ck->sport) * 0x9e3779b1u;
	memset(rk, 0, sizeof(*rk));
	rk->family = ck->family;
	rk->proto = ck->proto;
	rk->sport = rport;
	flow_key_set_addr(rk->src, &r->ip);
	/* the hash's high bits: its low ones are those of the client's port (odd multiplier) */
	uint32_t first = (uint32_t)(((uint64_t)client_hash * ss->n_local_addrs) >> 32);
	for (uint32_t t = 0; t < FNAT_PORT_TRIES; t++) {
		*local_idx = (uint8_t)((first + t) % ss->n_local_addrs);
		const struct lb_addr *la = &ss->local_addrs[*local_idx];
		uint32_t k = w->fnat_cursor++ % slice;
		uint16_t port = (uint16_t)(lb_rt.fnat_port_min + w->index + k * n);

		flow_key_set_addr(rk->dst, la);
		rk->dport = rte_cpu_to_be_16(port);
		*rhash = flow_table_hash(w->flows, rk);
		int32_t pos = flow_table_lookup(w->flows, rk, *rhash);
		if (pos < 0)
			return 0;
		/* Taken by a connection that timed out but was not swept yet: reclaim it. */
		int32_t owner = flow_table_entry(w->flows, pos)->peer;
		if (owner != FLOW_NO_PEER && flow_table_entry(w->flows, owner)->expires <= now) {
			conn_release(w, owner);
			return 0;
		}
	}
	return -1;
}

void fnat_local_learn(struct flow_entry *e, const struct snap_service *ss,
		      const struct flow_key *rk)
{
	struct lb_addr la = flow_key_addr(rk->family, rk->dst);

	if (e->service_id != ss->id || ss->locals_moved)
		return;
	for (uint8_t l = 0; l < ss->n_local_addrs; l++) {
		if (lb_addr_equal(&la, &ss->local_addrs[l])) {
			e->local_idx = l;
			e->local_port = rk->dport;
			return;
		}
	}
}
