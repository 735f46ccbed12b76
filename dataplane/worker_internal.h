/* What the worker's packet-handling files (worker.c, icmp.c, fnat_ports.c) share. */
#ifndef DPDK_LB_WORKER_INTERNAL_H
#define DPDK_LB_WORKER_INTERNAL_H

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "counters.h"
#include "flow_table.h"
#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"

static inline void drop(struct lb_worker *w, struct rte_mbuf *m, enum lb_drop_reason reason)
{
	LB_COUNTER_ADD(w->stats->drops[reason], 1);
	rte_pktmbuf_free(m);
}

static inline void tx_enqueue_raw(struct lb_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct lb_tx_batch *b = &w->tx[port];

	if (unlikely(b->n == RTE_DIM(b->pkts))) {
		drop(w, m, LB_DROP_TX_FULL);
		return;
	}
	b->pkts[b->n++] = m;
}

uint32_t frag_send(struct lb_worker *w, uint16_t port, struct rte_mbuf *m);

/* Copies len bytes from offset off of m, chained or not, to dst (the range must be in m). */
static inline void mbuf_copy_out(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *dst)
{
	const void *src = rte_pktmbuf_read(m, off, len, dst);

	if (src != NULL && src != dst)
		memcpy(dst, src, len);
}

/* Queues m on port; what exceeds the port's MTU (a reassembled datagram...) is fragmented. */
static inline void tx_enqueue(struct lb_worker *w, uint16_t port, struct rte_mbuf *m)
{
	if (unlikely(rte_pktmbuf_pkt_len(m) > (uint32_t)lb_rt.ports[port].mtu + RTE_ETHER_HDR_LEN)) {
		(void)frag_send(w, port, m);
		return;
	}
	tx_enqueue_raw(w, port, m);
}

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

/*
 * Runs the service's scheduler for a new connection of the packet `info` and returns the chosen
 * real id: the fallback server when no real can take it, 0 when there is none (conn_schedule.c).
 */
uint32_t schedule_new(struct lb_worker *w, const struct lb_snapshot *snap,
		      const struct snap_service *ss, const struct pkt_info *info, uint64_t now);

/* schedule_new behind the client's persistence template (conn_schedule.c). */
uint32_t schedule_persistent(struct lb_worker *w, const struct lb_snapshot *snap,
			     const struct snap_service *ss, const struct pkt_info *info,
			     uint64_t now);

/* Ends a connection: both of its keys leave the table and its real's counts drop. */
void worker_flow_release(struct lb_worker *w, int32_t pos);

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

/*
 * fnat (fnat_ports.c): picks a local address and a port of this worker's slice for a
 * connection of client key ck to real r (port rport, network order); fills the reply key
 * (real -> local) and its hash. 0, or -1 when every candidate tried is in use.
 */
int fnat_reply_key_alloc(struct lb_worker *w, const struct snap_service *ss,
			 const struct snap_real *r, uint16_t rport, const struct flow_key *ck,
			 uint64_t now, struct flow_key *rk, uint32_t *rhash);

#endif
