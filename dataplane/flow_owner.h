/* Flow keys from addresses, and which worker owns a flow (nat: by client, fnat: by local port);
 * which addresses of a snapshot are ours. */
#ifndef DPDK_LB_FLOW_OWNER_H
#define DPDK_LB_FLOW_OWNER_H

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "snapshot.h"

/* 32 bits of an address for hashing (IPv6: its four words folded). */
static inline uint32_t addr_fold(const struct lb_addr *a)
{
	uint32_t w[4];

	if (a->family == AF_INET)
		return a->v4;
	memcpy(w, a->v6, 16);
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

/* The worker owning flows of a nat service: a function of the client's address and port. */
static inline uint16_t owner_by_client(const struct lb_addr *client, uint16_t port)
{
	uint32_t h = (addr_fold(client) ^ ((uint32_t)port * 0x9e3779b1u)) * 0x85ebca6bu;
	return (uint16_t)((h >> 16) % lb_rt.n_workers);
}

/* The worker owning fnat local port `port` (host order), or -1 outside the local port range. */
static inline int owner_by_local_port(uint16_t port)
{
	if (port < lb_rt.fnat_port_min || port > lb_rt.fnat_port_max)
		return -1;
	return (int)((port - lb_rt.fnat_port_min) % lb_rt.n_workers);
}

static inline bool is_local_address(const struct lb_snapshot *snap, const struct lb_addr *a)
{
	struct snap_service_key k;

	if (snap->local_index.count == 0)
		return false;
	snap_service_key_make(&k, a, 0, 0);
	return lookup_table_find(&snap->local_index, &k) >= 0;
}

/* True when addr:port (proto) is a nat real server of some service. */
static inline bool is_nat_real(const struct lb_snapshot *snap, const struct lb_addr *a,
			       uint8_t proto, uint16_t port)
{
	struct snap_service_key k;

	if (snap->nat_real_index.count == 0)
		return false;
	snap_service_key_make(&k, a, proto, port);
	if (lookup_table_find(&snap->nat_real_index, &k) >= 0)
		return true;
	snap_service_key_make(&k, a, 0, 0);
	return lookup_table_find(&snap->nat_real_index, &k) >= 0;
}

/* Writes address a into a 16-byte flow-key field (IPv4: 4 bytes, the rest zero). */
static inline void flow_key_set_addr(uint8_t field[16], const struct lb_addr *a)
{
	if (a->family == AF_INET) {
		memset(field, 0, 16);
		memcpy(field, &a->v4, 4);
	} else {
		memcpy(field, a->v6, 16);
	}
}

/* The address stored in a flow-key field of family `family`. */
static inline struct lb_addr flow_key_addr(uint8_t family, const uint8_t field[16])
{
	uint32_t v4;

	if (family == AF_INET6)
		return lb_addr_from_v6(field);
	memcpy(&v4, field, 4);
	return lb_addr_from_v4(v4);
}

/* Builds a flow key (host-order ports in, network order stored). */
static inline void flow_key_make_addrs(struct flow_key *k, uint8_t proto, const struct lb_addr *src,
				       uint16_t sport, const struct lb_addr *dst, uint16_t dport)
{
	k->family = src->family;
	k->proto = proto;
	k->sport = rte_cpu_to_be_16(sport);
	k->dport = rte_cpu_to_be_16(dport);
	k->pad = 0;
	flow_key_set_addr(k->src, src);
	flow_key_set_addr(k->dst, dst);
}

#endif
