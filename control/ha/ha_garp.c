/*
 * Takeover announcements: a gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6,
 * RFC 4861 7.2.6, override set) for every VIP and fnat local address, on every port with an
 * address of its family, so switches and neighbours move to this node's MAC at once. Built on
 * the control lcore and sent through the workers' from_control rings (spread over the workers,
 * the only producer of those rings being this lcore).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "config_store.h"
#include "ha_internal.h"
#include "neigh.h"
#include "pkt_parse.h"


static uint64_t garp_sent, garp_dropped;
static uint32_t next_worker;

static void enqueue(struct rte_mbuf *m, uint16_t port)
{
	m->port = port;
	struct lb_worker *w = lb_rt.workers[next_worker++ % lb_rt.n_workers];
	if (rte_ring_enqueue(w->from_control, m) != 0) {
		rte_pktmbuf_free(m);
		garp_dropped++;
	} else {
		garp_sent++;
	}
}

static void send_garp(uint16_t port, const struct lb_addr *a)
{
	/* A request with sender = target = the address: what every stack takes as an update. */
	struct rte_mbuf *m = neigh_arp_request(&lb_rt.ports[port], a->v4, a->v4);

	if (m == NULL) {
		garp_dropped++;
		return;
	}
	enqueue(m, port);
}

static void send_unsolicited_na(uint16_t port, const struct lb_addr *a)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	struct rte_mbuf *m = neigh_nd_message(&lb_rt.ports[port], all_nodes_mac, a->v6, all_nodes,
					      PKT_ICMP6_NA, 0x20 /* override, not solicited */,
					      a->v6, 2 /* target link-layer address */);

	if (m == NULL) {
		garp_dropped++;
		return;
	}
	enqueue(m, port);
}

static bool port_has_family(const struct lb_port *p, uint8_t af)
{
	return (p->has_address && p->address.family == af) || (af == AF_INET6 && p->has_address6);
}

static void announce(const struct lb_addr *a, uint8_t count)
{
	for (uint16_t port = 0; port < lb_rt.n_links; port++) { /* VLANs too */
		if (!port_has_family(&lb_rt.ports[port], a->family))
			continue;
		for (uint8_t k = 0; k < count; k++) {
			if (a->family == AF_INET)
				send_garp(port, a);
			else
				send_unsolicited_na(port, a);
		}
	}
}

static int addr_cmp(const void *x, const void *y)
{
	return lb_addr_compare(x, y);
}

void ha_garp_send(uint8_t count)
{
	const struct lb_config *c = config_store_running();
	uint32_t n = 0, cap = 0;

	if (lb_rt.n_workers == 0 || count == 0)
		return;
	for (uint32_t i = 0; i < c->n_services; i++)
		cap += 1 + c->services[i].n_local_addrs;
	struct lb_addr *addrs = cap ? malloc(cap * sizeof(*addrs)) : NULL;
	if (addrs == NULL)
		return;
	for (uint32_t i = 0; i < c->n_services; i++) {
		addrs[n++] = c->services[i].vip;
		for (uint8_t k = 0; k < c->services[i].n_local_addrs; k++)
			addrs[n++] = c->services[i].local_addrs[k];
	}
	qsort(addrs, n, sizeof(*addrs), addr_cmp);
	for (uint32_t i = 0; i < n; i++)
		if (i == 0 || !lb_addr_equal(&addrs[i], &addrs[i - 1]))
			announce(&addrs[i], count);
	free(addrs);
}

void ha_garp_counts(uint64_t *sent, uint64_t *dropped)
{
	*sent = garp_sent;
	*dropped = garp_dropped;
}
