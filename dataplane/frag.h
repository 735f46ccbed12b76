/*
 * IP fragments. Each worker reassembles the datagrams it owns in its own rte_ip_frag table
 * (bounded: dataplane.frag_datagrams datagrams of up to RTE_LIBRTE_IP_FRAG_MAX_FRAG fragments,
 * dataplane.frag_timeout_ms), so every method sees whole datagrams with their transport header
 * and all fragments of one datagram reach the same real server. What leaves a port larger than
 * its MTU is fragmented again, by copy into plain single-segment mbufs any PMD can send.
 */
#ifndef DPDK_LB_FRAG_H
#define DPDK_LB_FRAG_H

#include <stdbool.h>

#include <rte_mbuf.h>

#include "lb_runtime.h"
#include "worker_tx.h"
#include "pkt_parse.h"

/* Creates worker w's reassembly table; 0 or -1. */
int frag_worker_init(struct lb_worker *w, uint32_t datagrams, uint32_t timeout_ms, int socket);

/* The worker that reassembles this fragment's datagram (addresses, protocol and id). */
uint16_t frag_owner(const struct pkt_info *info);

/*
 * Adds fragment m (parsed as info) to its datagram. Returns the whole datagram (a chained mbuf)
 * once complete, else NULL (m is held, or freed through the death row when it cannot be used).
 */
struct rte_mbuf *frag_reassemble(struct lb_worker *w, struct rte_mbuf *m,
				 const struct pkt_info *info, uint64_t now);

/* True when m is a datagram this worker reassembled (and may fragment again, IPv6 too). */
bool frag_is_reassembled(const struct rte_mbuf *m);

/*
 * Marks m, an IPv6 packet this appliance encapsulated, as one whose outer packet frag_send may
 * fragment: RFC 2473 7.1, the tunnel entry point is the outer packet's source.
 */
void frag_allow_outer(struct rte_mbuf *m);

/* Gives up on datagrams older than frag_timeout_ms (their fragments go to the death row). */
void frag_expire(struct lb_worker *w, uint64_t now);

/* Frees what reassembly gave up on (timeouts, overflows), counting it; once per loop. */
void frag_free_death_row(struct lb_worker *w);

/*
 * Sends m, whose IP packet exceeds the MTU of port, as fragments (IPv4 with DF clear; IPv6
 * reassembled here or marked by frag_allow_outer) or drops it as too_big. Returns the number of
 * fragments queued.
 */
uint32_t frag_send(struct lb_worker *w, uint16_t port, struct rte_mbuf *m);

/* Queues m on port; what exceeds the port's MTU (a reassembled datagram...) is fragmented. */
static inline void tx_enqueue(struct lb_worker *w, uint16_t port, struct rte_mbuf *m)
{
	if (unlikely(rte_pktmbuf_pkt_len(m) > (uint32_t)lb_rt.ports[port].mtu + RTE_ETHER_HDR_LEN)) {
		(void)frag_send(w, port, m);
		return;
	}
	tx_enqueue_raw(w, port, m);
}

#endif
