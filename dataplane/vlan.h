/*
 * 802.1Q VLANs (ports[].vlans): each VLAN of a port is a link of its own in lb_rt.ports, after
 * the physical ports, with its addresses, MTU, neighbours and kernel interface. Frames are
 * untagged on receive (m->port becomes the VLAN's link) and tagged on transmit, so everything
 * between sees untagged frames and a link index, as for a port without VLANs.
 */
#ifndef DPDK_LB_VLAN_H
#define DPDK_LB_VLAN_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "config.h"
#include "lb_runtime.h"

struct lb_worker;

/* Adds the VLAN links of cfg after the started physical ports (sets lb_rt.n_links); 0 or -1. */
int vlan_links_init(const struct lb_config *cfg, char *err, size_t errlen);

/* The configuration of link (a port's entry or a VLAN's), or NULL for a port without one. */
const struct lb_port_cfg *vlan_link_cfg(const struct lb_config *cfg, uint16_t link);

/*
 * Untags the n frames just received on physical port (one with VLAN links): in-band 0x8100
 * tags and tags the PMD stripped into vlan_tci. A tagged frame's m->port becomes its VLAN's
 * link; one of an unknown VLAN is dropped (unknown_vlan). Returns the frames kept, in order.
 */
uint16_t vlan_rx(struct lb_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);

/* Tags m for VLAN link (>= lb_rt.n_ports); its physical port, or -1 (no headroom, shared). */
static inline int vlan_tx_tag(struct rte_mbuf *m, uint16_t link)
{
	const struct lb_port *l = &lb_rt.ports[link];

	m->vlan_tci = l->vlan_id;
	if (rte_vlan_insert(&m) != 0)
		return -1;
	return l->phys;
}

#endif
