/* Transmit methods: one file each (xmit_dr.c ...), listed in xmit.c's table by lb_forward. */
#ifndef DPDK_LB_XMIT_H
#define DPDK_LB_XMIT_H

#include <rte_mbuf.h>

#include "counters.h"
#include "flow_table.h"
#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"

/* What a method needs to know about a packet going to a real server. */
struct xmit_ctx {
	const struct pkt_info *info;
	const struct snap_real *r;
	const struct snap_service *ss;     /* the connection's service */
	const struct flow_key *client_key; /* client -> VIP, as the client sent it */
	/* fnat (and ICMP errors of nat/fnat): real -> local address / client; else NULL */
	const struct flow_key *reply_key;
	/* fnat's client path without a reply key: the flow's local address and port (network
	 * order), from its entry */
	const uint8_t *local_addr;
	uint16_t local_port;
};

struct xmit_ops {
	const char *name;
	/* bytes the method puts in front of an IPv4 / IPv6 packet: what the egress MTU must fit */
	uint8_t encap_v4, encap_v6;
	/*
	 * Rewrites m (client -> real direction) and returns the egress port, XMIT_DROP(reason)
	 * when the packet must be dropped (m is then still the caller's to free), or XMIT_CONSUMED
	 * when the method took m itself (local: handed to the kernel).
	 */
	int (*to_real)(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x);
	/*
	 * nat/fnat only (NULL otherwise): rewrites a reply (real -> client) so the client sees it
	 * come from the VIP; Ethernet addresses are the caller's.
	 */
	void (*to_client)(struct rte_mbuf *m, const struct pkt_info *info,
			  const struct flow_key *client_key);
	/*
	 * An ICMP error about a packet the real sent to the client, travelling to the real: like
	 * to_real, with the quoted packet translated as well. NULL: to_real as is.
	 */
	int (*icmp_to_real)(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x);
	/*
	 * nat/fnat only: an ICMP error about a packet we sent to the real, travelling to the
	 * client: outer and quoted headers translated back. Ethernet addresses are the caller's.
	 */
	void (*icmp_to_client)(struct rte_mbuf *m, const struct pkt_info *info,
			       const struct flow_key *client_key, const struct flow_key *reply_key);
};

/* The ops for a forwarding method (enum lb_forward). */
const struct xmit_ops *xmit_ops_get(uint8_t forward);

/* The bytes ops adds in front of a packet of family: the path-MTU check's overhead. */
static inline uint16_t xmit_encap_len(const struct xmit_ops *ops, uint8_t family)
{
	return family == AF_INET6 ? ops->encap_v6 : ops->encap_v4;
}

/* to_real() took the packet itself (not to be sent or freed by the caller). */
#define XMIT_CONSUMED 0x10000

/* Encodes a drop reason as a to_real() return value. */
#define XMIT_DROP(reason) (-1 - (int)(reason))

/* Sets the Ethernet header of m for real r on its egress port; false without a neighbour. */
bool xmit_set_real_mac(struct rte_mbuf *m, const struct snap_real *r);

/* Recomputes the ICMP/ICMPv6 checksum of the message at l4_off (after it changed). */
void xmit_icmp_checksum(struct rte_mbuf *m, const struct pkt_info *info);

#endif
