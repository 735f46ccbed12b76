/*
 * SYN proxy for nat and fnat services with syn_proxy on: the appliance answers a client's SYN
 * itself with a SYN cookie and keeps nothing; only the client's ACK that returns a valid cookie
 * creates the flow, whose SYN then goes to the real. The real's SYN-ACK is answered here too,
 * and from then on the two sequence spaces differ by the flow's seq_delta, which every packet
 * is adjusted by. TCP options other than MSS are not negotiated (docs/architecture.md).
 */
#ifndef DPDK_LB_SYN_PROXY_H
#define DPDK_LB_SYN_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "snapshot.h"
#include "worker_flow.h"

/* flow_entry.flags of a connection entry (after conn_install.h's bits) */
#define FLOW_F_SYN_PROXY 0x10      /* made by the SYN proxy: sequence numbers are translated */
#define FLOW_F_SYN_PROXY_WAIT 0x20 /* its SYN went to the real, whose SYN-ACK has not come yet:
				    * seq_delta holds the cookie (our ISN towards the client) */

/* syn_proxy_no_flow: the packet was answered or dropped (counted). */
#define SYN_PROXY_CONSUMED (-1)
/* syn_proxy_no_flow: not a packet the proxy handles (the flow path drops it). */
#define SYN_PROXY_PASS (-2)

/*
 * A TCP packet of a syn_proxy service matching no flow: a SYN is answered with a cookie
 * (SYN_PROXY_CONSUMED); an ACK with a bad cookie is dropped (SYN_PROXY_CONSUMED); one with a
 * valid cookie becomes, in place, the SYN for the real (p->info updated) and the cookie is
 * returned (>= 0) for syn_proxy_flow_made. Anything else: SYN_PROXY_PASS.
 */
int64_t syn_proxy_no_flow(struct lb_worker *w, struct pending *p, const struct flow_key *key,
			  uint64_t now);

/* Marks the flow just created at pos for the SYN made from the ACK that returned cookie. */
void syn_proxy_flow_made(struct lb_worker *w, int32_t pos, uint32_t cookie);

/*
 * A client packet (key: its flow key) of the proxied flow at pos, before it goes to the real:
 * its ACK number is moved into the real's sequence space. While the real's handshake is not
 * complete, the client's retransmission of its first segment becomes the SYN again (info
 * updated); other packets are dropped then (false, counted).
 */
bool syn_proxy_to_real(struct lb_worker *w, struct rte_mbuf *m, struct pkt_info *info,
		       const struct flow_key *key, int32_t pos, uint64_t now);

/*
 * A packet from the real of the proxied flow at fpos, before it goes to the client: its SYN-ACK
 * is answered with the ACK that completes the real's handshake and not forwarded (false); other
 * packets get their sequence number moved into the client's space (true), or are dropped
 * (false, counted) while the handshake is incomplete.
 */
bool syn_proxy_from_real(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
			 const struct pkt_info *info, int32_t fpos, uint64_t now);

#endif
